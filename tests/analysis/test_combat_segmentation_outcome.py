"""ComBat comparator, Dice tests and the outcome model."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from harmonstats.analysis import (
    cohort_effect,
    combat_harmonise,
    outcome_association,
    segmentation_quality,
)
from harmonstats.analysis.ols import holm

MEASURES = ["thickness_mean", "volume_cgm", "volume_wm", "icv"]


@pytest.mark.parametrize("variant", ["combat", "combat_gam", "covbat"])
def test_combat_removes_the_offset(wide: pd.DataFrame, variant: str) -> None:
    rows, status = combat_harmonise(wide, reference="source", measures=MEASURES,
                                    variant=variant)
    row = status.iloc[0]
    assert (row["status"], row["fit"], row["n_evaluated"]) == ("done", "crossfit:5", 120)
    assert row["n_fit"] == 96  # 4 of 5 folds of 120
    ref_before = wide.query("method == 'original' and cohort == 'source'")
    ref_after = rows[rows["cohort"] == "source"]
    np.testing.assert_allclose(ref_after["thickness_mean"], ref_before["thickness_mean"],
                               rtol=1e-12)
    both = pd.concat([wide, rows])
    eff = cohort_effect(both, reference="source", measures=["thickness_mean"],
                        methods=["original", f"original+{variant}"]).set_index("method")
    assert eff.loc["original", "estimate"] > 0.15
    assert abs(eff.loc[f"original+{variant}", "estimate"]) < 0.05


def test_segmentation_tests_against_comparator(wide: pd.DataFrame) -> None:
    res = segmentation_quality(wide, comparator="original", cohort="source")
    table = wide[(wide["cohort"] == "source") & (wide["split"] == "test")].pivot(
        index="participant_id", columns="method", values="dice_cgm")
    row = res.query("measure == 'dice_cgm' and method == 'truth'").iloc[0]
    w = stats.wilcoxon(table["truth"], table["original"])
    assert row["wilcoxon_p"] == pytest.approx(w.pvalue)
    assert row["t"] == pytest.approx(stats.ttest_rel(table["truth"], table["original"]).statistic)
    block = res[res["measure"] == "dice_cgm"]
    np.testing.assert_allclose(block["wilcoxon_p_holm"], holm(block["wilcoxon_p"].to_numpy()))
    assert block.set_index("method")["best"].to_dict() == {
        "harmonised": False, "original": False, "truth": True}


def test_outcome_matches_statsmodels_and_shows_spurious_pooling(wide: pd.DataFrame) -> None:
    res = outcome_association(wide, methods=["original", "truth"])
    rows = wide[wide["method"] == "original"]
    ref = smf.ols("language_composite ~ thickness_frontal_l + pma_scan + ga_birth + C(sex) + icv",
                  rows).fit()
    got = res.query("scope == 'pooled' and method == 'original' and "
                    "predictor == 'thickness_frontal_l'").iloc[0]
    assert got["estimate"] == pytest.approx(ref.params["thickness_frontal_l"], rel=1e-8)
    assert got["n"] == 120
    pooled = res[res["scope"] == "pooled"].set_index(["method", "predictor"])["p"]
    # Language depends on cohort and GA only: pooling the offset-inflated thickness creates a
    # negative association that the true thickness does not show.
    assert pooled["original"].min() < 0.05
    assert pooled["truth"].min() > 0.05


@pytest.mark.parametrize(("n", "warns"), [(4, True), (5, True), (6, False)])
def test_segmentation_warns_when_too_few_pairs_for_wilcoxon(n, warns) -> None:
    from harmonstats.analysis import wide_table
    from harmonstats.analysis.simulate import simulate_measures

    measures, participants = simulate_measures(n, seed=2)
    wide = wide_table(measures, participants)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        segmentation_quality(wide, comparator="original", cohort="source", split=None)
    hit = [c for c in caught if "cannot reach p < 0.05" in str(c.message)]
    assert bool(hit) == warns
