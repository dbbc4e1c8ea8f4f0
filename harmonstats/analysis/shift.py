"""Distribution shift between cohorts on covariate-adjusted residuals.

A harmonised measure should differ between cohorts neither in location nor in spread once age and
sex are accounted for; the Kolmogorov-Smirnov statistic sees any difference of distribution and the
variance ratio the spread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.effects import comparisons
from harmonstats.analysis.ols import bh_fdr, design_matrix, fit_columns
from harmonstats.analysis.tables import check_covariates, check_measures, drop_missing

__all__ = ["SHIFT_COLUMNS", "distribution_shift"]

SHIFT_COLUMNS = {
    "method": "Segmentation method.",
    "measure": "Measure.",
    "reference": "Reference cohort.",
    "comparison": "Cohort compared with the reference.",
    "ks_statistic": "Two-sample Kolmogorov-Smirnov D between the cohorts' residuals.",
    "ks_p": "Its two-sided p-value (exact for small samples, asymptotic otherwise; scipy).",
    "ks_p_fdr": "Benjamini-Hochberg adjusted ks_p across measures within method and comparison.",
    "variance_ratio": "var(comparison residuals) / var(reference residuals); 1 = same spread.",
    "variance_p": "Two-sided F-test p-value of the variance ratio.",
    "n_reference": "Reference subjects.",
    "n_other": "Comparison-cohort subjects.",
}


def distribution_shift(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    subsets: Mapping[str, set[str]] | None = None,
    min_group: int = 10,
) -> pd.DataFrame:
    """KS statistic and variance ratio between cohorts on residuals of ``measure ~ covariates``.

    The covariate model is fitted on both cohorts pooled, without a cohort term, so residuals keep
    any cohort difference.

    Returns
    -------
    pandas.DataFrame
        method, measure, reference, comparison, ks_statistic, ks_p, ks_p_fdr, variance_ratio,
        variance_p, n_reference, n_other (see :data:`SHIFT_COLUMNS`).
    """
    check_measures(wide, measures)
    rows = []
    for method, other, sub in comparisons(wide, reference=reference, methods=methods,
                                          subsets=subsets, min_group=min_group,
                                          context="distribution shift"):
        context = f"distribution shift ({method}, {reference} vs {other})"
        sub = drop_missing(sub, list(covariates), context)
        check_covariates(sub, covariates, context)
        is_ref = (sub["cohort"].astype(str) == reference).to_numpy()
        for measure, fit, k, keep in fit_columns(sub, covariates, measures, context):
            y = sub.loc[keep, measure].to_numpy(float)
            x, _ = design_matrix(sub[keep], covariates, context)
            resid = y - x @ fit.beta[:, k]
            a, b = resid[is_ref[keep]], resid[~is_ref[keep]]
            ks = stats.ks_2samp(b, a)
            ratio = b.var(ddof=1) / a.var(ddof=1)
            f_p = 2 * min(stats.f.cdf(ratio, len(b) - 1, len(a) - 1),
                          stats.f.sf(ratio, len(b) - 1, len(a) - 1))
            rows.append({"method": method, "measure": measure, "reference": reference,
                         "comparison": other, "ks_statistic": float(ks.statistic),
                         "ks_p": float(ks.pvalue), "variance_ratio": float(ratio),
                         "variance_p": float(min(f_p, 1.0)), "n_reference": len(a),
                         "n_other": len(b)})
    out = pd.DataFrame(rows, columns=[c for c in SHIFT_COLUMNS if c != "ks_p_fdr"])
    out["ks_p_fdr"] = np.nan
    for _, idx in out.groupby(["method", "comparison"]).groups.items():
        out.loc[idx, "ks_p_fdr"] = bh_fdr(out.loc[idx, "ks_p"].to_numpy())
    return out[list(SHIFT_COLUMNS)]
