"""Cohort effect per method and measure on the matched subsets, and the plain t-test (paper 3.2).

The paper regresses each volume / thickness on cohort, PMA, GA and sex in the matched subsets and
reads the cohort term: beta = 0.20 mm before harmonisation (p < .001), n.s. after for 4 of 6
models. :func:`cohort_effect` returns that term for every method x measure x cohort, with
standardised effect sizes and their CIs; :func:`harmonstats.analysis.equivalence.equivalence`
turns it into a verdict. Each comparison uses one set of subjects: those with every covariate,
counted against ``min_group`` after missing values are dropped, for the model and the t-test
alike. With several sessions per subject the model has a random intercept per subject
(:mod:`harmonstats.analysis.mixed`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.design import term_variables
from harmonstats.analysis.effectsize import (
    hedges_correction,
    noncentral_t_ci,
    partial_eta2_ci,
    pooled_sd,
)
from harmonstats.analysis.mixed import fit_mixed, has_repeats, subject_means
from harmonstats.analysis.ols import bh_fdr, design_matrix, fit_columns
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
    "model": "ols, or mixed (random intercept per subject, REML) where a subject has several "
             "sessions.",
    "estimate": {"Description": "Adjusted mean difference, comparison - reference.",
                 "Units": "unit of the measure (mm, mm3)"},
    "se": {"Description": "Standard error of the estimate (HC3 if robust).",
           "Units": "as estimate"},
    "ci_low": {"Description": "Lower bound of the 95% CI.", "Units": "as estimate"},
    "ci_high": {"Description": "Upper bound of the 95% CI.", "Units": "as estimate"},
    "t": "t statistic, estimate / se.",
    "df": "Residual degrees of freedom, n - number of model terms (mixed: subjects - fixed "
          "terms).",
    "p": "Two-sided p-value of the t statistic.",
    "p_fdr": "Benjamini-Hochberg adjusted p across the measures and comparison cohorts of the "
             "method.",
    "partial_eta2": "Partial eta squared of the cohort term, SS_cohort / (SS_cohort + "
                    "SS_error) = t^2 / (t^2 + df) with the classical t (also when robust); "
                    "NaN for mixed models.",
    "partial_eta2_ci_low": "Lower 95% bound of partial_eta2 (noncentral F, Steiger 2004).",
    "partial_eta2_ci_high": "Upper 95% bound of partial_eta2.",
    "d_adjusted": "Adjusted standardised difference: estimate / residual SD of the model (mixed:"
                  " / sqrt(residual + subject variance)). Not Cohen's d: the residual SD "
                  "excludes what the covariates explain, so it is larger.",
    "d_adjusted_ci_low": "Lower 95% bound of d_adjusted (noncentral t, Steiger & Fouladi 1997).",
    "d_adjusted_ci_high": "Upper 95% bound of d_adjusted.",
    "cohens_d": "Cohen's d of the raw measure, (mean_other - mean_reference) / pooled SD "
                "(effectsize.pooled_sd), same subjects as the model (subject means for mixed).",
    "hedges_g": "Hedges' g, cohens_d x (1 - 3 / (4 df - 1)).",
    "hedges_g_ci_low": "Lower 95% bound of hedges_g (noncentral t).",
    "hedges_g_ci_high": "Upper 95% bound of hedges_g.",
    "reference_mean": {"Description": "Mean of the measure in the reference subjects analysed.",
                       "Units": "unit of the measure"},
    "n": "Rows (sessions) in the model.",
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
    "n_reference": "Reference subjects (the model's: every covariate present; with several "
                   "sessions, each subject's mean).",
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
    covariates: Sequence[str] = (),
) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """Yield (method, comparison cohort, rows of both cohorts) for every method and cohort pair.

    Rows missing a covariate are dropped (with a warning) before the cohorts are counted
    against ``min_group``, so every analysis of a comparison sees the same subjects.
    """
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
            sub = drop_missing(sub, list(covariates),
                               f"{context} ({method}, {reference} vs {other})")
            counts = sub.groupby(sub["cohort"].astype(str))["participant_id"].nunique()
            for cohort in (reference, other):
                if counts.get(cohort, 0) < min_group:
                    raise InsufficientDataError(
                        f"{context}: method {method}, cohort {cohort!r} has "
                        f"{counts.get(cohort, 0)} subject(s) with every covariate; at least "
                        f"{min_group} are needed"
                    )
            yield method, other, sub


def _enough(sub: pd.DataFrame, cohorts: Sequence[str], min_group: int, context: str) -> bool:
    """Whether both cohorts keep ``min_group`` subjects once a measure's missing rows are gone."""
    cohort = sub["cohort"].astype(str).to_numpy()
    ids = sub["participant_id"].to_numpy()
    counts = {c: len(np.unique(ids[cohort == c])) for c in cohorts}
    low = {c: n for c, n in counts.items() if n < min_group}
    if low:
        warnings.warn(f"{context}: {low} subject(s) with this measure, fewer than min_group "
                      f"{min_group}; not analysed", stacklevel=3)
        return False
    return True


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


def _raw_effect(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Cohen's d and Hedges' g of two raw samples, b - a (CI inputs for :func:`_intervals`)."""
    sd = pooled_sd(a, b)
    d = (b.mean() - a.mean()) / sd if sd > 0 else np.nan
    df = len(a) + len(b) - 2
    factor = np.sqrt(1 / len(a) + 1 / len(b))
    return {"cohens_d": d, "hedges_g": hedges_correction(df) * d, "_t_raw": d / factor,
            "_df_raw": df, "_factor_raw": factor}


def _intervals(out: pd.DataFrame) -> pd.DataFrame:
    """Exact CIs of the standardised effects, all rows at once (noncentral t and F)."""
    if out.empty:
        return out.drop(columns=[c for c in out.columns if c.startswith("_")])
    lo, hi = noncentral_t_ci(out["_t_adj"], out["df"])
    out["d_adjusted_ci_low"], out["d_adjusted_ci_high"] = lo * out["_factor_adj"], hi * out[
        "_factor_adj"]
    lo, hi = noncentral_t_ci(out["_t_raw"], out["_df_raw"])
    j = hedges_correction(out["_df_raw"].to_numpy(float))
    out["hedges_g_ci_low"] = j * lo * out["_factor_raw"]
    out["hedges_g_ci_high"] = j * hi * out["_factor_raw"]
    ols = (out["model"] == "ols").to_numpy()
    lo, hi = partial_eta2_ci(np.where(ols, out["_t_adj"] ** 2, np.nan), 1, out["df"])
    out["partial_eta2_ci_low"], out["partial_eta2_ci_high"] = lo, hi
    return out.drop(columns=[c for c in out.columns if c.startswith("_")])


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
    """``measure ~ cohort + covariates`` per method x measure x comparison cohort.

    OLS, or a random intercept per subject where a subject has several sessions.

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
        Adjustment terms (weeks for GA/PMA; text with two levels such as sex is coded 0/1;
        ``ns(pma_scan)`` for a natural spline of PMA).
    subsets : mapping, optional
        Comparison cohort -> participant IDs to use (the matched subsets); default all.
    robust : bool
        HC3 standard errors (OLS only).
    min_group : int
        Fewest subjects per cohort, after dropping missing values: fewer for the comparison
        raises ``InsufficientDataError``; fewer for one measure leaves it out with a warning.

    Returns
    -------
    pandas.DataFrame
        One row per (method, measure, comparison), columns :data:`EFFECT_COLUMNS`.

    Raises
    ------
    ValueError
        Unknown method or measure, too few subjects, a covariate without variance, cohorts that
        do not overlap on a continuous covariate, or an unidentifiable design.

    Examples
    --------
    >>> from harmonstats.analysis import cohort_effect, simulate_measures, wide_table
    >>> wide = wide_table(*simulate_measures(40, seed=0))
    >>> eff = cohort_effect(wide, reference="source", measures=["thickness_mean"],
    ...                     methods=["original"])
    >>> eff[["estimate", "ci_low", "ci_high", "d_adjusted", "hedges_g"]].round(2)
       estimate  ci_low  ci_high  d_adjusted  hedges_g
    0      0.18    0.14     0.22        2.18      1.13

    References
    ----------
    Grigorescu et al. (2021), section 3.2. Benjamini & Hochberg (1995), JRSS-B 57. Cohen (1988),
    Statistical power analysis. Steiger & Fouladi (1997); Steiger (2004), Psychol Methods 9.
    """
    check_measures(wide, measures)
    base = sorted({v for c in covariates for v in term_variables(c)})
    rows = []
    for method, other, sub in comparisons(wide, reference=reference, methods=methods,
                                          subsets=subsets, min_group=min_group,
                                          context="cohort effect", covariates=base):
        context = f"cohort effect ({method}, {reference} vs {other})"
        check_covariates(sub, base, context)
        _check_overlap(sub, base, reference, other, context)
        is_other = (sub["cohort"].astype(str) == other).to_numpy()
        frame = sub.assign(_cohort=is_other.astype(float))
        common = {"method": method, "reference": reference, "comparison": other,
                  "term": f"cohort[{other}]", "covariates": "+".join(covariates)}
        if has_repeats(sub):
            rows += _mixed_rows(frame, covariates, measures, (reference, other), min_group,
                                context, common)
            continue
        for measure, fit, k, keep in fit_columns(frame, ["_cohort", *covariates], measures,
                                                 context, robust=robust):
            if not _enough(frame[keep], (reference, other), min_group, f"{context}, {measure}"):
                continue
            term = fit.term("_cohort")
            j = fit.names.index("_cohort")
            t_classic = float(term["estimate"][k] / fit.se_classical[j, k])
            sigma = float(np.sqrt(fit.sigma2[k]))
            ref_rows, oth_rows = keep & ~is_other, keep & is_other
            y = frame[measure].to_numpy(float)
            rows.append({
                **common, "measure": measure, "model": "ols",
                **{key: float(val[k]) for key, val in term.items()},
                "df": fit.df, "partial_eta2": t_classic**2 / (t_classic**2 + fit.df),
                "d_adjusted": float(term["estimate"][k]) / sigma, "_t_adj": t_classic,
                "_factor_adj": float(fit.se_classical[j, k]) / sigma,
                **_raw_effect(y[ref_rows], y[oth_rows]),
                "reference_mean": float(y[ref_rows].mean()), "n": fit.n,
                "n_reference": int(ref_rows.sum()), "n_other": int(oth_rows.sum()),
                "robust": robust,
            })
    internal = ["_t_adj", "_factor_adj", "_t_raw", "_df_raw", "_factor_raw"]
    out = _intervals(pd.DataFrame(rows, columns=[*[c for c in EFFECT_COLUMNS if c != "p_fdr"],
                                                 *internal]))
    out["p_fdr"] = np.nan
    for _, idx in out.groupby("method").groups.items():
        out.loc[idx, "p_fdr"] = bh_fdr(out.loc[idx, "p"].to_numpy())
    return out[list(EFFECT_COLUMNS)]


def _mixed_rows(frame: pd.DataFrame, covariates: Sequence[str], measures: Sequence[str],
                cohorts: tuple[str, str], min_group: int, context: str, common: dict
                ) -> list[dict]:
    """One random-intercept model per measure (subjects with several sessions)."""
    out = []
    for measure in measures:
        data = drop_missing(frame, [measure], f"{context}, {measure}")
        if not _enough(data, cohorts, min_group, f"{context}, {measure}"):
            continue
        x, names = design_matrix(data, ["_cohort", *covariates], context)
        y = data[measure].to_numpy(float)
        res = fit_mixed(x, y, data["participant_id"].astype(str).to_numpy(),
                        names.index("_cohort"), f"{context}, {measure}")
        means = subject_means(data, [measure])
        is_ref = (means["cohort"].astype(str) == cohorts[0]).to_numpy()
        values = means[measure].to_numpy(float)
        out.append({
            **common, "measure": measure, "model": "mixed", "estimate": res.estimate,
            "se": res.se, "ci_low": res.ci_low, "ci_high": res.ci_high, "t": res.t,
            "df": res.df, "p": res.p, "partial_eta2": np.nan,
            "d_adjusted": res.estimate / res.sd_total, "_t_adj": res.t,
            "_factor_adj": res.se / res.sd_total, **_raw_effect(values[is_ref], values[~is_ref]),
            "reference_mean": float(values[is_ref].mean()), "n": len(data),
            "n_reference": int(is_ref.sum()), "n_other": int((~is_ref).sum()), "robust": False,
        })
    return out


def two_sample_t(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    subsets: Mapping[str, set[str]] | None = None,
    min_group: int = 10,
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Student's two-sample t-test per method x measure x comparison (paper: t(58) = 6.33).

    The subjects are those of :func:`cohort_effect` with the same ``covariates``: rows missing
    any of them are dropped first. With several sessions, each subject's mean is tested.

    Returns
    -------
    pandas.DataFrame
        method, measure, reference, comparison, mean_reference, sd_reference, mean_other,
        sd_other, t, df, p, n_reference, n_other (see :data:`TTEST_COLUMNS`).
    """
    check_measures(wide, measures)
    base = sorted({v for c in covariates for v in term_variables(c)})
    rows = []
    for method, other, sub in comparisons(wide, reference=reference, methods=methods,
                                          subsets=subsets, min_group=min_group,
                                          context="t-test", covariates=base):
        for measure in measures:
            context = f"t-test ({method}, {measure})"
            d = drop_missing(sub, [measure], context)
            if not _enough(d, (reference, other), min_group, context):
                continue
            d = subject_means(d, [measure])
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
