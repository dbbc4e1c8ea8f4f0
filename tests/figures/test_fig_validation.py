from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_counts import points, texts, visible_axes
from matplotlib.colors import to_hex

from harmonstats.figures import plot_equivalence, plot_site_prediction
from harmonstats.figures.validation import VERDICT_COLORS


def _equivalence() -> pd.DataFrame:
    rows = []
    for measure, margin in (("thickness_mean", 0.08), ("volume_wm", 3000.0)):
        for method, est, verdict in (("original", 2.0, "different"),
                                     ("image_aug", 0.1, "equivalent"),
                                     ("latent", 0.6, "inconclusive")):
            e = est * margin
            rows.append({"method": method, "measure": measure, "comparison": "target",
                         "estimate": e, "ci90_low": e - 0.3 * margin,
                         "ci90_high": e + 0.3 * margin, "margin": 0.05, "margin_abs": margin,
                         "verdict": verdict})
    return pd.DataFrame(rows)


def test_equivalence_margins_estimates_and_verdict_colours() -> None:
    table = _equivalence()
    fig = plot_equivalence(table)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["thickness_mean", "volume_wm"]
    for ax, margin in zip(axes, (0.08, 3000.0), strict=True):
        xs = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_gid() == "margin")
        assert xs == pytest.approx([-margin, margin])
        est = points(ax, "estimate")
        assert len(est) == 3
        sub = table[table["margin_abs"] == margin]
        assert np.allclose(np.sort(est[:, 0]), np.sort(sub["estimate"]))
        colours = {to_hex(c.get_facecolor()[0]) for c in ax.collections
                   if c.get_gid() == "estimate"}
        assert colours == {VERDICT_COLORS[v] for v in sub["verdict"]}
    assert axes[0].get_xlabel() == "cohort effect (mm)"
    assert axes[1].get_xlabel() == "cohort effect (mm³)"


def test_equivalence_uses_margin_when_no_margin_abs() -> None:
    table = _equivalence().drop(columns="margin_abs").assign(margin=0.5)
    ax = visible_axes(plot_equivalence(table, measures=["volume_wm"]))[0]
    xs = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_gid() == "margin")
    assert xs == [-0.5, 0.5]


def test_equivalence_per_row_margins_and_unknown_verdict() -> None:
    table = _equivalence()
    table.loc[0, "margin_abs"] = 0.1
    table.loc[1, "verdict"] = "something else"
    fig = plot_equivalence(table, methods=["original", "image_aug"])
    ax = visible_axes(fig)[0]
    assert len([c for c in ax.collections if c.get_gid() == "margin"]) == 2
    assert len(points(ax, "estimate")) == 2


@pytest.mark.parametrize("column", ["verdict", "ci90_low", "estimate", "method"])
def test_equivalence_missing_columns(column: str) -> None:
    with pytest.raises(ValueError, match=f"'{column}'"):
        plot_equivalence(_equivalence().drop(columns=column))


def test_equivalence_several_comparisons() -> None:
    table = pd.concat([_equivalence(), _equivalence().assign(comparison="third")])
    with pytest.raises(ValueError, match="pass comparison="):
        plot_equivalence(table)
    assert len(visible_axes(plot_equivalence(table, comparison="third"))) == 2


SITE = pd.DataFrame({"method": ["original", "baseline_aug", "image_aug"],
                     "balanced_accuracy": [0.92, 0.61, 0.52], "chance": 0.5,
                     "p_permutation": [0.001, 0.04, 0.4]})


def test_site_prediction_bars_chance_and_p() -> None:
    fig = plot_site_prediction(SITE)
    (ax,) = visible_axes(fig)
    assert np.allclose([p.get_height() for p in ax.patches], SITE["balanced_accuracy"])
    (chance,) = [line for line in ax.lines if line.get_gid() == "chance"]
    assert np.allclose(chance.get_ydata(), 0.5)
    assert texts(ax, "p-value") == ["p = .001", "p = .040", "p = .400"]


def test_site_prediction_chance_from_argument_and_ci() -> None:
    table = SITE.drop(columns=["chance", "p_permutation"]).assign(
        p=[0.01, 0.2, 0.9], ci_low=[0.8, 0.5, 0.4], ci_high=[0.97, 0.7, 0.6])
    fig = plot_site_prediction(table, chance=1 / 3, methods=["image_aug", "original"])
    (ax,) = visible_axes(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["image_aug", "original"]
    (chance,) = [line for line in ax.lines if line.get_gid() == "chance"]
    assert np.allclose(chance.get_ydata(), 1 / 3)


@pytest.mark.parametrize("table, kwargs, message", [
    (SITE.drop(columns="balanced_accuracy"), {}, "'balanced_accuracy'"),
    (SITE.drop(columns="p_permutation"), {}, "'p'"),
    (SITE.assign(chance=[0.5, 0.5, 1 / 3]), {}, "several values"),
    (SITE, {"chance": 1.5}, "chance level"),
    (pd.concat([SITE, SITE]), {}, "twice"),
])
def test_site_prediction_rejects(table: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plot_site_prediction(table, **kwargs)


def test_equivalence_in_margin_units() -> None:
    table = _equivalence()
    fig = plot_equivalence(table, scale="margin")
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["original", "image_aug", "latent"]
    for ax in axes:
        xs = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_gid() == "margin")
        assert xs == [-1.0, 1.0]
        sub = table[table["method"] == ax.get_title()]
        expected = np.sort((sub["estimate"] / sub["margin_abs"]).to_numpy())
        assert np.allclose(np.sort(points(ax, "estimate")[:, 0]), expected)
        assert ax.get_xlabel() == "cohort effect / margin"
    with pytest.raises(ValueError, match="scale must be"):
        plot_equivalence(table, scale="log")
