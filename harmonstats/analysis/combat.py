"""ComBat comparator: feature-level harmonisation of the measures table (combatlearn).

Image-level harmonisation (the paper's domain-adaptation models) is compared against the standard
statistical fix: ComBat applied to the measures themselves. The result is one more *method*
(e.g. ``original+combat``) that goes through the same battery. combatlearn is optional
(``pip install harmonstats[combat]``); without it the comparator is skipped with a warning and a
status row, never an error.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence

import pandas as pd

from harmonstats.analysis.tables import check_measures, check_methods, drop_missing
from harmonstats.errors import InputError

__all__ = ["COMBAT_STATUS_COLUMNS", "COMBAT_VARIANTS", "combat_harmonise"]

#: Our variant name -> combatlearn ``method``.
COMBAT_VARIANTS = {"combat": "fortin", "combat_gam": "gam", "covbat": "chen"}

COMBAT_STATUS_COLUMNS = {
    "method": "Name of the harmonised method added to the battery.",
    "source_method": "Method whose measures were harmonised.",
    "variant": "combat (Fortin et al. 2017, covariates protected), combat_gam (Pomponio et al. "
               "2020, smooth PMA) or covbat (Chen et al. 2022).",
    "status": "done or skipped.",
    "reason": "Why the comparator was skipped (empty when done).",
    "n_fit": "Subjects the ComBat model was fitted on (the fit split).",
    "n_transformed": "Subjects transformed.",
}


def combat_harmonise(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    method: str = "original",
    variant: str = "combat",
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    fit_split: str | None = "train",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Harmonise ``measures`` of ``method`` across cohorts with ComBat, as a new method.

    The model is fitted on the subjects of split ``fit_split`` (all subjects when None or when
    the table has no ``split`` column) and applied to every subject of the method, so held-out
    (test) subjects never inform their own correction. The reference cohort is ComBat's
    reference batch and keeps its values.

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
        ComBat variant; ``combat_gam`` smooths ``pma_scan`` with B-splines.
    covariates : sequence of str
        Biological covariates ComBat protects (numeric: continuous; text: discrete).
    fit_split : str or None
        Split to fit on.

    Returns
    -------
    rows : pandas.DataFrame
        New rows in the layout of ``wide`` with method ``<method>+<variant>`` (empty if skipped).
    status : pandas.DataFrame
        One row: method, source_method, variant, status, reason, n_fit, n_transformed.

    References
    ----------
    Johnson et al. (2007) Biostatistics 8; Fortin et al. (2017) NeuroImage 167; Pomponio et al.
    (2020) NeuroImage 208; Chen et al. (2022) Hum Brain Mapp 43.
    """
    if variant not in COMBAT_VARIANTS:
        raise InputError(f"unknown ComBat variant {variant!r}; choose from {list(COMBAT_VARIANTS)}")
    check_methods(wide, [method])
    check_measures(wide, measures)
    name = f"{method}+{variant}"
    status = {"method": name, "source_method": method, "variant": variant, "status": "done",
              "reason": "", "n_fit": 0, "n_transformed": 0}
    if importlib.util.find_spec("combatlearn") is None:
        return _skipped(wide, status, "combatlearn is not installed (pip install "
                        "harmonstats[combat]); the ComBat comparator was skipped")
    from combatlearn import ComBat

    context = f"ComBat ({name})"
    rows = drop_missing(wide[wide["method"] == method], [*measures, *covariates], context)
    rows = rows.reset_index(drop=True)
    fit_mask = pd.Series(True, index=rows.index)
    if fit_split is not None and "split" in rows.columns and (rows["split"] == fit_split).any():
        fit_mask = rows["split"] == fit_split
    numeric = [c for c in covariates if pd.api.types.is_numeric_dtype(rows[c])]
    discrete = [c for c in covariates if c not in numeric]
    fit_cohorts = set(rows.loc[fit_mask, "cohort"].astype(str))
    if reference not in fit_cohorts or len(fit_cohorts) < 2:
        return _skipped(wide, status, f"{context}: the fit split {fit_split!r} must hold the "
                        f"reference and at least one other cohort; it holds {sorted(fit_cohorts)}")
    model = ComBat(
        batch=rows["cohort"].astype(str),
        continuous_covariates=rows[numeric] if numeric else None,
        discrete_covariates=rows[discrete].astype(str) if discrete else None,
        method=COMBAT_VARIANTS[variant],
        reference_batch=reference,
        smooth_terms=["pma_scan"] if variant == "combat_gam" and "pma_scan" in numeric else None,
    )
    x = rows[list(measures)].astype(float)
    model.fit(x[fit_mask.to_numpy()])
    harmonised = model.transform(x)
    out = rows.copy()
    out[list(measures)] = harmonised.to_numpy()
    # Dice is agreement with a label map, not a quantity ComBat can correct: left out.
    out[[c for c in out.columns if c.startswith("dice_")]] = float("nan")
    out["method"] = name
    status.update(n_fit=int(fit_mask.sum()), n_transformed=len(out))
    return out[list(wide.columns)], pd.DataFrame([status], columns=list(COMBAT_STATUS_COLUMNS))


def _skipped(wide: pd.DataFrame, status: dict, reason: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    warnings.warn(reason, stacklevel=3)
    status.update(status="skipped", reason=reason)
    return wide.iloc[:0].copy(), pd.DataFrame([status], columns=list(COMBAT_STATUS_COLUMNS))
