"""Several sessions per subject: a random intercept per subject (statsmodels ``MixedLM``).

dHCP scans many preterm-born infants twice; their sessions are not independent. Where a subject
has more than one session, the cohort effect comes from ``measure ~ cohort + covariates + (1 |
subject)`` fitted by REML, with between-within degrees of freedom (subjects - fixed terms, the
containment rule for a between-subject term such as cohort); with one session per subject it is
the ordinary least-squares fit, unchanged. Analyses that need independent rows (t-tests,
distribution tests) use each subject's mean over its sessions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.mixed_linear_model import MixedLM

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


def fit_mixed(x: np.ndarray, y: np.ndarray, groups: np.ndarray, column: int,
              context: str) -> MixedFit:
    """Fit ``y ~ x + (1 | groups)`` by REML and report fixed-effect column ``column``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = MixedLM(y, x, groups=groups).fit(reml=True)
    for w in caught:
        if issubclass(w.category, UserWarning | RuntimeWarning):
            warnings.warn(f"{context}: mixed model: {w.message}", stacklevel=3)
    n_subjects = len(np.unique(groups))
    df = n_subjects - x.shape[1]
    est = float(res.fe_params[column])
    se = float(res.bse_fe[column])
    t = est / se
    q = stats.t.ppf(0.975, df)
    random = float(np.asarray(res.cov_re).ravel()[0])
    return MixedFit(est, se, t, float(2 * stats.t.sf(abs(t), df)), est - q * se, est + q * se,
                    df, float(np.sqrt(res.scale + random)), n_subjects)
