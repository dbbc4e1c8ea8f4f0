from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_counts import points, texts, visible_axes
from figure_tables import METHODS, TISSUE_NAMES

from harmonstats.figures import parcellation_dice_table, plot_dice, plot_parcellation_dice


def _tests(p_for: dict[tuple[str, str], float]) -> pd.DataFrame:
    rows = [{"method": m, "tissue": t, "comparator": "baseline_aug",
             "p_holm": p_for.get((m, t), 0.5)}
            for m in ("original", "image_aug") for t in TISSUE_NAMES]
    return pd.DataFrame(rows)


def test_dice_one_panel_per_tissue_and_every_subject(measures: pd.DataFrame) -> None:
    fig = plot_dice(measures)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == TISSUE_NAMES
    for ax, tissue in zip(axes, TISSUE_NAMES, strict=True):
        n = int((measures["measure"] == f"dice_{tissue}").sum())
        assert len(points(ax)) == n
        assert [t.get_text() for t in ax.get_xticklabels()] == METHODS


def test_dice_best_marker_at_the_highest_mean(measures: pd.DataFrame) -> None:
    fig = plot_dice(measures)
    for ax, tissue in zip(visible_axes(fig), TISSUE_NAMES, strict=True):
        means = (measures[measures["measure"] == f"dice_{tissue}"]
                 .groupby("method")["value"].mean())
        (best,) = points(ax, "best")
        assert METHODS[int(best[0])] == means.idxmax()
        assert best[1] == pytest.approx(means.max())
    # The fixture makes baseline_aug best for WM and image_aug best elsewhere.
    wm = visible_axes(fig)[TISSUE_NAMES.index("wm")]
    assert METHODS[int(points(wm, "best")[0, 0])] == "baseline_aug"


def test_dice_marks_only_significant_pairs(measures: pd.DataFrame) -> None:
    fig = plot_dice(measures, tests=_tests({("original", "cgm"): 0.0004,
                                            ("image_aug", "wm"): 0.03}))
    marks = {ax.get_title(): texts(ax, "significance") for ax in visible_axes(fig)}
    assert marks == {"csf": [], "cgm": ["***"], "wm": ["*"], "dgm": [], "cerebellum": [],
                     "brainstem": []}
    for ax in visible_axes(fig):
        assert texts(ax, "comparator") == ["ref."]
        assert len(texts(ax, "not-significant")) == 2 - len(marks[ax.get_title()])


def test_dice_without_tests_has_no_marks(measures: pd.DataFrame) -> None:
    fig = plot_dice(measures, tests=_tests({}))
    assert all(texts(ax, "significance") == [] for ax in visible_axes(fig))
    fig = plot_dice(measures)
    assert all(len(ax.texts) == 0 for ax in visible_axes(fig))


def test_dice_subset_of_methods_and_tissues(measures: pd.DataFrame) -> None:
    fig = plot_dice(measures, methods=["image_aug", "original"], tissues=["wm", "csf"])
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["wm", "csf"]
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["image_aug", "original"]


@pytest.mark.parametrize("kwargs, message", [
    ({"tests": _tests({}).drop(columns="p_holm")}, "'p_holm'"),
    ({"tests": _tests({}).drop(columns="tissue")}, "'tissue'"),
    ({"methods": ["latent"]}, "'latent'"),
    ({"tissues": ["bone"]}, "dice_bone"),
    ({"tests": pd.concat([_tests({}), _tests({})])}, "two rows"),
])
def test_dice_rejects_bad_input(measures: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plot_dice(measures, **kwargs)


def test_dice_needs_dice_rows(measures: pd.DataFrame) -> None:
    no_dice = measures[~measures["measure"].str.startswith("dice_")]
    with pytest.raises(ValueError, match="dice_"):
        plot_dice(no_dice)


def test_parcellation_table_matches_pandas(region_dice: pd.DataFrame) -> None:
    table = parcellation_dice_table(region_dice)
    expected = (region_dice.assign(region=region_dice["measure"].str.removeprefix("dice_"))
                .groupby("region", sort=False)["value"].agg(["count", "min", "max", "mean", "std"]))
    assert list(table["region"]) == list(expected.index)
    assert list(table.columns) == ["region", "n", "min", "max", "mean", "sd"]
    assert np.allclose(table[["n", "min", "max", "mean", "sd"]].to_numpy(float),
                       expected.to_numpy(float))


def test_parcellation_table_needs_a_method_when_several(region_dice: pd.DataFrame) -> None:
    two = pd.concat([region_dice, region_dice.assign(method="other")])
    with pytest.raises(ValueError, match="pass method="):
        parcellation_dice_table(two)
    table = parcellation_dice_table(two, method="other", regions=["insula_l", "cingulate"])
    assert list(table["region"]) == ["insula_l", "cingulate"]
    assert table["n"].tolist() == [10, 10]


def test_parcellation_figure_bars_are_the_means(region_dice: pd.DataFrame) -> None:
    fig = plot_parcellation_dice(region_dice)
    (ax,) = visible_axes(fig)
    table = parcellation_dice_table(region_dice)
    widths = [p.get_width() for p in ax.patches]
    assert np.allclose(widths, table["mean"])
    assert len(ax.texts) == len(table)


def test_dice_subjects(measures: pd.DataFrame) -> None:
    keep = ["src001", "src002", "src003"]
    fig = plot_dice(measures, subjects=keep, tissues=["csf"])
    (ax,) = visible_axes(fig)
    assert len(points(ax)) == 3 * len(METHODS)
    with pytest.raises(ValueError, match="none of the given subjects"):
        plot_dice(measures, subjects=["tgt001"])
    with pytest.raises(TypeError, match="iterable of participant IDs"):
        plot_dice(measures, subjects="src001")
