"""OLS core, FDR and Holm against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from harmonstats.analysis.ols import bh_fdr, check_identifiable, fit_ols, holm


@pytest.fixture
def design() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(50), rng.normal(size=(50, 3))])
    y = x @ np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 0.3], [2.0, 0.0]]) + rng.normal(
        scale=np.linspace(0.2, 2, 50)[:, None], size=(50, 2))
    return x, y


def test_ols_matches_numpy_least_squares(design: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = design
    fit = fit_ols(x, y, ["a", "b", "c", "d"])
    beta, rss, _, _ = np.linalg.lstsq(x, y, rcond=None)
    sigma2 = rss / (50 - 4)
    se = np.sqrt(np.outer(np.diag(np.linalg.inv(x.T @ x)), sigma2))
    np.testing.assert_allclose(fit.beta, beta, rtol=1e-10)
    np.testing.assert_allclose(fit.se, se, rtol=1e-10)
    assert fit.df == 46


@pytest.mark.parametrize("robust,cov_type", [(False, "nonrobust"), (True, "HC3")])
def test_ols_matches_statsmodels(design: tuple[np.ndarray, np.ndarray], robust: bool,
                                 cov_type: str) -> None:
    x, y = design
    fit = fit_ols(x, y, ["a", "b", "c", "d"], robust=robust)
    for j in range(2):
        ref = sm.OLS(y[:, j], x).fit(cov_type=cov_type, use_t=True)
        np.testing.assert_allclose(fit.se[:, j], ref.bse, rtol=1e-10)
        term = fit.term("b")
        np.testing.assert_allclose(term["p"][j], ref.pvalues[1], rtol=1e-8)
        np.testing.assert_allclose([term["ci_low"][j], term["ci_high"][j]], ref.conf_int()[1],
                                   rtol=1e-10)


def test_bh_fdr_hand_worked() -> None:
    # p sorted: .001 .008 .039 .041 .042 (m = 5); p*m/rank = .005 .02 .065 .05125 .042;
    # step-up minimum from the top: .005 .02 .042 .042 .042.
    p = np.array([0.041, 0.001, 0.042, 0.008, 0.039])
    np.testing.assert_allclose(bh_fdr(p), [0.042, 0.005, 0.042, 0.02, 0.042])
    np.testing.assert_allclose(bh_fdr([0.01, np.nan, 0.04]), [0.02, np.nan, 0.04])


def test_holm_hand_worked() -> None:
    # sorted .01 .02 .03 (m = 3): .03, .04, .03 -> running max: .03 .04 .04
    np.testing.assert_allclose(holm([0.03, 0.01, 0.02]), [0.04, 0.03, 0.04])


def test_confounded_design_is_refused() -> None:
    cohort = np.repeat([0.0, 1.0], 10)
    x = np.column_stack([np.ones(20), cohort, 30 + 8 * cohort])  # GA fully set by cohort
    with pytest.raises(ValueError, match="not identifiable"):
        check_identifiable(x, ["intercept", "cohort", "ga_birth"], "test")


@pytest.mark.parametrize("seed", range(5))
def test_corrections_match_statsmodels(seed: int) -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(seed).uniform(0, 0.2, size=17)
    p[3] = p[5]  # a tie
    np.testing.assert_allclose(bh_fdr(p), multipletests(p, method="fdr_bh")[1])
    np.testing.assert_allclose(holm(p), multipletests(p, method="holm")[1])
