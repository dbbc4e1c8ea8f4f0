"""Voxelise a synthetic brain at sub-voxel precision: tissue labels, regions, partial volumes.

The continuous shape of :class:`~harmonstats.synth.geometry.BrainGeometry` is sampled on a grid
``factor`` times finer than the output grid (default 2: 0.25 mm for 0.5 mm voxels). On the fine
grid, two Euclidean distance transforms give the signed distance from the folded WM surface:
the distance to the nearest fine voxel across the surface, less how far beyond that voxel's
centre the WM level function puts the surface, so the surface is not snapped to fine voxels. The
signed distance is averaged over the ``factor^3`` fine voxels of each output voxel, which gives
the distance at the output voxel's centre to a fraction of a fine voxel, and every voxel whose
distance lies in ``[0, T]`` is cortex, ``T`` being the thickness of the voxel's region. The ribbon
thickness is therefore realised to well under a voxel: differences of 0.1-0.2 mm between subjects
or label sets change the number of cortical voxels by the expected amount on average. Before
that, the WM is opened (convex edges rounded to 1 mm, slivers thinner than 2 mm removed, such as
the one the fissure leaves at a pole) and closed (concave corners rounded to the thickest ribbon),
both on the signed distance: no ribbon folds round a sharp WM edge or into a sharp corner. The fine
label map also gives each output voxel's tissue fractions, from which images get their partial
volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from harmonstats.labels import TISSUES
from harmonstats.synth.geometry import BrainGeometry

__all__ = ["Anatomy", "block_mean", "build_anatomy", "grid_axes", "label_tissues",
           "signed_distance"]

_CSF, _CGM, _WM, _DGM, _CBL, _BS = 1, 2, 3, 4, 5, 6
_FAR = 1.0e3
#: Radius (mm) to which convex WM edges are rounded.
_OPENING_MM = 1.0


@dataclass(frozen=True)
class Anatomy:
    """One voxelised synthetic brain.

    Attributes
    ----------
    labels : numpy.ndarray of uint8
        True tissue labels (:data:`harmonstats.labels.TISSUES`).
    regions : numpy.ndarray of uint8
        True cortical region (1..11) on the true cortical GM, 0 elsewhere.
    fractions : numpy.ndarray of float32, shape (7, X, Y, Z)
        Share of each tissue class (label order) in each voxel.
    depth : numpy.ndarray of float32
        Signed distance (mm) of each voxel centre from the WM surface (negative inside WM).
    thickness_field : numpy.ndarray of float32
        Cortical thickness (mm) of the region each voxel's direction belongs to.
    structures : dict of numpy.ndarray
        Envelope, ventricles, deep GM, cerebellum and brainstem masks, and the depth inside the
        fissure (mm), at the voxel centres.
    area_weights : numpy.ndarray, shape (11,)
        Each region's share of the WM surface (fine-grid boundary voxels).
    """

    labels: np.ndarray
    regions: np.ndarray
    fractions: np.ndarray
    depth: np.ndarray
    thickness_field: np.ndarray
    structures: dict[str, np.ndarray]
    area_weights: np.ndarray


def grid_axes(shape: int, spacing: float, factor: int = 1) -> np.ndarray:
    """Positions (mm) of the voxel centres along one axis of a grid centred on the origin.

    With ``factor > 1`` the positions of a grid ``factor`` times finer covering the same voxels.
    """
    fine = (np.arange(shape * factor) + 0.5) / factor - 0.5
    return ((fine - (shape - 1) / 2.0) * spacing).astype(np.float32)


def block_mean(arr: np.ndarray, factor: int) -> np.ndarray:
    """Mean over non-overlapping ``factor^3`` blocks of a 3D array."""
    nx, ny, nz = (s // factor for s in arr.shape)
    return arr.reshape(nx, factor, ny, factor, nz, factor).mean(axis=(1, 3, 5), dtype=np.float64)


def label_tissues(
    depth: np.ndarray,
    thickness: np.ndarray,
    structures: Mapping[str, np.ndarray],
    *,
    wm_shift: np.ndarray | float = 0.0,
    pial_shift: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Tissue labels from the signed WM distance, the thickness field and the structure masks.

    Parameters
    ----------
    depth : numpy.ndarray
        Signed distance from the WM surface (mm).
    thickness : numpy.ndarray
        Cortical thickness at each voxel (mm).
    structures : mapping
        Boolean masks ``envelope``, ``ventricles``, ``dgm``, ``cerebellum``, ``brainstem``, and
        ``fissure``: how far (mm) each voxel lies inside the interhemispheric fissure.
    wm_shift, pial_shift : float or numpy.ndarray
        Moves of the WM/cortex and cortex/CSF boundaries outwards (mm); a positive
        ``pial_shift`` grows the cortex into the CSF (never into other tissues).

    Returns
    -------
    numpy.ndarray of uint8
        Labels of :data:`harmonstats.labels.TISSUES`.
    """
    env = structures["envelope"]
    wm = depth < wm_shift
    labels = np.where(env, _CSF, 0).astype(np.uint8)
    # The middle of the interhemispheric fissure, beyond the ribbons of its two walls, is CSF
    # down to the corpus callosum: the ribbon does not cover the callosum's top.
    fissure_gap = structures["fissure"] > thickness + pial_shift
    labels[env & ~wm & (depth <= thickness + pial_shift) & ~fissure_gap] = _CGM
    labels[wm] = _WM
    labels[wm & structures["ventricles"]] = _CSF
    labels[wm & structures["dgm"]] = _DGM
    labels[structures["cerebellum"]] = _CBL
    labels[structures["brainstem"] & env] = _BS
    return labels


def signed_distance(level: np.ndarray, h: float) -> np.ndarray:
    """Signed distance (mm, negative inside) to the surface where ``level`` crosses zero.

    Euclidean distance transforms give the distance to the nearest fine voxel across the
    surface; it is corrected by where the level function (about a distance in mm near the
    surface) puts the surface beyond that voxel's centre, so the surface is not snapped to
    the voxels of the grid of spacing ``h`` (mm).
    """
    inside = level < 0.0
    d_in, near_out = ndimage.distance_transform_edt(inside, sampling=h, return_indices=True)
    d_out, near_in = ndimage.distance_transform_edt(~inside, sampling=h, return_indices=True)
    past_in = np.clip(level[tuple(near_in)], -h, 0.0)
    past_out = np.clip(level[tuple(near_out)], 0.0, h)
    return np.where(inside, past_out - d_in, d_out + past_in).astype(np.float32)


def _smooth_surface(level: np.ndarray, h: float, *, opening: float, closing: float
                    ) -> np.ndarray:
    """Signed distance to the WM after a morphological opening, then a closing (radii in mm).

    The opening rounds every convex WM edge to a radius of at least ``opening`` and removes
    WM thinner than twice that (the sliver the fissure leaves at a pole); the closing rounds
    every concave corner (a pit's floor, where two slits cross) to at least ``closing``, the
    thickest ribbon, so that every point of the ribbon has one nearest WM point and the ribbon
    on a pit's floor meets the ribbons on its walls without a fold. Each step works on the
    signed distance, so the surface stays sub-voxel.
    """
    eroded = signed_distance(level, h) + opening
    opened = signed_distance(signed_distance(eroded, h) - opening, h)
    dilated = signed_distance(opened - closing, h)
    return signed_distance(dilated + closing, h)


def _fractions(fine_labels: np.ndarray, factor: int, n_classes: int) -> np.ndarray:
    """Share of each label value within each ``factor^3`` block, shape (n_classes, X, Y, Z)."""
    coarse = tuple(s // factor for s in fine_labels.shape)
    i, j, k = (np.arange(s) // factor for s in fine_labels.shape)
    block = (i[:, None, None] * coarse[1] + j[None, :, None]) * coarse[2] + k[None, None, :]
    counts = np.bincount((block * n_classes + fine_labels).ravel(),
                         minlength=int(np.prod(coarse)) * n_classes)
    shares = counts.reshape(*coarse, n_classes).astype(np.float32) / factor**3
    return np.moveaxis(shares, -1, 0)


def _crop(geom: BrainGeometry, axes: list[np.ndarray], spacing: float) -> list[slice]:
    """Output-voxel index ranges holding the cerebral envelope, with a 2-voxel margin."""
    out = []
    centres, half = geom.world_box()
    for a, centre in enumerate(centres):
        lo = np.searchsorted(axes[a], centre - half[a] - 2 * spacing)
        hi = np.searchsorted(axes[a], centre + half[a] + 2 * spacing)
        out.append(slice(int(max(lo, 0)), int(min(hi, len(axes[a])))))
    return out


def build_anatomy(
    geom: BrainGeometry, shape: tuple[int, int, int], spacing: float, *, factor: int = 2
) -> Anatomy:
    """Voxelise ``geom`` on a grid of ``shape`` voxels of ``spacing`` mm (see module docstring).

    Parameters
    ----------
    geom : BrainGeometry
        The brain.
    shape : tuple of int
        Output grid size (voxels).
    spacing : float
        Output voxel size (mm).
    factor : int
        Sub-sampling factor of the fine grid.
    """
    h = spacing / factor
    axes = [grid_axes(n, spacing) for n in shape]
    fine_axes = [grid_axes(n, spacing, factor) for n in shape]
    crop = _crop(geom, axes, spacing)
    fine_crop = [slice(c.start * factor, c.stop * factor) for c in crop]
    fx, fy, fz = (fine_axes[a][fine_crop[a]] for a in range(3))
    fx, fy, fz = geom.brain_coordinates(fx[:, None, None], fy[None, :, None], fz[None, None, :])

    depth_crop = _smooth_surface(geom.wm_level(fx, fy, fz), h,
                                 opening=_OPENING_MM, closing=float(geom.thickness.max()))
    wm = depth_crop < 0.0
    regions_crop = geom.regions(fx, fy, fz)
    surface = wm & ndimage.binary_dilation(~wm)
    counts = np.bincount(regions_crop[surface], minlength=12)[1:].astype(float)
    area_weights = counts / max(counts.sum(), 1.0)

    fine_shape = tuple(n * factor for n in shape)
    fine_depth = np.full(fine_shape, _FAR, dtype=np.float32)
    fine_depth[tuple(fine_crop)] = depth_crop
    fine_thick = np.zeros(fine_shape, dtype=np.float32)
    fine_thick[tuple(fine_crop)] = geom.thickness[regions_crop - 1]
    gx, gy, gz = (fine_axes[a] for a in range(3))
    fine_struct = geom.structures(
        *geom.brain_coordinates(gx[:, None, None], gy[None, :, None], gz[None, None, :]))
    fine_labels = label_tissues(fine_depth, fine_thick, fine_struct)
    fractions = _fractions(fine_labels, factor, len(TISSUES))

    depth = block_mean(fine_depth, factor).astype(np.float32)
    cx, cy, cz = geom.brain_coordinates(axes[0][:, None, None], axes[1][None, :, None],
                                        axes[2][None, None, :])
    region_all = geom.regions(cx, cy, cz)
    thickness_field = geom.thickness[region_all - 1].astype(np.float32)
    structures = {k: np.broadcast_to(v, tuple(shape)).copy()
                  for k, v in geom.structures(cx, cy, cz).items()}
    labels = label_tissues(depth, thickness_field, structures)
    regions = np.where(labels == _CGM, region_all, 0).astype(np.uint8)
    return Anatomy(labels=labels, regions=regions, fractions=fractions, depth=depth,
                   thickness_field=thickness_field, structures=structures,
                   area_weights=area_weights)
