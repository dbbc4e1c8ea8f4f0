"""Which figures a report draws, in which section, from which tables.

A figure that cannot be drawn from this study's data (a figure function raising ValueError, e.g.
no Dice rows or too few subjects, or a result table the battery left empty) is left out and its
section says which and why. Any other exception is a bug and is not turned into a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harmonstats import figures as hf
from harmonstats.analysis.config import BatteryConfig
from harmonstats.cohort import Cohort
from harmonstats.figures.qc import plot_qc_mosaic
from harmonstats.io import load_nifti
from harmonstats.labels import get_scheme
from harmonstats.report.content import FigureItem

__all__ = ["draw_figures"]

#: Figures comparing a method before and after harmonisation (need ``analysis.after``).
_NEED_AFTER = ("term_preterm", "outcome")


def _table(results: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame | None:
    table = results.get(name)
    return None if table is None or table.empty else table


def _needed(results: Mapping[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """A result table a figure is drawn from; a data gap (ValueError) if the battery has none."""
    table = _table(results, name)
    if table is None:
        raise ValueError(f"the battery wrote no {name} rows")
    return table


def _example_slices(cohort: Cohort, reference: str) -> Figure:
    table = cohort.participants
    others = (table["cohort"] != reference).to_numpy()
    index = int(others.argmax()) if others.any() else 0
    scan = cohort.scans[index]
    image = cohort.image_path(scan)
    scheme = get_scheme(cohort.scheme)
    labels = {
        m: scheme.to_target(np.asarray(load_nifti(cohort.label_path(m, scan)).dataobj))
        for m in cohort.methods
    }
    volume: Any = image if image is not None else labels[cohort.methods[0]].astype(np.float32)
    row = table.iloc[index]
    title = (f"{scan} ({row['cohort']}), GA {row['ga_birth']:.1f} w, "
             f"PMA {row['pma_scan']:.1f} w")
    return hf.plot_example_slices(volume, labels, spacing=cohort.spacing(scan), title=title)


def draw_figures(
    measures: pd.DataFrame,
    cohort: Cohort,
    results: Mapping[str, pd.DataFrame],
    config: BatteryConfig,
) -> tuple[dict[str, list[FigureItem]], dict[str, list[str]]]:
    """Draw every figure the data allow.

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table.
    cohort : Cohort
        The study (participants, label maps, images).
    results : mapping
        Battery tables by name.
    config : BatteryConfig
        The battery's options (reference cohort, before/after methods, outcome).

    Returns
    -------
    figures : dict
        Section key -> figures.
    notes : dict
        Section key -> sentences naming figures that could not be drawn, and why.
    """
    participants = cohort.participants
    effects = _table(results, "cohort_effect")
    matched = _table(results, "matched")
    after = config.after or ""
    models = [m for m in cohort.methods if m not in ("original", "truth")]
    qc_method = after if after in cohort.methods else (models or cohort.methods)[0]
    plan: list[tuple[str, str, str, Callable[[], Figure]]] = [
        ("cohorts", "ages", "GA at birth and PMA at scan per cohort.",
         lambda: hf.plot_age_distribution(participants)),
        ("cohorts", "balance", "Absolute standardised mean difference of the matching "
         "variables before and after matching (0.1: conventional balance threshold).",
         lambda: hf.plot_balance(_needed(results, "balance"))),
        ("segmentation", "example_slices", "T2w image and each method's tissue labels, one "
         "subject of the compared cohort.",
         lambda: _example_slices(cohort, config.reference)),
        ("segmentation", "dice", "Dice per tissue and method against the ground truth.",
         lambda: hf.plot_dice(measures, tests=_table(results, "segmentation"),
                              comparator=config.comparator)),
        ("segmentation", "qc_mosaic", f"One axial slice per subject of the {qc_method} maps, by "
         "cohort; maps with QC flags framed in red.",
         lambda: plot_qc_mosaic(cohort, qc_method, qc=_needed(results, "qc"))),
        ("volumes", "volumes", "Tissue volumes per method and cohort, matched subsets; cohort "
         "effects marked (FDR-corrected).",
         lambda: hf.plot_volumes(measures, effects=effects, subjects=matched)),
        ("volumes", "equivalence_volumes", "Cohort effect with 90% CI against the equivalence "
         "margin (dashed), volumes.",
         lambda: hf.plot_equivalence(_rows(_needed(results, "equivalence"), "volume"))),
        ("thickness", "thickness_pma", "Mean cortical thickness against PMA, per method and "
         "cohort, matched subsets.",
         lambda: hf.plot_thickness_vs_pma(measures, participants, effects=effects,
                                          subjects=matched)),
        ("thickness", "regional_thickness", "Regional cortical thickness per method and cohort.",
         lambda: hf.plot_regional_thickness(measures, effects=effects, subjects=matched)),
        ("thickness", "equivalence_thickness", "Cohort effect with 90% CI against the "
         "equivalence margin (dashed), thickness.",
         lambda: hf.plot_equivalence(_rows(_needed(results, "equivalence"), "thickness"))),
        ("site", "site_prediction", "Balanced accuracy of predicting the cohort from each "
         "method's measures; nearer chance is better harmonised.",
         lambda: hf.plot_site_prediction(_needed(results, "site_prediction"))),
        ("preterm", "term_preterm", "Cortical thickness against PMA, term and preterm lines.",
         lambda: hf.plot_term_preterm(measures, participants, after=after, before=config.before,
                                      reference_cohort=config.reference,
                                      measure=config.preterm_measure, term_ga=config.term_ga,
                                      pma_range=config.pma_range)),
        ("preterm", "regional_preterm", "Regional term - preterm thickness differences, 95% CI.",
         lambda: hf.plot_regional_preterm(_needed(results, "preterm_regional"))),
        ("outcome", "outcome", "Outcome against frontal cortical thickness, pooled cohorts, "
         "before and after harmonisation.",
         lambda: hf.plot_outcome_thickness(measures, participants, after=after,
                                           before=config.before, outcome=config.outcome)),
    ]
    figures: dict[str, list[FigureItem]] = {}
    notes: dict[str, list[str]] = {}
    for section, name, caption, draw in plan:
        if name in _NEED_AFTER and not after:
            notes.setdefault(section, []).append(
                f"Figure {name} not drawn: it compares before and after harmonisation, and no "
                "harmonised method is named (analysis.after).")
            continue
        try:
            fig = draw()
        except ValueError as exc:  # a data gap; any other error is a bug and propagates
            notes.setdefault(section, []).append(f"Figure {name} not drawn: {exc}.")
            continue
        figures.setdefault(section, []).append(FigureItem(name=name, figure=fig, caption=caption))
    return figures, notes


def _rows(table: pd.DataFrame, group: str) -> pd.DataFrame:
    keep = [
        (str(m).startswith("volume_") or m == "icv") if group == "volume"
        else str(m).startswith("thickness_")
        for m in table["measure"]
    ]
    rows = table[keep]
    if rows.empty:
        raise ValueError(f"no {group} rows in the equivalence table")
    return rows
