from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_counts import points, visible_axes

from harmonstats.figures import plot_age_distribution, plot_balance


def test_age_distribution_draws_every_subject(participants: pd.DataFrame) -> None:
    fig = plot_age_distribution(participants)
    hist_ga, hist_pma, scatter = visible_axes(fig)
    xy = points(scatter)
    assert len(xy) == len(participants)
    expected = participants[["ga_birth", "pma_scan"]].to_numpy()
    assert sorted(map(tuple, xy)) == sorted(map(tuple, expected))
    # One filled histogram per cohort, whose bar heights add up to the cohort's size.
    for ax in (hist_ga, hist_pma):
        assert len(ax.patches) == 2
    assert "weeks" in hist_ga.get_xlabel() and "weeks" in scatter.get_ylabel()


def test_age_histogram_counts_match_numpy(participants: pd.DataFrame) -> None:
    fig = plot_age_distribution(participants, cohorts=["target"], bin_width=2.0)
    ax = visible_axes(fig)[0]
    ga = participants.loc[participants["cohort"] == "target", "ga_birth"].to_numpy()
    bins = np.arange(np.floor(ga.min() / 2) * 2, np.ceil(ga.max() / 2) * 2 + 3, 2.0)
    counts, _ = np.histogram(ga, bins=bins)
    # The step outline's heights are exactly the bin counts (and the 0 baseline).
    outline = ax.patches[0].get_xy()[:, 1]
    assert set(np.unique(outline)) == set(np.unique(np.r_[0, counts]))


def test_age_distribution_unknown_cohort(participants: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'nowhere'"):
        plot_age_distribution(participants, cohorts=["nowhere"])


WIDE = pd.DataFrame({"covariate": ["ga_birth", "pma_scan", "sex"],
                     "smd_before": [1.2, -0.3, 0.2], "smd_after": [0.05, -0.08, 0.12]})


def test_love_plot_wide_table_absolute_smds() -> None:
    fig = plot_balance(WIDE, threshold=0.1)
    (ax,) = visible_axes(fig)
    before, after = ax.collections[1].get_offsets(), ax.collections[2].get_offsets()
    assert np.allclose(np.sort(before[:, 0]), np.sort(np.abs(WIDE["smd_before"])))
    assert np.allclose(np.sort(after[:, 0]), np.sort(np.abs(WIDE["smd_after"])))
    vertical = [ln for ln in ax.lines if np.allclose(ln.get_xdata(), 0.1)]
    assert len(vertical) == 1
    top_to_bottom = [t.get_text() for t in sorted(ax.get_yticklabels(),
                                                  key=lambda t: -t.get_position()[1])]
    assert top_to_bottom == ["ga_birth", "pma_scan", "sex"]


def test_love_plot_long_table_with_several_comparisons() -> None:
    long = pd.DataFrame({
        "comparison": ["b", "b", "b", "b", "c", "c", "c", "c"],
        "variable": ["ga_birth", "ga_birth", "pma_scan", "pma_scan"] * 2,
        "stage": ["before", "after"] * 4,
        "smd": [0.9, 0.02, -0.5, 0.03, 0.4, -0.2, 0.1, 0.05],
    })
    fig = plot_balance(long)
    (ax,) = visible_axes(fig)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == ["ga_birth (b)", "ga_birth (c)", "pma_scan (b)", "pma_scan (c)"]
    assert len(ax.collections[1].get_offsets()) == 4


def test_love_plot_from_match_cohorts(participants: pd.DataFrame) -> None:
    matching = pytest.importorskip("harmonstats.analysis.matching")
    result = matching.match_cohorts(participants, reference="source", caliper=None)
    fig = plot_balance(result.balance)
    (ax,) = visible_axes(fig)
    assert len(ax.get_yticks()) == result.balance["variable"].nunique()


@pytest.mark.parametrize("table, missing", [
    (WIDE.drop(columns="smd_after"), "smd_after"),
    (pd.DataFrame({"variable": ["a"], "stage": ["before"], "smd": [0.1]}), "'after'"),
    # nobody matched: the after rows are there, their SMDs missing (a data gap, not a KeyError)
    (pd.DataFrame({"variable": ["a", "a"], "stage": ["before", "after"], "smd": [0.1, None]}),
     "no SMD after matching"),
    (pd.DataFrame({"variable": ["a"], "stage": ["before"]}), "'smd'"),
])
def test_love_plot_rejects_incomplete_tables(table: pd.DataFrame, missing: str) -> None:
    with pytest.raises(ValueError, match=missing):
        plot_balance(table)
