from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_counts import lines, points, visible_axes
from figure_tables import REGION_NAMES
from scipy import stats

from harmonstats.figures import plot_outcome_thickness, plot_regional_preterm, plot_term_preterm


def test_term_preterm_columns_and_lines(measures: pd.DataFrame,
                                        participants: pd.DataFrame) -> None:
    fig = plot_term_preterm(measures, participants, after="image_aug", pma_range=(37.0, 45.0))
    axes = np.array(visible_axes(fig)).reshape(2, 3)
    kept = participants[participants["pma_scan"].between(37.0, 45.0)]
    n_source = int((kept["cohort"] == "source").sum())
    for j, n in enumerate([n_source, len(kept), len(kept)]):
        for i in range(2):
            assert len(points(axes[i, j])) == n
            assert len(lines(axes[i, j], "line-term")) == 1
            assert len(lines(axes[i, j], "line-preterm")) == 1
        assert axes[0, j].get_title().endswith(f"n = {n}")
    # The PMA row, pooled after: the term line is the least-squares fit of the term-born.
    ct = measures[(measures["measure"] == "thickness_mean") & (measures["method"] == "image_aug")]
    term = ct.merge(kept[kept["ga_birth"] >= 37.0], on=["participant_id", "cohort"])
    fit = stats.linregress(term["pma_scan"], term["value"])
    (line,) = lines(axes[1, 2], "line-term")
    x = np.asarray(line.get_xdata())
    assert np.allclose(line.get_ydata(), fit.intercept + fit.slope * x)


def test_term_preterm_needs_the_reference_cohort(measures: pd.DataFrame,
                                                 participants: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="reference cohort 'dhcp'"):
        plot_term_preterm(measures, participants, after="image_aug", reference_cohort="dhcp")
    with pytest.raises(ValueError, match="'latent'"):
        plot_term_preterm(measures, participants, after="latent")
    with pytest.raises(ValueError, match="PMA range 50-60 weeks"):
        plot_term_preterm(measures, participants, after="image_aug", pma_range=(50, 60))


def _regional(p: list[float]) -> pd.DataFrame:
    est = np.linspace(-0.1, 0.1, len(p))
    return pd.DataFrame({"region": ["thickness_mean", *REGION_NAMES][: len(p)],
                         "estimate": est, "ci_low": est - 0.05, "ci_high": est + 0.05,
                         "p": p})


def test_regional_preterm_highlights_p_below_alpha() -> None:
    p = [0.001, 0.2, 0.049, 0.05, 0.7, 0.01]
    fig = plot_regional_preterm(_regional(p))
    (ax,) = visible_axes(fig)
    assert len(points(ax, "significant")) == 3
    assert len(points(ax, "not-significant")) == 3
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert sorted(bold) == sorted(["whole cortex", "frontal_r", "temporal_r"])
    assert np.allclose(np.sort(points(ax, "significant")[:, 0]),
                       np.sort(_regional(p)["estimate"].to_numpy()[[0, 2, 5]]))


def test_regional_preterm_prefers_p_fdr_and_accepts_measure() -> None:
    table = _regional([0.001, 0.001]).rename(columns={"region": "measure"})
    table["p_fdr"] = [0.5, 0.01]
    fig = plot_regional_preterm(table)
    (ax,) = visible_axes(fig)
    assert len(points(ax, "significant")) == 1
    with pytest.raises(ValueError, match="'ci_high'"):
        plot_regional_preterm(table.drop(columns="ci_high"))
    with pytest.raises(ValueError, match="twice"):
        plot_regional_preterm(pd.concat([table, table]))


def test_outcome_panels_and_pooled_lines(measures: pd.DataFrame,
                                         participants: pd.DataFrame) -> None:
    with pytest.warns(UserWarning, match="dropped 8 row"):
        # 2 subjects without an outcome x 2 methods x 2 regions.
        fig = plot_outcome_thickness(measures, participants, after="image_aug")
    axes = np.array(visible_axes(fig)).reshape(2, 2)
    with_outcome = participants.dropna(subset=["language_composite"])
    wide = measures.merge(with_outcome, on=["participant_id", "cohort"])
    for i, region in enumerate(["frontal_l", "frontal_r"]):
        for j, method in enumerate(["original", "image_aug"]):
            ax = axes[i, j]
            assert len(points(ax)) == len(with_outcome)
            sub = wide[(wide["method"] == method) & (wide["measure"] == f"thickness_{region}")]
            fit = stats.linregress(sub["value"], sub["language_composite"])
            (line,) = lines(ax, "pooled-line")
            assert np.allclose(line.get_ydata(), fit.intercept + fit.slope
                               * np.asarray(line.get_xdata()))
            assert ax.get_xlabel() == f"thickness_{region} (mm)"


def test_outcome_effect_labels(measures: pd.DataFrame, participants: pd.DataFrame) -> None:
    effects = pd.DataFrame({"method": ["original"], "measure": ["thickness_frontal_l"],
                            "estimate": [-17.56], "p": [0.03]})
    with pytest.warns(UserWarning):
        fig = plot_outcome_thickness(measures, participants, after="image_aug", effects=effects)
    labels = [[t.get_text() for t in ax.texts if t.get_gid() == "effect"]
              for ax in visible_axes(fig)]
    assert labels == [["adjusted β = -17.56, p = .030"], [], [], []]
    with pytest.raises(ValueError, match="'estimate'"), pytest.warns(UserWarning):
        plot_outcome_thickness(measures, participants, after="image_aug",
                               effects=effects.drop(columns="estimate"))


def test_term_preterm_crossings(measures: pd.DataFrame, participants: pd.DataFrame) -> None:
    crossings = pd.DataFrame({
        "analysis": ["reference only", "pooled after", "pooled after"],
        "measure": ["thickness_mean", "thickness_mean", "thickness_frontal_l"],
        "crossing_pma": [38.5, np.nan, 40.0], "ci_low": [37.5, np.nan, 39.0],
        "ci_high": [39.5, np.nan, 41.0]})
    fig = plot_term_preterm(measures, participants, after="image_aug", crossings=crossings)
    axes = np.array(visible_axes(fig)).reshape(2, 3)
    (line,) = lines(axes[1, 0], "crossing")
    assert line.get_xdata()[0] == 38.5
    assert [p.get_gid() for p in axes[1, 0].patches] == ["crossing-ci"]
    assert lines(axes[1, 1], "crossing") == [] and lines(axes[1, 2], "crossing") == []
    # The GA row never gets a crossing line.
    assert all(lines(ax, "crossing") == [] for ax in axes[0])
    with pytest.raises(ValueError, match="two rows for analysis 'pooled after'"):
        plot_term_preterm(measures, participants, after="image_aug",
                          crossings=crossings.drop(columns="measure"))
    with pytest.raises(ValueError, match="'crossing_pma'"):
        plot_term_preterm(measures, participants, after="image_aug",
                          crossings=crossings.drop(columns="crossing_pma"))


def test_regional_preterm_panels_per_analysis() -> None:
    one = _regional([0.01, 0.5, 0.5])
    table = pd.concat([one.assign(analysis="pooled before", p=[0.5, 0.5, 0.5]),
                       one.assign(analysis="pooled after")])
    fig = plot_regional_preterm(table, analyses=["pooled after", "pooled before"])
    after, before = visible_axes(fig)
    assert (after.get_title(), before.get_title()) == ("pooled after", "pooled before")
    assert len(points(after, "significant")) == 1
    assert len(points(before, "significant")) == 0
    # Whole cortex first, then regions in label order.
    labels = sorted(after.get_yticklabels(), key=lambda t: -t.get_position()[1])
    assert [t.get_text() for t in labels] == ["whole cortex", "frontal_l", "frontal_r"]
    with pytest.raises(ValueError, match="'reference only'"):
        plot_regional_preterm(table, analyses=["reference only"])
