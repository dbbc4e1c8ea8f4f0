"""ComBat (Johnson et al. 2007) as neuroCombat computes it, fitted once and applied frozen.

:func:`fit_combat` estimates, per feature, the covariate effects and batch means by least
squares on ``[batch one-hot | covariates]``, standardises by the pooled residual variance, and
shrinks each batch's location and scale towards priors pooled *across the features of that batch*
by the parametric empirical-Bayes iteration of Johnson et al. (2007), stopping where neuroCombat
0.2.12 stops (relative change <= 1e-4); its harmonised values equal neuroCombat's (tests:
``tests/analysis/results/combat_reference.csv``, made by ``make_combat_reference.py``).
With a reference batch, its mean and variance are the target and its values are left unchanged
(neuroCombat's ``ref_batch``).

:meth:`ComBatFit.apply` harmonises any subjects of the fitted batches with the frozen estimates
and their *own* covariates (as neuroHarmonize's ``harmonizationApply``), which is what
cross-fitting and the new-cohort workflow need. ``covariate_fit="reference"`` estimates the
covariate effects and the standardisation on the reference batch alone, so that nothing of the
reference model depends on the other cohorts (the "fit on the reference, apply to others"
workflow); only each other batch's location and scale are then estimated from its own subjects.
CovBat (Chen et al. 2022) adds a ComBat of the leading principal-component scores of the
harmonised residuals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonstats.analysis.design import Design

__all__ = ["ComBatFit", "batch_location_scale", "fit_combat"]

#: neuroCombat's convergence threshold of the empirical-Bayes iteration.
_CONV = 1e-4


@dataclass(frozen=True)
class ComBatFit:
    """Frozen ComBat estimates for ``p`` features and the fitted batches.

    Attributes
    ----------
    batches : tuple of str
        Batch labels (sorted).
    reference : str or None
        Reference batch (unchanged by :meth:`apply`).
    design : Design
        Covariate encoding (its intercept column is not used: the batch columns replace it).
    beta : numpy.ndarray
        Covariate coefficients, (n covariate columns, p).
    grand_mean : numpy.ndarray
        Target mean at zero covariates, (p,): the reference batch's, or the sample-size
        weighted mean of the batches'.
    var_pooled : numpy.ndarray
        Residual variance the data are standardised by, (p,).
    gamma_star, delta_star : numpy.ndarray
        Empirical-Bayes batch location and scale, (n batches, p).
    n_fit : int
        Subjects fitted on.
    pca : tuple or None
        CovBat: (mean, components, number of harmonised scores, score ComBat); None for ComBat.
    """

    batches: tuple[str, ...]
    reference: str | None
    design: Design
    beta: np.ndarray
    grand_mean: np.ndarray
    var_pooled: np.ndarray
    gamma_star: np.ndarray
    delta_star: np.ndarray
    n_fit: int
    pca: tuple[np.ndarray, np.ndarray, int, ComBatFit] | None = None

    def standardise(self, y: np.ndarray, covariates: pd.DataFrame) -> tuple[np.ndarray,
                                                                             np.ndarray]:
        """Standardised data and the covariate-predicted mean, both (n, p)."""
        xc = self.design.matrix(covariates, "ComBat")[:, 1:]
        mean = self.grand_mean + xc @ self.beta
        return (y - mean) / np.sqrt(self.var_pooled), mean

    def apply(self, y: np.ndarray, batch: Sequence[str], covariates: pd.DataFrame) -> np.ndarray:
        """Harmonise ``y`` (n, p) of subjects of the fitted batches with the frozen estimates.

        Raises
        ------
        ValueError
            If a batch was not in the fit.
        """
        labels = np.asarray(batch, dtype=str)
        unknown = sorted(set(labels) - set(self.batches))
        if unknown:
            raise ValueError(f"ComBat: batch(es) {unknown} were not in the fit "
                             f"({list(self.batches)})")
        s, mean = self.standardise(np.asarray(y, dtype=float), covariates)
        idx = np.searchsorted(self.batches, labels)
        adjusted = (s - self.gamma_star[idx]) / np.sqrt(self.delta_star[idx])
        if self.pca is not None:
            centre, components, k, scores_fit = self.pca
            scores = (adjusted - centre) @ components.T
            keep = pd.DataFrame(index=range(len(labels)))
            scores[:, :k] = scores_fit.apply(scores[:, :k], list(labels), keep)
            adjusted = scores @ components + centre
        out = adjusted * np.sqrt(self.var_pooled) + mean
        if self.reference is not None:
            ref = labels == self.reference
            out[ref] = np.asarray(y, dtype=float)[ref]
        return out


def fit_combat(
    y: np.ndarray,
    batch: Sequence[str],
    covariates: pd.DataFrame,
    terms: Sequence[str] = (),
    *,
    reference: str | None = None,
    covariate_fit: str = "all",
    covbat_variance: float | None = None,
) -> ComBatFit:
    """Fit ComBat (or CovBat) to ``y`` (n subjects, p features).

    Parameters
    ----------
    y : numpy.ndarray
        Features, (n, p), no missing values.
    batch : sequence of str
        Batch (cohort) of each subject.
    covariates : pandas.DataFrame
        Rows aligned with ``y``; holds the columns ``terms`` name.
    terms : sequence of str
        Covariate terms protected by ComBat (see :class:`Design`; ``ns(pma_scan)`` gives the
        smooth PMA of ComBat-GAM).
    reference : str, optional
        Reference batch: its mean and variance are the target, its values unchanged.
    covariate_fit : {"all", "reference"}
        Estimate the covariate effects and standardisation on all subjects (neuroCombat) or on
        the reference batch alone (needs ``reference``).
    covbat_variance : float, optional
        CovBat: harmonise the principal-component scores explaining this share of variance
        (Chen et al. 2022 use 0.95); None for ComBat.

    Returns
    -------
    ComBatFit

    References
    ----------
    Johnson, W. E., Li, C. & Rabinovic, A. (2007). Adjusting batch effects in microarray
    expression data using empirical Bayes methods. Biostatistics 8. Fortin, J.-P. et al. (2018).
    Harmonization of cortical thickness measurements across scanners and sites. NeuroImage 167.
    Chen, A. A. et al. (2022). Mitigating site effects in covariance for machine learning in
    neuroimaging data. Hum Brain Mapp 43.
    """
    y = np.asarray(y, dtype=float)
    labels = np.asarray(batch, dtype=str)
    batches = tuple(sorted(set(labels)))
    if covariate_fit not in ("all", "reference"):
        raise ValueError(f"covariate_fit must be 'all' or 'reference', got {covariate_fit!r}")
    if reference is not None and reference not in batches:
        raise ValueError(f"ComBat: reference batch {reference!r} not among {list(batches)}")
    if covariate_fit == "reference" and reference is None:
        raise ValueError("ComBat: covariate_fit='reference' needs a reference batch")
    idx = np.searchsorted(batches, labels)
    n, nb = len(y), len(batches)
    onehot = np.zeros((n, nb))
    onehot[np.arange(n), idx] = 1.0
    ref = batches.index(reference) if reference is not None else None
    if ref is not None:
        onehot[:, ref] = 1.0
    design = Design.learn(covariates, terms, "ComBat")
    xc = design.matrix(covariates, "ComBat")[:, 1:]
    if covariate_fit == "reference":
        in_ref = idx == ref
        xr = np.column_stack([np.ones(in_ref.sum()), xc[in_ref]])
        coef = np.linalg.lstsq(xr, y[in_ref], rcond=None)[0]
        intercepts = coef[:1]
        beta = coef[1:]
    else:
        coef = np.linalg.lstsq(np.column_stack([onehot, xc]), y, rcond=None)[0]
        intercepts, beta = coef[:nb], coef[nb:]
    counts = np.bincount(idx, minlength=nb)
    if ref is not None:
        grand_mean = intercepts[ref if covariate_fit == "all" else 0]
        rows = idx == ref
        fitted = (onehot[rows] @ intercepts + xc[rows] @ beta) if covariate_fit == "all" else (
            intercepts[0] + xc[rows] @ beta)
        var_pooled = ((y[rows] - fitted) ** 2).mean(axis=0)
    else:
        grand_mean = (counts / n) @ intercepts
        var_pooled = ((y - onehot @ intercepts - xc @ beta) ** 2).mean(axis=0)
    s = (y - grand_mean - xc @ beta) / np.sqrt(var_pooled)
    gamma_star, delta_star = _empirical_bayes(s, idx, nb, ref)
    fit = ComBatFit(batches, reference, design, beta, grand_mean, var_pooled, gamma_star,
                    delta_star, n)
    if covbat_variance is None:
        return fit
    return _covbat(fit, y, labels, covariates, covbat_variance)


def _empirical_bayes(s: np.ndarray, idx: np.ndarray, nb: int, ref: int | None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Parametric EB location and scale of every batch but the reference (0 and 1)."""
    p = s.shape[1]
    gamma_star, delta_star = np.zeros((nb, p)), np.ones((nb, p))
    for b in range(nb):
        if b != ref:
            gamma_star[b], delta_star[b] = batch_location_scale(s[idx == b])
    return gamma_star, delta_star


def batch_location_scale(sb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes location and scale of one batch from its standardised data (n_b, p).

    neuroCombat regresses the standardised data on the batch columns; the reference batch's
    (or, without one, the weighted grand) mean is already removed from ``sb``, so each batch's
    estimate is its mean. Priors pool the batch's features (Johnson et al. 2007): normal for
    the locations, inverse gamma for the scales; a single feature gets no shrinkage.
    """
    g_hat = sb.mean(axis=0)
    d_hat = sb.var(axis=0, ddof=1)
    d_hat[d_hat == 0] = 1.0
    if sb.shape[1] < 2:
        return g_hat, d_hat
    g_bar, t2 = g_hat.mean(), g_hat.var(ddof=1)
    m, v = d_hat.mean(), d_hat.var(ddof=1)
    a_prior, b_prior = (2 * v + m**2) / v, (m * v + m**3) / v
    return _iterate(sb, g_hat, d_hat, g_bar, t2, a_prior, b_prior)


def _iterate(sb: np.ndarray, g_hat: np.ndarray, d_hat: np.ndarray, g_bar: float, t2: float,
             a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Posterior means of location and scale, alternated until neuroCombat's stopping rule."""
    n = len(sb)
    g_old, d_old = g_hat.copy(), d_hat.copy()
    change = 1.0
    while change > _CONV:
        g_new = (t2 * n * g_hat + d_old * g_bar) / (t2 * n + d_old)
        d_new = (0.5 * ((sb - g_new) ** 2).sum(axis=0) + b) / (n / 2.0 + a - 1.0)
        # neuroCombat divides by the signed previous value: same rule, same stopping point.
        change = max((np.abs(g_new - g_old) / g_old).max(), (np.abs(d_new - d_old) / d_old).max())
        g_old, d_old = g_new, d_new
    return g_old, d_old


def _covbat(fit: ComBatFit, y: np.ndarray, batch: np.ndarray, covariates: pd.DataFrame,
            share: float) -> ComBatFit:
    """CovBat: ComBat of the leading PC scores of the ComBat-adjusted standardised data."""
    s, _ = fit.standardise(y, covariates)
    idx = np.searchsorted(fit.batches, batch)
    adjusted = (s - fit.gamma_star[idx]) / np.sqrt(fit.delta_star[idx])
    centre = adjusted.mean(axis=0)
    _, sv, vt = np.linalg.svd(adjusted - centre, full_matrices=False)
    explained = np.cumsum(sv**2) / np.sum(sv**2)
    k = int(np.searchsorted(explained, share) + 1)
    scores = (adjusted - centre) @ vt.T
    empty = pd.DataFrame(index=range(len(batch)))
    scores_fit = fit_combat(scores[:, :k], list(batch), empty, reference=fit.reference)
    return ComBatFit(fit.batches, fit.reference, fit.design, fit.beta, fit.grand_mean,
                     fit.var_pooled, fit.gamma_star, fit.delta_star, fit.n_fit,
                     (centre, vt, k, scores_fit))
