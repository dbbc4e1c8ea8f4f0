"""Sulci of a synthetic cortex: sheets cut into the brain from its outer (pial) surface.

A sulcus is a sheet that runs radially inwards from the outer surface to its depth ``D``. Its
mouth is open: a CSF gap between the two banks (``gap`` mm wide) whose lips are rounded to a
radius larger than the thickest cortex, so the cortex folds into it without a sharp white-matter
(WM) edge. Below a *closing depth* the gap narrows to nothing over ``taper`` mm, and deeper down
the two banks touch along the sheet with no CSF between them, as in the deep, narrow sulci of a
real neonatal brain at 0.5 mm. The share of each sulcus's depth that is closed is drawn per
sulcus around :attr:`Folding.touching`.

Sulci come in two families of curved lines on the surface (one running across, one along the
antero-posterior axis; :class:`SulcalPattern`), each line a sheet of its own depth. A smooth
random partition of the surface decides which family folds where, with a band between the two
where neither does: sulci end there (their depth tapers to nothing), and sheets of the two
families never cross. No sulci are cut at the frontal and occipital poles.

Every field is a function of a point's position in the brain's axes, evaluated on any grid; a
sheet's lateral offset is measured in mm across the sheet (the family's phase divided by its
gradient), so it is a distance, as the voxeliser (:mod:`harmonstats.synth.anatomy`) needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harmonstats.errors import InputError

__all__ = ["Folding", "SulcalPattern", "draw_sulci", "smoothstep"]

_TABLE = 64


@dataclass(frozen=True)
class Folding:
    """How the cortex of a synthetic brain folds.

    Parameters
    ----------
    touching : float
        Mean share of each sulcus's depth along which its two banks touch with no CSF between
        them (0: every sulcus holds CSF down to its floor). The share of the cortex on touching
        banks that results is measured per subject (``SubjectVolumes.touching_share``); the
        default gives about 7-14% in a 32 mm field (short sulci) and about 23% at real size.
    crown_fundus : float
        Relative thickness difference between the cortex on gyral crowns and at the floor of the
        sulci (0.25: crowns about 10% thicker and fundi about 15% thinner than the region's
        thickness).
    thickness_sd : float
        SD (mm) of a smooth random variation of thickness across each brain.
    gap : tuple of float
        Range (mm) of the CSF gap at the mouth of a sulcus, drawn per sulcus.
    core : float
        Narrowest WM core (mm) under a gyrus, at the floor of the sulci beside it.
    """

    touching: float = 0.35
    crown_fundus: float = 0.25
    thickness_sd: float = 0.06
    gap: tuple[float, float] = (0.8, 1.6)
    core: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.touching < 1.0:
            raise InputError(f"touching must be in [0, 1), got {self.touching!r}")
        if not 0.0 <= self.crown_fundus < 1.0:
            raise InputError(f"crown_fundus must be in [0, 1), got {self.crown_fundus!r}")
        if not 0.0 <= self.thickness_sd <= 0.3:
            raise InputError(f"thickness_sd must be in [0, 0.3] mm, got {self.thickness_sd!r}")
        low, high = self.gap
        if not 0.0 < low <= high:
            raise InputError(f"gap must be (low, high) with 0 < low <= high mm, got {self.gap!r}")
        if not self.core > 0.0:
            raise InputError(f"core must be > 0 mm, got {self.core!r}")


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a cubic with zero slope at both ends in between."""
    t = np.clip(x, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class SulcalPattern:
    """One brain's sulci (lengths in mm).

    Attributes
    ----------
    wavelength : float
        Spacing of the sulci of family B at the equator (family A: 1.25 times more).
    depth : float
        Depth of the deepest sulci.
    lip : float
        Radius (mm) of the rounded lips at the mouths of the sulci (and of the fissure).
    taper : float
        Depth (mm) over which a closing sulcus's CSF gap narrows to nothing.
    core : float
        Narrowest WM core under a gyrus (mm); caps the depth of the sulci beside it.
    thickness_cap : float
        Thickest cortex (mm) a gyrus must hold on both of its walls.
    phases : numpy.ndarray, shape (6,)
        Random phases of the two families and of their partition.
    depth_factor, closed, gap : numpy.ndarray, shape (2, 64)
        Per family and sheet (index modulo 64): depth relative to :attr:`depth`, closed share of
        the depth, CSF gap at the mouth (mm).
    """

    wavelength: float
    depth: float
    lip: float
    taper: float
    core: float
    thickness_cap: float
    phases: np.ndarray
    depth_factor: np.ndarray
    closed: np.ndarray
    gap: np.ndarray

    def family_weights(self, alpha: np.ndarray, beta: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Where each family folds (0..1): a random partition, a band of neither between."""
        p = self.phases
        temporal = np.exp(-0.5 * ((beta + 0.55) / 0.35) ** 2) * np.exp(-0.5 * (alpha / 0.8) ** 2)
        z = (0.9 * temporal + 0.55 * np.sin(1.7 * alpha + p[4]) * np.sin(2.3 * beta + p[5])
             - 0.35)
        # No folds at the tips of the frontal and occipital poles.
        poles = smoothstep((np.cos(alpha) ** 2 - 0.05) / 0.15)
        return smoothstep((-z - 0.03) / 0.15) * poles, smoothstep((z - 0.03) / 0.15) * poles

    def sheets(self, rho: np.ndarray, alpha: np.ndarray, beta: np.ndarray, radius: np.ndarray,
               semi: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """For each family: offset (mm) from the nearest sheet, its depth, closing depth, gap.

        ``rho`` is the point's ellipsoidal radius, ``alpha``/``beta`` its antero-posterior and
        elevation angles, ``radius`` the distance (mm) from the centre to the outer surface
        along the point's ray and ``semi`` the semi-axes (mm) of the outer surface. The offset
        is signed (across the sheet); depths are mm below the outer surface.
        """
        sx, sy, sz = (float(v) for v in semi)
        p = self.phases
        sa, ca, sb, cb = np.sin(alpha), np.cos(alpha), np.sin(beta), np.cos(beta)
        # Arc length (mm) per radian of alpha and of beta on the ellipsoid at radius rho.
        arc_a = np.maximum(rho * np.sqrt((sx * sa * cb) ** 2 + (sy * ca) ** 2
                                         + (sz * sa * sb) ** 2), 1e-3)
        arc_b = np.maximum(rho * ca * np.sqrt((sx * sb) ** 2 + (sz * cb) ** 2), 1e-3)
        turns_a = sy / (1.25 * self.wavelength)
        turns_b = float(np.sqrt(sx * sz)) / self.wavelength
        t_a = alpha * turns_a + p[0] + 0.15 * np.sin(2.0 * beta + p[2])
        t_b = beta * turns_b + p[1] + 0.15 * np.sin(3.0 * alpha + p[3])
        # Gradients of the phases (turns per mm along the surface).
        grad_a = np.sqrt((turns_a / arc_a) ** 2 + (0.30 * np.cos(2.0 * beta + p[2]) / arc_b) ** 2)
        grad_b = np.sqrt((turns_b / arc_b) ** 2 + (0.45 * np.cos(3.0 * alpha + p[3]) / arc_a) ** 2)
        weights = self.family_weights(alpha, beta)
        need = 2.0 * self.thickness_cap + self.core
        out = []
        for f, (t, grad, w) in enumerate(((t_a, grad_a, weights[0]), (t_b, grad_b, weights[1]))):
            k = np.floor(t)
            sheet = k.astype(np.int64) % _TABLE
            offset = (t - k - 0.5) / grad
            # The sheets converge towards the centre, so gyri narrow with depth: keep each
            # sulcus shallow enough that the gyri beside it still hold two ribbons and a WM core
            # at its floor (spacing at depth D = surface spacing x (radius - D) / radius).
            spacing = 1.0 / (grad * np.maximum(rho, 1e-3))
            cap = np.clip(radius * (1.0 - need / spacing), 0.0, None)
            depth = np.minimum(self.depth * self.depth_factor[f, sheet], cap) * w
            closing = depth * (1.0 - self.closed[f, sheet])
            out.append((offset, depth, closing, self.gap[f, sheet]))
        return out


def draw_sulci(rng: np.random.Generator, *, wavelength: float, depth: float, lip: float,
               thickness_cap: float, folding: Folding) -> SulcalPattern:
    """Draw one brain's sulci (see :class:`SulcalPattern`; lengths in mm)."""
    closed = folding.touching * rng.uniform(0.4, 1.6, size=(2, _TABLE))
    return SulcalPattern(
        wavelength=float(wavelength),
        depth=float(depth),
        lip=float(lip),
        taper=1.5,
        core=float(folding.core),
        thickness_cap=float(thickness_cap),
        phases=np.concatenate([rng.uniform(0.0, 1.0, 2), rng.uniform(0.0, 2 * np.pi, 4)]),
        depth_factor=rng.uniform(0.6, 1.0, size=(2, _TABLE)),
        closed=np.clip(closed, 0.0, 0.9),
        gap=rng.uniform(*folding.gap, size=(2, _TABLE)),
    )
