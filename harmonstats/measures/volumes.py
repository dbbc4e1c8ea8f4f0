"""Tissue volumes in mm3 from a 7-tissue label map and its voxel size."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harmonstats.labels import TISSUES

__all__ = ["tissue_volumes", "voxel_volume"]


def voxel_volume(spacing: Sequence[float]) -> float:
    """Volume of one voxel in mm3 from its size along each axis (mm)."""
    h = np.asarray(spacing, dtype=np.float64)
    if h.shape != (3,) or not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError(f"spacing must be 3 positive numbers (mm), got {tuple(spacing)}")
    return float(np.prod(h))


def tissue_volumes(labels: np.ndarray, spacing: Sequence[float]) -> dict[str, float]:
    """Volume of each tissue and the intracranial volume, in mm3.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (X, Y, Z)
        Label map in the 7-tissue scheme (:data:`harmonstats.labels.TISSUES`, 0 = background).
    spacing : sequence of 3 float
        Voxel size along each axis, in mm (from the NIfTI header).

    Returns
    -------
    dict
        ``volume_<tissue>`` for csf, cgm, wm, dgm, cerebellum, brainstem, and ``icv`` (all
        non-background voxels), each in mm3.
    """
    labels = np.asarray(labels)
    unknown = np.setdiff1d(np.unique(labels), list(TISSUES))
    if unknown.size:
        raise ValueError(f"label map holds values {unknown.tolist()} outside the 7 tissues "
                         f"{sorted(TISSUES)}")
    vox = voxel_volume(spacing)
    counts = np.bincount(labels.astype(np.int64).ravel(), minlength=len(TISSUES))
    out = {f"volume_{name}": float(counts[value]) * vox
           for value, name in TISSUES.items() if value != 0}
    out["icv"] = float(counts[1:].sum()) * vox
    return out
