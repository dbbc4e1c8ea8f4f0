"""Shape of a synthetic neonatal brain: continuous (implicit) fields evaluated at any point.

All positions are in mm, in the brain's own RAS axes (x: left -> right, y: posterior ->
anterior, z: inferior -> superior), with the origin at the centre of the field of view; the brain
is turned a few degrees against the world's axes (:meth:`BrainGeometry.brain_coordinates`).
The brain is laid out for a 32 mm field of view (the default 64^3 grid at 0.5 mm) and scaled
with the field of view and with age; a real term brain is about three times larger, so the
synthetic one is a scaled-down brain.
The cortical ribbon, the sulcal and extra-cerebral CSF gaps and the interhemispheric fissure are
*not* scaled: they keep their real size in mm, so the ribbon takes a larger share of the brain
than in a real neonate.

The folded white-matter (WM) surface is an ellipsoid whose radius is pushed inwards in sulcal
pits: two families of curved lines (one running across, one along the antero-posterior axis) mark
gyral ridges, and where the slits between the ridges of both families cross, the WM is cut down
by the fold depth, with parallel walls; a wide, shallower pit on each side holds the insula. The
cortex is everything within the regional thickness of that surface (see
:mod:`harmonstats.synth.anatomy`), so gyri are WM cores capped by cortex, and the pits, wider
than two ribbons at every depth, keep a CSF gap (1.4 mm or more; 1.6 mm or more in the fissure)
between opposite banks: the ribbons never meet, even when the target's original labels grow the
cortex by 0.2 mm, so the true thickness of every region is exactly its drawn value. There are no
pits at the frontal and occipital poles (a thin WM tip under a thick cap of cortex is no gyrus).
As the surface shrinks towards the centre, the ridges between parallel-walled pits narrow with
depth; each pit is kept shallow enough that its ridges are still :data:`RIDGE_MIN_MM` wide at its
floor, so no gyrus stands on a thin WM stalk or hangs as a bridge over a pit. The voxeliser then
rounds the WM's convex edges and concave corners (:func:`harmonstats.synth.anatomy.build_anatomy`):
every point of the ribbon has a single nearest WM point, so thickness is the same whether it is
measured by Laplace streamlines or by DiReCT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FOV_REFERENCE", "RIDGE_MIN_MM", "BrainGeometry", "draw_geometry"]

#: Field of view (mm) the reference layout was drawn for.
FOV_REFERENCE = 32.0
#: Narrowest WM core of a gyrus (mm), at the floor of the pits beside it.
RIDGE_MIN_MM = 2.0

# Reference layout (mm, at FOV_REFERENCE and PMA 40 weeks).
_CENTRE = np.array([0.0, 0.5, 2.5])
_WM = np.array([8.6, 9.8, 6.9])
_CALLOSUM_Z = 3.4
_VENTRICLE = ((2.3, 1.0, 1.9), (0.8, 4.5, 0.9))
_DGM = ((2.4, -0.2, -0.4), (2.2, 3.5, 2.0))
_CEREBELLUM = ((0.0, -8.0, -6.8), (6.8, 3.8, 3.4))
_BRAINSTEM = ((0.0, -2.5, -1.5), (0.0, -0.25, -1.0), 2.1)


@dataclass(frozen=True)
class BrainGeometry:
    """Every number that fixes one synthetic brain's shape (lengths in mm).

    Attributes
    ----------
    centre, envelope, wm_semi : numpy.ndarray, shape (3,)
        Centre of the cerebrum, semi-axes of its outer (CSF) envelope and of its WM ellipsoid.
    thickness : numpy.ndarray, shape (11,)
        True cortical thickness of the 11 regions, label order (mm).
    fold_wavelength, fold_depth, sulcus_half_width, insula_depth : float
        Spacing of the sulci (mm; 1.25 times more across the antero-posterior axis), their
        depth (mm), half width of a sulcal pit cut into the WM (mm: the thickest ribbon plus
        half the sulcal CSF gap), and depth of the insular pit (mm).
    phases : numpy.ndarray, shape (4,)
        Random phases of the fold pattern.
    fissure_half_width, callosum_z : float
        Half width (mm) of the interhemispheric gap cut out of the WM, and the height (mm) of
        the corpus callosum, below which the hemispheres join.
    callosum : tuple of float
        Antero-posterior centre and half length (mm) of the corpus callosum; in front of and
        behind it the fissure separates the hemispheres down to the base.
    ventricle, dgm, cerebellum : tuple of numpy.ndarray
        (centre, semi-axes) of the right lateral ventricle / deep GM (mirrored for the left) and
        of the cerebellum.
    brainstem : tuple
        (top point, unit direction, radius) of the brainstem cylinder.
    rotation : numpy.ndarray, shape (3, 3)
        Rotation from the brain's axes to the world's (a few degrees about each axis).
    """

    centre: np.ndarray
    envelope: np.ndarray
    wm_semi: np.ndarray
    thickness: np.ndarray
    fold_wavelength: float
    fold_depth: float
    sulcus_half_width: float
    insula_depth: float
    phases: np.ndarray
    fissure_half_width: float
    callosum_z: float
    callosum: tuple[float, float]
    ventricle: tuple[np.ndarray, np.ndarray]
    dgm: tuple[np.ndarray, np.ndarray]
    cerebellum: tuple[np.ndarray, np.ndarray]
    brainstem: tuple[np.ndarray, np.ndarray, float]
    rotation: np.ndarray

    def brain_coordinates(self, x: np.ndarray, y: np.ndarray, z: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World positions (mm) -> the brain's own axes, in which every other method works.

        The brain is turned by :attr:`rotation` about the centre of the field of view, as a
        head never lies exactly square in the scanner; this also keeps its flat faces (the
        fissure's walls) off the voxel grid, so their ribbon is voxelised without steps.
        """
        r = self.rotation
        return (r[0, 0] * x + r[1, 0] * y + r[2, 0] * z,
                r[0, 1] * x + r[1, 1] * y + r[2, 1] * z,
                r[0, 2] * x + r[1, 2] * y + r[2, 2] * z)

    def world_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre and half extent (mm, world axes) of a box holding the cerebral envelope."""
        return self.rotation @ self.centre, np.abs(self.rotation) @ self.envelope

    # -- analytic fields ---------------------------------------------------------------------
    def _angles(self, x: np.ndarray, y: np.ndarray, z: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ellipsoidal radius and the AP (alpha) and elevation (beta) angles of each point."""
        u = (x - self.centre[0]) / self.wm_semi[0]
        v = (y - self.centre[1]) / self.wm_semi[1]
        w = (z - self.centre[2]) / self.wm_semi[2]
        rho = np.sqrt(u * u + v * v + w * w)
        alpha = np.arcsin(np.clip(v / np.maximum(rho, 1e-6), -1.0, 1.0))
        beta = np.arctan2(w, np.abs(u))
        return rho, alpha, beta

    def _insula(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * (alpha / 0.30) ** 2 - 0.5 * ((beta + 0.15) / 0.32) ** 2)

    def _slit(self, t: np.ndarray, mm_per_turn: np.ndarray) -> np.ndarray:
        """1 inside a sulcal slit (centred on half-integer ``t``), 0 on a gyral ridge.

        ``t`` counts fold wavelengths along the surface and ``mm_per_turn`` is the local arc
        length of one unit of ``t`` at the point's depth, so a slit has the same width (mm) at
        every depth: its walls are parallel, and the ribbons on them never meet.
        """
        offset = np.abs(t - np.floor(t) - 0.5) * mm_per_turn
        return np.clip((self.sulcus_half_width - offset) / 0.3 + 0.5, 0.0, 1.0)

    def _fold_depth_cap(self, turn_a: np.ndarray, turn_b: np.ndarray, lateral: np.ndarray,
                        scale: float) -> np.ndarray:
        """Depth (mm) of the sulcal pits at each point, at most :attr:`fold_depth`.

        ``turn_a`` and ``turn_b`` are the lengths (mm) of one fold wavelength of each family
        on the outer surface. A pit's walls are parallel, but the ridges between pits narrow
        with depth as the surface shrinks towards the centre; the pit is kept shallow enough
        that every ridge is still :data:`RIDGE_MIN_MM` wide at the pit's floor, so no gyrus
        stands on a thin WM stalk and no ridge hangs as a bridge over a pit.
        """
        need = 2.0 * self.sulcus_half_width + RIDGE_MIN_MM
        cap_a = scale * (1.0 - need / np.maximum(turn_a, 1e-6))
        cap_b = np.where(lateral > 0.0, scale * (1.0 - need / np.maximum(turn_b, 1e-6)), np.inf)
        return np.clip(np.minimum(self.fold_depth, np.minimum(cap_a, cap_b)), 0.0, None)

    def wm(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Boolean mask of the cerebral WM (deep GM and ventricles included) at the points."""
        return self.wm_level(x, y, z) < 0.0

    def wm_level(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Level function of the cerebral WM: negative inside, about the distance (mm) nearby.

        It is a true distance across the fissure's and cerebellar gap's walls and a radial one
        across the folded ellipsoid (steeper across the sulcal walls).
        """
        rho, alpha, beta = self._angles(x, y, z)
        scale = float(np.mean(self.wm_semi))
        p = self.phases
        sx, sy, sz = self.wm_semi
        # Fold wavelengths count along the surface at the equator (radians -> turns).
        turns_a = sy / (1.25 * self.fold_wavelength)
        turns_b = float(np.sqrt(sx * sz)) / self.fold_wavelength
        t_a = alpha * turns_a + p[0] + 0.15 * np.sin(2.0 * beta + p[2])
        t_b = beta * turns_b + p[1] + 0.15 * np.sin(3.0 * alpha + p[3])
        lateral = np.clip((np.cos(alpha) ** 2 - 0.3) / 0.2, 0.0, 1.0)
        # Arc length (mm) per radian of alpha and of beta on the ellipsoid at radius rho.
        sa, ca, sb, cb = np.sin(alpha), np.cos(alpha), np.sin(beta), np.cos(beta)
        arc_a = rho * np.sqrt((sx * sa * cb) ** 2 + (sy * ca) ** 2 + (sz * sa * sb) ** 2)
        arc_b = rho * ca * np.sqrt((sx * sb) ** 2 + (sz * cb) ** 2)
        # A sulcal pit where the slits of both families cross: the gyral crowns form a
        # connected network of ridges; where family B fades, family A alone.
        slit_b = 1.0 - lateral * (1.0 - self._slit(t_b, arc_b / turns_b))
        # No pits at the frontal and occipital poles: a thin WM tip under a thick cap of
        # cortex is no gyrus.
        poles = np.clip((np.cos(alpha) ** 2 - 0.15) / 0.2, 0.0, 1.0)
        pits = self._slit(t_a, arc_a / turns_a) * slit_b * poles
        depth = self._fold_depth_cap(arc_a / (turns_a * np.maximum(rho, 1e-6)),
                                     arc_b / (turns_b * np.maximum(rho, 1e-6)), lateral, scale)
        insula = self._insula(alpha, beta)
        inward = (depth * pits * (1.0 - insula) + self.insula_depth * insula) / scale
        level = (rho - 1.0 + inward) * scale
        fissure = self.fissure(x, y, z)
        gap = float(self.thickness.max()) + 0.8
        c, s = self.cerebellum
        near_cerebellum = (1.0 - np.sqrt(_ellipsoid(x, y, z, c, s + gap))) * float(np.mean(s + gap))
        return np.maximum(np.maximum(level, fissure), near_cerebellum)

    def fissure(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """How far (mm) each point lies inside the interhemispheric fissure (negative: outside).

        The fissure reaches down to the corpus callosum over the callosum's length, and
        through the whole height in front of and behind it.
        """
        callosum_end = np.abs(y - self.callosum[0]) - self.callosum[1]
        return np.minimum(self.fissure_half_width - np.abs(x - self.centre[0]),
                          np.maximum(z - self.callosum_z, callosum_end))

    def structures(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
        """Masks of the envelope, ventricles, deep GM, cerebellum and brainstem, and the fissure.

        ``fissure`` is :meth:`fissure` (mm), the others are boolean masks.
        """
        cerebellum = _ellipsoid(x, y, z, *self.cerebellum) < 1.0
        top, direction, radius = self.brainstem
        dx, dy, dz = x - top[0], y - top[1], z - top[2]
        along = dx * direction[0] + dy * direction[1] + dz * direction[2]
        radial2 = dx * dx + dy * dy + dz * dz - along * along
        brainstem = (along > 0.0) & (radial2 < radius**2)
        sheath = (along > -0.5) & (radial2 < (radius + 0.5) ** 2)
        c, s = self.cerebellum
        envelope = ((_ellipsoid(x, y, z, self.centre, self.envelope) < 1.0)
                    | (_ellipsoid(x, y, z, c, s + 0.6) < 1.0) | sheath)
        vc, vs = self.ventricle
        dc, ds = self.dgm
        mirror = np.array([-1.0, 1.0, 1.0], dtype=np.float32)
        ventricles = ((_ellipsoid(x, y, z, vc, vs) < 1.0)
                      | (_ellipsoid(x, y, z, vc * mirror, vs) < 1.0))
        dgm = (_ellipsoid(x, y, z, dc, ds) < 1.0) | (_ellipsoid(x, y, z, dc * mirror, ds) < 1.0)
        return {"envelope": envelope, "ventricles": ventricles, "dgm": dgm,
                "fissure": self.fissure(x, y, z),
                "cerebellum": cerebellum, "brainstem": brainstem}

    def regions(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Cortical region (1..11, :data:`harmonstats.labels.REGIONS`) of each point's direction.

        Regions are cones from the centre of the cerebrum, laid out like lobes: frontal
        anterior, occipital posterior, temporal lateral-inferior, insula deep lateral (the pit),
        parietal superior-posterior; the cingulate is the lower medial wall along the fissure.
        """
        _rho, alpha, beta = self._angles(x, y, z)
        right = x >= self.centre[0]
        top = self.centre[2] + self.wm_semi[2]
        medial = ((np.abs(x - self.centre[0]) < self.fissure_half_width + 0.6)
                  & (z > self.callosum_z) & (z < self.callosum_z + 0.55 * (top - self.callosum_z))
                  & (np.abs(alpha) < 0.75))
        lobe = np.select(
            [self._insula(alpha, beta) > 0.45, alpha > 0.30, alpha < -0.60, beta < -0.30],
            [6, 1, 10, 4], default=8,
        )
        region = lobe + right.astype(lobe.dtype)
        return np.where(medial, 3, region).astype(np.uint8)


def _ellipsoid(x: np.ndarray, y: np.ndarray, z: np.ndarray, centre: np.ndarray,
               semi: np.ndarray) -> np.ndarray:
    return (((x - centre[0]) / semi[0]) ** 2 + ((y - centre[1]) / semi[1]) ** 2
            + ((z - centre[2]) / semi[2]) ** 2)


def draw_geometry(
    pma: float, ga: float, thickness: np.ndarray, fov: float, rng: np.random.Generator
) -> BrainGeometry:
    """Draw one brain's geometry.

    Parameters
    ----------
    pma, ga : float
        Postmenstrual age at scan and gestational age at birth (weeks). The WM grows 1.5% (linear
        size) per week of PMA and is 0.4% smaller per week born before 40; the cortex and an
        extra-cerebral CSF layer lie on top of it; folds deepen with PMA; preterm-born brains get
        larger ventricles and more extra-cerebral CSF.
    thickness : numpy.ndarray, shape (11,)
        Regional cortical thickness (mm), label order.
    fov : float
        Smallest side of the field of view (mm).
    rng : numpy.random.Generator
        Source of the subject's random shape details.
    """
    thickness = np.asarray(thickness, dtype=float)
    preterm = max(0.0, 40.0 - ga)
    size = (fov / FOV_REFERENCE) * (1.0 + 0.015 * (pma - 40.0) - 0.004 * preterm)
    size *= float(np.exp(np.clip(rng.normal(0.0, 0.015), -0.03, 0.03)))
    wm_semi = _WM * size * np.exp(np.clip(rng.normal(0.0, 0.015, size=3), -0.03, 0.03))
    csf = 0.3 + 0.03 * preterm + float(rng.uniform(0.0, 0.2))
    envelope = wm_semi + (thickness.max() + csf)
    vent_scale = size * (1.0 + 0.04 * preterm) * float(np.exp(rng.normal(0.0, 0.1)))
    bs_top, bs_dir, bs_radius = _BRAINSTEM
    direction = np.asarray(bs_dir) / np.linalg.norm(bs_dir)
    return BrainGeometry(
        centre=_f32(_CENTRE * size),
        envelope=_f32(envelope),
        wm_semi=_f32(wm_semi),
        thickness=thickness,
        fold_wavelength=10.0 * float(np.exp(rng.normal(0.0, 0.04))),
        fold_depth=max(0.5, (3.4 + 0.1 * (pma - 40.0) - 0.03 * preterm) * fov / FOV_REFERENCE),
        sulcus_half_width=float(thickness.max()) + 0.7,
        insula_depth=1.0 * size,
        phases=np.concatenate([rng.uniform(0.0, 1.0, 2), rng.uniform(0.0, 2 * np.pi, 2)]),
        fissure_half_width=float(thickness.max()) + 0.8,
        callosum_z=_CALLOSUM_Z * size,
        callosum=(0.8 * size, 5.5 * size),
        ventricle=(_f32(np.asarray(_VENTRICLE[0]) * size),
                   _f32(np.asarray(_VENTRICLE[1]) * vent_scale)),
        dgm=(_f32(np.asarray(_DGM[0]) * size), _f32(np.asarray(_DGM[1]) * size)),
        cerebellum=(_f32(np.asarray(_CEREBELLUM[0]) * size),
                    _f32(np.asarray(_CEREBELLUM[1]) * size)),
        brainstem=(_f32(np.asarray(bs_top) * size), _f32(direction), float(bs_radius * size)),
        rotation=_f32(_rotation(np.radians(np.clip(rng.normal(0.0, 3.0, size=3), -6.0, 6.0)))),
    )


def _f32(values: np.ndarray) -> np.ndarray:
    # Single precision keeps the fine-grid field arithmetic in float32 (half the memory traffic).
    return np.asarray(values, dtype=np.float32)


def _rotation(angles: np.ndarray) -> np.ndarray:
    """Rotation matrix for angles (radians) about x, then y, then z."""
    cx, cy, cz = np.cos(angles)
    sx, sy, sz = np.sin(angles)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, -sx], [0.0, sx, cx]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry @ rx
