"""A new cohort against a reference: fit on the reference only, apply frozen to newcomers.

The workflow neuroCombat and neuroHarmonize users ask for most: the reference cohort (e.g. dHCP,
or a study's controls) defines the model once, and every new cohort is judged or harmonised
against it without refitting it. :func:`fit_reference_model` estimates, from reference subjects
only, each measure's covariate model (PMA smooth, GA, sex: the normative model) and the
residual SD; :meth:`ReferenceModel.deviations` turns any subject's measures into z-scores
against it, and :meth:`ReferenceModel.harmonise` applies ComBat with the reference as the
reference batch: the frozen reference model standardises the new cohort, whose own location
and scale are then estimated by empirical Bayes across its measures, cross-fitted over
``folds`` so that no subject's correction uses its own values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonstats.analysis.combat import crossfit_folds
from harmonstats.analysis.combat_model import batch_location_scale
from harmonstats.analysis.design import Design, term_variables
from harmonstats.analysis.ols import check_identifiable
from harmonstats.analysis.tables import check_measures, drop_missing

__all__ = ["ReferenceModel", "fit_reference_model"]


@dataclass(frozen=True)
class ReferenceModel:
    """Normative model of each measure on the reference cohort, frozen.

    Attributes
    ----------
    reference : str
        Reference cohort.
    measures : tuple of str
        Measures modelled.
    design : Design
        Covariate encoding learnt on the reference subjects (spline knots included).
    coef : numpy.ndarray
        Intercept and covariate coefficients, (terms, measures).
    var_pooled : numpy.ndarray
        Residual variance of each measure in the reference (divided by n, as neuroCombat).
    n : int
        Reference rows fitted.
    """

    reference: str
    measures: tuple[str, ...]
    design: Design
    coef: np.ndarray
    var_pooled: np.ndarray
    n: int

    def _standardise(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        check_measures(rows, self.measures)
        mean = self.design.matrix(rows, "reference model") @ self.coef
        y = rows[list(self.measures)].to_numpy(float)
        return (y - mean) / np.sqrt(self.var_pooled), mean

    def deviations(self, rows: pd.DataFrame) -> pd.DataFrame:
        """z-score of every measure against the reference model: (y - predicted) / SD.

        Returns
        -------
        pandas.DataFrame
            ``rows`` with each measure column replaced by its z-score (unitless).
        """
        z, _ = self._standardise(rows)
        return rows.assign(**{m: z[:, j] for j, m in enumerate(self.measures)})

    def harmonise(self, rows: pd.DataFrame, *, folds: int | None = 5, seed: int = 0
                  ) -> pd.DataFrame:
        """ComBat each non-reference cohort of ``rows`` towards the frozen reference model.

        Reference subjects are returned unchanged. Each other cohort's location and scale are
        estimated (empirical Bayes across the measures) on its subjects outside the fold of
        the subject being harmonised (``folds``; None: on all its subjects, in-sample).

        Returns
        -------
        pandas.DataFrame
            ``rows`` with harmonised measure columns (same units).
        """
        s, mean = self._standardise(rows)
        out = rows[list(self.measures)].to_numpy(float).copy()
        cohort = rows["cohort"].astype(str).to_numpy()
        for c in sorted(set(cohort) - {self.reference}):
            members = np.flatnonzero(cohort == c)
            fold = (crossfit_folds(rows.iloc[members], folds, seed) if folds
                    else np.zeros(len(members), dtype=int))
            for k in np.unique(fold):
                fit_rows = members[fold != k] if folds else members
                gamma, delta = batch_location_scale(s[fit_rows])
                target = members[fold == k]
                adjusted = (s[target] - gamma) / np.sqrt(delta)
                out[target] = adjusted * np.sqrt(self.var_pooled) + mean[target]
        return rows.assign(**{m: out[:, j] for j, m in enumerate(self.measures)})


def fit_reference_model(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    covariates: Sequence[str] = ("ns(pma_scan)", "ga_birth", "sex"),
) -> ReferenceModel:
    """Fit each measure's covariate model on the reference cohort's rows of ``wide`` only.

    Parameters
    ----------
    wide : pandas.DataFrame
        Rows of one method (e.g. ``wide[wide.method == "original"]``); only those of the
        reference cohort are used.
    reference : str
        Reference cohort.
    measures : sequence of str
        Measures (mm, mm3).
    covariates : sequence of str
        Covariate terms (default PMA as a natural cubic spline, GA, sex).

    Returns
    -------
    ReferenceModel

    Examples
    --------
    >>> from harmonstats.analysis import fit_reference_model, simulate_measures, wide_table
    >>> wide = wide_table(*simulate_measures(60, seed=0))
    >>> rows = wide[wide["method"] == "original"]
    >>> model = fit_reference_model(rows, reference="source", measures=["thickness_mean"])
    >>> new = model.harmonise(rows)                     # target cohort moved onto the source
    >>> round(float(new.loc[new.cohort == "target", "thickness_mean"].mean()
    ...             - rows.loc[rows.cohort == "target", "thickness_mean"].mean()), 2)
    -0.21

    References
    ----------
    Johnson et al. (2007) Biostatistics 8; Fortin et al. (2018) NeuroImage 167; Marquand, A. F.
    et al. (2016). Understanding heterogeneity in clinical cohorts using normative models.
    Biol Psychiatry 80.
    """
    check_measures(wide, measures)
    context = f"reference model ({reference})"
    rows = wide[wide["cohort"].astype(str) == reference]
    base = sorted({v for t in covariates for v in term_variables(t)})
    rows = drop_missing(rows, [*base, *measures], context)
    design = Design.learn(rows, covariates, context)
    x = design.matrix(rows, context)
    check_identifiable(x, design.names, context)
    y = rows[list(measures)].to_numpy(float)
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    var_pooled = ((y - x @ coef) ** 2).mean(axis=0)
    return ReferenceModel(reference, tuple(measures), design, coef, var_pooled, len(rows))
