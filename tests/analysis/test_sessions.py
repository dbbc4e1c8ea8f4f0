"""Several sessions per subject: tables keyed by session, a random intercept per subject."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from harmonstats.analysis import (
    BatteryConfig,
    cohort_effect,
    run_battery,
    site_prediction,
    two_sample_t,
    wide_table,
)


def _sessions(n: int = 30, seed: int = 0, offset: float = 0.2) -> tuple[pd.DataFrame,
                                                                        pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"sub-{c}{i:02d}" for c in ("a", "b") for i in range(n)]
    cohort = np.repeat(["source", "target"], n)
    ga = rng.uniform(28, 41, 2 * n)
    sex = np.tile(["F", "M"], n)
    intercept = rng.normal(0, 0.15, 2 * n)
    parts, meas = [], []
    for s, session in enumerate(("ses-1", "ses-2")):
        pma = np.maximum(rng.uniform(37, 45, 2 * n), ga)  # no scan before birth
        parts.append(pd.DataFrame({"participant_id": ids, "session_id": session,
                                   "cohort": cohort, "ga_birth": ga, "pma_scan": pma,
                                   "sex": sex}))
        value = (1.8 + 0.01 * (ga - 35) + intercept + offset * (cohort == "target")
                 + 0.02 * s + rng.normal(0, 0.05, 2 * n))
        meas.append(pd.DataFrame({"participant_id": ids, "session_id": session,
                                  "cohort": cohort, "method": "original",
                                  "measure": "thickness_mean", "value": value, "unit": "mm"}))
    return pd.concat(meas, ignore_index=True), pd.concat(parts, ignore_index=True)


def test_wide_table_has_one_row_per_session() -> None:
    measures, participants = _sessions()
    wide = wide_table(measures, participants)
    assert len(wide) == 120 and wide[["participant_id", "session_id"]].duplicated().sum() == 0
    merged = wide.merge(participants, on=["participant_id", "session_id"], suffixes=("", "_p"))
    np.testing.assert_array_equal(merged["pma_scan"], merged["pma_scan_p"])
    with pytest.raises(ValueError, match="session_id column in the participants"):
        wide_table(measures, participants.drop_duplicates("participant_id").drop(
            columns="session_id"))


def test_mixed_model_equals_ols_on_subject_means_in_a_balanced_design() -> None:
    """Two sessions each and subject-level covariates: the REML estimate and SE of a
    between-subject effect are those of OLS on the subjects' means (df = subjects - terms)."""
    measures, participants = _sessions()
    wide = wide_table(measures, participants)
    res = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                        covariates=("ga_birth", "sex")).iloc[0]
    means = wide.groupby("participant_id").agg(
        y=("thickness_mean", "mean"), cohort=("cohort", "first"), ga=("ga_birth", "first"),
        sex=("sex", "first"))
    fit = smf.ols("y ~ C(cohort) + ga + C(sex)", means).fit()
    assert res["model"] == "mixed"
    assert res["estimate"] == pytest.approx(fit.params["C(cohort)[T.target]"], rel=1e-5)
    assert res["se"] == pytest.approx(fit.bse["C(cohort)[T.target]"], rel=1e-4)
    assert res["df"] == fit.df_resid
    assert (res["n"], res["n_reference"], res["n_other"]) == (120, 30, 30)


def test_t_test_and_site_prediction_treat_subjects_as_the_unit() -> None:
    measures, participants = _sessions()
    wide = wide_table(measures, participants)
    t = two_sample_t(wide, reference="source", measures=["thickness_mean"]).iloc[0]
    assert (t["n_reference"], t["n_other"], t["df"]) == (30, 30, 58)
    site = site_prediction(wide, reference="source", measures=["thickness_mean"],
                           covariates=("pma_scan", "sex"), n_permutations=19).iloc[0]
    assert site["n"] == 120 and site["balanced_accuracy"] > 0.65


def test_the_battery_runs_on_sessions() -> None:
    measures, participants = _sessions(offset=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(measures, participants, BatteryConfig(
            n_permutations=9, comparator=None, outcome_predictors=()))
    status = res["status"].set_index("analysis")["status"]
    for name in ("cohort_effect", "ttest", "equivalence", "distribution_shift",
                 "site_prediction", "combat_status", "diagnostics"):
        assert status[name] == "done", name
    assert set(res["cohort_effect"]["model"]) == {"mixed"}


def test_random_intercept_reml_equals_statsmodels_mixedlm() -> None:
    """Unbalanced sessions (1-3 per subject) and a session-level covariate."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    from harmonstats.analysis.mixed import fit_mixed

    rng = np.random.default_rng(7)
    sizes = rng.integers(1, 4, 50)
    groups = np.repeat(np.arange(50), sizes)
    n = len(groups)
    x = np.column_stack([np.ones(n), (groups % 2).astype(float), rng.uniform(37, 45, n)])
    y = x @ [1.0, 0.2, 0.04] + rng.normal(0, 0.1, 50)[groups] + rng.normal(0, 0.05, n)
    ours = fit_mixed(x, y, groups, 1, "test")
    ref = MixedLM(y, x, groups=groups).fit(reml=True)
    np.testing.assert_allclose(ours.beta, ref.fe_params, rtol=1e-5)
    # The GLS covariance (X' V^-1 X)^-1 at statsmodels' variance estimates (lme4's vcov);
    # statsmodels' own cov_params inverts the whole Hessian and differs by about 0.3%.
    v = ref.scale * np.eye(n) + np.asarray(ref.cov_re)[0, 0] * (groups[:, None] == groups[None, :])
    np.testing.assert_allclose(ours.cov, np.linalg.inv(x.T @ np.linalg.solve(v, x)), rtol=1e-4)
    np.testing.assert_allclose(ours.cov, ref.cov_params()[:3, :3], rtol=0.01, atol=1e-7)
    random = np.asarray(ref.cov_re)[0, 0]
    assert ours.sd_total == pytest.approx(np.sqrt(ref.scale + random), rel=1e-4)
    assert ours.df == 50 - 3
