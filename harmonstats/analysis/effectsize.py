"""Standardised effect sizes and their exact confidence intervals.

One definition of the pooled SD for the whole battery (:func:`pooled_sd`, Cohen 1988:
``sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2))``; with equal group sizes it is the
``sqrt((s1^2 + s2^2) / 2)`` of Austin 2009). Confidence intervals invert the noncentral t
(standardised differences: Steiger & Fouladi 1997) and the noncentral F (partial eta squared:
Steiger 2004, converted as R's effectsize package does).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

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


def _bisect(f: Callable[[np.ndarray], np.ndarray], low: np.ndarray, high: np.ndarray,
            steps: int = 45) -> np.ndarray:
    """Root of a decreasing ``f`` between ``low`` and ``high``, elementwise (all at once)."""
    for _ in range(steps):
        mid = (low + high) / 2
        positive = f(mid) > 0
        low, high = np.where(positive, mid, low), np.where(positive, high, mid)
    return (low + high) / 2


def noncentral_t_ci(t: ArrayLike, df: ArrayLike, level: float = 0.95
                    ) -> tuple[np.ndarray, np.ndarray]:
    """CI of the noncentrality parameter of observed t values (df degrees of freedom).

    The bounds solve ``P(T <= t | lambda) = 1 - a/2`` and ``= a/2`` (``a = 1 - level``); a
    standardised effect is ``lambda`` times the factor that turns it into t. Vectorised
    (bisection, all values at once); NaN where t or df is not finite.
    """
    t, df = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    ok = np.isfinite(t) & np.isfinite(df) & (df > 0)
    tt, dd = np.where(ok, t, 0.0), np.where(ok, df, 10.0)
    tail = (1 - level) / 2
    # The bounds lie within a few normal-approximation SDs of t; far tails of nct underflow.
    width = 4 * stats.norm.ppf(1 - tail) * np.sqrt(1 + tt**2 / (2 * dd)) + 4

    def bound(p: float) -> np.ndarray:
        def f(lam: np.ndarray) -> np.ndarray:
            value = stats.nct.cdf(tt, dd, lam)
            return np.where(np.isfinite(value), value, np.where(lam > tt, 0.0, 1.0)) - p

        return _bisect(f, tt - width, tt + width)

    low, high = bound(1 - tail), bound(tail)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def partial_eta2_ci(f: ArrayLike, df1: ArrayLike, df2: ArrayLike, level: float = 0.95
                    ) -> tuple[np.ndarray, np.ndarray]:
    """CI of partial eta squared from observed F(df1, df2) by the noncentral F (vectorised).

    Noncentrality bounds ``lambda`` (0 where the observed F is too small to exclude it) become
    ``lambda / (lambda + df1 + df2 + 1)`` (Steiger 2004; R effectsize ``F_to_eta2``).
    """
    f, df1, df2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (f, df1, df2)))
    ok = np.isfinite(f) & np.isfinite(df2) & (df2 > 0)
    ff, d1, d2 = np.where(ok, f, 1.0), np.where(ok, df1, 1.0), np.where(ok, df2, 10.0)
    tail = (1 - level) / 2
    high_end = 4 * (ff * d1 + 10) + 40 * np.sqrt(ff * d1 + 1)

    def bound(p: float) -> np.ndarray:
        def g(lam: np.ndarray) -> np.ndarray:
            return np.where(lam > 0, stats.ncf.cdf(ff, d1, d2, np.maximum(lam, 1e-300)),
                            stats.f.cdf(ff, d1, d2)) - p

        root = _bisect(g, np.zeros_like(ff), high_end)
        return np.where(stats.f.cdf(ff, d1, d2) <= p, 0.0, root)

    lo, hi = bound(1 - tail), bound(tail)
    total = d1 + d2 + 1
    return (np.where(ok, lo / (lo + total), np.nan), np.where(ok, hi / (hi + total), np.nan))
