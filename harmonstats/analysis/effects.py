"""Cohort effect per method and measure on the matched subsets, and the plain t-test (paper 3.2).

The paper regresses each volume / thickness on cohort, PMA, GA and sex in the matched subsets and
reads the cohort term: beta = 0.20 mm before harmonisation (p < .001), n.s. after for 4 of 6
models. :func:`cohort_effect` returns that term for every method x measure x cohort;
:func:`harmonstats.analysis.equivalence.equivalence` turns it into a verdict.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.ols import bh_fdr, fit_columns
from harmonstats.analysis.tables import (
    InsufficientDataError,
    check_covariates,
    check_measures,
    check_methods,
    drop_missing,
)
from harmonstats.errors import InputError

__all__ = ["EFFECT_COLUMNS", "TTEST_COLUMNS", "cohort_effect", "comparisons", "two_sample_t"]

EFFECT_COLUMNS = {
    "method": "Segmentation method the measure comes from.",
    "measure": "Measure (the model's outcome).",
    "reference": "Reference cohort.",
    "comparison": "Cohort compared with the reference.",
    "term": "Model term reported: the 0/1 indicator of the comparison cohort.",
    "estimate": {"Description": "Adjusted mean difference, comparison - reference.",
                 "Units": "unit of the measure (mm, mm3)"},
    "se": {"Description": "Standard error of the estimate (HC3 if robust).",
           "Units": "as estimate"},
    "ci_low": {"Description": "Lower bound of the 95% CI.", "Units": "as estimate"},
    "ci_high": {"Description": "Upper bound of the 95% CI.", "Units": "as estimate"},
    "t": "t statistic, estimate / se.",
    "df": "Residual degrees of freedom, n - number of model terms.",
    "p": "Two-sided p-value of the t statistic.",
    "p_fdr": "Benjamini-Hochberg adjusted p across measures within method and comparison.",
    "partial_eta2": "Partial eta squared of the cohort term, SS_cohort / (SS_cohort + SS_error) "
                    "= t^2 / (t^2 + df).",
    "cohens_d": "Covariate-adjusted Cohen's d: estimate / residual SD of the model.",
    "reference_mean": {"Description": "Mean of the measure in the reference subjects analysed.",
                       "Units": "unit of the measure"},
    "n": "Subjects in the model.",
    "n_reference": "Reference subjects in the model.",
    "n_other": "Comparison-cohort subjects in the model.",
    "covariates": "Covariates adjusted for, '+'-separated.",
    "robust": "True if HC3 standard errors were used.",
}
TTEST_COLUMNS = {
    "method": "Segmentation method.",
    "measure": "Measure.",
    "reference": "Reference cohort.",
    "comparison": "Cohort compared with the reference.",
    "mean_reference": {"Description": "Mean in the reference cohort.", "Units": "measure unit"},
    "sd_reference": {"Description": "SD in the reference cohort.", "Units": "measure unit"},
    "mean_other": {"Description": "Mean in the comparison cohort.", "Units": "measure unit"},
    "sd_other": {"Description": "SD in the comparison cohort.", "Units": "measure unit"},
    "t": "Student's two-sample t (pooled variance), comparison - reference.",
    "df": "Degrees of freedom, n_reference + n_other - 2.",
    "p": "Two-sided p-value.",
    "n_reference": "Reference subjects.",
    "n_other": "Comparison-cohort subjects.",
}


def comparisons(
    wide: pd.DataFrame,
    *,
    reference: str,
    methods: Sequence[str] | None,
    subsets: Mapping[str, set[str]] | None,
    min_group: int,
    context: str,
) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """Yield (method, comparison cohort, rows of both cohorts) for every method and cohort pair."""
    cohorts = sorted(wide["cohort"].astype(str).unique())
    if reference not in cohorts:
        raise InputError(f"{context}: reference cohort {reference!r} not in the table ({cohorts})")
    if len(cohorts) < 2:
        raise InputError(f"{context}: needs at least two cohorts, the table has {cohorts}")
    methods = list(methods) if methods is not None else sorted(wide["method"].unique())
    check_methods(wide, methods)
    for method in methods:
        rows = wide[wide["method"] == method]
        for other in (c for c in cohorts if c != reference):
            sub = rows[rows["cohort"].astype(str).isin([reference, other])]
            if subsets is not None:
                if other not in subsets:
                    raise InsufficientDataError(f"{context}: no matched subset for cohort "
                                                f"{other!r}")
                sub = sub[sub["participant_id"].isin(subsets[other])]
            counts = sub["cohort"].astype(str).value_counts()
            for cohort in (reference, other):
                if counts.get(cohort, 0) < min_group:
                    raise InsufficientDataError(
                        f"{context}: method {method}, cohort {cohort!r} has "
                        f"{counts.get(cohort, 0)} subject(s); at least {min_group} are needed"
                    )
            yield method, other, sub


def _check_overlap(sub: pd.DataFrame, covariates: Sequence[str], reference: str, other: str,
                   context: str) -> None:
    for cov in covariates:
        if not pd.api.types.is_numeric_dtype(sub[cov]) or sub[cov].nunique() <= 2:
            continue
        a = sub.loc[sub["cohort"] == reference, cov].dropna()
        b = sub.loc[sub["cohort"] == other, cov].dropna()
        if a.max() < b.min() or b.max() < a.min():
            raise InsufficientDataError(
                f"{context}: cohorts {reference!r} ({a.min():.4g}-{a.max():.4g}) and {other!r} "
                f"({b.min():.4g}-{b.max():.4g}) do not overlap on {cov!r}: the cohort effect is "
                f"confounded with {cov} and not identifiable; match the cohorts first"
            )


def cohort_effect(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    subsets: Mapping[str, set[str]] | None = None,
    robust: bool = False,
    min_group: int = 10,
) -> pd.DataFrame:
    """OLS ``measure ~ cohort + covariates`` per method x measure x comparison cohort.

    Parameters
    ----------
    wide : pandas.DataFrame
        From :func:`harmonstats.analysis.tables.wide_table`.
    reference : str
        Reference cohort; each other cohort is compared with it in its own model.
    measures : sequence of str
        Measure columns (mm, mm3).
    methods : sequence of str, optional
        Methods to analyse (default: all).
    covariates : sequence of str
        Adjustment terms (weeks for GA/PMA; text with two levels such as sex is coded 0/1).
    subsets : mapping, optional
        Comparison cohort -> participant IDs to use (the matched subsets); default all.
    robust : bool
        HC3 standard errors.
    min_group : int
        Fewest subjects per cohort; fewer raises ``ValueError``.

    Returns
    -------
    pandas.DataFrame
        One row per (method, measure, comparison): method, measure, reference, comparison, term,
        estimate, se, ci_low, ci_high, t, df, p, p_fdr, partial_eta2, cohens_d, reference_mean,
        n, n_reference, n_other, covariates, robust (see :data:`EFFECT_COLUMNS`).

    Raises
    ------
    ValueError
        Unknown method or measure, too few subjects, a covariate without variance, cohorts that
        do not overlap on a continuous covariate, or an unidentifiable design.

    References
    ----------
    Grigorescu et al. (2021), section 3.2. Benjamini & Hochberg (1995), JRSS-B 57.
    """
    check_measures(wide, measures)
    rows = []
    for method, other, sub in comparisons(wide, reference=reference, methods=methods,
                                          subsets=subsets, min_group=min_group,
                                          context="cohort effect"):
        context = f"cohort effect ({method}, {reference} vs {other})"
        sub = drop_missing(sub, list(covariates), context)
        check_covariates(sub, covariates, context)
        _check_overlap(sub, covariates, reference, other, context)
        is_other = (sub["cohort"].astype(str) == other).to_numpy()
        frame = sub.assign(_cohort=is_other.astype(float))
        for measure, fit, k, keep in fit_columns(frame, ["_cohort", *covariates], measures,
                                                 context, robust=robust):
            term = fit.term("_cohort")
            t = term["t"][k]
            ref_rows = keep & ~is_other
            rows.append({
                "method": method, "measure": measure, "reference": reference,
                "comparison": other, "term": f"cohort[{other}]",
                **{key: float(val[k]) for key, val in term.items()},
                "df": fit.df, "partial_eta2": t**2 / (t**2 + fit.df),
                "cohens_d": term["estimate"][k] / np.sqrt(fit.sigma2[k]),
                "reference_mean": float(frame.loc[ref_rows, measure].mean()), "n": fit.n,
                "n_reference": int(ref_rows.sum()), "n_other": int((keep & is_other).sum()),
                "covariates": "+".join(covariates), "robust": robust,
            })
    out = pd.DataFrame(rows, columns=[c for c in EFFECT_COLUMNS if c != "p_fdr"])
    out["p_fdr"] = np.nan
    for _, idx in out.groupby(["method", "comparison"]).groups.items():
        out.loc[idx, "p_fdr"] = bh_fdr(out.loc[idx, "p"].to_numpy())
    return out[list(EFFECT_COLUMNS)]


def two_sample_t(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    subsets: Mapping[str, set[str]] | None = None,
    min_group: int = 10,
) -> pd.DataFrame:
    """Student's two-sample t-test per method x measure x comparison (paper: t(58) = 6.33).

    Returns
    -------
    pandas.DataFrame
        method, measure, reference, comparison, mean_reference, sd_reference, mean_other,
        sd_other, t, df, p, n_reference, n_other (see :data:`TTEST_COLUMNS`).
    """
    check_measures(wide, measures)
    rows = []
    for method, other, sub in comparisons(wide, reference=reference, methods=methods,
                                          subsets=subsets, min_group=min_group,
                                          context="t-test"):
        for measure in measures:
            d = drop_missing(sub, [measure], f"t-test ({method}, {measure})")
            a = d.loc[d["cohort"] == reference, measure].to_numpy(float)
            b = d.loc[d["cohort"] == other, measure].to_numpy(float)
            res = stats.ttest_ind(b, a)
            rows.append({
                "method": method, "measure": measure, "reference": reference, "comparison": other,
                "mean_reference": a.mean(), "sd_reference": a.std(ddof=1),
                "mean_other": b.mean(), "sd_other": b.std(ddof=1), "t": float(res.statistic),
                "df": len(a) + len(b) - 2, "p": float(res.pvalue),
                "n_reference": len(a), "n_other": len(b),
            })
    return pd.DataFrame(rows, columns=list(TTEST_COLUMNS))
