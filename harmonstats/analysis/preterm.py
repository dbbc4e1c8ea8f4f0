"""Term vs preterm cortical thickness (paper 3.3, Figures 10-11).

Subjects scanned at 37-45 weeks PMA; the paper fits ``CT ~ PMA + GA + sex + birth weight +
PMA:GA`` on dHCP alone, on both cohorts pooled before harmonisation and pooled after, and reads
where the term and preterm regression lines of CT on PMA cross (about 38.5 weeks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harmonstats.analysis.ols import bh_fdr, fit_columns
from harmonstats.analysis.tables import (
    InsufficientDataError,
    check_covariates,
    check_measures,
    check_methods,
    drop_missing,
)

__all__ = [
    "CROSSING_COLUMNS",
    "MODEL_COLUMNS",
    "crossing_point",
    "preterm_model",
    "preterm_subset",
    "regional_prematurity",
]

MODEL_COLUMNS = {
    "analysis": "Which data: e.g. reference only, pooled before, pooled after harmonisation.",
    "method": "Segmentation method of the measures.",
    "cohorts": "Cohorts included, '+'-separated.",
    "measure": "Outcome measure.",
    "term": "Model term (a:b is the interaction).",
    "estimate": {"Description": "Coefficient.", "Units": "measure unit per unit of the term"},
    "se": "Standard error.",
    "ci_low": "95% CI lower bound.",
    "ci_high": "95% CI upper bound.",
    "t": "t statistic.",
    "df": "Residual degrees of freedom.",
    "p": "Two-sided p-value.",
    "p_fdr": "Benjamini-Hochberg adjusted p across regions (regional prematurity table only).",
    "n": "Subjects in the model.",
}
CROSSING_COLUMNS = {
    "analysis": "Which data (see the model table).",
    "method": "Segmentation method.",
    "cohorts": "Cohorts included.",
    "measure": "Measure regressed on PMA.",
    "slope_term": {"Description": "Slope of the term-born line.", "Units": "mm per week"},
    "slope_preterm": {"Description": "Slope of the preterm-born line.", "Units": "mm per week"},
    "crossing_pma": {"Description": "PMA where the two lines cross.", "Units": "weeks"},
    "ci_low": {"Description": "Bootstrap percentile 95% CI lower bound.", "Units": "weeks"},
    "ci_high": {"Description": "Bootstrap percentile 95% CI upper bound.", "Units": "weeks"},
    "n_boot": "Bootstrap resamples (within term and preterm groups, seeded).",
    "n_boot_parallel": "Resamples whose lines were parallel (no crossing), left out of the CI.",
    "n_term": "Term-born subjects (GA >= term_ga).",
    "n_preterm": "Preterm-born subjects.",
}


def preterm_subset(
    wide: pd.DataFrame,
    *,
    method: str,
    cohorts: Sequence[str] | None,
    pma_range: tuple[float, float] = (37.0, 45.0),
) -> pd.DataFrame:
    """Rows of ``method`` (and ``cohorts``) with ``pma_range[0] <= pma_scan <= pma_range[1]``."""
    check_methods(wide, [method])
    rows = wide[wide["method"] == method]
    if cohorts is not None:
        rows = rows[rows["cohort"].astype(str).isin(list(cohorts))]
    rows = drop_missing(rows, ["pma_scan"], f"preterm subset ({method})")
    return rows[(rows["pma_scan"] >= pma_range[0]) & (rows["pma_scan"] <= pma_range[1])]


def preterm_model(
    rows: pd.DataFrame,
    *,
    analysis: str,
    measures: Sequence[str] = ("thickness_mean",),
    terms: Sequence[str] = ("pma_scan", "ga_birth", "sex", "birth_weight", "pma_scan:ga_birth"),
) -> pd.DataFrame:
    """Fit ``measure ~ terms`` (default the paper's model) and report every term.

    Parameters
    ----------
    rows : pandas.DataFrame
        From :func:`preterm_subset`.
    analysis : str
        Label of the analysis (e.g. ``pooled before``).
    measures : sequence of str
        Outcomes (mm).
    terms : sequence of str
        Model terms; ``a:b`` is a product.

    Returns
    -------
    pandas.DataFrame
        analysis, method, cohorts, measure, term, estimate, se, ci_low, ci_high, t, df, p,
        p_fdr (NaN here), n (see :data:`MODEL_COLUMNS`).
    """
    check_measures(rows, measures)
    context = f"term vs preterm ({analysis})"
    base = sorted({p for t in terms for p in t.split(":")})
    rows = drop_missing(rows, base, context)
    check_covariates(rows, base, context)
    out = []
    for measure, fit, k, _ in fit_columns(rows, terms, measures, context):
        for term in terms:
            res = fit.term(term)
            out.append(
                {
                    "analysis": analysis,
                    "method": _one(rows, "method"),
                    "cohorts": "+".join(sorted(rows["cohort"].astype(str).unique())),
                    "measure": measure,
                    "term": term,
                    **{key: float(val[k]) for key, val in res.items()},
                    "df": fit.df,
                    "p_fdr": np.nan,
                    "n": fit.n,
                }
            )
    return pd.DataFrame(out, columns=list(MODEL_COLUMNS))


def regional_prematurity(
    rows: pd.DataFrame,
    *,
    analysis: str,
    measures: Sequence[str],
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex", "birth_weight"),
    term_ga: float = 37.0,
) -> pd.DataFrame:
    """Per region, ``measure ~ covariates + preterm`` (preterm = GA < term_ga); FDR over regions.

    Returns
    -------
    pandas.DataFrame
        The ``preterm`` term per measure in the layout of :func:`preterm_model`; ``estimate``
        is preterm - term (mm) and ``p_fdr`` is Benjamini-Hochberg across the measures.
    """
    rows = drop_missing(rows, ["ga_birth"], f"regional prematurity ({analysis})")
    rows = rows.assign(preterm=(rows["ga_birth"] < term_ga).astype(float))
    out = preterm_model(rows, analysis=analysis, measures=measures, terms=[*covariates, "preterm"])
    out = out[out["term"] == "preterm"].reset_index(drop=True)
    out["p_fdr"] = bh_fdr(out["p"].to_numpy())
    return out


def crossing_point(
    rows: pd.DataFrame,
    *,
    analysis: str,
    measure: str = "thickness_mean",
    term_ga: float = 37.0,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """PMA where the term and preterm lines of ``measure ~ PMA`` cross, with a bootstrap CI.

    Each group gets its own simple regression ``measure = a + b * PMA``; the lines cross at
    ``(a_term - a_preterm) / (b_preterm - b_term)``. The CI resamples subjects with replacement
    within each group (``n_boot`` times, numpy Generator seeded with ``seed``) and takes the
    2.5 and 97.5 percentiles; resamples with equal slopes are counted and left out.

    Returns
    -------
    pandas.DataFrame
        One row: analysis, method, cohorts, measure, slope_term, slope_preterm, crossing_pma,
        ci_low, ci_high, n_boot, n_boot_parallel, n_term, n_preterm (see
        :data:`CROSSING_COLUMNS`).

    References
    ----------
    Grigorescu et al. (2021), section 3.3 and Figure 10 (crossing at about 38.5 weeks).
    """
    check_measures(rows, [measure])
    context = f"crossing point ({analysis})"
    rows = drop_missing(rows, ["ga_birth", "pma_scan", measure], context)
    groups = []
    for is_term in (True, False):
        g = rows[(rows["ga_birth"] >= term_ga) == is_term]
        if len(g) < 3 or g["pma_scan"].nunique() < 2:
            raise InsufficientDataError(
                f"{context}: the {'term' if is_term else 'preterm'} group has "
                f"{len(g)} subject(s) / too little PMA spread for a regression line"
            )
        groups.append((g["pma_scan"].to_numpy(float), g[measure].to_numpy(float)))
    (xt, yt), (xp, yp) = groups
    at, bt = _lines(xt[None], yt[None])
    ap, bp = _lines(xp[None], yp[None])
    rng = np.random.default_rng(seed)
    it = rng.integers(0, len(xt), size=(n_boot, len(xt)))
    ip = rng.integers(0, len(xp), size=(n_boot, len(xp)))
    bat, bbt = _lines(xt[it], yt[it])
    bap, bbp = _lines(xp[ip], yp[ip])
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = (bat - bap) / (bbp - bbt)
    ok = np.isfinite(boot)
    lo, hi = np.percentile(boot[ok], [2.5, 97.5]) if ok.any() else (np.nan, np.nan)
    return pd.DataFrame(
        [
            {
                "analysis": analysis,
                "method": _one(rows, "method"),
                "cohorts": "+".join(sorted(rows["cohort"].astype(str).unique())),
                "measure": measure,
                "slope_term": float(bt[0]),
                "slope_preterm": float(bp[0]),
                "crossing_pma": float((at[0] - ap[0]) / (bp[0] - bt[0]))
                if bp[0] != bt[0]
                else np.nan,
                "ci_low": float(lo),
                "ci_high": float(hi),
                "n_boot": n_boot,
                "n_boot_parallel": int((~ok).sum()),
                "n_term": len(xt),
                "n_preterm": len(xp),
            }
        ],
        columns=list(CROSSING_COLUMNS),
    )


def _lines(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercepts and slopes of simple regressions, one per row of x and y."""
    xm, ym = x.mean(axis=1, keepdims=True), y.mean(axis=1, keepdims=True)
    sxx = ((x - xm) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = ((x - xm) * (y - ym)).sum(axis=1) / sxx
    return ym[:, 0] - slope * xm[:, 0], slope


def _one(rows: pd.DataFrame, column: str) -> str:
    return "+".join(sorted(rows[column].astype(str).unique()))
