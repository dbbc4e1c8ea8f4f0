"""Standardised effect sizes and their exact confidence intervals.

One definition of the pooled SD for the whole battery (:func:`pooled_sd`, Cohen 1988:
``sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2))``; with equal group sizes it is the
``sqrt((s1^2 + s2^2) / 2)`` of Austin 2009). Confidence intervals invert the noncentral t
(standardised differences: Steiger & Fouladi 1997) and the noncentral F (partial eta squared:
Steiger 2004, converted as R's effectsize package does).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

__all__ = ["hedges_correction", "noncentral_t_ci", "partial_eta2_ci", "pooled_sd"]


def pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    """Pooled within-group SD of two samples (Cohen 1988), NaN when undefined."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    df = len(a) + len(b) - 2
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / df))


def hedges_correction(df: float) -> float:
    """Small-sample bias correction of Cohen's d, ``1 - 3 / (4 df - 1)`` (Hedges & Olkin 1985)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def noncentral_t_ci(t: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """CI of the noncentrality parameter of an observed t (df degrees of freedom).

    The bounds solve ``P(T <= t | lambda) = 1 - a/2`` and ``= a/2`` (``a = 1 - level``); a
    standardised effect is ``lambda`` times the factor that turns it into t.
    """
    if not (np.isfinite(t) and np.isfinite(df) and df > 0):
        return float("nan"), float("nan")
    tail = (1 - level) / 2

    # The bounds lie within a few normal-approximation SDs of t; far tails of nct underflow.
    width = 4 * stats.norm.ppf(1 - tail) * np.sqrt(1 + t**2 / (2 * df)) + 4

    def bound(p: float) -> float:
        def f(lam: float) -> float:
            value = float(stats.nct.cdf(t, df, lam))
            if not np.isfinite(value):
                value = 0.0 if lam > t else 1.0
            return value - p

        return float(optimize.brentq(f, t - width, t + width, xtol=1e-10))

    return bound(1 - tail), bound(tail)


def partial_eta2_ci(f: float, df1: float, df2: float, level: float = 0.95
                    ) -> tuple[float, float]:
    """CI of partial eta squared from an observed F(df1, df2) by the noncentral F.

    Noncentrality bounds ``lambda`` (0 where the observed F is too small to exclude it) become
    ``lambda / (lambda + df1 + df2 + 1)`` (Steiger 2004; R effectsize ``F_to_eta2``).
    """
    if not (np.isfinite(f) and df2 > 0):
        return float("nan"), float("nan")
    tail = (1 - level) / 2

    def bound(p: float) -> float:
        def g(lam: float) -> float:
            return float(stats.ncf.cdf(f, df1, df2, lam) - p) if lam > 0 else float(
                stats.f.cdf(f, df1, df2) - p)

        if g(0.0) <= 0:
            return 0.0
        hi = max(10.0, 4 * f * df1)
        while g(hi) > 0:
            hi *= 2
        return float(optimize.brentq(g, 0.0, hi, xtol=1e-10))

    lo, hi = bound(1 - tail), bound(tail)
    total = df1 + df2 + 1
    return lo / (lo + total), hi / (hi + total)
