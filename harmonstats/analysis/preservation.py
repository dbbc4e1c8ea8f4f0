"""Preservation of biological effects: does harmonisation keep the effect of age on the brain?

The paper says "the effect of PMA remained stable across all six methods"; here that becomes a
number: each method's PMA (and GA) coefficient, pooled over cohorts, next to the coefficient the
reference cohort gives on its own, with CIs and their ratio, and a formal test that the slope is
the same in every cohort (the cohort x term interaction, an F-test of all its coefficients).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.ols import fit_columns
from harmonstats.analysis.tables import (
    check_covariates,
    check_measures,
    check_methods,
    drop_missing,
    rows_analysed,
)

__all__ = ["PRESERVATION_COLUMNS", "biological_effects"]

PRESERVATION_COLUMNS = {
    "method": "Segmentation method.",
    "measure": "Measure.",
    "term": "Biological term (e.g. pma_scan, ga_birth).",
    "estimate": {"Description": "Coefficient in the pooled model (all cohorts, cohort "
                 "indicators and covariates adjusted).", "Units": "measure unit per week"},
    "se": {"Description": "Its standard error.", "Units": "measure unit per week"},
    "ci_low": {"Description": "95% CI lower bound.", "Units": "measure unit per week"},
    "ci_high": {"Description": "95% CI upper bound.", "Units": "measure unit per week"},
    "p": "Two-sided p-value.",
    "n": "Subjects in the pooled model.",
    "reference_estimate": {"Description": "Same coefficient fitted on the reference cohort alone "
                           "(reference_method's measures).", "Units": "measure unit per week"},
    "reference_ci_low": {"Description": "Its 95% CI lower bound.", "Units": "as estimate"},
    "reference_ci_high": {"Description": "Its 95% CI upper bound.", "Units": "as estimate"},
    "reference_n": "Subjects in the reference-only model.",
    "ratio": "estimate / reference_estimate (1 = effect preserved).",
    "difference": {"Description": "estimate - reference_estimate.", "Units": "as estimate"},
    "interaction_f": "F statistic of the cohort x term interaction (all non-reference cohorts) "
                     "added to the pooled model: does the term's slope differ between cohorts?",
    "interaction_df": "Its numerator degrees of freedom (cohorts - 1); the denominator is the "
                      "full model's residual df.",
    "interaction_p": "p-value of that F-test; small: the slope differs between cohorts (not "
                     "preserved). A large p alone does not show equal slopes.",
}


def biological_effects(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    terms: Sequence[str] = ("pma_scan", "ga_birth"),
    covariates: Sequence[str] = ("sex",),
    reference_method: str | None = None,
    subsets: Mapping[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Biological coefficients per method, pooled over cohorts, against the reference cohort's own.

    Pooled model per method: ``measure ~ cohort indicators + terms + covariates``; reference
    model: ``measure ~ terms + covariates`` on the reference cohort only, measured with
    ``reference_method`` (default: the same method).

    Parameters
    ----------
    wide : pandas.DataFrame
        From ``wide_table``.
    reference : str
        Reference cohort.
    measures : sequence of str
        Outcome measures.
    methods : sequence of str, optional
        Methods (default all).
    terms : sequence of str
        Biological terms reported (weeks).
    covariates : sequence of str
        Other adjustment terms.
    reference_method : str, optional
        Method whose reference-cohort measures give the reference coefficients.
    subsets : mapping, optional
        Comparison cohort -> participant IDs; the union is used (e.g. the matched subsets).

    Returns
    -------
    pandas.DataFrame
        method, measure, term, estimate, se, ci_low, ci_high, p, n, reference_estimate,
        reference_ci_low, reference_ci_high, reference_n, ratio, difference, interaction_f,
        interaction_df, interaction_p (see :data:`PRESERVATION_COLUMNS`).
    """
    check_measures(wide, measures)
    methods, data = rows_analysed(wide, methods, subsets)
    check_methods(wide, [reference_method] if reference_method else [])
    model = [*terms, *covariates]
    cohorts = sorted(c for c in data["cohort"].astype(str).unique() if c != reference)
    rows = []
    for method in methods:
        context = f"biological effects ({method})"
        pooled = drop_missing(data[data["method"] == method], model, context)
        dummies = {f"_c_{c}": (pooled["cohort"].astype(str) == c).astype(float) for c in cohorts}
        pooled = pooled.assign(**dummies)
        check_covariates(pooled, model, context)
        ref_rows = data[(data["method"] == (reference_method or method))
                        & (data["cohort"].astype(str) == reference)]
        ref_rows = drop_missing(ref_rows, model, f"{context}, reference cohort")
        check_covariates(ref_rows, model, f"{context}, reference cohort")
        ref_fits = {m: (f, k) for m, f, k, _ in fit_columns(ref_rows, model, measures,
                                                            f"{context}, reference cohort")}
        interactions = {}
        for term in terms if dummies else ():
            full = fit_columns(pooled, [*dummies, *model, *(f"{d}:{term}" for d in dummies)],
                               measures, context)
            interactions[term] = {m: (f, k) for m, f, k, _ in full}
        for measure, fit, k, _ in fit_columns(pooled, [*dummies, *model], measures, context):
            if measure not in ref_fits:
                continue
            rfit, rk = ref_fits[measure]
            for term in terms:
                q = len(dummies)
                f_stat, f_p = np.nan, np.nan
                if measure in interactions.get(term, {}):
                    ffit, fk = interactions[term][measure]
                    rss_r, rss_f = fit.sigma2[k] * fit.df, ffit.sigma2[fk] * ffit.df
                    f_stat = ((rss_r - rss_f) / q) / (rss_f / ffit.df)
                    f_p = float(stats.f.sf(f_stat, q, ffit.df))
                t, r = fit.term(term), rfit.term(term)
                est, ref_est = float(t["estimate"][k]), float(r["estimate"][rk])
                rows.append({
                    "method": method, "measure": measure, "term": term, "estimate": est,
                    "se": float(t["se"][k]), "ci_low": float(t["ci_low"][k]),
                    "ci_high": float(t["ci_high"][k]), "p": float(t["p"][k]), "n": fit.n,
                    "reference_estimate": ref_est, "reference_ci_low": float(r["ci_low"][rk]),
                    "reference_ci_high": float(r["ci_high"][rk]), "reference_n": rfit.n,
                    "ratio": est / ref_est if ref_est != 0 else np.nan,
                    "difference": est - ref_est, "interaction_f": float(f_stat),
                    "interaction_df": q,
                    "interaction_p": f_p,
                })
    return pd.DataFrame(rows, columns=list(PRESERVATION_COLUMNS))
