"""Equivalence of cohorts (TOST) on the covariate-adjusted cohort effect.

A non-significant cohort effect only says the data could not show a difference; it does not show
that the cohorts agree. Harmonisation is claimed here only when the two one-sided tests (TOST)
place the cohort effect inside a margin the user accepts as negligible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["EQUIVALENCE_COLUMNS", "VERDICTS", "equivalence"]

#: Verdicts, see :func:`equivalence`.
VERDICTS = ("equivalent", "trivial difference", "different", "inconclusive")

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
    "margin_relative": "True if margin is a fraction of the reference cohort's mean.",
    "margin_abs": {"Description": "Equivalence bound D: effects in (-D, D) count as negligible.",
                   "Units": "measure unit"},
    "ci90_low": {"Description": "Lower bound of the (1 - 2 alpha) CI (90% at alpha .05).",
                 "Units": "measure unit"},
    "ci90_high": {"Description": "Upper bound of the (1 - 2 alpha) CI.", "Units": "measure unit"},
    "t_lower": "TOST statistic against -D: (estimate + D) / se.",
    "t_upper": "TOST statistic against +D: (estimate - D) / se.",
    "p_tost": "TOST p-value, the larger of the two one-sided p-values.",
    "p_difference": "Two-sided p-value of the cohort effect against 0.",
    "verdict": "equivalent / trivial difference / different / inconclusive (see docstring).",
    "harmonised": "True for 'equivalent' and 'trivial difference': the effect is within margin.",
    "n": "Subjects in the model.",
}


def equivalence(
    effects: pd.DataFrame,
    *,
    margin: float = 0.05,
    relative: bool = True,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """TOST on cohort effects from :func:`harmonstats.analysis.effects.cohort_effect`.

    The bound is ``D = margin * |reference_mean|`` when ``relative`` (default 5%, Pardoe et al.
    2016) or ``D = margin`` in the measure's unit (mm, mm3) otherwise. With ``p_tost`` the TOST
    p-value and ``p_difference`` the usual two-sided p of the cohort term:

    - ``equivalent``: ``p_tost < alpha`` and ``p_difference >= alpha`` (the 1 - 2 alpha CI lies
      inside (-D, D) and the 1 - alpha CI contains 0);
    - ``trivial difference``: ``p_tost < alpha`` and ``p_difference < alpha``: the cohorts differ
      significantly but by less than the margin; counted as harmonised;
    - ``different``: ``p_difference < alpha`` and ``p_tost >= alpha``;
    - ``inconclusive``: neither test is significant. A non-significant difference alone is never
      reported as harmonised.

    Parameters
    ----------
    effects : pandas.DataFrame
        Output of ``cohort_effect`` (estimate, se, df, p, reference_mean...).
    margin : float
        Equivalence margin: fraction of the reference mean, or absolute (measure unit).
    relative : bool
        Whether ``margin`` is relative.
    alpha : float
        Level of each one-sided test and of the difference test.

    Returns
    -------
    pandas.DataFrame
        method, measure, reference, comparison, estimate, se, df, margin, margin_relative,
        margin_abs, ci90_low, ci90_high, t_lower, t_upper, p_tost, p_difference, verdict,
        harmonised, n (see :data:`EQUIVALENCE_COLUMNS`).

    References
    ----------
    Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure... J Pharmacokinet
    Biopharm 15. Lakens, D. (2017). Equivalence tests. Soc Psychol Personal Sci 8.
    Pardoe, H. R. et al. (2016). Multi-site voxel-based morphometry... Neuroimage Clin.
    """
    if margin <= 0:
        raise ValueError(f"equivalence margin must be positive, got {margin}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    out = effects.copy()
    bound = margin * np.abs(out["reference_mean"].to_numpy(float)) if relative else np.full(
        len(out), float(margin))
    est, se, df = (out[c].to_numpy(float) for c in ("estimate", "se", "df"))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lower, t_upper = (est + bound) / se, (est - bound) / se
    p_tost = np.maximum(stats.t.sf(t_lower, df), stats.t.cdf(t_upper, df))
    q = stats.t.ppf(1 - alpha, df)
    p_diff = out["p"].to_numpy(float)
    eq, diff = p_tost < alpha, p_diff < alpha
    verdict = np.select([eq & ~diff, eq & diff, diff], list(VERDICTS[:3]), VERDICTS[3])
    out = out.assign(margin=float(margin), margin_relative=relative, margin_abs=bound,
                     ci90_low=est - q * se, ci90_high=est + q * se, t_lower=t_lower,
                     t_upper=t_upper, p_tost=p_tost, p_difference=p_diff, verdict=verdict,
                     harmonised=eq)
    return out[list(EQUIVALENCE_COLUMNS)].reset_index(drop=True)
