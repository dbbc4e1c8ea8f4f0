"""Term vs preterm cortical thickness (paper 3.3, Figures 10-11).

Subjects scanned at 37-45 weeks PMA; the paper fits ``CT ~ PMA + GA + sex + birth weight +
PMA:GA`` on dHCP alone, on both cohorts pooled before harmonisation and pooled after, and reads
where the term and preterm regression lines of CT on PMA cross (about 38.5 weeks). Here the
covariates are centred (PMA and GA at 40 weeks) so that main effects are read at a term-born
infant scanned at 40 weeks, each term's VIF is reported (GA and birth weight are collinear), and
the crossing comes from one joint model with Fieller's confidence set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.ols import bh_fdr, design_matrix, fit_columns, vif
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
    "term": "Model term (a:b is the interaction; preterm is a step at GA = term_ga).",
    "centred_at": "Values the term's variables were centred at (e.g. pma_scan=40): a main "
                  "effect is the slope at the other variables' centres, not at 0.",
    "estimate": {"Description": "Coefficient.", "Units": "measure unit per unit of the term"},
    "se": "Standard error.",
    "ci_low": "95% CI lower bound.",
    "ci_high": "95% CI upper bound.",
    "t": "t statistic.",
    "df": "Residual degrees of freedom.",
    "p": "Two-sided p-value.",
    "p_fdr": "Benjamini-Hochberg adjusted p across regions (regional prematurity table only).",
    "vif": "Variance inflation factor of the term in this model (above 10: the term is nearly "
           "collinear with others, e.g. GA with birth weight, and its own estimate is unstable).",
    "n": "Subjects in the model.",
}
CROSSING_COLUMNS = {
    "analysis": "Which data (see the model table).",
    "method": "Segmentation method.",
    "cohorts": "Cohorts included.",
    "measure": "Measure regressed on PMA.",
    "slope_term": {"Description": "Slope of the term-born line.", "Units": "mm per week"},
    "slope_preterm": {"Description": "Slope of the preterm-born line.", "Units": "mm per week"},
    "slope_difference": {"Description": "slope_preterm - slope_term, from the joint model "
                         "measure ~ preterm * PMA (+ covariates).", "Units": "mm per week"},
    "slope_difference_se": {"Description": "Its standard error.", "Units": "mm per week"},
    "slope_difference_p": "Two-sided p of the slope difference: the lines cross at a "
                          "well-defined PMA only when the slopes differ.",
    "crossing_pma": {"Description": "PMA where the two lines cross.", "Units": "weeks"},
    "ci_shape": "Shape of the Fieller 95% confidence set: 'interval' [ci_low, ci_high]; "
                "'two rays' (-inf, ci_low] and [ci_high, inf), the slopes not differing "
                "significantly; 'whole line', any PMA is compatible with the data.",
    "ci_low": {"Description": "Lower end of the interval, or end of the lower ray.",
               "Units": "weeks"},
    "ci_high": {"Description": "Upper end of the interval, or start of the upper ray.",
                "Units": "weeks"},
    "in_window": "True if crossing_pma lies within the PMA range of the subjects analysed; a "
                 "crossing outside it is an extrapolation of the lines.",
    "pma_min": {"Description": "Lowest PMA analysed.", "Units": "weeks"},
    "pma_max": {"Description": "Highest PMA analysed.", "Units": "weeks"},
    "df": "Residual degrees of freedom of the joint model.",
    "n_term": "Term-born subjects (GA >= term_ga).",
    "n_preterm": "Preterm-born subjects.",
}

#: Centring of the term vs preterm models, weeks and grams (see PretermOptions).
CENTRE = {"pma_scan": 40.0, "ga_birth": 40.0, "birth_weight": 3000.0}


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
    centre: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Fit ``measure ~ terms`` (default the paper's model) with centred covariates.

    With the PMA x GA interaction, the PMA coefficient is the PMA slope where GA is 0; centred
    at ``centre`` (default PMA 40 and GA 40 weeks, birth weight 3000 g) it is the slope of a
    term-born infant (GA 40), the GA coefficient the GA effect at PMA 40, and the interaction
    is unchanged.

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
    centre : mapping, optional
        Variable -> value subtracted before fitting (default :data:`CENTRE`).

    Returns
    -------
    pandas.DataFrame
        analysis, method, cohorts, measure, term, centred_at, estimate, se, ci_low, ci_high, t,
        df, p, p_fdr (NaN here), vif, n (see :data:`MODEL_COLUMNS`).
    """
    check_measures(rows, measures)
    context = f"term vs preterm ({analysis})"
    base = sorted({p for t in terms for p in t.split(":")})
    rows = drop_missing(rows, base, context)
    check_covariates(rows, base, context)
    centre = dict(CENTRE if centre is None else centre)
    shifts = {v: c for v, c in centre.items() if v in base}
    data = rows.assign(**{v: rows[v].astype(float) - c for v, c in shifts.items()})
    x, _ = design_matrix(data, terms, context)
    inflation = dict(zip(terms, vif(x), strict=True))
    out = []
    for measure, fit, k, _ in fit_columns(data, terms, measures, context):
        for term in terms:
            res = fit.term(term)
            out.append(
                {
                    "analysis": analysis,
                    "method": _one(rows, "method"),
                    "cohorts": "+".join(sorted(rows["cohort"].astype(str).unique())),
                    "measure": measure,
                    "term": term,
                    "centred_at": "; ".join(f"{v}={shifts[v]:g}" for v in term.split(":")
                                            if v in shifts),
                    **{key: float(val[k]) for key, val in res.items()},
                    "df": fit.df,
                    "p_fdr": np.nan,
                    "vif": float(inflation[term]),
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
    centre: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Per region, ``measure ~ covariates + preterm`` (preterm = GA < term_ga); FDR over regions.

    With GA itself in the model, ``preterm`` is a *step* at GA = ``term_ga`` on top of the
    linear GA trend: the difference between infants born just before and just after
    ``term_ga`` weeks at equal PMA, sex and birth weight, beyond what GA predicts. It is not
    the mean difference between preterm and term-born infants (most of which the GA slope
    carries); drop ``ga_birth`` from ``covariates`` for that.

    Returns
    -------
    pandas.DataFrame
        The ``preterm`` term per measure in the layout of :func:`preterm_model`; ``estimate``
        is the step (mm) and ``p_fdr`` is Benjamini-Hochberg across the measures.
    """
    rows = drop_missing(rows, ["ga_birth"], f"regional prematurity ({analysis})")
    rows = rows.assign(preterm=(rows["ga_birth"] < term_ga).astype(float))
    out = preterm_model(rows, analysis=analysis, measures=measures,
                        terms=[*covariates, "preterm"], centre=centre)
    out = out[out["term"] == "preterm"].reset_index(drop=True)
    out["p_fdr"] = bh_fdr(out["p"].to_numpy())
    return out


def crossing_point(
    rows: pd.DataFrame,
    *,
    analysis: str,
    measure: str = "thickness_mean",
    term_ga: float = 37.0,
    covariates: Sequence[str] = (),
    level: float = 0.95,
) -> pd.DataFrame:
    """PMA where the term and preterm lines of ``measure`` on PMA cross, with Fieller's CI.

    One joint model, ``measure ~ preterm + PMA + preterm:PMA + covariates`` (preterm = GA <
    ``term_ga``), gives the preterm shift ``c`` and slope difference ``d``; the lines cross at
    ``PMA* = -c / d``. Fieller's confidence set is every PMA ``x`` at which the lines' distance
    ``c + d x`` is not significantly different from 0: an interval when ``d`` differs
    significantly from 0, else two rays or the whole line, honestly unbounded where a ratio
    bootstrap would print a finite, meaningless interval. The slope-difference test is
    reported beside it, and a crossing outside the PMA range analysed is flagged.

    Parameters
    ----------
    rows : pandas.DataFrame
        From :func:`preterm_subset` (pma_scan, ga_birth in weeks, the measure).
    analysis : str
        Label.
    measure : str
        Outcome (mm).
    term_ga : float
        Term cut-off (GA >= term_ga weeks is term-born).
    covariates : sequence of str
        Further adjustment of the joint model (e.g. ``("sex",)``).
    level : float
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        One row: analysis, method, cohorts, measure, slope_term, slope_preterm,
        slope_difference, slope_difference_se, slope_difference_p, crossing_pma, ci_shape,
        ci_low, ci_high, in_window, pma_min, pma_max, df, n_term, n_preterm (see
        :data:`CROSSING_COLUMNS`).

    References
    ----------
    Fieller, E. C. (1954). Some problems in interval estimation. JRSS-B 16. Grigorescu et al.
    (2021), section 3.3 and Figure 10 (crossing at about 38.5 weeks).
    """
    check_measures(rows, [measure])
    context = f"crossing point ({analysis})"
    rows = drop_missing(rows, ["ga_birth", "pma_scan", measure, *covariates], context)
    pre = (rows["ga_birth"] < term_ga).to_numpy()
    for label, group in (("term", ~pre), ("preterm", pre)):
        if group.sum() < 3 or rows.loc[group, "pma_scan"].nunique() < 2:
            raise InsufficientDataError(
                f"{context}: the {label} group has {int(group.sum())} subject(s) / too little "
                "PMA spread for a regression line")
    # Centred at the mean PMA, so that the shift and slope difference are nearly uncorrelated.
    origin = float(rows["pma_scan"].mean())
    data = rows.assign(_pre=pre.astype(float), _pma=rows["pma_scan"] - origin)
    data = data.assign(_pre_pma=data["_pre"] * data["_pma"])
    fit = fit_columns(data, ["_pre", "_pma", "_pre_pma", *covariates], [measure], context)[0][1]
    j = {n: fit.names.index(n) for n in ("_pre", "_pma", "_pre_pma")}
    c, b, d = (float(fit.beta[j[n], 0]) for n in ("_pre", "_pma", "_pre_pma"))
    cov = fit.sigma2[0] * fit.xtx_inv
    v_cc, v_cd, v_dd = cov[j["_pre"], j["_pre"]], cov[j["_pre"], j["_pre_pma"]], cov[
        j["_pre_pma"], j["_pre_pma"]]
    q = stats.t.ppf(0.5 + level / 2, fit.df)
    shape, low, high = _fieller(c, d, v_cc, v_cd, v_dd, q)
    se_d = float(np.sqrt(v_dd))
    crossing = origin - c / d if d != 0 else np.nan
    pma = rows["pma_scan"].astype(float)
    return pd.DataFrame([{
        "analysis": analysis, "method": _one(rows, "method"),
        "cohorts": "+".join(sorted(rows["cohort"].astype(str).unique())), "measure": measure,
        "slope_term": b, "slope_preterm": b + d, "slope_difference": d,
        "slope_difference_se": se_d, "slope_difference_p": float(2 * stats.t.sf(
            abs(d) / se_d, fit.df)),
        "crossing_pma": crossing, "ci_shape": shape, "ci_low": origin + low,
        "ci_high": origin + high,
        "in_window": bool(pma.min() <= crossing <= pma.max()),
        "pma_min": float(pma.min()), "pma_max": float(pma.max()), "df": fit.df,
        "n_term": int((~pre).sum()), "n_preterm": int(pre.sum()),
    }], columns=list(CROSSING_COLUMNS))


def _fieller(c: float, d: float, v_cc: float, v_cd: float, v_dd: float, q: float
             ) -> tuple[str, float, float]:
    """Fieller set of ``x`` with ``(c + d x)^2 <= q^2 var(c + d x)``: shape and its two ends."""
    a = d**2 - q**2 * v_dd
    b = 2 * (c * d - q**2 * v_cd)
    cc = c**2 - q**2 * v_cc
    disc = b**2 - 4 * a * cc
    if a > 0:
        root = np.sqrt(max(disc, 0.0))
        return "interval", (-b - root) / (2 * a), (-b + root) / (2 * a)
    if a < 0 and disc > 0:
        r1, r2 = sorted(((-b - np.sqrt(disc)) / (2 * a), (-b + np.sqrt(disc)) / (2 * a)))
        return "two rays", r1, r2
    return "whole line", -np.inf, np.inf


def _one(rows: pd.DataFrame, column: str) -> str:
    return "+".join(sorted(rows[column].astype(str).unique()))
