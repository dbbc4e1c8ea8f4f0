"""ComBat comparator: feature-level harmonisation of the measures table, judged out of sample.

Image-level harmonisation (the paper's domain-adaptation models) is compared against the standard
statistical fix: ComBat applied to the measures themselves
(:mod:`harmonstats.analysis.combat_model`, numbers equal to neuroCombat's). The result is one
more *method* (e.g. ``original+combat``) that goes through the same battery, and, as for the
image methods, no subject is evaluated with a correction fitted on its own measures: by default
every subject's values come from a model fitted on the other folds (cross-fitting, folds
stratified by cohort, a subject's sessions kept together); with ``fit="split:<name>"`` the model
is fitted on that split and only the other subjects enter the method.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from harmonstats.analysis.combat_model import fit_combat
from harmonstats.analysis.tables import check_measures, check_methods, drop_missing
from harmonstats.errors import InputError

__all__ = ["COMBAT_STATUS_COLUMNS", "COMBAT_VARIANTS", "combat_harmonise", "combat_terms",
           "crossfit_folds"]

#: Variants and what they add to ComBat.
COMBAT_VARIANTS = {
    "combat": "ComBat (Johnson et al. 2007; Fortin et al. 2018), covariates protected linearly",
    "combat_gam": "ComBat with PMA as a natural cubic spline (3 df), after Pomponio et al. 2020",
    "covbat": "CovBat (Chen et al. 2022): ComBat, then ComBat of the principal-component scores "
              "explaining 95% of the variance",
}

COMBAT_STATUS_COLUMNS = {
    "method": "Name of the harmonised method added to the battery.",
    "source_method": "Method whose measures were harmonised.",
    "variant": "combat, combat_gam or covbat (see COMBAT_VARIANTS).",
    "status": "done or skipped.",
    "reason": "Why the comparator was skipped (empty when done).",
    "fit": "Which subjects fitted each model: 'crossfit:<k>' (every subject harmonised by a "
           "model fitted on the other k - 1 folds) or 'split:<name>' (fitted on that split; "
           "its subjects are left out of the method).",
    "covariates_from": "Subjects the covariate effects and standardisation came from: 'all' "
                       "(neuroCombat) or 'reference' (reference cohort only).",
    "n_fit": "Subjects in the smallest fitted model.",
    "n_evaluated": "Subjects in the harmonised method, none of them in the model that "
                   "harmonised them.",
}


def combat_terms(variant: str, covariates: Sequence[str]) -> list[str]:
    """Covariate terms a variant protects: ComBat-GAM smooths ``pma_scan``."""
    if variant not in COMBAT_VARIANTS:
        raise InputError(f"unknown ComBat variant {variant!r}; choose from {list(COMBAT_VARIANTS)}")
    if variant == "combat_gam":
        return [f"ns({c})" if c == "pma_scan" else c for c in covariates]
    return list(covariates)


def crossfit_folds(rows: pd.DataFrame, folds: int, seed: int) -> np.ndarray:
    """Fold of each row: stratified by cohort, a subject's sessions in one fold, seeded."""
    cohort = rows["cohort"].astype(str).to_numpy()
    ids = rows["participant_id"].astype(str).to_numpy()
    out = np.empty(len(rows), dtype=int)
    if len(set(ids)) == len(ids):
        split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(ids, cohort)
    else:
        split = StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(
            ids, cohort, groups=ids)
    for k, (_, test) in enumerate(split):
        out[test] = k
    return out


def combat_harmonise(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    method: str = "original",
    variant: str = "combat",
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    fit: str = "crossfit",
    folds: int = 5,
    covariates_from: str = "all",
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harmonise ``measures`` of ``method`` across cohorts with ComBat, as a new method.

    The reference cohort is ComBat's reference batch and keeps its values.

    Parameters
    ----------
    wide : pandas.DataFrame
        From ``wide_table``.
    reference : str
        Reference cohort (left unchanged).
    measures : sequence of str
        Measures to harmonise (volumes mm3, thickness mm); others are left out of the new method.
    method : str
        Method whose measures are harmonised.
    variant : {"combat", "combat_gam", "covbat"}
        See :data:`COMBAT_VARIANTS`.
    covariates : sequence of str
        Biological covariates ComBat protects (numeric, or two-level text such as sex).
    fit : str
        ``crossfit`` (``folds`` folds) or ``split:<name>`` (fit on that split, harmonise the
        others).
    folds : int
        Cross-fitting folds.
    covariates_from : {"all", "reference"}
        Fit the covariate effects and standardisation on all subjects or on the reference
        cohort alone.
    seed : int
        Seeds the fold split.

    Returns
    -------
    rows : pandas.DataFrame
        New rows in the layout of ``wide`` with method ``<method>+<variant>`` (empty if skipped).
    status : pandas.DataFrame
        One row, columns :data:`COMBAT_STATUS_COLUMNS`.

    References
    ----------
    Johnson et al. (2007) Biostatistics 8; Fortin et al. (2018) NeuroImage 167; Pomponio et al.
    (2020) NeuroImage 208; Chen et al. (2022) Hum Brain Mapp 43.
    """
    terms = combat_terms(variant, covariates)
    check_methods(wide, [method])
    check_measures(wide, measures)
    if not (fit == "crossfit" or (fit.startswith("split:") and fit[6:])):
        raise InputError(f"ComBat fit must be 'crossfit' or 'split:<name>', got {fit!r}")
    name = f"{method}+{variant}"
    status = {"method": name, "source_method": method, "variant": variant, "status": "done",
              "reason": "", "fit": f"crossfit:{folds}" if fit == "crossfit" else fit,
              "covariates_from": covariates_from, "n_fit": 0, "n_evaluated": 0}
    context = f"ComBat ({name})"
    rows = drop_missing(wide[wide["method"] == method], [*measures, *covariates], context)
    rows = rows.reset_index(drop=True)
    if fit == "crossfit":
        fold = crossfit_folds(rows, folds, seed)
        plan = [(fold != k, fold == k) for k in range(folds)]
    else:
        if "split" not in rows.columns:
            raise InputError(f"{context}: fit {fit!r} needs a 'split' column in participants")
        in_split = (rows["split"].astype(str) == fit[6:]).to_numpy()
        plan = [(in_split, ~in_split)]
    y = rows[list(measures)].to_numpy(float)
    batch = rows["cohort"].astype(str).to_numpy()
    harmonised = np.full_like(y, np.nan)
    evaluated = np.zeros(len(rows), dtype=bool)
    n_fit = []
    for train, test in plan:
        cohorts = set(batch[train])
        if reference not in cohorts or len(cohorts) < 2 or not test.any():
            return _skipped(wide, status, f"{context}: the subjects fitting a model must hold "
                            f"the reference and another cohort, and some subjects must be left "
                            f"to harmonise; {fit!r} fits on {sorted(cohorts)} and leaves "
                            f"{int(test.sum())}")
        model = fit_combat(y[train], batch[train], rows[train], terms, reference=reference,
                           covariate_fit=covariates_from,
                           covbat_variance=0.95 if variant == "covbat" else None)
        seen = test & np.isin(batch, model.batches)
        harmonised[seen] = model.apply(y[seen], batch[seen], rows[seen])
        evaluated |= seen
        n_fit.append(int(train.sum()))
    out = rows[evaluated].copy()
    out[list(measures)] = harmonised[evaluated]
    # Dice is agreement with a label map, not a quantity ComBat can correct: left out.
    out[[c for c in out.columns if c.startswith("dice_")]] = float("nan")
    out["method"] = name
    status.update(n_fit=min(n_fit), n_evaluated=int(evaluated.sum()))
    return out[list(wide.columns)], pd.DataFrame([status], columns=list(COMBAT_STATUS_COLUMNS))


def _skipped(wide: pd.DataFrame, status: dict, reason: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    warnings.warn(reason, stacklevel=3)
    status.update(status="skipped", reason=reason)
    return wide.iloc[:0].copy(), pd.DataFrame([status], columns=list(COMBAT_STATUS_COLUMNS))
