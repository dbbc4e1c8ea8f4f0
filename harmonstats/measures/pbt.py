"""Cortical thickness by projection from the WM surface, buried sulci reconstructed (``pbt``).

A voxel method for label maps after the projection-based thickness of CAT12 (Dahnke, Yotter &
Gaser 2013): the thickness of the cortex is the largest distance from the white matter (WM)
that the ribbon reaches, and every voxel of the ribbon takes it from the WM point it stands on.
Where two banks of cortex touch with no CSF between them, that largest distance is reached where
the banks meet, half way between their WM surfaces; so the buried sulcus is reconstructed there
and each bank measured up to it, instead of across both.

1. WM distance. For every cortical GM voxel, the nearest voxel of the inner boundary (WM side:
   WM, deep GM, cerebellum, brainstem) that touches the GM is its *foot* (an inner voxel across
   CSF, such as the cerebellum under the tentorium, is not). Its distance to the WM is taken to
   the WM surface's tangent plane at the foot: the plane's normal is the smoothed WM mask's,
   and the foot's centre lies below it by the depth its neighbours bound
   (:func:`~harmonstats.measures.distance.boundary_depth`: each neighbour ahead of it along the
   normal, GM or WM, bounds the depth; the middle of what they leave is the expected depth of a
   plane sampled at voxel centres, however thin the structures on either side).
2. Ends of the ribbon. A GM voxel beside CSF or background ends its column there: its thickness
   is its WM distance plus its depth below the CSF surface (bounded the same way). A GM voxel
   whose next voxel along its column (the neighbour the foot-to-voxel direction points to most
   nearly) is no farther from the WM, and whose column comes back towards it, is where two
   columns meet inside the GM: the opposite bank of a buried sulcus, or the far side of the
   floor of a closed fold. The WM distance peaks between the two voxels, where both distances
   are equal (each growing along the step as fast as the step points away from its own WM),
   and that peak is the thickness of both banks there. A GM voxel beside both the WM side and
   the CSF is the edge of a ribbon (where cortex ends on bare WM) and keeps its own value.
3. Projection along the ribbon. Each end's thickness is handed to its foot; the WM surface's
   values are smoothed along the surface itself (a geodesic Gaussian of ``smooth`` mm over the
   inner boundary's voxels: the banks of a sulcus, whose WM surfaces do not touch, never mix;
   the two walls of a gyrus' thin WM core do), and every GM voxel takes the smoothed value at
   its own foot: a column of cortex has one thickness, and the ends' sub-voxel quantisation
   averages out along the surface. The smoothing also carries the thickness of the free bank
   down into the buried part of a sulcus, where the ends are fewest and where a column passes
   beside the edge of a closed sheet it cannot see; its default width (1.5 mm) is the one that
   measured best against the per-voxel truth of real-size folded brains (README).

GM pieces (6-connected) that touch no inner voxel, or have no end, have no thickness (NaN).

Accuracy and cost are measured by ``benchmarks/thickness.py`` (closed-form cases, folded
synthetic brains with their per-voxel true thickness, real-size brains, speed against ANTs
DiReCT); the figures are in the README. Where no method can be right from a label map: two
banks of unequal thickness pressed together meet half way between their WM surfaces here, and
a CSF gap thinner than a voxel, invisible in the labels, is read as touching banks (each bank
then reads half the gap too thick).

References
----------
Dahnke, Yotter & Gaser (2013), Cortical thickness and central surface estimation, NeuroImage 65,
336-348.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from harmonstats.measures.distance import (
    Spacing,
    boundary_depth,
    check_ribbon,
    feet,
    mask_normals,
)

__all__ = ["PBT_SMOOTH_MM", "column_feet", "pbt_thickness"]

#: Default smoothing (Gaussian SD, mm) of the thickness along the WM surface.
PBT_SMOOTH_MM = 1.5

# The slowest a column may grow along a step for the step to count (cosine).
_RATE = 0.3
# Width (voxels) of the smoothing that gives the WM surface's normal: its direction is carried
# over the whole column (up to the CSF, 2-3 mm), so a wider smoothing (a truer direction on
# surfaces sampled at voxel centres: about 1 degree off against 5 at one voxel) pays.
_WIDTH = 2.0
# ... and the CSF surface's: its depth is needed within one voxel of it, and a wider smoothing
# would blur the CSF of a sulcus one or two voxels wide.
_WIDTH_CSF = 1.0
# Variance (voxels^2, along each axis) one step of the lazy walk over a flat sampled surface
# adds: of a voxel and its 8 neighbours in the plane, 6 lie one voxel off along an axis.
_WALK_VARIANCE = 6.0 / 9.0
_NEIGHBOURS = np.array([d for d in np.ndindex(3, 3, 3) if d != (1, 1, 1)]) - 1


def pbt_thickness(
    gm: np.ndarray,
    inner: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    *,
    smooth: float = PBT_SMOOTH_MM,
    split_banks: bool = True,
) -> np.ndarray:
    """Cortical thickness at every GM voxel by projection from the WM surface.

    Parameters
    ----------
    gm : numpy.ndarray of bool, shape (X, Y, Z)
        Cortical GM mask.
    inner : numpy.ndarray of bool, shape (X, Y, Z)
        Inner-boundary mask (WM side). Voxels in neither form the outer boundary (CSF side); so
        does everything beyond the array's edge.
    spacing : sequence of 3 float
        Voxel size along each axis (mm).
    smooth : float
        SD (mm) of the Gaussian that smooths thickness along the WM surface; 0 leaves each
        foot with the mean of its own ends.
    split_banks : bool
        Reconstruct buried sulci where banks touch (module notes, step 2); without it only CSF
        ends the ribbon.

    Returns
    -------
    numpy.ndarray of float64, shape (X, Y, Z)
        Thickness in mm at each GM voxel; NaN outside GM and where it is not defined.

    References
    ----------
    Dahnke, Yotter & Gaser (2013), NeuroImage 65, 336-348.
    """
    gm, inner, h = check_ribbon(gm, inner, spacing)
    if not (np.isfinite(smooth) and smooth >= 0):
        raise ValueError(f"smooth must be a number of mm >= 0, got {smooth!r}")
    out = np.full(gm.shape, np.nan)
    if not gm.any() or not inner.any():
        return out
    box = _box(gm, margin=int(np.ceil(4.0 + 8.0 * h.max() / h.min())))
    g, w = gm[box], inner[box]
    # Everything beyond the array's edge is outer: pad the box with a layer of it.
    g = np.pad(g, 1)
    w = np.pad(w, 1)
    thick = _columns(g, w, h, smooth, split_banks)
    out[box] = thick[1:-1, 1:-1, 1:-1]
    return out


def _box(mask: np.ndarray, margin: int) -> tuple[slice, ...]:
    """Bounding box of ``mask`` grown by ``margin`` voxels (within the array)."""
    where = np.argwhere(mask)
    low = np.maximum(where.min(axis=0) - margin, 0)
    high = np.minimum(where.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))


def _columns(gm: np.ndarray, inner: np.ndarray, h: np.ndarray, smooth: float,
             split_banks: bool) -> np.ndarray:
    out = np.full(gm.shape, np.nan)
    outer = ~gm & ~inner
    base, coords, foot = column_feet(gm, inner, h)
    if not base.any():
        return out
    dist = _wm_distance(inner, base, coords, foot, h)
    index = np.full(gm.shape, -1, dtype=np.int64)
    index[gm] = np.arange(len(coords))

    ends_at, values = [], []
    # Ends at the CSF: WM distance plus the sub-voxel depth of the voxel below the CSF surface.
    # A voxel that touches both the WM side and the CSF is the edge of a ribbon (where cortex
    # ends against bare WM, as at the corpus callosum): it is no column's end (it would hand a
    # fraction of a voxel of thickness to the columns beside it) and keeps its own value.
    beside_csf = _beside(outer, gm)
    edge = beside_csf & _beside(inner, gm)
    local = np.zeros(0)
    if beside_csf.any():
        tissue = ~outer
        normal = mask_normals(tissue, h, width=_WIDTH_CSF)
        local = dist[beside_csf[gm]] + boundary_depth(tissue, beside_csf,
                                                      _rows(normal, beside_csf), h)
        del normal
        column_end = ~edge[beside_csf]
        ends_at.append(np.flatnonzero(beside_csf[gm])[column_end])
        values.append(local[column_end])
    if split_banks:
        rows, peak = _ridges(coords, foot, dist, index, h)
        ridge = ~beside_csf[gm][rows]
        ends_at.append(rows[ridge])
        values.append(peak[ridge])
    if not ends_at:
        return out
    at = np.concatenate(ends_at)
    val = np.concatenate(values)
    thick = _along_surface(base, foot, at, val, h, smooth)
    if local.size:
        thick[np.flatnonzero(edge[gm])] = local[edge[beside_csf]]
    thick[~_measurable(gm, inner, at)] = np.nan
    out[gm] = thick
    return out


def column_feet(gm: np.ndarray, inner: np.ndarray, spacing: Spacing
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The inner boundary the ribbon stands on, and each GM voxel's foot on it.

    Feet are the inner voxels (WM side) with a GM voxel among their 6 face neighbours: the
    nearest inner voxel across CSF (the cerebellum below the tentorium, the other bank's WM) is
    no foot. A column of cortex is the GM voxels sharing a foot.

    Returns
    -------
    base : numpy.ndarray of bool
        The inner voxels that touch the GM.
    coords, foot : numpy.ndarray of int, shape (N, 3)
        The GM voxels (C order) and the nearest ``base`` voxel of each (meaningless where
        ``base`` is empty).
    """
    base = inner & _beside(gm, inner)
    if not base.any():
        empty = np.zeros((0, 3), dtype=np.int64)
        return base, np.argwhere(gm), empty
    coords, foot = feet(base, gm, spacing)
    return base, coords, foot


def _along_surface(base: np.ndarray, foot: np.ndarray, at: np.ndarray, values: np.ndarray,
                   h: np.ndarray, sigma: float) -> np.ndarray:
    """Hand the ends' values to their feet, smooth them along the WM surface, and read them back
    at every GM voxel's foot.

    The smoothing is a lazy random walk over the inner boundary's voxels (each step to one of a
    voxel's 26 neighbours on that boundary, or none), applied alike to the values' sums and to
    their counts (a normalised convolution): a geodesic Gaussian of about ``sigma`` mm. It
    spreads along the surface only: the two banks of a sulcus, whose WM surfaces lie a ribbon or
    more apart, never mix, however wide the smoothing (the two walls of a gyrus' WM core, whose
    boundary voxels are neighbours, do). Steps are counted in voxels of the mean spacing. A foot
    with no end within about 3 SDs along the surface gets NaN.
    """
    from scipy import sparse

    n = int(base.sum())
    number = np.full(base.shape, -1, dtype=np.int64)
    number[base] = np.arange(n)
    field = np.zeros((n, 2))
    np.add.at(field, number[tuple(foot[at].T)], np.stack([values, np.ones_like(values)], axis=1))
    sd = sigma / float(h.mean())  # in voxels of the mean spacing
    steps = int(np.ceil(sd**2 / _WALK_VARIANCE)) if sigma > 0 else 0
    if steps:
        where = np.argwhere(base)
        rows, cols = [np.arange(n)], [np.arange(n)]
        for d in _NEIGHBOURS:
            nb = where + d
            inside = np.all((nb >= 0) & (nb < base.shape), axis=1)
            j = np.full(n, -1, dtype=np.int64)
            j[inside] = number[tuple(nb[inside].T)]
            rows.append(np.flatnonzero(j >= 0))
            cols.append(j[j >= 0])
        r, c = np.concatenate(rows), np.concatenate(cols)
        walk = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
        walk = sparse.diags(1.0 / np.asarray(walk.sum(axis=1)).ravel()) @ walk
        for _ in range(steps):
            field = walk @ field
    own = number[tuple(foot.T)]
    weight = field[own, 1]
    # Out of reach: less weight than one end 3 SDs away along a surface leaves (the walk has no
    # edge of its own, as the truncation of a Gaussian filter is).
    reach = np.exp(-4.5) / (2.0 * np.pi * sd**2) if steps else 0.5
    return np.where(weight > reach, field[own, 0] / np.maximum(weight, 1e-300), np.nan)


def _rows(field: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The vectors of a (3, X, Y, Z) field at the ``where`` voxels, shape (N, 3), C order."""
    return np.stack([field[a][where] for a in range(3)], axis=1)


def _wm_distance(inner: np.ndarray, base: np.ndarray, coords: np.ndarray, foot: np.ndarray,
                 h: np.ndarray) -> np.ndarray:
    """Distance (mm) of each GM voxel to the WM surface: to its plane at the voxel's foot.

    The plane's normal is the smoothed WM mask's (where that vanishes, in a WM structure one
    voxel thin, the direction from the foot to the voxel), and the foot's centre lies
    :func:`~harmonstats.measures.distance.boundary_depth` below it. The distance is kept
    within ``[|x - c| - h, |x - c|]`` of the voxel's distance to its foot ``c``.
    """
    normals = mask_normals(inner, h, width=_WIDTH)
    base_normal = _rows(normals, base)
    del normals
    at = np.full(base.shape, -1, dtype=np.int64)
    at[base] = np.arange(int(base.sum()))
    depth = boundary_depth(inner, base, base_normal, h)
    row = at[tuple(foot.T)]
    vec = (coords - foot) * h
    reach = np.linalg.norm(vec, axis=1)
    n = base_normal[row]
    flat = np.linalg.norm(n, axis=1) < 0.5
    n[flat] = vec[flat] / np.maximum(reach[flat], 1e-9)[:, None]
    along = np.einsum("ij,ij->i", vec, n) - depth[row]
    return np.clip(along, np.maximum(reach - h.max(), 0.0), reach)


def _beside(other: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with a voxel of ``other`` among their 6 face neighbours."""
    grown = ndimage.binary_dilation(other, structure=ndimage.generate_binary_structure(3, 1))
    return mask & grown


def _ridges(coords: np.ndarray, foot: np.ndarray, dist: np.ndarray, index: np.ndarray,
            h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GM voxels where the WM distance stops growing inside the GM, and its value there.

    Along its column (from its foot through the voxel), the WM distance of a voxel's next GM
    voxel is larger, until the column meets the opposite bank: there the next voxel is nearer
    the other bank's WM. The WM distance peaks between the two, where both distances are equal
    (each growing along the step as fast as the step points away from its own WM).

    Returns ``(rows, peak)``: the voxels whose next voxel along their column is GM no farther
    from the WM, and the WM distance (mm) where the two meet.
    """
    vec = (coords - foot) * h
    length = np.maximum(np.linalg.norm(vec, axis=1), 1e-9)
    unit = vec / length[:, None]
    # The step to one of the 26 neighbours that points most nearly along the column.
    step = np.zeros_like(coords)
    best = np.full(len(coords), -np.inf)
    for d in _NEIGHBOURS:
        cos = unit @ (d * h / np.linalg.norm(d * h))
        better = cos > best
        best[better] = cos[better]
        step[better] = d
    nxt = coords + step
    inside = np.all((nxt >= 0) & (nxt < index.shape), axis=1)
    following = np.full(len(coords), -1, dtype=np.int64)
    following[inside] = index[tuple(nxt[inside].T)]
    p = np.flatnonzero(following >= 0)
    q = following[p]
    direction = step * h
    span = np.linalg.norm(direction, axis=1)
    direction = direction / span[:, None]
    rate_p = np.einsum("ij,ij->i", unit[p], direction[p])
    rate_q = -np.einsum("ij,ij->i", unit[q], direction[p])
    # A ridge: the next voxel is no farther from the WM and its own column comes back towards
    # this one (the other bank, or the far side of a fold's floor), not one that runs beside
    # it along the WM surface.
    keep = (dist[q] <= dist[p]) & (rate_p > _RATE) & (rate_q > _RATE)
    p, q, rate_p, rate_q = p[keep], q[keep], rate_p[keep], rate_q[keep]
    direction, span = direction[p], span[p]
    t = np.clip((dist[q] - dist[p] + rate_q * span) / ((rate_p + rate_q) * span), 0.0, 1.0)
    return p, dist[p] + t * rate_p * span


def _measurable(gm: np.ndarray, inner: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each GM voxel: does its 6-connected GM piece touch the inner boundary and hold an
    end of the ribbon?"""
    comp, n = ndimage.label(gm)
    row_comp = comp[gm]
    touches = ndimage.binary_dilation(inner, structure=ndimage.generate_binary_structure(3, 1))
    has_inner = np.bincount(row_comp, weights=touches[gm], minlength=n + 1) > 0
    has_end = np.bincount(row_comp[ends], minlength=n + 1) > 0
    return (has_inner & has_end)[row_comp]
