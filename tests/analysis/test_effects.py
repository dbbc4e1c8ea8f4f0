"""Cohort effect and t-test against statsmodels, scipy and hand-computed sums of squares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from harmonstats.analysis import cohort_effect, two_sample_t, wide_table
from harmonstats.analysis.simulate import simulate_measures

MEASURES = ["thickness_mean", "volume_cgm"]


def _rows(wide: pd.DataFrame, method: str) -> pd.DataFrame:
    rows = wide[wide["method"] == method].copy()
    rows["is_target"] = (rows["cohort"] == "target").astype(float)
    return rows


@pytest.mark.parametrize("robust", [False, True])
def test_cohort_effect_matches_statsmodels(wide: pd.DataFrame, robust: bool) -> None:
    res = cohort_effect(wide, reference="source", measures=MEASURES, methods=["original"],
                        robust=robust)
    rows = _rows(wide, "original")
    for measure in MEASURES:
        ref = smf.ols(f"{measure} ~ is_target + pma_scan + ga_birth + C(sex)", rows).fit(
            cov_type="HC3" if robust else "nonrobust", use_t=True)
        got = res.set_index("measure").loc[measure]
        assert got["estimate"] == pytest.approx(ref.params["is_target"], rel=1e-9)
        assert got["se"] == pytest.approx(ref.bse["is_target"], rel=1e-9)
        assert got["p"] == pytest.approx(ref.pvalues["is_target"], rel=1e-6)
        assert got["ci_low"] == pytest.approx(ref.conf_int().loc["is_target", 0], rel=1e-9)
        assert got["df"] == ref.df_resid
        assert got["n"] == 120


def test_partial_eta_squared_is_the_ss_ratio(wide: pd.DataFrame) -> None:
    rows = _rows(wide, "original")
    full = smf.ols("thickness_mean ~ is_target + pma_scan + ga_birth + C(sex)", rows).fit()
    reduced = smf.ols("thickness_mean ~ pma_scan + ga_birth + C(sex)", rows).fit()
    ss_effect = reduced.ssr - full.ssr
    expected = ss_effect / (ss_effect + full.ssr)
    res = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                        methods=["original"])
    assert res["partial_eta2"].iloc[0] == pytest.approx(expected, rel=1e-9)
    assert res["d_adjusted"].iloc[0] == pytest.approx(
        full.params["is_target"] / np.sqrt(full.mse_resid), rel=1e-9)


def test_original_shows_the_built_in_offset(wide: pd.DataFrame) -> None:
    res = cohort_effect(wide, reference="source", measures=["thickness_mean"])
    by = res.set_index("method")
    assert by.loc["original", "p"] < 0.001
    assert by.loc["original", "ci_low"] < 0.2 < by.loc["original", "ci_high"]
    assert by.loc["truth", "p"] > 0.01


def test_fdr_is_within_method_across_measures(wide: pd.DataFrame) -> None:
    measures = [c for c in wide.columns if c.startswith(("thickness", "volume"))]
    res = cohort_effect(wide, reference="source", measures=measures)
    from harmonstats.analysis.ols import bh_fdr

    for _, g in res.groupby("method"):
        np.testing.assert_allclose(g["p_fdr"], bh_fdr(g["p"].to_numpy()))


def test_t_test_matches_scipy(wide: pd.DataFrame) -> None:
    res = two_sample_t(wide, reference="source", measures=["thickness_mean"],
                       methods=["original"]).iloc[0]
    rows = wide[wide["method"] == "original"]
    a = rows.loc[rows["cohort"] == "source", "thickness_mean"]
    b = rows.loc[rows["cohort"] == "target", "thickness_mean"]
    ref = stats.ttest_ind(b, a)
    assert res["t"] == pytest.approx(ref.statistic)
    assert res["df"] == 118
    assert res["t"] > 0


def test_three_cohorts_each_compared_with_reference() -> None:
    measures, participants = simulate_measures(
        40, cohorts=("source", "target", "third"), offsets={"original": 0.2}, seed=5)
    res = cohort_effect(wide_table(measures, participants), reference="source",
                        measures=["thickness_mean"])
    assert sorted(res["comparison"]) == ["target", "third"]
    assert (res["estimate"] > 0.1).all()


def test_no_ga_overlap_is_refused(wide: pd.DataFrame) -> None:
    bad = wide.copy()
    bad.loc[bad["cohort"] == "target", "ga_birth"] -= 30
    with pytest.raises(ValueError, match="do not overlap on 'ga_birth'"):
        cohort_effect(bad, reference="source", measures=["thickness_mean"])


@pytest.mark.parametrize("change,match", [
    (lambda w: w.assign(sex="F"), "covariate 'sex' has no variance"),
    (lambda w: w[~((w["cohort"] == "target") & (w["participant_id"] > "sub-tar1x00005"))],
     "at least 10 are needed"),
])
def test_bad_input_is_refused(wide: pd.DataFrame, change, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        cohort_effect(change(wide), reference="source", measures=["thickness_mean"])


def test_unknown_names_are_refused(wide: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unknown method"):
        cohort_effect(wide, reference="source", measures=["thickness_mean"], methods=["nope"])
    with pytest.raises(ValueError, match="unknown measure"):
        cohort_effect(wide, reference="source", measures=["thickness_nope"])


def test_constant_measure_and_missing_values_warn(wide: pd.DataFrame) -> None:
    data = wide.assign(flat=1.0)
    data.loc[data.index[data["method"] == "original"][:3], "thickness_mean"] = np.nan
    with pytest.warns(UserWarning) as record:
        res = cohort_effect(data, reference="source", measures=["thickness_mean", "flat"],
                            methods=["original"])
    messages = " ".join(str(w.message) for w in record)
    assert "'flat' is constant" in messages
    assert "dropped 3 of 120" in messages
    assert list(res["measure"]) == ["thickness_mean"]
    assert res["n"].iloc[0] == 117
