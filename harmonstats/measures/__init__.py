"""Measures of segmentations: tissue volumes, cortical thickness (global + 11 regions), Dice.

``measure_cohort`` / ``measure_study`` run every subject x method in parallel (processes or a
Dask cluster), cache each result by input content, and return a long tidy table;
``write_measures`` writes it as TSV + JSON sidecar. Thickness methods: ``pbt`` (projection from
the WM surface with buried sulci reconstructed, fast, the default), ``laplace`` (Laplace's
equation + Eulerian path lengths, fast) and ``direct`` (ANTs DiReCT, the field's reference).
"""

from __future__ import annotations

from harmonstats.measures.dice import dice_scores
from harmonstats.measures.direct import direct_thickness
from harmonstats.measures.extract import (
    measure_cohort,
    measure_study,
    write_measures,
)
from harmonstats.measures.laplace import laplace_thickness
from harmonstats.measures.pbt import pbt_thickness
from harmonstats.measures.subject import measure_labels
from harmonstats.measures.thickness import cortical_thickness, nearest_region, thickness_measures
from harmonstats.measures.volumes import tissue_volumes

__all__ = [
    "cortical_thickness",
    "dice_scores",
    "direct_thickness",
    "laplace_thickness",
    "measure_cohort",
    "measure_labels",
    "measure_study",
    "nearest_region",
    "pbt_thickness",
    "thickness_measures",
    "tissue_volumes",
    "write_measures",
]
