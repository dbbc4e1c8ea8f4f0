"""Site prediction: can a classifier still tell the cohorts apart from the measures?

After harmonisation, measures adjusted for age and sex should carry no trace of the scanner, so a
cross-validated classifier predicting cohort should fall to chance (balanced accuracy 1/k).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from harmonstats.analysis.design import Design
from harmonstats.analysis.mixed import has_repeats
from harmonstats.analysis.ols import check_identifiable
from harmonstats.analysis.tables import (
    InsufficientDataError,
    check_covariates,
    check_measures,
    drop_missing,
    rows_analysed,
)

__all__ = ["SITE_COLUMNS", "balanced_accuracy", "logistic_newton", "site_prediction",
           "smooth_terms"]

SITE_COLUMNS = {
    "method": "Segmentation method.",
    "cohorts": "Cohorts classified, '+'-separated (reference first).",
    "balanced_accuracy": "Cross-validated balanced accuracy of predicting cohort from the "
    "covariate-adjusted measures (out-of-fold predictions pooled).",
    "chance": "Chance level, 1 / number of cohorts.",
    "p_permutation": "Permutation p-value, (1 + #{null >= observed}) / (1 + n_permutations), "
    "cohort labels permuted, folds fixed.",
    "null_mean": "Mean balanced accuracy under permutation.",
    "n_permutations": "Permutations run.",
    "n_splits": "Cross-validation folds (stratified, shuffled with the seed).",
    "n_features": "Measures used as features.",
    "adjustment": "Covariate model regressed out of the measures in each training fold "
                  "(ns(x): natural cubic spline).",
    "n": "Rows (sessions) classified.",
}


def smooth_terms(covariates: Sequence[str], smooth: Sequence[str], df: int) -> list[str]:
    """Covariates with those in ``smooth`` as natural cubic splines, ``ns(x, df)``."""
    return [f"ns({c}, {df})" if c in smooth else c for c in covariates]


def site_prediction(
    wide: pd.DataFrame,
    *,
    reference: str,
    measures: Sequence[str],
    methods: Sequence[str] | None = None,
    covariates: Sequence[str] = ("pma_scan", "ga_birth", "sex"),
    subsets: Mapping[str, set[str]] | None = None,
    n_splits: int = 5,
    n_permutations: int = 100,
    seed: int = 0,
    smooth: Sequence[str] = ("pma_scan",),
    smooth_df: int = 3,
) -> pd.DataFrame:
    """Cross-validated logistic regression predicting cohort, per method, with a permutation test.

    In each fold the covariates are regressed out of every measure by OLS fitted on the training
    folds only, with the ``smooth`` covariates as natural cubic splines whose knots come from
    the training folds (a linear PMA term leaves a curved growth in the residuals, and where
    the cohorts' PMA ranges differ the classifier reads cohort from it), features are
    standardised with training-fold means and SDs, and an L2 logistic
    regression is fitted: the objective of sklearn's default ``LogisticRegression`` (C = 1,
    intercept unpenalised; tests check the coefficients against it). For two cohorts the
    observed labels and every permutation are solved together by batched Newton steps; for
    k > 2 cohorts sklearn's multinomial model is fitted per permutation (slower). The
    residualisation does not use the labels, so it is computed once per fold and reused by every
    permutation. 100 permutations (the default) resolve p down to 1/101 ~ 0.0099. With several
    sessions per subject, a subject's sessions stay in one fold and labels are permuted between
    subjects.

    Parameters
    ----------
    n_splits : int
        Folds.
    n_permutations : int
        Label permutations for the p-value (0: none, p reported as NaN).
    seed : int
        Seeds the fold split and the permutations.
    smooth : sequence of str
        Covariates entered as natural cubic splines.
    smooth_df : int
        Degrees of freedom of each spline.

    Returns
    -------
    pandas.DataFrame
        method, cohorts, balanced_accuracy, chance, p_permutation, null_mean, n_permutations,
        n_splits, n_features, adjustment, n (see :data:`SITE_COLUMNS`).

    References
    ----------
    Ojala, M. & Garriga, G. C. (2010). Permutation tests for studying classifier performance.
    JMLR 11.
    """
    check_measures(wide, measures)
    methods, data = rows_analysed(wide, methods, subsets)
    # Many small fits: BLAS threads cost more than they give (10x slower measured); the limit
    # is set once, its set-up reads the process's libraries.
    with threadpool_limits(1):
        return _site_rows(data, reference, measures, methods, covariates, n_splits,
                          n_permutations, seed, smooth, smooth_df)


def _site_rows(data: pd.DataFrame, reference: str, measures: Sequence[str],
               methods: Sequence[str], covariates: Sequence[str], n_splits: int,
               n_permutations: int, seed: int, smooth: Sequence[str], smooth_df: int
               ) -> pd.DataFrame:
    rows = []
    for method in methods:
        context = f"site prediction ({method})"
        sub = drop_missing(data[data["method"] == method], [*covariates, *measures], context)
        check_covariates(sub, covariates, context)
        cohorts = [
            reference,
            *sorted(c for c in sub["cohort"].astype(str).unique() if c != reference),
        ]
        y = np.array([cohorts.index(c) for c in sub["cohort"].astype(str)])
        counts = np.bincount(y, minlength=len(cohorts))
        if len(cohorts) < 2 or counts.min() < n_splits:
            raise InsufficientDataError(
                f"{context}: each cohort needs at least {n_splits} subjects, "
                f"got {dict(zip(cohorts, counts.tolist(), strict=True))}"
            )
        terms = smooth_terms(covariates, smooth, smooth_df)
        feats = sub[list(measures)].to_numpy(float)
        ids = sub["participant_id"].astype(str).to_numpy()
        repeated = has_repeats(sub)
        if repeated:
            split = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed
                                         ).split(feats, y, groups=ids)
        else:
            split = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed
                                    ).split(feats, y)
        folds = []
        for train, test in split:
            design = Design.learn(sub.iloc[train], terms, context)
            x_train = design.matrix(sub.iloc[train], context)
            check_identifiable(x_train, design.names, context)
            beta = np.linalg.lstsq(x_train, feats[train], rcond=None)[0]
            r_train = feats[train] - x_train @ beta
            r_test = feats[test] - design.matrix(sub.iloc[test], context) @ beta
            mu, sd = r_train.mean(axis=0), r_train.std(axis=0)
            sd[sd == 0] = 1.0
            folds.append((train, test, (r_train - mu) / sd, (r_test - mu) / sd))
        rng = np.random.default_rng(seed)
        if repeated:
            subjects, row_of = np.unique(ids, return_inverse=True)
            label = np.zeros(len(subjects), dtype=int)
            label[row_of] = y
            labels = np.column_stack([y] + [rng.permutation(label)[row_of]
                                            for _ in range(n_permutations)])
        else:
            labels = np.column_stack([y] + [rng.permutation(y) for _ in range(n_permutations)])
        scores = _cv_score(folds, labels)
        observed, null = float(scores[0]), scores[1:]
        p = (1 + np.sum(null >= observed)) / (1 + n_permutations) if n_permutations else np.nan
        rows.append(
            {
                "method": method,
                "cohorts": "+".join(cohorts),
                "balanced_accuracy": observed,
                "chance": 1 / len(cohorts),
                "p_permutation": p,
                "null_mean": null.mean() if len(null) else np.nan,
                "n_permutations": n_permutations,
                "n_splits": n_splits,
                "n_features": len(measures),
                "adjustment": "+".join(terms),
                "n": len(y),
            }
        )
    return pd.DataFrame(rows, columns=list(SITE_COLUMNS))


def _cv_score(
    folds: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], labels: np.ndarray
) -> np.ndarray:
    """Balanced accuracy of out-of-fold predictions for each column of ``labels`` (n, B)."""
    pred = np.empty_like(labels)
    for train, test, x_train, x_test in folds:
        pred[test] = _fit_predict(x_train, labels[train], x_test)
    return balanced_accuracy(labels, pred)


def balanced_accuracy(labels: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present, for each column of ``labels`` and ``pred``."""
    recalls = []
    for c in np.unique(labels):
        is_c = labels == c
        recalls.append((is_c & (pred == c)).sum(axis=0) / is_c.sum(axis=0))
    return np.mean(recalls, axis=0)


def _fit_predict(x_train: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """L2 logistic regression (C = 1, intercept unpenalised: sklearn's default objective),
    one model per column of ``y``; binary labels are solved together by batched Newton steps,
    more classes (or a Newton run that does not converge) by ``LogisticRegression``."""
    out = np.empty((len(x_test), y.shape[1]), dtype=y.dtype)
    done = np.zeros(y.shape[1], dtype=bool)
    if y.max() <= 1:
        coef, done = logistic_newton(x_train, y.astype(float))
        xt = np.column_stack([x_test, np.ones(len(x_test))])
        out[:, done] = (xt @ coef[:, done] > 0).astype(y.dtype)
    for b in np.flatnonzero(~done):
        if np.unique(y[:, b]).size < 2:
            out[:, b] = y[0, b]
            continue
        out[:, b] = LogisticRegression(max_iter=1000).fit(x_train, y[:, b]).predict(x_test)
    return out


def logistic_newton(
    x: np.ndarray, y: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise 0.5 ||w||^2 + sum log-loss for every 0/1 column of ``y`` at once.

    Returns the coefficients (features then intercept, one column per problem) and which
    problems converged (largest Newton step below ``tol``).
    """
    xa = np.column_stack([x, np.ones(len(x))])
    q, n_prob = xa.shape[1], y.shape[1]
    penalty = np.eye(q)
    penalty[-1, -1] = 0.0
    # Row-wise outer products, so every problem's Hessian comes out of one matrix product.
    outer = (xa[:, :, None] * xa[:, None, :]).reshape(len(xa), q * q)
    coef = np.zeros((q, n_prob))
    converged = np.zeros(n_prob, dtype=bool)
    for _ in range(max_iter):
        active = np.flatnonzero(~converged)
        if not len(active):
            break
        prob = 1.0 / (1.0 + np.exp(-(xa @ coef[:, active])))
        grad = xa.T @ (prob - y[:, active]) + penalty @ coef[:, active]
        hess = ((prob * (1.0 - prob)).T @ outer).reshape(len(active), q, q) + penalty
        step = np.linalg.solve(hess, grad.T[:, :, None])[:, :, 0].T
        coef[:, active] -= step
        converged[active] = np.abs(step).max(axis=0) < tol
    return coef, converged
