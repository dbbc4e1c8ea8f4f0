"""The figures draw the result tables of the statistics battery as it writes them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from figure_counts import lines, points, texts, visible_axes
from figure_tables import REGION_NAMES, make_measures, make_participants

import harmonstats.figures as hf
from harmonstats.figures._data import p_text

analysis = pytest.importorskip("harmonstats.analysis")


@pytest.fixture(scope="module")
def study() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    participants = make_participants()
    measures = make_measures(participants)
    config = analysis.BatteryConfig(after="image_aug", n_permutations=20, n_boot=100,
                                    min_group=5, caliper=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = analysis.run_battery(measures, participants, config)
    return participants, measures, results


def test_balance_table(study: tuple) -> None:
    _, _, results = study
    fig = hf.plot_balance(results["balance"])
    (ax,) = visible_axes(fig)
    assert len(ax.get_yticks()) == results["balance"]["variable"].nunique()


def test_dice_with_segmentation_table(study: tuple) -> None:
    participants, measures, results = study
    seg = results["segmentation"]
    test_split = participants[(participants["split"] == "test")
                              & (participants["cohort"] == "source")]
    fig = hf.plot_dice(measures, tests=seg, subjects=test_split)
    for ax in visible_axes(fig):
        assert len(points(ax)) == 3 * len(test_split)
        assert texts(ax, "comparator") == ["ref."]
        rows = seg[seg["measure"] == f"dice_{ax.get_title()}"]
        n_sig = int((rows["wilcoxon_p_holm"] < 0.05).sum())
        assert len(texts(ax, "significance")) == n_sig
        best = rows.loc[rows["best"], "method"].item()
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks[int(points(ax, "best")[0, 0])] == best


def test_volumes_and_thickness_with_cohort_effects(study: tuple) -> None:
    participants, measures, results = study
    effects = results["cohort_effect"]
    fig = hf.plot_volumes(measures, effects=effects, subjects=results["matched"])
    sig = effects[effects["measure"].str.startswith("volume_") & (effects["p_fdr"] < 0.05)]
    assert sum(len(texts(ax, "significance")) for ax in visible_axes(fig)) == len(sig)
    fig = hf.plot_thickness_vs_pma(measures, participants, effects=effects,
                                   subjects=results["matched"])
    panel = visible_axes(fig)[-1]
    ct = effects[effects["measure"] == "thickness_mean"]
    assert len(points(panel, "effect-significant")) == int((ct["p_fdr"] < 0.05).sum())


def test_equivalence_and_site_tables(study: tuple) -> None:
    _, _, results = study
    eq = results["equivalence"]
    fig = hf.plot_equivalence(eq, measures=["thickness_mean", "volume_csf"])
    for ax in visible_axes(fig):
        margin = eq.loc[eq["measure"] == ax.get_title(), "margin_abs"]
        xs = sorted(float(ln.get_xdata()[0]) for ln in ax.lines if ln.get_gid() == "margin")
        if margin.nunique() == 1:
            assert xs == pytest.approx([-margin.iloc[0], margin.iloc[0]])
    site = results["site_prediction"]
    fig = hf.plot_site_prediction(site)
    (ax,) = visible_axes(fig)
    assert np.allclose([p.get_height() for p in ax.patches], site["balanced_accuracy"])


def test_preterm_tables(study: tuple) -> None:
    participants, measures, results = study
    fig = hf.plot_term_preterm(measures, participants, after="image_aug",
                               crossings=results["preterm_crossing"])
    axes = np.array(visible_axes(fig)).reshape(2, 3)
    for j in range(3):
        assert len(lines(axes[1, j], "crossing")) == 1
    crossing = results["preterm_crossing"].set_index("analysis")["crossing_pma"]
    (line,) = lines(axes[1, 2], "crossing")
    assert line.get_xdata()[0] == pytest.approx(crossing["pooled after"])
    regional = results["preterm_regional"]
    fig = hf.plot_regional_preterm(regional)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["reference only", "pooled before",
                                               "pooled after"]
    for ax in axes:
        rows = regional[regional["analysis"] == ax.get_title()]
        assert len(points(ax, "significant")) == int((rows["p_fdr"] < 0.05).sum())
        assert len(points(ax, "significant")) + len(points(ax, "not-significant")) == len(
            REGION_NAMES)


def test_outcome_table(study: tuple) -> None:
    participants, measures, results = study
    out = results["outcome"]
    with pytest.warns(UserWarning, match="dropped"):
        fig = hf.plot_outcome_thickness(measures, participants, after="image_aug", effects=out)
    pooled = out[(out["scope"] == "pooled") & (out["method"] == "image_aug")
                 & (out["predictor"] == "thickness_frontal_r")]
    ax = visible_axes(fig)[3]
    assert texts(ax, "effect") == [
        f"adjusted β = {pooled['estimate'].item():.2f}, {p_text(pooled['p'].item())}"]
