"""Equivalence of cohorts (TOST) on the covariate-adjusted cohort effect, with power.

A non-significant cohort effect only says the data could not show a difference; it does not show
that the cohorts agree. Harmonisation is claimed here only when the two one-sided tests (TOST)
place the cohort effect inside a margin the user accepts as negligible, after adjusting for the
number of measures tested, and every row says how much the data could certify: the TOST power
at the observed SE, the tightest margin the CI excludes, and for inconclusive rows the sample
size that would have settled the question.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.ols import bh_fdr, holm
from harmonstats.errors import InputError

__all__ = ["EQUIVALENCE_COLUMNS", "VERDICTS", "equivalence", "tost_power", "tost_sample_size"]

#: Verdicts, see :func:`equivalence`.
VERDICTS = ("equivalent", "trivial difference", "different", "inconclusive")
_ADJUST = {"holm": holm, "bh": bh_fdr, "none": lambda p: np.asarray(p, dtype=float)}

EQUIVALENCE_COLUMNS = {
    "method": "Segmentation method.",
    "measure": "Measure.",
    "reference": "Reference cohort.",
    "comparison": "Cohort compared with the reference.",
    "estimate": {"Description": "Adjusted cohort effect, comparison - reference.",
                 "Units": "measure unit"},
    "se": {"Description": "Its standard error.", "Units": "measure unit"},
    "df": "Residual degrees of freedom.",
    "margin": "Margin as given: a fraction of the reference mean (relative) or in measure units.",
    "margin_relative": "True if margin is a fraction of a reference mean.",
    "margin_source": "Where the bound comes from, the same for every method of a measure: the "
                     "reference cohort's mean under the declared method, or an absolute margin.",
    "margin_abs": {"Description": "Equivalence bound D: effects in (-D, D) count as negligible.",
                   "Units": "measure unit"},
    "ci90_low": {"Description": "Lower bound of the (1 - 2 alpha) CI (90% at alpha .05), "
                 "unadjusted.", "Units": "measure unit"},
    "ci90_high": {"Description": "Upper bound of the (1 - 2 alpha) CI.", "Units": "measure unit"},
    "t_lower": "TOST statistic against -D: (estimate + D) / se.",
    "t_upper": "TOST statistic against +D: (estimate - D) / se.",
    "p_tost": "TOST p-value, the larger of the two one-sided p-values (unadjusted).",
    "p_tost_adj": "p_tost adjusted across the measures and comparisons of the method (see "
                  "adjust).",
    "p_difference": "Two-sided p-value of the cohort effect against 0 (unadjusted).",
    "p_difference_adj": "p_difference adjusted as p_tost_adj.",
    "adjust": "Multiplicity adjustment of both p-values: holm (family-wise error), bh (false "
              "discovery rate) or none.",
    "verdict": "equivalent / trivial difference / different / inconclusive, from the adjusted "
               "p-values (see the equivalence docstring).",
    "within_margin": "True for 'equivalent' and 'trivial difference': the effect is shown to lie "
                     "inside the margin.",
    "harmonised": "True for 'equivalent' only. A 'trivial difference' is a real difference "
                  "smaller than the margin: within_margin, not harmonised.",
    "power_tost": "Power of this TOST (level alpha, unadjusted) for a true difference of 0 at "
                  "the observed SE: 2 P(T' > t_{1-alpha}) - 1, T' noncentral t with "
                  "noncentrality D / se.",
    "alpha_family": "Level at which this row's TOST alone is sure to pass the adjustment: "
                    "alpha / m for holm and bh (m: the method's rows with a p-value), alpha "
                    "for none.",
    "power_tost_adj": "Power of this TOST at alpha_family, for a true difference of 0 at the "
                      "observed SE: a lower bound on the chance that the adjusted TOST passes "
                      "(what the verdict needs).",
    "certified_margin": {"Description": "Tightest margin the data certify: max |90% CI bound|;"
                         " any margin above it would give equivalence (unadjusted).",
                         "Units": "measure unit"},
    "n_per_cohort_needed": "For inconclusive rows: subjects per cohort (equal groups, same "
                           "residual SD and model) giving the TOST the target power at this "
                           "margin for a true difference of 0, at level alpha_family (so after "
                           "the adjustment); NaN for the other verdicts.",
    "n": "Subjects in the model.",
}


def tost_power(bound: float | np.ndarray, se: float | np.ndarray, df: float | np.ndarray,
               alpha: float | np.ndarray = 0.05) -> np.ndarray:
    """Power of the TOST for a true difference of 0: ``max(0, 2 P(T' > t_{1-a}) - 1)``.

    ``T'`` is noncentral t with ``df`` degrees of freedom and noncentrality ``bound / se``, the
    usual approximation to the TOST's power (exact as the SE's own sampling error vanishes).
    """
    bound, se, df = (np.asarray(v, dtype=float) for v in (bound, se, df))
    crit = stats.t.ppf(1 - alpha, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        one_side = stats.nct.sf(crit, df, bound / se)
    return np.clip(2 * one_side - 1, 0.0, 1.0)


def tost_sample_size(bound: float, sd: float, n_terms: int, *, alpha: float = 0.05,
                     power: float = 0.8, limit: int = 1_000_000) -> float:
    """Subjects per cohort (two equal groups) for the TOST to reach ``power`` at a true 0.

    ``sd`` is the residual SD of one subject (``se / sqrt(1/n1 + 1/n2)``); the model keeps
    ``n_terms`` terms, so ``df = 2 n - n_terms``. NaN if ``limit`` is not enough.
    """
    if not (np.isfinite(bound) and np.isfinite(sd) and bound > 0 and sd > 0):
        return float("nan")

    def reached(n: int) -> bool:
        return bool(tost_power(bound, sd * np.sqrt(2 / n), 2 * n - n_terms, alpha) >= power)

    z = stats.norm.ppf(1 - alpha) + stats.norm.ppf((1 + power) / 2)
    n = max(int(np.ceil(2 * (z * sd / bound) ** 2)), n_terms // 2 + 2)
    if n > limit:
        return float("nan")
    while n > n_terms // 2 + 2 and reached(n - 1):
        n -= 1
    while not reached(n):
        n += 1
        if n > limit:
            return float("nan")
    return float(n)


def equivalence(
    effects: pd.DataFrame,
    *,
    margin: float = 0.05,
    relative: bool = True,
    alpha: float = 0.05,
    adjust: str = "holm",
    margin_means: Mapping[str, float] | None = None,
    margin_source: str | None = None,
    margins: Mapping[str, float] | None = None,
    power: float = 0.8,
) -> pd.DataFrame:
    """TOST on cohort effects from :func:`harmonstats.analysis.effects.cohort_effect`.

    The bound is ``D = margin * |m|`` when ``relative`` (default 5%, Pardoe et al. 2016), with
    ``m`` the measure's reference mean from ``margin_means`` (one value per measure, so every
    method faces the same margin; the battery takes it from the reference cohort under a
    declared method), or ``D = margin`` in the measure's unit (mm, mm3) otherwise. The TOST and
    difference p-values are adjusted across the rows of each method (its measures and
    comparisons) by ``adjust``; then:

    - ``equivalent``: adjusted ``p_tost < alpha`` and adjusted ``p_difference >= alpha``;
    - ``trivial difference``: both adjusted p-values ``< alpha``: the cohorts differ, by less
      than the margin. ``within_margin`` but not ``harmonised``: report it as a difference
      that is negligible by the margin's standard;
    - ``different``: adjusted ``p_difference < alpha`` and ``p_tost >= alpha``;
    - ``inconclusive``: neither. A non-significant difference alone is never reported as
      harmonised; ``n_per_cohort_needed`` says what would settle it.

    The verdict needs the *adjusted* TOST p below ``alpha``. A row's TOST p below
    ``alpha / m`` (``m`` rows of the method with a p-value) is sufficient for that under Holm's
    step-down and under Benjamini-Hochberg, whatever the other rows give, so ``power_tost_adj``
    (power at ``alpha / m``) is a lower bound on the chance of passing the adjustment, and
    ``n_per_cohort_needed`` is sized at that level: sized at ``alpha`` it would call a study
    large enough whose every measure is "inconclusive" after the adjustment.

    Parameters
    ----------
    effects : pandas.DataFrame
        Output of ``cohort_effect`` (method, measure, estimate, se, df, p, n, ...).
    margin : float
        Equivalence margin: fraction of the reference mean, or absolute (measure unit).
    relative : bool
        Whether ``margin`` is relative.
    alpha : float
        Level of each one-sided test and of the difference test.
    adjust : {"holm", "bh", "none"}
        Multiplicity adjustment across each method's rows.
    margin_means : mapping, optional
        Measure -> reference mean the relative margin is a fraction of. Required for relative
        margins unless ``effects`` holds one method (its ``reference_mean`` is then used).
    margin_source : str, optional
        Text for the ``margin_source`` column (default: how the bound was formed).
    margins : mapping, optional
        Measure -> absolute margin (measure unit) overriding ``margin`` for that measure.
    power : float
        Target power of ``n_per_cohort_needed``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EQUIVALENCE_COLUMNS`.

    Examples
    --------
    The paper's design (30 + 30, residual SD 0.125 mm, margin 5% of 1.73 mm) has TOST power
    0.68 at a true difference of 0:

    >>> from harmonstats.analysis.equivalence import tost_power
    >>> round(float(tost_power(0.05 * 1.73, 0.125 * (2 / 30) ** 0.5, 55)), 2)
    0.68

    References
    ----------
    Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure... J Pharmacokinet
    Biopharm 15. Lakens, D. (2017). Equivalence tests. Soc Psychol Personal Sci 8.
    Pardoe, H. R. et al. (2016). Multi-site voxel-based morphometry... Neuroimage Clin. Holm, S.
    (1979). Scand J Stat 6. Chow, S.-C. et al. (2008). Sample size calculations in clinical
    research, section 3.2.
    """
    if margin <= 0:
        raise ValueError(f"equivalence margin must be positive, got {margin}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    if adjust not in _ADJUST:
        raise ValueError(f"adjust must be one of {list(_ADJUST)}, got {adjust!r}")
    out = effects.reset_index(drop=True).copy()
    measures = out["measure"].astype(str)
    margins = dict(margins or {})
    fixed = measures.isin(list(margins)).to_numpy()
    if relative and not fixed.all():
        if margin_means is None:
            if out["method"].nunique() > 1:
                raise InputError("relative equivalence margins over several methods need "
                                 "margin_means (one reference mean per measure, e.g. from the "
                                 "'before' method), so that every method faces one margin")
            margin_means = dict(zip(measures, out["reference_mean"].astype(float), strict=True))
            margin_source = margin_source or "fraction of the reference mean of this method"
        missing = sorted(set(measures[~fixed]) - set(margin_means))
        if missing:
            raise InputError(f"no reference mean for the margin of measure(s) {missing}")
        bound = margin * np.abs(measures.map(margin_means).to_numpy(float))
    else:
        bound = np.full(len(out), float(margin))
    source = np.where(fixed, "absolute (margins)", margin_source or (
        "fraction of margin_means" if relative else "absolute (margin)"))
    bound = np.where(fixed, measures.map(margins).to_numpy(float), bound)
    est, se, df = (out[c].to_numpy(float) for c in ("estimate", "se", "df"))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lower, t_upper = (est + bound) / se, (est - bound) / se
    p_tost = np.maximum(stats.t.sf(t_lower, df), stats.t.cdf(t_upper, df))
    q = stats.t.ppf(1 - alpha, df)
    p_diff = out["p"].to_numpy(float)
    p_tost_adj, p_diff_adj = np.full(len(out), np.nan), np.full(len(out), np.nan)
    alpha_family = np.full(len(out), float(alpha))
    for _, idx in out.groupby("method").indices.items():
        p_tost_adj[idx] = _ADJUST[adjust](p_tost[idx])
        p_diff_adj[idx] = _ADJUST[adjust](p_diff[idx])
        if adjust != "none":
            alpha_family[idx] = alpha / max(int(np.isfinite(p_tost[idx]).sum()), 1)
    eq, diff = p_tost_adj < alpha, p_diff_adj < alpha
    verdict = np.select([eq & ~diff, eq & diff, diff], list(VERDICTS[:3]), VERDICTS[3])
    low, high = est - q * se, est + q * se
    needed = np.full(len(out), np.nan)
    n_ref, n_oth = (out[c].to_numpy(float) for c in ("n_reference", "n_other")) if {
        "n_reference", "n_other"} <= set(out.columns) else (out["n"] / 2, out["n"] / 2)
    terms = out["n"].to_numpy(float) - df
    for i in np.flatnonzero(verdict == "inconclusive"):
        unit_sd = se[i] / np.sqrt(1 / n_ref[i] + 1 / n_oth[i])
        needed[i] = tost_sample_size(bound[i], unit_sd, int(terms[i]), alpha=float(alpha_family[i]),
                                     power=power)
    out = out.assign(margin=np.where(fixed, bound, float(margin)),
                     margin_relative=relative & ~fixed, margin_source=source,
                     margin_abs=bound, ci90_low=low, ci90_high=high, t_lower=t_lower,
                     t_upper=t_upper, p_tost=p_tost, p_tost_adj=p_tost_adj,
                     p_difference=p_diff, p_difference_adj=p_diff_adj, adjust=adjust,
                     verdict=verdict, within_margin=eq, harmonised=eq & ~diff,
                     power_tost=tost_power(bound, se, df, alpha), alpha_family=alpha_family,
                     power_tost_adj=tost_power(bound, se, df, alpha_family),
                     certified_margin=np.maximum(np.abs(low), np.abs(high)),
                     n_per_cohort_needed=needed)
    return out[list(EQUIVALENCE_COLUMNS)]
