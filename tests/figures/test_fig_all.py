"""Every figure function: saves to PNG and SVG, and names the missing column of its input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from figure_tables import REGION_NAMES, TISSUE_NAMES
from matplotlib.figure import Figure

import harmonstats.figures as hf
from harmonstats.figures._data import p_text, stars


def _tables(participants: pd.DataFrame, measures: pd.DataFrame, effects: pd.DataFrame,
            region_dice: pd.DataFrame) -> dict[str, Callable[[], Figure]]:
    equivalence = effects.assign(margin_abs=np.where(
        effects["measure"].str.startswith("thickness"), 0.1, 3000.0), verdict="inconclusive")
    dice_tests = pd.DataFrame({"method": "original", "tissue": TISSUE_NAMES, "p_holm": 0.01})
    regional = pd.DataFrame({"region": REGION_NAMES, "estimate": 0.1, "ci_low": 0.0,
                             "ci_high": 0.2, "p": 0.03})
    site = pd.DataFrame({"method": ["original", "image_aug"], "balanced_accuracy": [0.9, 0.5],
                         "p": [0.01, 0.6]})
    balance = pd.DataFrame({"covariate": ["ga_birth"], "smd_before": [0.5], "smd_after": [0.0]})
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, (12, 12, 12))
    outcome = participants.fillna({"language_composite": 90.0})
    return {
        "ages": lambda: hf.plot_age_distribution(participants),
        "balance": lambda: hf.plot_balance(balance),
        "dice": lambda: hf.plot_dice(measures, tests=dice_tests, comparator="baseline_aug"),
        "parcellation": lambda: hf.plot_parcellation_dice(region_dice),
        "volumes": lambda: hf.plot_volumes(measures, effects=effects),
        "thickness_pma": lambda: hf.plot_thickness_vs_pma(measures, participants,
                                                          effects=effects),
        "regional": lambda: hf.plot_regional_thickness(measures, effects=effects),
        "slices": lambda: hf.plot_example_slices(labels * 1.0, {"a": labels, "b": labels}),
        "term_preterm": lambda: hf.plot_term_preterm(measures, participants, after="image_aug"),
        "regional_preterm": lambda: hf.plot_regional_preterm(regional),
        "outcome": lambda: hf.plot_outcome_thickness(measures, outcome, after="image_aug"),
        "equivalence": lambda: hf.plot_equivalence(equivalence,
                                                   measures=["thickness_mean", "volume_wm"]),
        "site": lambda: hf.plot_site_prediction(site),
    }


NAMES = ["ages", "balance", "dice", "parcellation", "volumes", "thickness_pma", "regional",
         "slices", "term_preterm", "regional_preterm", "outcome", "equivalence", "site"]


@pytest.mark.parametrize("name", NAMES)
def test_figure_saves_as_png_and_svg(name: str, tmp_path: Path, participants: pd.DataFrame,
                                     measures: pd.DataFrame, effects: pd.DataFrame,
                                     region_dice: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    open_before = len(plt.get_fignums())
    fig = _tables(participants, measures, effects, region_dice)[name]()
    assert isinstance(fig, Figure)
    assert len(plt.get_fignums()) == open_before
    for ext, magic in (("png", b"\x89PNG"), ("svg", b"<?xml")):
        path = tmp_path / f"{name}.{ext}"
        fig.savefig(path)
        assert path.read_bytes()[:5].startswith(magic)


def test_all_names_covered() -> None:
    plotters = {n for n in hf.__all__ if n.startswith("plot_")}
    assert len(plotters) == len(NAMES)


@pytest.mark.parametrize("call, drop, table", [
    (lambda p, m: hf.plot_age_distribution(p), "ga_birth", "participants"),
    (lambda p, m: hf.plot_age_distribution(p), "cohort", "participants"),
    (lambda p, m: hf.plot_dice(m), "value", "measures"),
    (lambda p, m: hf.plot_volumes(m), "method", "measures"),
    (lambda p, m: hf.plot_regional_thickness(m), "cohort", "measures"),
    (lambda p, m: hf.plot_thickness_vs_pma(m, p), "pma_scan", "participants"),
    (lambda p, m: hf.plot_thickness_vs_pma(m, p), "participant_id", "measures"),
    (lambda p, m: hf.plot_term_preterm(m, p, after="image_aug"), "ga_birth", "participants"),
    (lambda p, m: hf.plot_outcome_thickness(m, p, after="image_aug"), "language_composite",
     "participants"),
    (lambda p, m: hf.parcellation_dice_table(m), "measure", "measures"),
])
def test_missing_column_is_named(call: Callable, drop: str, table: str,
                                 participants: pd.DataFrame, measures: pd.DataFrame) -> None:
    p = participants.drop(columns=drop) if table == "participants" else participants
    m = measures.drop(columns=drop) if table == "measures" else measures
    with pytest.raises(ValueError, match=f"lacks required column '{drop}'"):
        call(p, m)


def test_not_a_dataframe_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="participants table must be a pandas DataFrame"):
        hf.plot_age_distribution({"cohort": ["a"]})  # type: ignore[arg-type]


def test_non_numeric_and_missing_values(measures: pd.DataFrame) -> None:
    bad = measures.astype({"value": object})
    first = bad.index[bad["measure"] == "volume_wm"][0]
    bad.loc[first, "value"] = "lots"
    with pytest.raises(ValueError, match="non-numeric value 'lots'"):
        hf.plot_volumes(bad)
    gaps = measures.copy()
    rows = gaps.index[gaps["measure"] == "volume_csf"][:3]
    gaps.loc[rows, "value"] = np.nan
    with pytest.warns(UserWarning, match="dropped 3 row"):
        hf.plot_volumes(gaps, tissues=["csf"])


@pytest.mark.parametrize("p, text, mark", [
    (0.0004, "p < .001", "***"),
    (0.001, "p = .001", "**"),
    (0.0342, "p = .034", "*"),
    (0.05, "p = .050", ""),
    (0.71, "p = .710", ""),
    (float("nan"), "p = n/a", ""),
])
def test_p_text_and_stars(p: float, text: str, mark: str) -> None:
    assert p_text(p) == text
    assert stars(p) == mark
