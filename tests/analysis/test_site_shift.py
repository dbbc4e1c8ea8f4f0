"""Site prediction (classifier against sklearn, CV leakage) and distribution shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score

from harmonstats.analysis import distribution_shift, site_prediction
from harmonstats.analysis.site import balanced_accuracy, logistic_newton

MEASURES = ["thickness_mean", "thickness_frontal_l", "volume_cgm", "volume_wm"]


@pytest.mark.parametrize("n,separable", [(200, False), (40, True)])
def test_batched_newton_matches_sklearn(n: int, separable: bool) -> None:
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 6))
    labels = np.column_stack([(x[:, 0] * (5 if separable else 1) + rng.normal(size=n) > 0)
                              for _ in range(4)]).astype(float)
    coef, ok = logistic_newton(x, labels)
    assert ok.all()
    for b in range(4):
        ref = LogisticRegression(tol=1e-12, max_iter=100000).fit(x, labels[:, b])
        np.testing.assert_allclose(coef[:-1, b], ref.coef_[0], atol=1e-6)
        assert coef[-1, b] == pytest.approx(ref.intercept_[0], abs=1e-6)


def test_balanced_accuracy_matches_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=(50, 3))
    pred = rng.integers(0, 3, size=(50, 3))
    got = balanced_accuracy(y, pred)
    for b in range(3):
        assert got[b] == pytest.approx(balanced_accuracy_score(y[:, b], pred[:, b]))


def test_site_prediction_sees_the_offset_not_the_truth(wide: pd.DataFrame) -> None:
    res = site_prediction(wide, reference="source", measures=MEASURES, n_permutations=99,
                          seed=0).set_index("method")
    assert res.loc["original", "balanced_accuracy"] > 0.85
    assert res.loc["original", "p_permutation"] == pytest.approx(0.01)
    assert res.loc["truth", "p_permutation"] > 0.05
    assert abs(res.loc["truth", "null_mean"] - 0.5) < 0.05
    again = site_prediction(wide, reference="source", measures=MEASURES, n_permutations=99,
                            seed=0).set_index("method")
    pd.testing.assert_frame_equal(res, again)


def test_covariates_are_regressed_out(wide: pd.DataFrame) -> None:
    # A feature that is pure GA separates the cohorts (GA differs) until GA is regressed out.
    data = wide.assign(ga_copy=wide["ga_birth"] * 2.0 + 1.0)
    raw = site_prediction(data, reference="source", measures=["ga_copy"], covariates=("sex",),
                          methods=["truth"], n_permutations=0)
    adjusted = site_prediction(data, reference="source", measures=["ga_copy"],
                               covariates=("ga_birth",), methods=["truth"], n_permutations=0)
    assert raw["balanced_accuracy"].iloc[0] > 0.6
    assert adjusted["balanced_accuracy"].iloc[0] < 0.6


def test_distribution_shift_matches_scipy(wide: pd.DataFrame) -> None:
    res = distribution_shift(wide, reference="source", measures=["thickness_mean"],
                             methods=["original"], smooth=()).iloc[0]
    rows = wide[wide["method"] == "original"]
    resid = smf.ols("thickness_mean ~ pma_scan + ga_birth + C(sex)", rows).fit().resid
    a, b = resid[rows["cohort"] == "source"], resid[rows["cohort"] == "target"]
    ks = stats.ks_2samp(b, a)
    assert res["ks_statistic"] == pytest.approx(ks.statistic)
    assert res["ks_p"] == pytest.approx(ks.pvalue)
    assert res["variance_ratio"] == pytest.approx(b.var() / a.var())
    assert res["brown_forsythe_p"] == pytest.approx(stats.levene(b, a, center="median").pvalue)


def test_natural_spline_spans_patsy_natural_cubic_splines() -> None:
    """Fitted values on our basis equal those on patsy's cr() basis with the same knots."""
    import patsy

    from harmonstats.analysis.design import Design

    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(37, 45, 200))
    y = np.sin(x / 2) + rng.normal(0, 0.1, 200)
    design = Design.learn(pd.DataFrame({"x": x}), ["ns(x, 4)"], "test")
    ours = design.matrix(pd.DataFrame({"x": x}), "test")
    knots = design.knots["x"]
    theirs = patsy.dmatrix(f"cr(x, knots={list(knots[1:-1])}, lower_bound={knots[0]}, "
                           f"upper_bound={knots[-1]}, constraints='center')", {"x": x})
    fit_ours = ours @ np.linalg.lstsq(ours, y, rcond=None)[0]
    fit_theirs = theirs @ np.linalg.lstsq(theirs, y, rcond=None)[0]
    np.testing.assert_allclose(fit_ours, fit_theirs, rtol=1e-8)
    beyond = design.matrix(pd.DataFrame({"x": [46.0, 47.0, 48.0]}), "test")
    np.testing.assert_allclose(np.diff(beyond, 2, axis=0), 0, atol=1e-12)  # linear outside
