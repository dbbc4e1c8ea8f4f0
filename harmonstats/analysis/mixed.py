"""Several sessions per subject: a random intercept per subject, fitted by REML.

dHCP scans many preterm-born infants twice; their sessions are not independent. Where a subject
has more than one session, the cohort effect comes from ``measure ~ cohort + covariates + (1 |
subject)`` fitted by REML (statsmodels' ``MixedLM`` estimates; the model has a single variance
ratio to search, so it is profiled directly), with between-within degrees of freedom (subjects -
fixed terms, the containment rule for a between-subject term such as cohort); with one session
per subject it is the ordinary least-squares fit, unchanged. Analyses that need independent rows
(t-tests, distribution tests) use each subject's mean over its sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from harmonstats.analysis.tables import InsufficientDataError

__all__ = ["MixedFit", "fit_mixed", "has_repeats", "subject_means"]


def has_repeats(rows: pd.DataFrame) -> bool:
    """True if a participant has more than one row (several sessions)."""
    return bool(rows["participant_id"].duplicated().any())


def subject_means(rows: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """One row per participant: the mean of ``columns`` over its sessions, its cohort kept."""
    if not has_repeats(rows):
        return rows
    means = rows.groupby("participant_id", sort=True)[list(columns)].mean()
    cohort = rows.groupby("participant_id", sort=True)["cohort"].first()
    return means.assign(cohort=cohort).reset_index()


@dataclass(frozen=True)
class MixedFit:
    """One term of a random-intercept model.

    Attributes
    ----------
    estimate, se, t, p, ci_low, ci_high : float
        Fixed effect, its REML standard error, t = estimate / se, two-sided p and 95% CI on
        ``df`` degrees of freedom.
    df : int
        Subjects - fixed terms.
    sd_total : float
        sqrt(residual variance + random-intercept variance).
    n_subjects : int
        Subjects (groups).
    beta, cov : numpy.ndarray
        All fixed effects and their covariance (for joint tests).
    """

    estimate: float
    se: float
    t: float
    p: float
    ci_low: float
    ci_high: float
    df: int
    sd_total: float
    n_subjects: int
    beta: np.ndarray
    cov: np.ndarray


def fit_mixed(x: np.ndarray, y: np.ndarray, groups: np.ndarray, column: int,
              context: str) -> MixedFit:
    """Fit ``y ~ x + (1 | groups)`` by REML and report fixed-effect column ``column``.

    The random-intercept model has one variance ratio ``theta = var(subject) / var(residual)``;
    for a given ``theta``, generalised least squares is ordinary least squares after
    quasi-demeaning each subject's rows by ``1 - 1 / sqrt(1 + n_i theta)`` of their mean, so
    the REML criterion is profiled over ``theta`` alone and maximised by a bounded scalar
    search (the numbers equal statsmodels' ``MixedLM(reml=True)``; tests check them).
    """
    _, member = np.unique(groups, return_inverse=True)
    sizes = np.bincount(member)
    n, p = x.shape
    if n - p <= 0:
        raise InsufficientDataError(f"{context}: {n} rows cannot estimate {p} fixed terms")

    def transformed(theta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        shrink = (1 - 1 / np.sqrt(1 + sizes * theta))[member]
        xm = np.zeros((len(sizes), p))
        ym = np.zeros(len(sizes))
        np.add.at(xm, member, x)
        np.add.at(ym, member, y)
        xm, ym = xm / sizes[:, None], ym / sizes
        return x - shrink[:, None] * xm[member], y - shrink * ym[member], sizes

    def criterion(log_theta: float) -> float:
        theta = np.exp(log_theta)
        xs, ys, _ = transformed(theta)
        beta, *_ = np.linalg.lstsq(xs, ys, rcond=None)
        rss = float(((ys - xs @ beta) ** 2).sum())
        _, logdet = np.linalg.slogdet(xs.T @ xs)
        return 0.5 * ((n - p) * np.log(rss / (n - p)) + np.log1p(sizes * theta).sum() + logdet)

    best = optimize.minimize_scalar(criterion, bounds=(-20.0, 10.0), method="bounded",
                                    options={"xatol": 1e-10})
    theta = float(np.exp(best.x))
    if criterion(-20.0) <= best.fun:
        theta = 0.0
    xs, ys, _ = transformed(theta)
    beta, *_ = np.linalg.lstsq(xs, ys, rcond=None)
    scale = float(((ys - xs @ beta) ** 2).sum()) / (n - p)
    cov = scale * np.linalg.inv(xs.T @ xs)
    n_subjects = len(sizes)
    df = n_subjects - p
    if df <= 0:
        raise InsufficientDataError(f"{context}: {n_subjects} subjects cannot estimate {p} "
                                    "fixed terms")
    est, se = float(beta[column]), float(np.sqrt(cov[column, column]))
    t = est / se
    q = stats.t.ppf(0.975, df)
    return MixedFit(est, se, t, float(2 * stats.t.sf(abs(t), df)), est - q * se, est + q * se,
                    df, float(np.sqrt(scale * (1 + theta))), n_subjects, beta, cov)
