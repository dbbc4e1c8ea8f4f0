"""Measures of one subject's label map: volumes, thickness (global + regional) and Dice.

One call of :func:`measure_subject` is one task of the cohort runner: it reads its files, computes
every measure and returns them with the warnings it raised, so that a worker process or a Dask
worker can hand both back to the caller.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harmonstats.errors import InputError
from harmonstats.io import load_nifti
from harmonstats.labels import LabelScheme, get_scheme
from harmonstats.measures.dice import dice_scores
from harmonstats.measures.thickness import thickness_measures
from harmonstats.measures.volumes import tissue_volumes

__all__ = ["SubjectTask", "measure_labels", "measure_subject"]


@dataclass(frozen=True)
class SubjectTask:
    """The inputs of one (subject, method) measurement.

    Parameters
    ----------
    scan, method : str
        Which scan (its key, ``sub-<label>[_ses-<label>]``) and which segmentation (used in
        messages).
    labels : path
        Tissue label map.
    regions : path or None
        Region map used for regional thickness (the method's own, else the study's).
    reference : path or None
        Reference label map for Dice (None: no Dice).
    thickness : {"laplace", "direct"}
        Thickness method.
    scheme, region_scheme : LabelScheme
        Schemes of the label and region maps.
    """

    scan: str
    method: str
    labels: Path
    regions: Path | None = None
    reference: Path | None = None
    thickness: str = "laplace"
    scheme: LabelScheme = field(default_factory=lambda: get_scheme("tissues7"))
    region_scheme: LabelScheme = field(
        default_factory=lambda: get_scheme("regions11", kind="region"))


def measure_labels(
    labels: np.ndarray,
    spacing: Sequence[float],
    *,
    regions: np.ndarray | None = None,
    reference: np.ndarray | None = None,
    thickness: str = "laplace",
    subject: str = "",
) -> dict[str, float]:
    """Every measure of one 7-tissue label map held in memory.

    Parameters
    ----------
    labels : numpy.ndarray of int
        7-tissue label map.
    spacing : sequence of 3 float
        Voxel size in mm.
    regions : numpy.ndarray of int, optional
        11-region map for regional thickness.
    reference : numpy.ndarray of int, optional
        Reference 7-tissue map for Dice.
    thickness : {"laplace", "direct"}
        Thickness method.
    subject : str
        Name used in warnings and errors.

    Returns
    -------
    dict
        ``volume_<tissue>`` (mm3), ``icv`` (mm3), ``thickness_mean`` and ``thickness_<region>``
        (mm), and ``dice_<tissue>`` (unitless) when a reference is given.
    """
    out = tissue_volumes(labels, spacing)
    out.update(thickness_measures(labels, regions, spacing, method=thickness, subject=subject))
    if reference is not None:
        out.update(dice_scores(labels, reference))
    return out


def _load(path: os.PathLike[str], scheme: LabelScheme, what: str) -> tuple[np.ndarray, tuple]:
    img = load_nifti(path, what=what)
    try:
        data = scheme.to_target(np.asanyarray(img.dataobj))
    except ValueError as exc:
        raise InputError(f"{what}: {path}: {exc}") from exc
    return data, tuple(float(z) for z in img.header.get_zooms()[:3])


def measure_subject(task: SubjectTask) -> tuple[dict[str, float], list[str]]:
    """Run one task: read its files and return ``(measures, warning messages)``.

    Bad data (no cortical GM, tissues absent) gives NaN measures and a warning; unreadable or
    mismatched files raise ``FileNotFoundError``/``ValueError`` naming subject, method and file.
    """
    who = f"{task.scan} ({task.method})"
    labels, spacing = _load(task.labels, task.scheme, f"{who} label map")
    regions = reference = None
    if task.regions is not None:
        regions, _ = _load(task.regions, task.region_scheme, f"{who} region map")
    if task.reference is not None:
        reference, _ = _load(task.reference, task.scheme, f"{who} reference label map")
    for name, arr in (("region map", regions), ("reference label map", reference)):
        if arr is not None and arr.shape != labels.shape:
            raise InputError(f"{who}: {name} shape {arr.shape} differs from label map "
                             f"{labels.shape} ({task.labels})")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = measure_labels(labels, spacing, regions=regions, reference=reference,
                                thickness=task.thickness, subject=who)
    return values, [str(w.message) for w in caught]
