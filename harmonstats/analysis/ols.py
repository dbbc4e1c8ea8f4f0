"""Ordinary least squares for many outcomes sharing one design: one QR, every measure at once.

The battery fits the same model (``measure ~ cohort + PMA + GA + sex``) to 19 measures and 7
methods; solving them as one matrix problem is what keeps 5,000 subjects under a minute. The
numbers are those of statsmodels' ``OLS`` (tests check them against numpy and statsmodels).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.design import Design
from harmonstats.analysis.tables import InsufficientDataError

__all__ = [
    "OLSFit",
    "bh_fdr",
    "check_identifiable",
    "design_matrix",
    "fit_columns",
    "fit_ols",
    "holm",
    "vif",
]

#: Above this condition number (columns scaled to unit length) a design is called unidentifiable.
MAX_CONDITION = 1e8


@dataclass(frozen=True)
class OLSFit:
    """Coefficients of ``Y ~ X`` for every column of ``Y``.

    Attributes
    ----------
    names : list of str
        Design column names, in order.
    beta, se : numpy.ndarray
        Estimates and standard errors, shape (n_terms, n_outcomes).
    df : int
        Residual degrees of freedom, n - rank.
    sigma2 : numpy.ndarray
        Residual variance per outcome (RSS / df).
    n : int
        Rows used.
    xtx_inv : numpy.ndarray
        ``(X'X)^-1``, (n_terms, n_terms): the classical covariance of outcome ``k`` is
        ``sigma2[k] * xtx_inv``.
    se_classical : numpy.ndarray
        Classical standard errors (equal to ``se`` unless HC3 was asked for).
    """

    names: list[str]
    beta: np.ndarray
    se: np.ndarray
    df: int
    sigma2: np.ndarray
    n: int
    xtx_inv: np.ndarray
    se_classical: np.ndarray

    def term(self, name: str, *, level: float = 0.95) -> dict[str, np.ndarray]:
        """Estimate, SE, CI, t and two-sided p of one term, arrays over outcomes."""
        j = self.names.index(name)
        est, se = self.beta[j], self.se[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = est / se
        q = stats.t.ppf(0.5 + level / 2, self.df)
        return {
            "estimate": est,
            "se": se,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
            "t": t,
            "p": 2 * stats.t.sf(np.abs(t), self.df),
        }


def design_matrix(
    df: pd.DataFrame, terms: Sequence[str], context: str
) -> tuple[np.ndarray, list[str]]:
    """Intercept plus ``terms`` (see :class:`~harmonstats.analysis.design.Design`): a two-level
    text column becomes a 0/1 column, ``a:b`` a product, ``ns(x)`` a natural cubic spline.

    Raises
    ------
    ValueError
        If a term has no variance or the design is rank deficient / ill-conditioned (a term
        confounded with others), naming the terms.
    """
    design = Design.learn(df, terms, context)
    x = design.matrix(df, context)
    for j, name in enumerate(design.names[1:], start=1):
        if len(x) == 0 or np.ptp(x[:, j]) == 0:
            raise InsufficientDataError(
                f"{context}: term {name!r} has no variance in the {len(df)} rows "
                "analysed; the model cannot estimate it"
            )
    check_identifiable(x, design.names, context)
    return x, design.names


def check_identifiable(x: np.ndarray, names: Sequence[str], context: str) -> None:
    """Raise if the design is rank deficient or its scaled condition number exceeds 1e8."""
    if x.shape[0] <= x.shape[1]:
        raise InsufficientDataError(
            f"{context}: {x.shape[0]} rows cannot estimate {x.shape[1]} terms"
        )
    scaled = x / np.linalg.norm(x, axis=0)
    sv = np.linalg.svd(scaled, compute_uv=False)
    cond = sv[0] / sv[-1] if sv[-1] > 0 else np.inf
    if cond > MAX_CONDITION:
        culprits = []
        for j in range(1, x.shape[1]):
            rest = np.delete(scaled, j, axis=1)
            resid = scaled[:, j] - rest @ np.linalg.lstsq(rest, scaled[:, j], rcond=None)[0]
            if np.linalg.norm(resid) < 1e-6:
                culprits.append(names[j])
        raise InsufficientDataError(
            f"{context}: the model is not identifiable (condition number {cond:.3g}); term(s) "
            f"{culprits or list(names[1:])} are confounded with the others"
        )


def fit_ols(x: np.ndarray, y: np.ndarray, names: Sequence[str], *, robust: bool = False) -> OLSFit:
    """Fit ``y ~ x`` by QR for every column of ``y`` (no missing values allowed).

    Parameters
    ----------
    x : numpy.ndarray
        Design, (n, p), full column rank (see :func:`design_matrix`).
    y : numpy.ndarray
        Outcomes, (n,) or (n, m).
    names : sequence of str
        Design column names.
    robust : bool
        HC3 heteroscedasticity-consistent standard errors (MacKinnon & White 1985) instead of
        the classical ones; inference still uses the t distribution with n - p df.
    """
    y2 = y.reshape(len(y), -1).astype(float)
    q, r = np.linalg.qr(x)
    beta = np.linalg.solve(r, q.T @ y2)
    resid = y2 - x @ beta
    n, p = x.shape
    df = n - p
    sigma2 = (resid**2).sum(axis=0) / df
    r_inv = np.linalg.solve(r, np.eye(p))
    classical = np.sqrt(np.outer((r_inv**2).sum(axis=1), sigma2))
    se = classical
    if robust:
        lever = (q**2).sum(axis=1)
        a = r_inv @ q.T
        se = np.sqrt((a**2) @ (resid**2 / (1 - lever[:, None]) ** 2))
    return OLSFit(list(names), beta, se, df, sigma2, n, r_inv @ r_inv.T, classical)


def vif(x: np.ndarray) -> np.ndarray:
    """Variance inflation factor of every column of ``x`` but the first (the intercept).

    ``VIF_j = 1 / (1 - R_j^2)``, ``R_j^2`` from regressing column ``j`` on the others with
    an intercept; computed as the diagonal of the inverse correlation matrix.
    """
    z = x[:, 1:] - x[:, 1:].mean(axis=0)
    z = z / np.linalg.norm(z, axis=0)
    return np.diag(np.linalg.inv(z.T @ z))


def bh_fdr(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN stays NaN and is not counted."""
    return _adjust(p, "fdr_bh")


def holm(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Holm step-down adjusted p-values; NaN stays NaN and is not counted."""
    return _adjust(p, "holm")


def _adjust(p: np.ndarray | Sequence[float], method: str) -> np.ndarray:
    # Own few lines rather than statsmodels' multipletests, which calls gc.collect() on every
    # call (0.3 s each, measured) and the battery corrects hundreds of families.
    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(arr))
    m = len(ok)
    if not m:
        return out
    order = ok[np.argsort(arr[ok], kind="mergesort")]
    ranked = arr[order]
    if method == "fdr_bh":
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        adjusted = np.maximum.accumulate(ranked * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def fit_columns(
    frame: pd.DataFrame,
    terms: Sequence[str],
    outcomes: Sequence[str],
    context: str,
    *,
    robust: bool = False,
) -> list[tuple[str, OLSFit, int, np.ndarray]]:
    """Fit ``outcome ~ terms`` for each outcome column, sharing one QR per missing-value pattern.

    Rows missing an outcome are dropped for that outcome with a warning that counts them;
    constant outcomes are skipped with a warning.

    Returns
    -------
    list of (outcome, fit, column of the fit, rows used as a boolean mask of ``frame``)
    """
    y_all = frame[list(outcomes)].to_numpy(dtype=float)
    ok = np.isfinite(y_all)
    patterns: dict[bytes, list[int]] = {}
    for j in range(y_all.shape[1]):
        patterns.setdefault(ok[:, j].tobytes(), []).append(j)
    results = []
    for cols_list in patterns.values():
        cols = np.array(cols_list)
        keep = ok[:, cols[0]]
        if not keep.all():
            warnings.warn(
                f"{context}: dropped {int((~keep).sum())} of {len(keep)} row(s) with "
                f"missing {[outcomes[j] for j in cols]}",
                stacklevel=3,
            )
        y = y_all[keep][:, cols]
        constant = np.ptp(y, axis=0) == 0 if len(y) else np.ones(len(cols), bool)
        for j in cols[constant]:
            warnings.warn(f"{context}: {outcomes[j]!r} is constant; not analysed", stacklevel=3)
        cols, y = cols[~constant], y[:, ~constant]
        if not len(cols):
            continue
        x, names = design_matrix(frame[keep], terms, context)
        fit = fit_ols(x, y, names, robust=robust)
        results += [(outcomes[j], fit, k, keep) for k, j in enumerate(cols)]
    order = {name: i for i, name in enumerate(outcomes)}
    return sorted(results, key=lambda r: order[r[0]])
