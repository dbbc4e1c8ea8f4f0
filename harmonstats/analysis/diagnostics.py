"""Harmonisation diagnostics as ComBatFamQC and DiagnoseHarmonisation report them.

Per measure and method, on residuals of the covariate model (no cohort term, PMA smooth): a
location test across all cohorts (one-way ANOVA and Kruskal-Wallis) and a scale test
(Brown-Forsythe); per method, the multivariate distance between each cohort and the reference
(Mahalanobis on the residuals of all measures, with Hotelling's T^2 test). The ``stage`` column
marks the method before harmonisation, so each harmonised method reads against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.mixed import subject_means
from harmonstats.analysis.ols import bh_fdr, design_matrix
from harmonstats.analysis.site import smooth_terms
from harmonstats.analysis.tables import (
    check_covariates,
    check_measures,
    drop_missing,
    rows_analysed,
)

__all__ = ["DIAGNOSTIC_COLUMNS", "MULTIVARIATE_COLUMNS", "harmonisation_diagnostics"]

DIAGNOSTIC_COLUMNS = {
    "method": "Segmentation method.",
    "stage": "before (the un-harmonised method) or after (any other).",
    "measure": "Measure.",
    "cohorts": "Cohorts tested together, '+'-separated.",
    "anova_f": "One-way ANOVA F across cohorts of the covariate-adjusted residuals (location).",
    "anova_p": "Its p-value.",
    "kruskal_h": "Kruskal-Wallis H across cohorts (location, rank-based).",
    "kruskal_p": "Its p-value.",
    "brown_forsythe_w": "Brown-Forsythe W across cohorts (scale: Levene on absolute deviations "
                        "from each cohort's median).",
    "brown_forsythe_p": "Its p-value.",
    "anova_p_fdr": "Benjamini-Hochberg adjusted anova_p across the measures of the method.",
    "kruskal_p_fdr": "Benjamini-Hochberg adjusted kruskal_p across the measures of the method.",
    "brown_forsythe_p_fdr": "Benjamini-Hochberg adjusted brown_forsythe_p across the measures "
                            "of the method.",
    "n": "Subjects (a subject's sessions averaged).",
}
MULTIVARIATE_COLUMNS = {
    "method": "Segmentation method.",
    "stage": "before or after, as in the diagnostics table.",
    "reference": "Reference cohort.",
    "comparison": "Cohort compared with it.",
    "mahalanobis": "Mahalanobis distance between the two cohorts' mean residual vectors, with "
                   "the pooled within-cohort covariance (0 = same centre).",
    "hotelling_t2": "Hotelling's two-sample T^2, n1 n2 / (n1 + n2) x mahalanobis^2.",
    "f": "T^2 as F: (n1 + n2 - p - 1) / (p (n1 + n2 - 2)) T^2.",
    "df1": "p, the measures used.",
    "df2": "n1 + n2 - p - 1.",
    "p": "p-value of the F: do the cohorts' multivariate centres differ?",
    "n_reference": "Reference subjects.",
    "n_other": "Comparison-cohort subjects.",
}


def harmonisation_diagnostics(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    before: str,
    methods: Sequence[str] | None = None,
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    subsets: Mapping[str, set[str]] | None = None,
    smooth: Sequence[str] = ("pma_scan",),
    smooth_df: int = 3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Location and scale tests per measure, and multivariate distances, for every method.

    Returns
    -------
    diagnostics : pandas.DataFrame
        Columns :data:`DIAGNOSTIC_COLUMNS`.
    multivariate : pandas.DataFrame
        Columns :data:`MULTIVARIATE_COLUMNS`.

    References
    ----------
    Brown & Forsythe (1974) JASA 69. Kruskal & Wallis (1952) JASA 47. Hotelling (1931) Ann Math
    Stat 2. Fortin et al. (2018) NeuroImage 167 (diagnostics of ComBat).
    """
    check_measures(wide, measures)
    methods, data = rows_analysed(wide, methods, subsets)
    terms = smooth_terms(covariates, smooth, smooth_df)
    uni, multi = [], []
    for method in methods:
        context = f"diagnostics ({method})"
        rows = drop_missing(data[data["method"] == method], [*covariates, *measures], context)
        check_covariates(rows, covariates, context)
        x, _ = design_matrix(rows, terms, context)
        y = rows[list(measures)].to_numpy(float)
        resid = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        frame = subject_means(rows[["participant_id", "cohort"]].assign(
            **{m: resid[:, j] for j, m in enumerate(measures)}), list(measures))
        cohort = frame["cohort"].astype(str).to_numpy()
        cohorts = [reference, *sorted(set(cohort) - {reference})]
        stage = "before" if method == before else "after"
        for measure in measures:
            groups = [frame.loc[cohort == c, measure].to_numpy(float) for c in cohorts]
            anova, kw = stats.f_oneway(*groups), stats.kruskal(*groups)
            bf = stats.levene(*groups, center="median")
            uni.append({"method": method, "stage": stage, "measure": measure,
                        "cohorts": "+".join(cohorts), "anova_f": float(anova.statistic),
                        "anova_p": float(anova.pvalue), "kruskal_h": float(kw.statistic),
                        "kruskal_p": float(kw.pvalue), "brown_forsythe_w": float(bf.statistic),
                        "brown_forsythe_p": float(bf.pvalue), "n": len(frame)})
        values = frame[list(measures)].to_numpy(float)
        for other in cohorts[1:]:
            multi.append({"method": method, "stage": stage, "reference": reference,
                          "comparison": other, **_hotelling(values[cohort == reference],
                                                            values[cohort == other])})
    out = pd.DataFrame(uni, columns=[c for c in DIAGNOSTIC_COLUMNS if not c.endswith("_fdr")])
    for test in ("anova_p", "kruskal_p", "brown_forsythe_p"):
        out[f"{test}_fdr"] = np.nan
        for _, idx in out.groupby("method").groups.items():
            out.loc[idx, f"{test}_fdr"] = bh_fdr(out.loc[idx, test].to_numpy())
    return out[list(DIAGNOSTIC_COLUMNS)], pd.DataFrame(multi, columns=list(MULTIVARIATE_COLUMNS))


def _hotelling(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Mahalanobis distance and Hotelling's T^2 test between two samples (rows = subjects)."""
    n1, n2, p = len(a), len(b), a.shape[1]
    pooled = ((n1 - 1) * np.cov(a, rowvar=False) + (n2 - 1) * np.cov(b, rowvar=False)) / (
        n1 + n2 - 2)
    diff = b.mean(axis=0) - a.mean(axis=0)
    d2 = float(diff @ np.linalg.lstsq(np.atleast_2d(pooled), diff, rcond=None)[0])
    t2 = n1 * n2 / (n1 + n2) * d2
    df2 = n1 + n2 - p - 1
    f = df2 / (p * (n1 + n2 - 2)) * t2 if df2 > 0 else np.nan
    return {"mahalanobis": float(np.sqrt(max(d2, 0.0))), "hotelling_t2": t2, "f": f,
            "df1": p, "df2": df2, "p": float(stats.f.sf(f, p, df2)) if df2 > 0 else np.nan,
            "n_reference": n1, "n_other": n2}
