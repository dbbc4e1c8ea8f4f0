"""Distribution shift between cohorts on covariate-adjusted residuals.

A harmonised measure should differ between cohorts neither in location nor in spread once age and
sex are accounted for. Kolmogorov-Smirnov and the Anderson-Darling k-sample test see any
difference of distribution (Anderson-Darling weighs the tails, where KS is weak); the spread is
tested by Brown-Forsythe (Levene's test on deviations from the median) and Fligner-Killeen,
both robust to heavy tails where the F-test of the variance ratio is not (with t(3) noise and
equal spreads, 40 + 40 subjects, the F-test rejected in 31.5% of runs at 5%). All four p-values
of a method share one Benjamini-Hochberg family.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.effects import comparisons
from harmonstats.analysis.mixed import subject_means
from harmonstats.analysis.ols import bh_fdr, design_matrix, fit_columns
from harmonstats.analysis.site import smooth_terms
from harmonstats.analysis.tables import check_covariates, check_measures

__all__ = ["SHIFT_COLUMNS", "SHIFT_TESTS", "distribution_shift"]

#: p-value columns that share the Benjamini-Hochberg family.
SHIFT_TESTS = ("ks_p", "ad_p", "brown_forsythe_p", "fligner_p")

SHIFT_COLUMNS = {
    "method": "Segmentation method.",
    "measure": "Measure.",
    "reference": "Reference cohort.",
    "comparison": "Cohort compared with the reference.",
    "ks_statistic": "Two-sample Kolmogorov-Smirnov D between the cohorts' residuals.",
    "ks_p": "Its two-sided p-value (exact for small samples, asymptotic otherwise; scipy).",
    "ks_p_fdr": "Benjamini-Hochberg adjusted ks_p; one family for the four tests' p-values "
                "over the measures and comparisons of the method.",
    "ad_statistic": "Anderson-Darling k-sample statistic (Scholz & Stephens 1987, midrank).",
    "ad_p": "Its p-value (scipy's interpolation, floored at 0.001 and capped at 0.25).",
    "ad_p_fdr": "Benjamini-Hochberg adjusted ad_p (same family).",
    "variance_ratio": "var(comparison residuals) / var(reference residuals); 1 = same spread.",
    "brown_forsythe_p": "Brown-Forsythe test of equal spread (Levene on absolute deviations from "
                        "each cohort's median).",
    "brown_forsythe_p_fdr": "Benjamini-Hochberg adjusted brown_forsythe_p (same family).",
    "fligner_p": "Fligner-Killeen rank test of equal spread.",
    "fligner_p_fdr": "Benjamini-Hochberg adjusted fligner_p (same family).",
    "adjustment": "Covariate model whose residuals are compared (ns(x): natural cubic spline).",
    "n_reference": "Reference subjects (each subject's mean residual where it has several "
                   "sessions).",
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
    smooth: Sequence[str] = ("pma_scan",),
    smooth_df: int = 3,
) -> pd.DataFrame:
    """Location, shape and spread tests between cohorts on residuals of ``measure ~ covariates``.

    The covariate model (``smooth`` covariates as natural cubic splines) is fitted on both
    cohorts pooled, without a cohort term, so residuals keep any cohort difference.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SHIFT_COLUMNS`.

    References
    ----------
    Brown, M. B. & Forsythe, A. B. (1974). JASA 69. Conover, W. J., Johnson, M. E. & Johnson,
    M. M. (1981). A comparative study of tests for homogeneity of variances. Technometrics 23.
    Scholz, F. W. & Stephens, M. A. (1987). K-sample Anderson-Darling tests. JASA 82.
    """
    check_measures(wide, measures)
    terms = smooth_terms(covariates, smooth, smooth_df)
    rows = []
    for method, other, sub in comparisons(wide, reference=reference, methods=methods,
                                          subsets=subsets, min_group=min_group,
                                          context="distribution shift", covariates=covariates):
        context = f"distribution shift ({method}, {reference} vs {other})"
        check_covariates(sub, covariates, context)
        for measure, fit, k, keep in fit_columns(sub, terms, measures, context):
            y = sub.loc[keep, measure].to_numpy(float)
            x, _ = design_matrix(sub[keep], terms, context)
            resid = sub[keep].assign(_resid=y - x @ fit.beta[:, k])
            resid = subject_means(resid, ["_resid"])
            is_ref = (resid["cohort"].astype(str) == reference).to_numpy()
            values = resid["_resid"].to_numpy(float)
            a, b = values[is_ref], values[~is_ref]
            ks = stats.ks_2samp(b, a)
            with warnings.catch_warnings():
                # The cap and floor of the p-value are documented in the column.
                warnings.simplefilter("ignore", UserWarning)
                ad = stats.anderson_ksamp([b, a])
            rows.append({"method": method, "measure": measure, "reference": reference,
                         "comparison": other, "ks_statistic": float(ks.statistic),
                         "ks_p": float(ks.pvalue), "ad_statistic": float(ad.statistic),
                         "ad_p": float(ad.pvalue),
                         "variance_ratio": float(b.var(ddof=1) / a.var(ddof=1)),
                         "brown_forsythe_p": float(stats.levene(b, a, center="median").pvalue),
                         "fligner_p": float(stats.fligner(b, a).pvalue),
                         "adjustment": "+".join(terms),
                         "n_reference": len(a), "n_other": len(b)})
    out = pd.DataFrame(rows, columns=[c for c in SHIFT_COLUMNS if not c.endswith("_fdr")])
    for test in SHIFT_TESTS:
        out[f"{test}_fdr"] = np.nan
    for _, idx in out.groupby("method").groups.items():
        block = out.loc[idx, list(SHIFT_TESTS)].to_numpy(float)
        adjusted = bh_fdr(block.ravel()).reshape(block.shape)
        out.loc[idx, [f"{t}_fdr" for t in SHIFT_TESTS]] = adjusted
    return out[list(SHIFT_COLUMNS)]
