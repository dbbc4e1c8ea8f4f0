"""With three or more cohorts: one test of every cohort term before the pairwise rows.

Pairwise comparisons with the reference answer "which cohort differs"; the omnibus F-test of all
cohort indicators in one model answers first "does any cohort differ", at one alpha for the
whole measure (and :func:`harmonstats.analysis.effects.cohort_effect` corrects the pairwise
rows across comparisons as well as measures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.mixed import fit_mixed, has_repeats
from harmonstats.analysis.ols import bh_fdr, design_matrix, fit_columns
from harmonstats.analysis.tables import (
    InsufficientDataError,
    check_covariates,
    check_measures,
    drop_missing,
    rows_analysed,
)

__all__ = ["OMNIBUS_COLUMNS", "cohort_omnibus"]

OMNIBUS_COLUMNS = {
    "method": "Segmentation method.",
    "measure": "Measure.",
    "cohorts": "Cohorts in the model, reference first, '+'-separated.",
    "model": "ols, or mixed (random intercept per subject; Wald F) with several sessions.",
    "f": "F statistic of all non-reference cohort indicators together.",
    "df1": "Numerator degrees of freedom (cohorts - 1).",
    "df2": "Denominator degrees of freedom (residual; mixed: subjects - fixed terms).",
    "p": "p-value of the F-test: does any cohort differ from the others?",
    "p_fdr": "Benjamini-Hochberg adjusted p across the measures of the method.",
    "n": "Rows (sessions) in the model.",
}


def cohort_omnibus(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    subsets: Mapping[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Joint F-test of the cohort terms of ``measure ~ cohorts + covariates``, all cohorts.

    Parameters
    ----------
    wide : pandas.DataFrame
        From ``wide_table``.
    reference : str
        Reference cohort (the indicators are of the other cohorts).
    measures, methods, covariates
        As :func:`harmonstats.analysis.effects.cohort_effect`.
    subsets : mapping, optional
        Comparison cohort -> participant IDs; their union is analysed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OMNIBUS_COLUMNS`.
    """
    check_measures(wide, measures)
    methods, data = rows_analysed(wide, methods, subsets)
    cohorts = [reference, *sorted(c for c in data["cohort"].astype(str).unique()
                                  if c != reference)]
    if len(cohorts) < 3:
        raise InsufficientDataError(f"omnibus test: {len(cohorts)} cohorts; with two, the "
                                    "pairwise cohort effect is the omnibus test")
    rows = []
    for method in methods:
        context = f"omnibus cohort test ({method})"
        sub = drop_missing(data[data["method"] == method], list(covariates), context)
        check_covariates(sub, covariates, context)
        dummies = {f"_c{i}": (sub["cohort"].astype(str) == c).astype(float)
                   for i, c in enumerate(cohorts[1:])}
        sub = sub.assign(**dummies)
        q = len(dummies)
        if has_repeats(sub):
            for measure in measures:
                d = drop_missing(sub, [measure], f"{context}, {measure}")
                x, names = design_matrix(d, [*dummies, *covariates], context)
                res = fit_mixed(x, d[measure].to_numpy(float),
                                d["participant_id"].astype(str).to_numpy(), 1, context)
                idx = [names.index(k) for k in dummies]
                beta, cov = res.beta[idx], res.cov[np.ix_(idx, idx)]
                f = float(beta @ np.linalg.solve(cov, beta) / q)
                rows.append(_row(method, measure, cohorts, "mixed", f, q, res.df, len(d)))
            continue
        reduced = {m: (fit, k) for m, fit, k, _ in fit_columns(sub, covariates, measures,
                                                               context)}
        for measure, fit, k, _ in fit_columns(sub, [*dummies, *covariates], measures, context):
            rfit, rk = reduced[measure]
            rss_f, rss_r = fit.sigma2[k] * fit.df, rfit.sigma2[rk] * rfit.df
            f = float(((rss_r - rss_f) / q) / (rss_f / fit.df))
            rows.append(_row(method, measure, cohorts, "ols", f, q, fit.df, fit.n))
    out = pd.DataFrame(rows, columns=list(OMNIBUS_COLUMNS))
    for _, idx in out.groupby("method").groups.items():
        out.loc[idx, "p_fdr"] = bh_fdr(out.loc[idx, "p"].to_numpy())
    return out


def _row(method: str, measure: str, cohorts: list[str], model: str, f: float, df1: int,
         df2: int, n: int) -> dict:
    return {"method": method, "measure": measure, "cohorts": "+".join(cohorts), "model": model,
            "f": f, "df1": df1, "df2": df2, "p": float(stats.f.sf(f, df1, df2)), "p_fdr": np.nan,
            "n": n}
