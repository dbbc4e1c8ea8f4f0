from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_counts import points, texts, visible_axes
from figure_tables import METHODS, REGION_NAMES, TISSUE_NAMES
from scipy import stats

from harmonstats.figures import plot_regional_thickness, plot_thickness_vs_pma, plot_volumes


def test_volumes_every_subject_per_panel(measures: pd.DataFrame) -> None:
    fig = plot_volumes(measures)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == TISSUE_NAMES
    for ax, tissue in zip(axes, TISSUE_NAMES, strict=True):
        xy = points(ax)
        values = measures.loc[measures["measure"] == f"volume_{tissue}", "value"]
        assert len(xy) == len(values)
        assert np.allclose(np.sort(xy[:, 1]), np.sort(values))
        assert "mm³" in ax.get_ylabel()


def test_volumes_marks_follow_the_effects_table(measures: pd.DataFrame,
                                               effects: pd.DataFrame) -> None:
    fig = plot_volumes(measures, effects=effects)
    marks = {ax.get_title(): texts(ax, "significance") for ax in visible_axes(fig)}
    assert marks.pop("csf") == ["***\n+1.2e+04"]
    assert all(m == [] for m in marks.values())
    # With p (not p_fdr) and alpha 1e-5 nothing is significant.
    fig = plot_volumes(measures, effects=effects, p_column="p", alpha=1e-5)
    assert all(texts(ax, "significance") == [] for ax in visible_axes(fig))


def test_volumes_subjects_subset_and_icv(measures: pd.DataFrame) -> None:
    keep = ["src001", "src002", "tgt005"]
    fig = plot_volumes(measures, subjects=pd.DataFrame({"participant_id": keep}),
                       tissues=["wm"], include_icv=True, methods=["original"])
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["wm", "intracranial volume"]
    assert all(len(points(ax)) == 3 for ax in axes)


def test_volumes_several_comparisons_need_a_choice(measures: pd.DataFrame,
                                                   effects: pd.DataFrame) -> None:
    both = pd.concat([effects, effects.assign(comparison="other")])
    with pytest.raises(ValueError, match="pass comparison="):
        plot_volumes(measures, effects=both)
    fig = plot_volumes(measures, effects=both, comparison="target")
    assert texts(visible_axes(fig)[0], "significance") != []


def test_thickness_vs_pma_points_and_cohort_lines(measures: pd.DataFrame,
                                                  participants: pd.DataFrame) -> None:
    fig = plot_thickness_vs_pma(measures, participants)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == METHODS
    ct = measures[measures["measure"] == "thickness_mean"].merge(participants, on=[
        "participant_id", "cohort"])
    for ax, method in zip(axes, METHODS, strict=True):
        assert len(points(ax)) == len(participants)
        assert len(ax.lines) == 2
        for line, cohort in zip(ax.lines, ["source", "target"], strict=True):
            sub = ct[(ct["method"] == method) & (ct["cohort"] == cohort)]
            fit = stats.linregress(sub["pma_scan"], sub["value"])
            x = np.asarray(line.get_xdata())
            assert np.allclose(x, [sub["pma_scan"].min(), sub["pma_scan"].max()])
            assert np.allclose(line.get_ydata(), fit.intercept + fit.slope * x)


def test_thickness_vs_pma_effect_panel(measures: pd.DataFrame, participants: pd.DataFrame,
                                       effects: pd.DataFrame) -> None:
    fig = plot_thickness_vs_pma(measures, participants, effects=effects)
    axes = visible_axes(fig)
    assert len(axes) == len(METHODS) + 1
    panel = axes[-1]
    bold = {t.get_text() for t in panel.get_yticklabels() if t.get_fontweight() == "bold"}
    assert bold == {"baseline_aug", "image_aug"}
    assert len(points(panel, "effect-significant")) == 1
    assert len(points(panel, "effect")) == 2
    estimates = np.sort(np.r_[points(panel, "effect")[:, 0],
                              points(panel, "effect-significant")[:, 0]])
    expected = effects.loc[effects["measure"] == "thickness_mean", "estimate"]
    assert np.allclose(estimates, np.sort(expected))


def test_thickness_vs_pma_subset(measures: pd.DataFrame, participants: pd.DataFrame) -> None:
    fig = plot_thickness_vs_pma(measures, participants, subjects=["src001", "tgt001", "tgt002"])
    assert all(len(points(ax)) == 3 for ax in visible_axes(fig))
    with pytest.raises(ValueError, match="none of the given subjects"):
        plot_thickness_vs_pma(measures, participants, subjects=["nobody"])


def test_thickness_vs_pma_unknown_subject(measures: pd.DataFrame,
                                          participants: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'sub-src001'"):
        plot_thickness_vs_pma(measures, participants[participants["participant_id"] != "src001"])


def test_regional_thickness_panels(measures: pd.DataFrame, effects: pd.DataFrame) -> None:
    fig = plot_regional_thickness(measures, effects=effects)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == REGION_NAMES
    assert all(len(points(ax)) == len(METHODS) * 40 for ax in axes)
    assert all(texts(ax, "significance") == [] for ax in axes)
    marked = effects.assign(p_fdr=np.where(effects["measure"] == "thickness_insula_r", 0.01, 0.9))
    fig = plot_regional_thickness(measures, effects=marked)
    marks = {ax.get_title(): len(texts(ax, "significance")) for ax in visible_axes(fig)}
    assert marks["insula_r"] == len(METHODS)
    assert sum(marks.values()) == len(METHODS)
