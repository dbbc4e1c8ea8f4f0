"""Association of neonatal cortical thickness with a later outcome (paper 3.3, Figure 12).

Pooling un-harmonised cohorts can create an association that neither cohort shows: the paper
finds language ~ frontal CT beta about -17.6 (p < .05) pooled before harmonisation, n.s. within
each cohort and pooled after. :func:`outcome_association` fits that model for each scope.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from harmonstats.analysis.ols import fit_columns
from harmonstats.analysis.tables import (
    InsufficientDataError,
    check_covariates,
    check_measures,
    check_methods,
    drop_missing,
)

__all__ = ["OUTCOME_COLUMNS", "outcome_association"]

OUTCOME_COLUMNS = {
    "scope": "Subjects: one cohort's name, 'pooled' (all cohorts together, the paper's model) "
             "or 'pooled, cohort adjusted' (the same with a term per non-reference cohort, so "
             "that a cohort difference in outcome cannot pass for a thickness effect).",
    "method": "Segmentation method of the thickness and ICV measures.",
    "outcome": "Outcome column (e.g. language_composite).",
    "predictor": "Thickness measure whose coefficient is reported.",
    "estimate": {"Description": "Coefficient of the predictor.", "Units": "outcome points per mm"},
    "se": "Standard error.",
    "ci_low": "95% CI lower bound.",
    "ci_high": "95% CI upper bound.",
    "t": "t statistic.",
    "df": "Residual degrees of freedom.",
    "p": "Two-sided p-value.",
    "n": "Subjects with the outcome and every model term.",
    "covariates": "Covariates adjusted for, '+'-separated.",
}


def outcome_association(
    wide: pd.DataFrame,
    *,
    methods: Sequence[str],
    outcome: str = "language_composite",
    predictors: Sequence[str] = ("thickness_frontal_l", "thickness_frontal_r"),
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex", "icv"),
    per_cohort: bool = True,
    min_n: int = 10,
) -> pd.DataFrame:
    """``outcome ~ predictor + covariates`` per cohort and pooled, for each method.

    Pooled twice: as the paper (no cohort term) and with a term per non-reference cohort.
    Pooling un-harmonised cohorts whose outcomes differ can make thickness look predictive (in
    one simulated study right frontal thickness had p = .024 pooled and .41 with cohort in the
    model); the cohort-adjusted row shows whether the association survives within cohorts.
    ``icv`` (and any measure among the covariates) is taken from the same method as the predictor.

    Parameters
    ----------
    wide : pandas.DataFrame
        From ``wide_table``; must hold the ``outcome`` column (subjects without it are dropped
        with a warning).
    methods : sequence of str
        Methods (paper: original before, the chosen model after harmonisation).
    outcome : str
        Outcome column.
    predictors : sequence of str
        Thickness measures (mm), one model each.
    covariates : sequence of str
        Adjustment terms.
    per_cohort : bool
        Also fit each cohort on its own.
    min_n : int
        Fewest subjects for a model; a scope with fewer raises ``ValueError``.

    Returns
    -------
    pandas.DataFrame
        scope, method, outcome, predictor, estimate, se, ci_low, ci_high, t, df, p, n,
        covariates (see :data:`OUTCOME_COLUMNS`).

    References
    ----------
    Grigorescu et al. (2021), section 3.3, Figure 12.
    """
    check_methods(wide, methods)
    check_measures(wide, [outcome, *predictors])
    out = []
    for method in methods:
        rows = wide[wide["method"] == method]
        cohorts = sorted(rows["cohort"].astype(str).unique())
        dummies = {f"cohort[{c}]": (rows["cohort"].astype(str) == c).astype(float)
                   for c in cohorts[1:]}
        rows = rows.assign(**dummies)
        scopes: list[tuple[str, pd.DataFrame, list[str]]] = [("pooled", rows, [])]
        if dummies:
            scopes.append(("pooled, cohort adjusted", rows, list(dummies)))
        if per_cohort:
            scopes += [(c, g, []) for c, g in rows.groupby(rows["cohort"].astype(str))]
        for scope, sub, extra in scopes:
            for predictor in predictors:
                context = f"outcome ({scope}, {method}, {predictor})"
                data = drop_missing(sub, [outcome, predictor, *covariates], context)
                if len(data) < min_n:
                    raise InsufficientDataError(
                        f"{context}: {len(data)} subject(s) with the outcome and "
                        f"every model term; at least {min_n} are needed"
                    )
                check_covariates(data, covariates, context)
                for _, fit, k, _ in fit_columns(data, [predictor, *covariates, *extra],
                                                [outcome], context):
                    res = fit.term(predictor)
                    out.append(
                        {
                            "scope": scope,
                            "method": method,
                            "outcome": outcome,
                            "predictor": predictor,
                            **{key: float(val[k]) for key, val in res.items()},
                            "df": fit.df,
                            "n": fit.n,
                            "covariates": "+".join([*covariates, *extra]),
                        }
                    )
    return pd.DataFrame(out, columns=list(OUTCOME_COLUMNS))
