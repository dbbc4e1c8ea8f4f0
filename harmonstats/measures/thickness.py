"""Cortical thickness from a 7-tissue label map: per voxel, global mean and 11 regional means.

The cortical ribbon is the cortical GM (label 2). Its inner boundary is WM together with deep
GM, cerebellum and brainstem (labels 3-6: everything on the inner side of the cortex); its outer
boundary is CSF and background (labels 0, 1). Both methods use these same boundaries.

Regional means: each cortical GM voxel takes the label of the nearest voxel of the region map
(Euclidean distance in mm, ``scipy.ndimage.distance_transform_edt`` indices), so GM voxels that a
method adds at the boundary of the region map still get a region. Means are arithmetic means over
voxels (as FreeSurfer reports; the dHCP pipeline reports medians).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import ndimage

from harmonstats.errors import InputError
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.measures.direct import DIRECT_PARAMS, direct_thickness
from harmonstats.measures.laplace import laplace_thickness

__all__ = [
    "THICKNESS_METHODS",
    "cortical_thickness",
    "nearest_region",
    "thickness_measures",
    "thickness_params",
]

#: Thickness methods by name.
THICKNESS_METHODS = ("laplace", "direct")

_CGM = 2
_INNER = (3, 4, 5, 6)


def thickness_params(method: str) -> dict[str, Any]:
    """The parameters a thickness method runs with (recorded as provenance, part of cache keys)."""
    if method == "laplace":
        return {"method": "laplace", "tol": 1e-8, "inner": "wm+dgm+cerebellum+brainstem",
                "outer": "csf+background", "boundary": "half-voxel",
                "touching_banks": "split"}
    if method == "direct":
        return {"method": "direct", **DIRECT_PARAMS, "segmentation": "1=csf/outside, 2=cgm, "
                "3=wm+dgm+cerebellum+brainstem"}
    raise InputError(f"unknown thickness method {method!r}; choose from {THICKNESS_METHODS}")


def cortical_thickness(
    labels: np.ndarray,
    spacing: Sequence[float],
    *,
    method: str = "laplace",
    subject: str = "",
) -> np.ndarray:
    """Thickness (mm) at each cortical GM voxel of a 7-tissue label map, NaN elsewhere.

    Parameters
    ----------
    labels : numpy.ndarray of int, shape (X, Y, Z)
        Label map in the 7-tissue scheme.
    spacing : sequence of 3 float
        Voxel size in mm.
    method : {"laplace", "direct"}
        ``laplace``: Laplace's equation + Eulerian path lengths (fast default);
        ``direct``: ANTs DiReCT.
    subject : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of float64, shape (X, Y, Z)

    References
    ----------
    Yezzi & Prince (2003), IEEE TMI 22(10); Das et al. (2009), NeuroImage 45(3).
    """
    thickness_params(method)
    labels = np.asarray(labels)
    gm = labels == _CGM
    inner = np.isin(labels, _INNER)
    if method == "laplace":
        return laplace_thickness(gm, inner, spacing)
    return direct_thickness(gm, inner, spacing, subject=subject)


def nearest_region(gm: np.ndarray, regions: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """Region label (1..11) of the nearest region voxel for each GM voxel; 0 outside GM.

    Returns all zeros if the region map has no region voxel.
    """
    regions = np.asarray(regions)
    gm = np.asarray(gm, dtype=bool)
    if regions.shape != gm.shape:
        raise ValueError(f"region map shape {regions.shape} differs from label map {gm.shape}")
    out = np.zeros(gm.shape, dtype=np.int16)
    if not np.any(regions > 0):
        return out
    idx = ndimage.distance_transform_edt(regions == 0, sampling=tuple(spacing),
                                         return_distances=False, return_indices=True)
    out[gm] = regions[tuple(i[gm] for i in idx)]
    return out


def thickness_measures(
    labels: np.ndarray,
    regions: np.ndarray | None,
    spacing: Sequence[float],
    *,
    method: str = "laplace",
    subject: str = "",
) -> dict[str, float]:
    """Global and regional mean cortical thickness of one label map, in mm.

    Parameters
    ----------
    labels : numpy.ndarray of int
        7-tissue label map.
    regions : numpy.ndarray of int or None
        11-region map (0 = none) on the same grid; None gives NaN regional means.
    spacing : sequence of 3 float
        Voxel size in mm.
    method : {"laplace", "direct"}
    subject : str
        Name used in warnings and errors.

    Returns
    -------
    dict
        ``thickness_mean`` and ``thickness_<region>`` for the 11 regions, in mm. NaN (with a
        warning naming the subject) when there is no cortical GM or no voxel with a defined
        thickness; NaN for a region no GM voxel is assigned to.
    """
    labels = np.asarray(labels)
    names = [name for value, name in REGIONS.items() if value != 0]
    out = {"thickness_mean": float("nan")} | {f"thickness_{n}": float("nan") for n in names}
    gm = labels == _CGM
    who = f"subject {subject}" if subject else "label map"
    if not gm.any():
        warnings.warn(f"{who}: no cortical GM ({TISSUES[_CGM]}) voxels; thickness set to NaN",
                      RuntimeWarning, stacklevel=2)
        return out
    thick = cortical_thickness(labels, spacing, method=method, subject=subject)
    valid = gm & np.isfinite(thick)
    if not valid.any():
        warnings.warn(f"{who}: no cortical GM voxel lies between WM and CSF; thickness set to NaN",
                      RuntimeWarning, stacklevel=2)
        return out
    dropped = int(gm.sum() - valid.sum())
    if dropped:
        warnings.warn(f"{who}: {dropped} cortical GM voxels in pieces that do not touch both WM "
                      "and CSF have no thickness and are left out of the means",
                      RuntimeWarning, stacklevel=2)
    out["thickness_mean"] = float(thick[valid].mean())
    if regions is not None:
        assigned = nearest_region(valid, regions, spacing)
        sums = np.bincount(assigned[valid], weights=thick[valid], minlength=len(REGIONS))
        counts = np.bincount(assigned[valid], minlength=len(REGIONS))
        for value, name in REGIONS.items():
            if value and counts[value]:
                out[f"thickness_{name}"] = float(sums[value] / counts[value])
    return out
