"""Figures of the paper and of the validation battery, each a function returning a Figure.

Every function takes the project's tidy tables (participants, long measures, result tables of
:mod:`harmonstats.analysis`), checks the columns it needs, and returns a
:class:`matplotlib.figure.Figure` without showing or saving it: in a notebook the figure displays
inline; ``fig.savefig(path)`` writes PNG, SVG or PDF. Styles apply only while a figure is built.

Examples
--------
>>> import harmonstats.figures as hf
>>> fig = hf.plot_age_distribution(participants)  # doctest: +SKIP
>>> fig.savefig("ages.svg")  # doctest: +SKIP
"""

from __future__ import annotations

from harmonstats.figures.cohorts import plot_age_distribution, plot_balance
from harmonstats.figures.outcome import plot_outcome_thickness
from harmonstats.figures.preterm import plot_regional_preterm, plot_term_preterm
from harmonstats.figures.segmentation import (
    parcellation_dice_table,
    plot_dice,
    plot_parcellation_dice,
)
from harmonstats.figures.slices import plot_example_slices
from harmonstats.figures.style import (
    cohort_palette,
    figure_style,
    method_palette,
    tissue_colormap,
)
from harmonstats.figures.thickness import plot_regional_thickness, plot_thickness_vs_pma
from harmonstats.figures.validation import plot_equivalence, plot_site_prediction
from harmonstats.figures.volumes import plot_volumes

__all__ = [
    "cohort_palette",
    "figure_style",
    "method_palette",
    "parcellation_dice_table",
    "plot_age_distribution",
    "plot_balance",
    "plot_dice",
    "plot_equivalence",
    "plot_example_slices",
    "plot_outcome_thickness",
    "plot_parcellation_dice",
    "plot_regional_preterm",
    "plot_regional_thickness",
    "plot_site_prediction",
    "plot_term_preterm",
    "plot_thickness_vs_pma",
    "plot_volumes",
    "tissue_colormap",
]
