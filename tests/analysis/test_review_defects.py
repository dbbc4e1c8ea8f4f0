"""Regression tests of the inference defects an independent review found (one per defect).

Each test checks the corrected behaviour against an independent computation (statsmodels,
scipy, pingouin, a closed form) or, for error rates, against a small simulation whose
replicates are stacked as methods of one table, so that one call of the public function
analyses them all. Each of them failed before the fixes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.outliers_influence import variance_inflation_factor

from harmonstats.analysis import (
    BatteryConfig,
    biological_effects,
    cohort_effect,
    crossing_point,
    distribution_shift,
    equivalence,
    match_cohorts,
    outcome_association,
    preterm_model,
    run_battery,
    site_prediction,
    two_sample_t,
    wide_table,
)
from harmonstats.analysis.effectsize import pooled_sd
from harmonstats.analysis.ols import holm
from harmonstats.analysis.tables import InsufficientDataError


def _replicates(participants: pd.DataFrame, values: np.ndarray, measure: str = "y"
                ) -> pd.DataFrame:
    """Wide table with one method per column of ``values`` (n subjects, replicates)."""
    rows = []
    for r in range(values.shape[1]):
        rows.append(participants.assign(method=f"rep{r:04d}", **{measure: values[:, r]}))
    return pd.concat(rows, ignore_index=True)


def _two_cohorts(n: int, rng: np.random.Generator, pma=((37, 45), (37, 45))) -> pd.DataFrame:
    return pd.DataFrame({
        "participant_id": [f"s{i:03d}" for i in range(2 * n)],
        "cohort": np.repeat(["a", "b"], n),
        "pma_scan": np.concatenate([rng.uniform(*pma[0], n), rng.uniform(*pma[1], n)]),
        "ga_birth": rng.uniform(28, 41, 2 * n),
        "sex": np.tile(["F", "M"], n),
    })


# 1. Crossing point -------------------------------------------------------------------------

def _lines(slope_difference: float, seed: int, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pma = rng.uniform(37, 45, 2 * n)
    ga = np.repeat([39.0, 30.0], n)
    slope = np.where(ga >= 37, 0.03, 0.03 + slope_difference)
    ct = 1.2 + slope * (pma - 38.5) + rng.normal(0, 0.08, 2 * n)
    return pd.DataFrame({"participant_id": [f"s{i}" for i in range(2 * n)], "cohort": "c",
                         "method": "m", "pma_scan": pma, "ga_birth": ga,
                         "thickness_mean": ct})


def test_crossing_ci_is_unbounded_when_the_slopes_do_not_differ() -> None:
    """Parallel lines: a ratio bootstrap printed finite intervals (e.g. -89 to 109 weeks)."""
    res = crossing_point(_lines(0.0, seed=2), analysis="parallel").iloc[0]
    assert res["slope_difference_p"] > 0.05
    assert res["ci_shape"] in ("two rays", "whole line")
    assert not (res["ci_low"] <= res["crossing_pma"] <= res["ci_high"]) or \
        res["ci_shape"] == "whole line"


def test_fieller_bounds_are_where_the_line_distance_is_just_significant() -> None:
    table = _lines(0.05, seed=1)
    res = crossing_point(table, analysis="x").iloc[0]
    assert res["ci_shape"] == "interval" and res["in_window"]
    data = table.assign(pre=(table["ga_birth"] < 37).astype(float))
    fit = smf.ols("thickness_mean ~ pre * pma_scan", data).fit()
    assert res["slope_difference"] == pytest.approx(fit.params["pre:pma_scan"], rel=1e-9)
    assert res["slope_difference_p"] == pytest.approx(fit.pvalues["pre:pma_scan"], rel=1e-6)
    crit = stats.t.ppf(0.975, fit.df_resid)
    for bound in (res["ci_low"], res["ci_high"]):
        t = fit.t_test(f"pre + {bound} * pre:pma_scan = 0").tvalue.item()
        assert abs(t) == pytest.approx(crit, rel=1e-7)


# 2. Spread ---------------------------------------------------------------------------------

def test_spread_tests_hold_their_level_under_heavy_tails() -> None:
    """Equal spreads, t(3) noise, 40 + 40: the F-test rejected in 31.5% of runs at 5%."""
    rng = np.random.default_rng(5)
    parts = _two_cohorts(40, rng)
    values = 2 + 0.05 * parts["pma_scan"].to_numpy()[:, None] + rng.standard_t(3, (80, 300))
    res = distribution_shift(_replicates(parts, values), reference="a", measures=["y"],
                             covariates=("pma_scan",), smooth=())
    for column in ("brown_forsythe_p", "fligner_p", "ks_p", "ad_p"):
        rate = float((res[column] < 0.05).mean())
        assert rate < 0.09, (column, rate)   # 300 runs: 5% +- 2.5% (95% MC interval)
    resid = smf.ols("y ~ pma_scan", _replicates(parts, values[:, :1])).fit().resid.to_numpy()
    first = res.iloc[0]
    a, b = resid[:40], resid[40:]
    assert first["brown_forsythe_p"] == pytest.approx(
        stats.levene(b, a, center="median").pvalue, rel=1e-9)
    assert first["fligner_p"] == pytest.approx(stats.fligner(b, a).pvalue, rel=1e-9)
    assert first["ad_statistic"] == pytest.approx(stats.anderson_ksamp([b, a]).statistic)


def test_shift_p_values_share_one_fdr_family(wide: pd.DataFrame) -> None:
    from harmonstats.analysis.ols import bh_fdr

    res = distribution_shift(wide, reference="source", methods=["original"],
                             measures=["thickness_mean", "volume_wm", "volume_cgm"])
    tests = ["ks_p", "ad_p", "brown_forsythe_p", "fligner_p"]
    block = res[tests].to_numpy()
    expected = bh_fdr(block.ravel()).reshape(block.shape)
    np.testing.assert_allclose(res[[f"{t}_fdr" for t in tests]].to_numpy(), expected)


# 4. Site prediction with non-linear age ------------------------------------------------------

def test_site_prediction_holds_its_level_with_curved_growth_and_unequal_pma() -> None:
    """No scanner effect, quadratic PMA, PMA 37-45 vs 40-45: linear residualisation gave p <
    .05 in 43% of studies."""
    rng = np.random.default_rng(11)
    parts = _two_cohorts(40, rng, pma=((37, 45), (40, 45)))
    pma = parts["pma_scan"].to_numpy()[:, None]
    curve = 0.08 * (pma - 41) - 0.03 * (pma - 41) ** 2
    values = curve + rng.normal(0, 0.1, (80, 60))
    wide = _replicates(parts, values)
    res = site_prediction(wide, reference="a", measures=["y"], covariates=("pma_scan", "sex"),
                          n_permutations=49, seed=0)
    rate = float((res["p_permutation"] < 0.05).mean())
    assert rate <= 0.15, rate   # 60 studies: 5% nominal, 43% before the fix
    linear = site_prediction(wide, reference="a", measures=["y"],
                             covariates=("pma_scan", "sex"), n_permutations=49, seed=0,
                             smooth=())
    assert float((linear["p_permutation"] < 0.05).mean()) > 0.25


# 5. Effect sizes -----------------------------------------------------------------------------

def test_effect_sizes_are_named_for_what_they_are(wide: pd.DataFrame) -> None:
    res = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                        methods=["original"]).iloc[0]
    rows = wide[wide["method"] == "original"]
    a = rows.loc[rows["cohort"] == "source", "thickness_mean"]
    b = rows.loc[rows["cohort"] == "target", "thickness_mean"]
    assert res["cohens_d"] == pytest.approx(pg.compute_effsize(b, a, eftype="cohen"), rel=1e-9)
    assert res["hedges_g"] == pytest.approx(pg.compute_effsize(b, a, eftype="hedges"), rel=1e-9)
    fit = smf.ols("thickness_mean ~ C(cohort) + pma_scan + ga_birth + C(sex)", rows).fit()
    assert res["d_adjusted"] == pytest.approx(
        fit.params["C(cohort)[T.target]"] / np.sqrt(fit.mse_resid), rel=1e-9)
    assert res["d_adjusted"] > 1.5 * res["cohens_d"]
    # Intervals: exact (noncentral t); close to pingouin's normal approximation at this size.
    low, high = pg.compute_esci(stat=res["hedges_g"], nx=len(b), ny=len(a), eftype="hedges")
    assert res["hedges_g_ci_low"] == pytest.approx(low, abs=0.03)
    assert res["hedges_g_ci_high"] == pytest.approx(high, abs=0.03)
    assert res["d_adjusted_ci_low"] < res["d_adjusted"] < res["d_adjusted_ci_high"]


def test_robust_partial_eta2_is_the_sums_of_squares_ratio(wide: pd.DataFrame) -> None:
    rows = wide[wide["method"] == "original"]
    full = smf.ols("thickness_mean ~ C(cohort) + pma_scan + ga_birth + C(sex)", rows).fit()
    reduced = smf.ols("thickness_mean ~ pma_scan + ga_birth + C(sex)", rows).fit()
    expected = (reduced.ssr - full.ssr) / reduced.ssr
    res = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                        methods=["original"], robust=True).iloc[0]
    assert res["partial_eta2"] == pytest.approx(expected, rel=1e-9)
    assert res["partial_eta2_ci_low"] < expected < res["partial_eta2_ci_high"]
    # The noncentral-F bounds: the observed F sits at the 97.5% / 2.5% point of each.
    f = full.tvalues["C(cohort)[T.target]"] ** 2
    for bound, p in ((res["partial_eta2_ci_low"], 0.975), (res["partial_eta2_ci_high"], 0.025)):
        lam = bound / (1 - bound) * (1 + full.df_resid + 1)
        assert stats.ncf.cdf(f, 1, full.df_resid, lam) == pytest.approx(p, abs=1e-6)


# 6. min_group after dropping, one subject set ------------------------------------------------

def test_min_group_counts_subjects_with_every_covariate(wide: pd.DataFrame) -> None:
    rows = wide[wide["method"] == "original"].copy()
    target = rows.index[rows["cohort"] == "target"]
    rows = rows.drop(target[12:])
    rows.loc[target[:3], "ga_birth"] = np.nan          # 12 target subjects, 9 with GA
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InsufficientDataError, match="9 subject"):
            cohort_effect(rows, reference="source", measures=["thickness_mean"], min_group=10)
        eff = cohort_effect(rows, reference="source", measures=["thickness_mean"], min_group=9)
        tt = two_sample_t(rows, reference="source", measures=["thickness_mean"], min_group=9,
                          covariates=("pma_scan", "ga_birth", "sex"))
    assert eff["n_other"].iloc[0] == tt["n_other"].iloc[0] == 9


# 7. Equivalence ------------------------------------------------------------------------------

def test_one_margin_per_measure_and_multiplicity(study) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(*study, BatteryConfig(n_permutations=0, comparator=None))
    eq = res["equivalence"]
    assert (eq.groupby("measure")["margin_abs"].nunique() == 1).all()
    measures, participants = study
    ref = wide_table(measures, participants).query("method == 'original' and cohort == 'source'")
    row = eq[eq["measure"] == "thickness_mean"].iloc[0]
    assert row["margin_abs"] == pytest.approx(0.05 * ref["thickness_mean"].mean(), rel=1e-12)
    for _, block in eq.groupby("method"):
        np.testing.assert_allclose(block["p_tost_adj"], holm(block["p_tost"].to_numpy()))
    verdict = np.select([(eq["p_tost_adj"] < .05) & (eq["p_difference_adj"] >= .05)],
                        ["equivalent"], "other")
    assert ((verdict == "equivalent") == eq["harmonised"]).all()


def test_a_trivial_difference_is_not_called_harmonised() -> None:
    effect = pd.DataFrame([{"method": "m", "measure": "x", "reference": "a", "comparison": "b",
                            "estimate": 0.3, "se": 0.05, "df": 100, "reference_mean": 10.0,
                            "n": 105, "p": 2 * stats.t.sf(6, 100)}])
    res = equivalence(effect, margin=0.05).iloc[0]
    assert res["verdict"] == "trivial difference"
    assert res["within_margin"] and not res["harmonised"]


# 8. Preterm model ----------------------------------------------------------------------------

def test_preterm_main_effects_are_read_at_the_centre(wide: pd.DataFrame) -> None:
    rows = wide[(wide["method"] == "truth")]
    res = preterm_model(rows, analysis="x").set_index("term")
    fit = smf.ols("thickness_mean ~ pma_scan * ga_birth + C(sex) + birth_weight", rows).fit()
    slope_at_40 = fit.params["pma_scan"] + 40 * fit.params["pma_scan:ga_birth"]
    assert res.loc["pma_scan", "estimate"] == pytest.approx(slope_at_40, rel=1e-8)
    assert res.loc["pma_scan", "centred_at"] == "pma_scan=40"
    assert res.loc["pma_scan:ga_birth", "estimate"] == pytest.approx(
        fit.params["pma_scan:ga_birth"], rel=1e-8)
    data = rows.assign(pma=rows["pma_scan"] - 40, ga=rows["ga_birth"] - 40,
                       bw=rows["birth_weight"] - 3000, male=(rows["sex"] == "M") * 1.0)
    exog = np.column_stack([np.ones(len(data)), data["pma"], data["ga"], data["male"],
                            data["bw"], data["pma"] * data["ga"]])
    for j, term in enumerate(["pma_scan", "ga_birth", "sex", "birth_weight",
                              "pma_scan:ga_birth"], start=1):
        assert res.loc[term, "vif"] == pytest.approx(variance_inflation_factor(exog, j), rel=1e-8)
    assert res.loc["birth_weight", "vif"] > 5   # GA and birth weight are collinear


# 9. Smaller ----------------------------------------------------------------------------------

def test_subjects_missing_a_matching_variable_are_listed_as_dropped(study) -> None:
    _, participants = study
    parts = participants.copy()
    parts.loc[parts.index[:2], "pma_scan"] = np.nan
    res = match_cohorts(parts, reference="source", on=("pma_scan",),
                        covariates=("ga_birth", "sex"))
    dropped = res.dropped.set_index("participant_id")
    for pid in parts["participant_id"].iloc[:2]:
        assert dropped.loc[pid, "reason"] == "missing pma_scan"
    listed = set(res.matched["participant_id"]) | set(res.dropped["participant_id"])
    assert listed == set(parts["participant_id"])
    balance = res.balance.set_index(["variable", "stage"])
    assert {"ga_birth", "sex"} <= set(res.balance["variable"])
    assert not balance.loc[("ga_birth", "after"), "matched_on"]
    flagged = balance["smd"].abs() > 0.1
    assert (balance["imbalanced"] == flagged).all()


def test_one_pooled_sd_for_balance_and_effect_size(study) -> None:
    _, participants = study
    parts = participants.iloc[:100]                      # 60 source, 40 target
    res = match_cohorts(parts, reference="source")
    row = res.balance.query("variable == 'pma_scan' and stage == 'before'").iloc[0]
    a = parts.loc[parts["cohort"] == "source", "pma_scan"]
    b = parts.loc[parts["cohort"] == "target", "pma_scan"]
    assert row["smd"] == pytest.approx(pg.compute_effsize(b, a, eftype="cohen"), rel=1e-9)
    assert pooled_sd(a, b) == pytest.approx(np.sqrt(((59 * a.var()) + 39 * b.var()) / 98))


def test_preservation_is_a_formal_interaction_test(wide: pd.DataFrame) -> None:
    res = biological_effects(wide, reference="source", measures=["thickness_mean"],
                             methods=["original"]).set_index("term")
    rows = wide[wide["method"] == "original"]
    full = smf.ols("thickness_mean ~ C(cohort) * pma_scan + ga_birth + C(sex)", rows).fit()
    assert res.loc["pma_scan", "interaction_p"] == pytest.approx(
        full.pvalues["C(cohort)[T.target]:pma_scan"], rel=1e-7)
    assert res.loc["pma_scan", "interaction_f"] == pytest.approx(
        full.tvalues["C(cohort)[T.target]:pma_scan"] ** 2, rel=1e-7)


def test_pooled_outcome_model_with_a_cohort_term(wide: pd.DataFrame) -> None:
    res = outcome_association(wide, methods=["original"], predictors=["thickness_frontal_r"])
    row = res[res["scope"] == "pooled, cohort adjusted"].iloc[0]
    rows = wide[wide["method"] == "original"]
    fit = smf.ols("language_composite ~ thickness_frontal_r + pma_scan + ga_birth + C(sex) + icv"
                  " + C(cohort)", rows).fit()
    assert row["estimate"] == pytest.approx(fit.params["thickness_frontal_r"], rel=1e-8)
    assert row["p"] == pytest.approx(fit.pvalues["thickness_frontal_r"], rel=1e-6)
    assert set(res["scope"]) == {"pooled", "pooled, cohort adjusted", "source", "target"}


def test_the_default_battery_answers_on_a_synthetic_two_cohort_study() -> None:
    """40 + 40 synthetic subjects: GA barely overlaps by design. The defaults used to keep 9
    matched pairs and skip the cohort effect, t-test and equivalence."""
    from harmonstats.synth.demographics import draw_participants
    from harmonstats.synth.model import ThicknessModel

    parts = draw_participants(40, 40, np.random.default_rng(0))
    model, rng = ThicknessModel(), np.random.default_rng(1)
    ct = np.array([model.mean(p, g, s) for p, g, s in
                   zip(parts["pma_scan"], parts["ga_birth"], parts["sex"], strict=True)])
    ct = ct + rng.normal(0, 0.1, len(parts)) + 0.2 * (parts["cohort"] == "target")
    measures = pd.DataFrame({"participant_id": parts["participant_id"], "cohort": parts["cohort"],
                             "method": "original", "measure": "thickness_mean", "value": ct,
                             "unit": "mm"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(measures, parts, BatteryConfig(n_permutations=0, comparator=None,
                                                         combat=()))
    status = res["status"].set_index("analysis")["status"]
    for name in ("cohort_effect", "ttest", "equivalence"):
        assert status[name] == "done", name
    assert res["cohort_effect"]["n"].iloc[0] >= 40
