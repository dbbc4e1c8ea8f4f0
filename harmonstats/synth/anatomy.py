"""Voxelise a synthetic brain at sub-voxel precision: labels, true thickness, partial volumes.

The continuous shape of :class:`~harmonstats.synth.geometry.BrainGeometry` is sampled on a grid
``factor`` times finer than the output grid (default 2: 0.25 mm for 0.5 mm voxels), over the box
that holds the brain. On the fine grid, Euclidean distance transforms give signed distances
(mm), each to the tangent plane of its level function at the nearest fine voxel across the
surface (:func:`harmonstats.measures.distance.signed_distance`), so no surface is snapped to
fine voxels:

- ``pial``: to the outer surface of the cortex, i.e. to the CSF of the tissue level or to the
  closed parts of the sulci, the sheets where two banks touch (a sheet has no thickness: the
  distance is taken to a tube of half a fine voxel around it, plus that half voxel);
- the WM is the tissue farther from the pial surface than the local thickness;
- ``depth``: to the WM side (the WM, which also holds the corpus callosum and a collar around
  the brainstem: no cortex covers them).

Every voxel between the two surfaces is cortex, and its *true thickness* is ``depth + pial``:
the length of the straight segment from the WM to the pial surface through it, the same for
every point of that segment, exact where the two surfaces are parallel (the WM is built at the
local thickness from the pial surface) and the two banks of a touching sulcus each keep their
own. Both distances are averaged over the ``factor^3`` fine voxels of each output voxel, which
gives them at the output voxel's centre to a fraction of a fine voxel; a voxel is cortex when
its centre lies between the surfaces, so the ribbon's thickness is realised to well under a
voxel. The fine label map also gives each output voxel's tissue fractions, from which images get
their partial volume, and the share of its fine voxels whose nearest pial surface is a sheet
(its bank touches the opposite bank).

Before the pial distance, the tissue is opened (signed distances: erode, dilate by the sulcal lips'
radius), which rounds every convex edge the analytic shape may leave (the tips of the hemispheres
beside the fissure) and removes slivers thinner than two radii. Cost: nine Euclidean distance
transforms on the fine grid dominate, in proportion to the voxels of the brain's box (see
:mod:`harmonstats.synth` for the figures); a large brain is voxelised in tiles to bound the
memory (``tile_voxels``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from harmonstats.labels import TISSUES
from harmonstats.measures.distance import FAR as _FAR
from harmonstats.measures.distance import signed_distance
from harmonstats.synth.geometry import BrainGeometry

__all__ = ["Anatomy", "block_mean", "build_anatomy", "grid_axes", "label_tissues"]

_CSF, _CGM, _WM, _DGM, _CBL, _BS = 1, 2, 3, 4, 5, 6
#: Ventricles and deep GM keep at least this much WM (mm) between them and the cortex.
_DEEP_MM = 1.0
_STRUCTURES = ("envelope", "ventricles", "dgm", "cerebellum", "brainstem")


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
        Signed distance (mm) of each voxel centre from the WM side (negative inside).
    thickness_field : numpy.ndarray of float32
        How far (mm) from the WM side the pial surface lies along each voxel's segment:
        ``depth`` plus the signed distance to the pial surface (negative in CSF); on the cortex,
        the true thickness.
    truth : numpy.ndarray of float32
        True cortical thickness (mm) on the true cortical GM, 0 elsewhere.
    touching : numpy.ndarray of bool
        True cortical GM on a bank that touches the opposite bank (its pial surface is a closed
        sulcus, not CSF).
    structures : dict of numpy.ndarray
        Envelope, ventricles, deep GM, cerebellum and brainstem masks at the voxel centres.
    """

    labels: np.ndarray
    regions: np.ndarray
    fractions: np.ndarray
    depth: np.ndarray
    thickness_field: np.ndarray
    truth: np.ndarray
    touching: np.ndarray
    structures: dict[str, np.ndarray]


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
    """Tissue labels from the signed WM distance, the pial depth and the structure masks.

    Parameters
    ----------
    depth : numpy.ndarray
        Signed distance from the WM side (mm, negative inside).
    thickness : numpy.ndarray
        How far from the WM side the pial surface lies along each voxel's segment (mm): a voxel
        outside the WM is cortex when ``depth <= thickness``, CSF beyond.
    structures : mapping
        Boolean masks ``envelope``, ``ventricles``, ``dgm``, ``cerebellum``, ``brainstem``.
    wm_shift, pial_shift : float or numpy.ndarray
        Moves of the WM/cortex and cortex/CSF boundaries outwards (mm); a positive
        ``pial_shift`` grows the cortex into the CSF (never into other tissues; where two banks
        touch there is no CSF to grow into). Only cortical boundaries move: where bare WM meets
        CSF, ``wm_shift`` does not apply.

    Returns
    -------
    numpy.ndarray of uint8
        Labels of :data:`harmonstats.labels.TISSUES`.
    """
    env = structures["envelope"]
    # The WM boundary moves only where cortex lies beyond it, not where bare WM meets CSF (the
    # corpus callosum's top): only cortical boundaries move.
    wm = np.where(thickness - depth > _DEEP_MM, depth < wm_shift, depth < 0.0)
    labels = np.where(env, _CSF, 0).astype(np.uint8)
    labels[env & ~wm & (depth <= thickness + pial_shift)] = _CGM
    labels[wm] = _WM
    # Ventricles and deep GM lie within the WM, never against the cortex.
    deep = depth < -_DEEP_MM
    labels[deep & structures["ventricles"]] = _CSF
    labels[deep & structures["dgm"]] = _DGM
    labels[structures["cerebellum"]] = _CBL
    labels[structures["brainstem"] & env] = _BS
    return labels


def _distance_across(level: np.ndarray, where: np.ndarray, h: float, past) -> np.ndarray:
    """Distance from the ``where`` voxels to the nearest voxel outside them, corrected by how
    far (``past`` of the level there, mm) that voxel's centre lies beyond the surface."""
    if where.all() or not where.any():
        return np.full(level.shape, _FAR, dtype=np.float32)
    dist, near = ndimage.distance_transform_edt(where, sampling=h, return_indices=True)
    out = dist.astype(np.float32)
    del dist
    out += np.where(where, past(level[tuple(near)]), 0.0).astype(np.float32)
    return out


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
    """Output-voxel index ranges holding the brain, with a 2-voxel margin; down to the bottom
    of the field along z, where the brainstem leaves it."""
    out = []
    centres, half = geom.world_box()
    for a, centre in enumerate(centres):
        lo = 0 if a == 2 else np.searchsorted(axes[a], centre - half[a] - 2 * spacing)
        hi = np.searchsorted(axes[a], centre + half[a] + 2 * spacing)
        out.append(slice(int(max(lo, 0)), int(min(hi, len(axes[a])))))
    return out


def _fields(geom: BrainGeometry, axes: list[np.ndarray], *, cortex: bool = True,
            chunk: int = 16) -> dict[str, np.ndarray]:
    """The structure masks and (with ``cortex``) :meth:`BrainGeometry.cortex_fields` on a grid,
    slab by slab (their temporaries then take a few slabs' memory, not the grid's)."""
    shape = tuple(len(a) for a in axes)
    out: dict[str, np.ndarray] = {}
    for start in range(0, shape[0], chunk):
        part = slice(start, min(start + chunk, shape[0]))
        x, y, z = geom.brain_coordinates(axes[0][part, None, None], axes[1][None, :, None],
                                         axes[2][None, None, :])
        values = geom.structures(x, y, z)
        if cortex:
            values |= geom.cortex_fields(x, y, z)
        for key, value in values.items():
            if key not in out:
                out[key] = np.empty(shape, dtype=value.dtype)
            out[key][part] = np.broadcast_to(value, out[key][part].shape)
    return out


def build_anatomy(
    geom: BrainGeometry, shape: tuple[int, int, int], spacing: float, *, factor: int = 2,
    tile_voxels: int = 24_000_000,
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
    tile_voxels : int
        Largest number of fine voxels held at once (about 100 bytes each at the peak): a
        larger brain is voxelised in columns (tiles along x and y, each with a margin that
        holds everything the result within it depends on: the opening's two radii and twice
        the thickest cortex), which bounds the memory at the cost of computing the margins
        more than once (a real-size brain at 0.5 mm: 12 tiles, about 3 times the work).
    """
    shape = (int(shape[0]), int(shape[1]), int(shape[2]))
    h = spacing / factor
    axes = [grid_axes(n, spacing) for n in shape]
    crop = _crop(geom, axes, spacing)
    coarse_axes = [a[c] for a, c in zip(axes, crop, strict=True)]
    coarse = _fields(geom, coarse_axes)
    structures = {k: _embed(coarse[k], shape, crop, False) for k in _STRUCTURES}
    scale = _mean_scale(geom, coarse_axes, coarse, spacing)
    del coarse

    depth = np.full(shape, _FAR, dtype=np.float32)
    thickness_field = np.zeros(shape, dtype=np.float32)
    touching_share = np.zeros(shape, dtype=np.float32)
    fractions = np.zeros((len(TISSUES), *shape), dtype=np.float32)
    fractions[0] = 1.0
    margin = int(np.ceil((2.0 * geom.lip + 2.0 * (geom.sulci.thickness_cap + 1.0)) / spacing))
    for inner, outer in _tiles(crop, margin, tile_voxels // factor**3):
        fine_axes = [grid_axes(n, spacing, factor)[o.start * factor:o.stop * factor]
                     for n, o in zip(shape, outer, strict=True)]
        tile = _voxelise_fine(geom, fine_axes, h, scale)
        keep = tuple(slice((i.start - o.start) * factor, (i.stop - o.start) * factor)
                     for i, o in zip(inner, outer, strict=True))
        depth[inner] = block_mean(tile["depth"][keep], factor)
        thickness_field[inner] = block_mean(tile["reach"][keep], factor)
        touching_share[inner] = block_mean(tile["touching"][keep], factor)
        fractions[(slice(None), *inner)] = _fractions(tile["labels"][keep], factor,
                                                      len(TISSUES))
        del tile

    labels = label_tissues(depth, thickness_field, structures)
    cortex = labels == _CGM
    cx, cy, cz = geom.brain_coordinates(axes[0][crop[0], None, None],
                                        axes[1][None, crop[1], None],
                                        axes[2][None, None, crop[2]])
    regions = np.zeros(shape, dtype=np.uint8)
    regions[tuple(crop)] = np.broadcast_to(geom.regions(cx, cy, cz),
                                           tuple(c.stop - c.start for c in crop))
    regions[~cortex] = 0
    truth = np.where(cortex, thickness_field, 0.0).astype(np.float32)
    return Anatomy(labels=labels, regions=regions, fractions=fractions, depth=depth,
                   thickness_field=thickness_field, truth=truth,
                   touching=cortex & (touching_share > 0.5), structures=structures)


def _mean_scale(geom: BrainGeometry, axes: list[np.ndarray], fields: Mapping[str, np.ndarray],
                spacing: float) -> float:
    """Factor on the local thickness that keeps the cortex's mean true thickness at the mean of
    the drawn regional thicknesses (the thickness model's), over the same voxels.

    Crowns and fundi redistribute thickness within a region, and where the ribbon ends or
    bends (on the corpus callosum, round the brainstem's collar, at the hemispheres' tips) it
    is thinner than drawn: the brain is voxelised once on the output grid itself (an eighth of
    the fine grid's cost) and the mean it realises there scales the thickness of the fine one.
    """
    trial = _voxelise_fine(geom, axes, spacing, 1.0, fields=dict(fields))
    cortex = trial["labels"] == _CGM
    if not cortex.any():
        return 1.0
    return float(fields["regional"][cortex].mean() / trial["reach"][cortex].mean())


def _tiles(crop: list[slice], margin: int, most: int
           ) -> list[tuple[tuple[slice, ...], tuple[slice, ...]]]:
    """Columns (tiles along x and y, whole z) of the crop: ``(inner, outer)`` output-voxel
    slices, ``outer`` adding ``margin`` voxels on each side (within the crop); each outer tile
    holds at most about ``most`` voxels."""
    size = [c.stop - c.start for c in crop]
    if np.prod(size) <= most:
        return [(tuple(crop), tuple(crop))]
    side = max(8, int(np.sqrt(most / size[2])) - 2 * margin)
    out: list[tuple[tuple[slice, ...], tuple[slice, ...]]] = []
    for x0 in range(crop[0].start, crop[0].stop, side):
        for y0 in range(crop[1].start, crop[1].stop, side):
            inner = (slice(x0, min(x0 + side, crop[0].stop)),
                     slice(y0, min(y0 + side, crop[1].stop)), crop[2])
            outer = (*(slice(max(i.start - margin, c.start), min(i.stop + margin, c.stop))
                       for i, c in zip(inner[:2], crop[:2], strict=True)), crop[2])
            out.append((inner, outer))
    return out


def _opened(level: np.ndarray, h: float, radius: float) -> np.ndarray:
    """Signed distance to the tissue after a morphological opening of ``radius`` mm.

    The opening removes tissue thinner than two radii and rounds every convex edge to the
    radius (the lips of the sulci already are; this also catches the tips of the hemispheres
    beside the fissure), so that no WM core thins to nothing under a cap of cortex. It works on
    signed distances, so the surface stays sub-voxel.
    """
    eroded = signed_distance(level, h) + np.float32(radius)
    dilated = signed_distance(eroded, h) - np.float32(radius)
    del eroded
    return signed_distance(dilated, h)


def _voxelise_fine(geom: BrainGeometry, axes: list[np.ndarray], h: float, scale: float, *,
                   fields: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The fine-grid fields of one tile: signed WM distance ``depth``, ``reach`` (depth plus
    pial distance), fine ``labels`` and ``touching`` (cortex whose pial surface is a sheet).

    ``fields``: :func:`_fields` on ``axes`` if already computed (consumed).
    """
    fine = fields if fields is not None else _fields(geom, axes)
    pial = -_opened(fine.pop("tissue"), h, geom.lip)
    sheet = fine.pop("sheet")
    if np.isfinite(sheet).any():
        # A sheet has no thickness: the distance to it is the distance to a tube of half a
        # fine voxel around it, plus that half voxel.
        tube = sheet - h / 2.0
        inside = tube < 0.0
        to_sheet = np.where(inside, sheet,
                            _distance_across(tube, ~inside, h, lambda v: np.clip(v, -h, 0.0))
                            + h / 2.0)
        del tube, inside
    else:
        to_sheet = np.full(sheet.shape, _FAR, dtype=np.float32)
    del sheet
    touching = to_sheet < pial
    np.minimum(pial, to_sheet, out=pial)
    del to_sheet
    local = fine.pop("thickness") * np.float32(scale)
    inner = np.minimum(local - pial, fine.pop("wm_extra"))
    del local
    depth = signed_distance(inner, h)
    del inner
    reach = depth + pial
    del pial
    labels = label_tissues(depth, reach, fine)
    touching &= labels == _CGM
    return {"depth": depth, "reach": reach, "labels": labels, "touching": touching}


def _embed(values: np.ndarray, shape: tuple[int, ...], crop: list[slice], fill: object
           ) -> np.ndarray:
    """``values`` of the crop placed in a full grid filled with ``fill`` elsewhere."""
    dtype = np.bool_ if isinstance(fill, bool) else np.float32
    out: np.ndarray = np.full(shape, fill, dtype=dtype)
    out[tuple(crop)] = values
    return out
