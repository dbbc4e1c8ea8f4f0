from __future__ import annotations

import subprocess
import sys

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.colors import to_hex

from harmonstats.figures.style import (
    COHORT_COLORS,
    METHOD_COLORS,
    TISSUE_COLORS,
    cohort_palette,
    figure_style,
    method_palette,
    new_figure,
    tissue_colormap,
)


def test_known_methods_keep_their_colour_whatever_the_order() -> None:
    a = method_palette(["image_aug", "original", "baseline"])
    b = method_palette(["baseline", "mystery", "original", "image_aug"])
    for name in ("image_aug", "original", "baseline"):
        assert a[name] == b[name] == METHOD_COLORS[name]


def test_unknown_names_get_distinct_colours_not_used_by_known_ones() -> None:
    pal = method_palette(["original", "combat_gam", "covbat", "my_model"])
    assert len(set(pal.values())) == 4
    assert not {pal["combat_gam"], pal["covbat"], pal["my_model"]} & set(METHOD_COLORS.values())


def test_cohort_palette_fixed_for_source_and_target() -> None:
    pal = cohort_palette(["target", "third", "source"])
    assert pal["source"] == COHORT_COLORS["source"]
    assert pal["target"] == COHORT_COLORS["target"]
    assert pal["third"] not in COHORT_COLORS.values()


@pytest.mark.parametrize("label", sorted(TISSUE_COLORS))
def test_tissue_colormap_draws_each_label_in_its_colour(label: int) -> None:
    cmap, norm = tissue_colormap()
    assert to_hex(cmap(norm(label))) == TISSUE_COLORS[label]


def test_figure_style_leaves_global_rcparams_unchanged() -> None:
    before = dict(mpl.rcParams)
    with figure_style("darkgrid"):
        assert mpl.rcParams["axes.titlesize"] == 10
        new_figure(1, 2)
    after = dict(mpl.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_import_does_not_change_global_style() -> None:
    code = ("import matplotlib as mpl; b = dict(mpl.rcParams); import harmonstats.figures; "
            "a = dict(mpl.rcParams); print(sorted(k for k in b if b[k] != a[k]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_new_figure_is_not_registered_with_pyplot() -> None:
    import matplotlib.pyplot as plt

    n = len(plt.get_fignums())
    fig, axes = new_figure(2, 3)
    assert axes.shape == (2, 3)
    assert len(plt.get_fignums()) == n
    assert np.allclose(fig.get_size_inches(), (3 * 3.2, 2 * 2.8))
