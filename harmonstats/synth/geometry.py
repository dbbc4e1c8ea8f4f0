"""Shape of a synthetic neonatal brain: continuous (implicit) fields evaluated at any point.

All positions are in mm, in the brain's own RAS axes (x: left -> right, y: posterior ->
anterior, z: inferior -> superior), with the origin at the centre of the field of view; the brain
is turned a few degrees against the world's axes (:meth:`BrainGeometry.brain_coordinates`).

Size. The layout is a term brain at real size (cerebrum about 90 x 110 x 75 mm, the outer
cortical surface an ellipsoid), grown 1.5% (linear size) per week of postmenstrual age (PMA) and
0.4% smaller per week born before 40 weeks. ``size="real"`` draws it so; ``size="fov"`` (the
default, as the demo uses) scales the brain to the field of view instead: a 32 mm field holds a
brain 0.229 times the real size. In both, the cortex, the CSF gaps and the rounding of the gyri
keep their real size in mm, so a scaled-down brain has fewer, relatively wider gyri and more
cortex for its volume than a real one.

Construction, from the outside in. The cerebral tissue is the outer ellipsoid (with a shallow
insular pit) less its CSF: the interhemispheric fissure (down to the corpus callosum over its
length, through the whole height in front of and behind it), a gap around the cerebellum, and
the open mouths of the sulci (:mod:`harmonstats.synth.folding`). The closed, deep parts of the
sulci are sheets of zero thickness where two banks of cortex touch. The outer (pial) surface of
the cortex is the boundary of the tissue together with these sheets; the WM is the tissue
farther than the local thickness from it. So each bank of a touching sulcus is drawn from its own
side of the sheet with its own thickness, every cortical point has a known true thickness (its
distance to the WM plus its distance to the pial surface, see
:mod:`harmonstats.synth.anatomy`), gyri are WM cores capped by cortex, and the WM has no edge
sharper than the rounding of the sulcal lips minus the cortex (``lip - thickness >= 0.5`` mm).

Thickness varies within a region: each region's drawn thickness (blended over a few degrees at
region borders, so the WM surface has no steps) is raised on gyral crowns and lowered at the
floors of the sulci (:attr:`Folding.crown_fundus`), plus a smooth random variation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harmonstats.errors import InputError
from harmonstats.synth.folding import Folding, SulcalPattern, draw_sulci, smoothstep

__all__ = ["FOV_REFERENCE", "FOV_SCALE", "REAL_SEMI_AXES", "BrainGeometry", "draw_geometry",
           "lip_widening"]

#: Field of view (mm) whose brain is :data:`FOV_SCALE` times the real size (``size="fov"``).
FOV_REFERENCE = 32.0
#: Linear size, relative to a real brain, of the brain drawn in a :data:`FOV_REFERENCE` field.
FOV_SCALE = 0.229
#: Semi-axes (mm) of the outer cortical surface of a real term brain (90 x 110 x 75 mm).
REAL_SEMI_AXES = np.array([45.0, 55.0, 37.5])

# Real-size layout of a term brain (mm), centred in height on the cerebrum and cerebellum (the
# cerebellum reaches 12 mm below the cerebrum: 87 mm in all).
_CENTRE = np.array([0.0, 0.0, 6.0])
_CALLOSUM_Z = 9.9
_CALLOSUM = (1.3, 24.0)
_VENTRICLE = ((10.0, 2.2, 3.4), (3.5, 19.7, 3.9))
_DGM = ((10.5, -3.1, -6.6), (9.6, 15.3, 8.7))
_CEREBELLUM = ((0.0, -37.2, -28.7), (29.7, 16.6, 14.8))
_BRAINSTEM = ((0.0, -13.1, -11.5), (0.0, -0.25, -1.0), 9.2)
_INSULA_DEPTH = 4.4
_FISSURE_HALF_WIDTH = 0.8
_CEREBELLAR_GAP = 0.8
# The corpus callosum: WM under the fissure's floor, reaching this far (mm) beyond the thickest
# cortex on the fissure's walls and below its floor (the walls' cortex ends on it).
_CALLOSUM_OVERLAP = 0.5
# Sulcal spacing and depth: (size="fov", size="real"), mm.
_WAVELENGTH = (10.0, 8.5)
#: Radius (mm) by which the lips of the sulci exceed the thickest cortex.
_LIP_MARGIN = 0.5
# Crowns and fundi: thickness falls from crown to fundus over the depth of a real brain's sulci
# (mm, the same in a scaled-down brain: thickness keeps real mm, and so does its gradient), from
# ``1 + crown_fundus * _CROWN_SHARE`` times the region's thickness at the crown.
_FUNDUS_DEPTH = 10.0
_CROWN_SHARE = 0.4


def lip_widening(depth: np.ndarray, radius: float) -> np.ndarray:
    """How far (mm) a rounded lip of ``radius`` widens a gap ``depth`` mm below the surface.

    A quarter circle: ``radius`` at the surface, nothing at ``radius`` deep and below.
    """
    q = np.clip(radius - depth, 0.0, radius)
    return radius - np.sqrt(np.maximum(radius * radius - q * q, 0.0))


@dataclass(frozen=True)
class BrainGeometry:
    """Every number that fixes one synthetic brain's shape (lengths in mm).

    Attributes
    ----------
    centre, pial, envelope : numpy.ndarray, shape (3,)
        Centre of the cerebrum and semi-axes of its outer cortical surface and of the CSF
        envelope around it.
    thickness : numpy.ndarray, shape (11,)
        Drawn cortical thickness of the 11 regions, label order (mm).
    sulci : SulcalPattern
        The sulci.
    crown_fundus : float
        Relative thickness difference between crowns and fundi (:class:`Folding`).
    variation : numpy.ndarray, shape (8, 5)
        Smooth random thickness variation: rows of (amplitude mm, wave vector 1/mm, phase).
    insula_depth, fissure_half_width, callosum_z : float
        Depth of the insular pit, half width of the interhemispheric fissure's CSF, height of
        the corpus callosum (the fissure's floor over its length).
    callosum : tuple of float
        Antero-posterior centre and half length of the corpus callosum.
    ventricle, dgm, cerebellum : tuple of numpy.ndarray
        (centre, semi-axes) of the right lateral ventricle / deep GM (mirrored for the left)
        and of the cerebellum.
    cerebellar_gap : float
        CSF between the cerebrum and the cerebellum.
    brainstem : tuple
        (top point, unit direction, radius) of the brainstem cylinder.
    rotation : numpy.ndarray, shape (3, 3)
        Rotation from the brain's axes to the world's (a few degrees about each axis).
    """

    centre: np.ndarray
    pial: np.ndarray
    envelope: np.ndarray
    thickness: np.ndarray
    sulci: SulcalPattern
    crown_fundus: float
    variation: np.ndarray
    insula_depth: float
    fissure_half_width: float
    callosum_z: float
    callosum: tuple[float, float]
    ventricle: tuple[np.ndarray, np.ndarray]
    dgm: tuple[np.ndarray, np.ndarray]
    cerebellum: tuple[np.ndarray, np.ndarray]
    cerebellar_gap: float
    brainstem: tuple[np.ndarray, np.ndarray, float]
    rotation: np.ndarray

    def brain_coordinates(self, x: np.ndarray, y: np.ndarray, z: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World positions (mm) -> the brain's own axes, in which every other method works.

        The brain is turned by :attr:`rotation` about the centre of the field of view, as a
        head never lies exactly square in the scanner; this also keeps its flat faces (the
        fissure's walls) off the voxel grid.
        """
        r = self.rotation
        return (r[0, 0] * x + r[1, 0] * y + r[2, 0] * z,
                r[0, 1] * x + r[1, 1] * y + r[2, 1] * z,
                r[0, 2] * x + r[1, 2] * y + r[2, 2] * z)

    def world_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre and half extent (mm, world axes) of a box holding the cerebrum and cerebellum."""
        c, s = self.cerebellum
        low = np.minimum(self.centre - self.envelope, c - s - 1.0)
        high = np.maximum(self.centre + self.envelope, c + s + 1.0)
        mid, half = (low + high) / 2.0, (high - low) / 2.0
        return self.rotation @ mid, np.abs(self.rotation) @ half

    def cerebrum_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre and half extent (mm, world axes) of the cerebrum's CSF envelope (an ellipsoid,
        turned by :attr:`rotation`)."""
        half = np.sqrt((self.rotation.astype(float) ** 2) @ (self.envelope.astype(float) ** 2))
        return self.rotation @ self.centre, half

    @property
    def lip(self) -> float:
        """Radius (mm) of the rounded lips of the sulci and of the fissure."""
        return self.sulci.lip

    # -- analytic fields ---------------------------------------------------------------------
    def _angles(self, x: np.ndarray, y: np.ndarray, z: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Ellipsoidal radius, AP (alpha) and elevation (beta) angles, and the distance (mm)
        from the centre to the outer surface along each point's ray."""
        dx, dy, dz = x - self.centre[0], y - self.centre[1], z - self.centre[2]
        u, v, w = dx / self.pial[0], dy / self.pial[1], dz / self.pial[2]
        rho = np.maximum(np.sqrt(u * u + v * v + w * w), 1e-6)
        alpha = np.arcsin(np.clip(v / rho, -1.0, 1.0))
        beta = np.arctan2(w, np.abs(u))
        radius = np.sqrt(dx * dx + dy * dy + dz * dz) / rho
        return rho, alpha, beta, radius

    def _insula(self, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * (alpha / 0.30) ** 2 - 0.5 * ((beta + 0.15) / 0.32) ** 2)

    def cortex_fields(self, x: np.ndarray, y: np.ndarray, z: np.ndarray
                      ) -> dict[str, np.ndarray]:
        """The fields the cortex is built from, at the points.

        Returns
        -------
        dict
            ``tissue``: level of the cerebral tissue (negative inside, about the distance in mm
            nearby); ``sheet``: distance (mm) to the closed (touching) parts of the sulci, inf
            where there are none; ``regional``: the drawn regional thickness (mm, blended at
            region borders); ``thickness``: the local cortical thickness (mm) the WM
            surface keeps from the pial surface; ``wm_extra``: level (negative inside) of what
            is WM whatever its distance to the pial surface (the corpus callosum, a collar around
            the brainstem).
        """
        rho, alpha, beta, radius = self._angles(x, y, z)
        insula = self._insula(alpha, beta)
        # Depth (mm) below the outer surface along the ray, the insular pit included.
        depth = radius * (1.0 - rho) - self.insula_depth * insula
        tissue = -depth
        sheet = np.full(np.broadcast(x, y, z).shape, np.inf, dtype=np.float32)
        lip = lip_widening(depth, self.lip)
        for offset, deep, closing, gap in self.sulci.sheets(rho, alpha, beta, radius, self.pial):
            half = 0.5 * gap * smoothstep((closing - depth) / self.sulci.taper) + lip
            mouth = np.where(depth < closing, np.abs(offset) - half, np.inf)
            tissue = np.maximum(tissue, -mouth)
            below = np.maximum(depth - deep, 0.0)
            above = np.maximum(closing - depth, 0.0)
            dist = np.sqrt(offset * offset + below * below + above * above)
            sheet = np.minimum(sheet, np.where(deep > closing + 1e-3, dist, np.inf))
        tissue = np.maximum(tissue, -self._fissure(x, y, z, lip))
        c, s = self.cerebellum
        gap = s + self.cerebellar_gap
        cerebellum = (np.sqrt(_ellipsoid(x, y, z, c, gap)) - 1.0) * float(np.mean(gap))
        tissue = np.maximum(tissue, -cerebellum)
        regional = self.region_thickness(x, y, z, alpha, beta)
        # The corpus callosum (under the fissure's floor) and a collar around the brainstem are
        # WM whatever their distance to the pial surface: no cortex covers them, and none
        # touches the brainstem.
        cap = self.sulci.thickness_cap
        callosum = np.maximum(np.maximum(np.abs(x - self.centre[0]) - self.fissure_half_width
                                         - cap - _CALLOSUM_OVERLAP,
                                         np.abs(y - self.callosum[0]) - self.callosum[1]),
                              np.maximum(z - self.callosum_z,
                                         self.callosum_z - z - cap - _CALLOSUM_OVERLAP))
        collar = np.maximum(self._brainstem(x, y, z) - self.sulci.thickness_cap, tissue)
        return {"tissue": tissue.astype(np.float32), "sheet": sheet,
                "regional": regional.astype(np.float32),
                "thickness": self._thickness(x, y, z, regional, depth).astype(np.float32),
                "wm_extra": np.minimum(callosum, collar).astype(np.float32)}

    def _fissure(self, x: np.ndarray, y: np.ndarray, z: np.ndarray, lip: np.ndarray
                 ) -> np.ndarray:
        """Level of the interhemispheric fissure's CSF (negative inside), lips rounded."""
        callosum_end = np.abs(y - self.callosum[0]) - self.callosum[1]
        floor = np.minimum(self.callosum_z - z, -callosum_end)
        return np.maximum(np.abs(x - self.centre[0]) - self.fissure_half_width - lip, floor)

    def _brainstem(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        top, direction, radius = self.brainstem
        dx, dy, dz = x - top[0], y - top[1], z - top[2]
        along = dx * direction[0] + dy * direction[1] + dz * direction[2]
        radial = np.sqrt(np.maximum(dx * dx + dy * dy + dz * dz - along * along, 0.0))
        return np.maximum(radial - radius, -along)

    def _thickness(self, x: np.ndarray, y: np.ndarray, z: np.ndarray, regional: np.ndarray,
                   depth: np.ndarray) -> np.ndarray:
        """Local cortical thickness (mm): regions blended, crowns thicker, fundi thinner."""
        fundus = np.clip((depth - regional) / _FUNDUS_DEPTH, 0.0, 1.0)
        out = regional * (1.0 + self.crown_fundus * (_CROWN_SHARE - fundus))
        for amp, kx, ky, kz, phase in self.variation:
            out = out + amp * np.cos(kx * x + ky * y + kz * z + phase)
        return out

    def region_thickness(self, x: np.ndarray, y: np.ndarray, z: np.ndarray,
                         alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """The drawn regional thickness (mm) of each point's direction, blended at borders.

        The same rules as :meth:`regions`, each threshold softened over a few degrees.
        """
        def soft(value: np.ndarray, width: float = 0.08) -> np.ndarray:
            return 0.5 * (1.0 + np.tanh(value / width))

        t = self.thickness
        right = x >= self.centre[0]
        order = [soft(self._insula(alpha, beta) - 0.45, 0.1), soft(alpha - 0.30),
                 soft(-0.60 - alpha), soft(-0.30 - beta)]
        lobes = (6, 1, 10, 4)
        rest = np.ones_like(alpha)
        out = np.zeros_like(alpha)
        for weight, lobe in zip(order, lobes, strict=True):
            out = out + rest * weight * np.where(right, t[lobe], t[lobe - 1])
            rest = rest * (1.0 - weight)
        out = out + rest * np.where(right, t[8], t[7])
        medial = self._medial(x, z, alpha, soft=True)
        return medial * t[2] + (1.0 - medial) * out

    def _medial(self, x: np.ndarray, z: np.ndarray, alpha: np.ndarray, *, soft: bool
                ) -> np.ndarray:
        """Cingulate: the lower medial wall along the fissure (a mask, or blended weights)."""
        top = self.centre[2] + self.pial[2]
        conditions = (self.fissure_half_width + 2.0 - np.abs(x - self.centre[0]),
                      z - self.callosum_z,
                      self.callosum_z + 0.55 * (top - self.callosum_z) - z,
                      (0.75 - np.abs(alpha)) * float(np.mean(self.pial)))
        if not soft:
            return np.logical_and.reduce([c > 0 for c in conditions])
        out = np.ones(np.broadcast(*conditions).shape)
        for c in conditions:
            out = out * 0.5 * (1.0 + np.tanh(c / 1.0))
        return out

    def structures(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict[str, np.ndarray]:
        """Masks of the envelope, ventricles, deep GM, cerebellum and brainstem."""
        cerebellum = _ellipsoid(x, y, z, *self.cerebellum) < 1.0
        top, direction, radius = self.brainstem
        dx, dy, dz = x - top[0], y - top[1], z - top[2]
        along = dx * direction[0] + dy * direction[1] + dz * direction[2]
        radial2 = dx * dx + dy * dy + dz * dz - along * along
        brainstem = (along > 0.0) & (radial2 < radius**2)
        sheath = (along > -0.5) & (radial2 < (radius + 0.5) ** 2)
        c, s = self.cerebellum
        envelope = ((_ellipsoid(x, y, z, self.centre, self.envelope) < 1.0)
                    | (_ellipsoid(x, y, z, c, s + self.cerebellar_gap + 0.2) < 1.0) | sheath)
        vc, vs = self.ventricle
        dc, ds = self.dgm
        mirror = np.array([-1.0, 1.0, 1.0], dtype=np.float32)
        ventricles = ((_ellipsoid(x, y, z, vc, vs) < 1.0)
                      | (_ellipsoid(x, y, z, vc * mirror, vs) < 1.0))
        dgm = (_ellipsoid(x, y, z, dc, ds) < 1.0) | (_ellipsoid(x, y, z, dc * mirror, ds) < 1.0)
        return {"envelope": envelope, "ventricles": ventricles, "dgm": dgm,
                "cerebellum": cerebellum, "brainstem": brainstem}

    def regions(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Cortical region (1..11, :data:`harmonstats.labels.REGIONS`) of each point's direction.

        Regions are cones from the centre of the cerebrum, laid out like lobes: frontal
        anterior, occipital posterior, temporal lateral-inferior, insula deep lateral (the pit),
        parietal superior-posterior; the cingulate is the lower medial wall along the fissure.
        """
        _rho, alpha, beta, _radius = self._angles(x, y, z)
        right = x >= self.centre[0]
        lobe = np.select(
            [self._insula(alpha, beta) > 0.45, alpha > 0.30, alpha < -0.60, beta < -0.30],
            [6, 1, 10, 4], default=8,
        )
        region = lobe + right.astype(lobe.dtype)
        return np.where(self._medial(x, z, alpha, soft=False), 3, region).astype(np.uint8)


def _ellipsoid(x: np.ndarray, y: np.ndarray, z: np.ndarray, centre: np.ndarray,
               semi: np.ndarray) -> np.ndarray:
    return (((x - centre[0]) / semi[0]) ** 2 + ((y - centre[1]) / semi[1]) ** 2
            + ((z - centre[2]) / semi[2]) ** 2)


def draw_geometry(
    pma: float,
    ga: float,
    thickness: np.ndarray,
    fov: float,
    rng: np.random.Generator,
    *,
    size: str = "fov",
    folding: Folding | None = None,
) -> BrainGeometry:
    """Draw one brain's geometry.

    Parameters
    ----------
    pma, ga : float
        Postmenstrual age at scan and gestational age at birth (weeks). The brain grows 1.5%
        (linear size) per week of PMA and is 0.4% smaller per week born before 40; sulci
        deepen with PMA; preterm-born brains get larger ventricles and more extra-cerebral CSF.
    thickness : numpy.ndarray, shape (11,)
        Regional cortical thickness (mm), label order.
    fov : float
        Smallest side of the field of view (mm); sets the brain's size when ``size="fov"``.
    rng : numpy.random.Generator
        Source of the subject's random shape details.
    size : {"fov", "real"}
        ``"fov"``: the brain scaled to the field of view (:data:`FOV_SCALE` of the real size in
        a :data:`FOV_REFERENCE` mm field); ``"real"``: real neonatal size.
    folding : Folding, optional
        How the cortex folds (default :class:`Folding`).
    """
    if size not in ("fov", "real"):
        raise InputError(f"size must be 'fov' or 'real', got {size!r}")
    folding = folding or Folding()
    thickness = np.asarray(thickness, dtype=float)
    real = size == "real"
    preterm = max(0.0, 40.0 - ga)
    growth = 1.0 + 0.015 * (pma - 40.0) - 0.004 * preterm
    scale = (1.0 if real else FOV_SCALE * fov / FOV_REFERENCE) * growth
    scale *= float(np.exp(np.clip(rng.normal(0.0, 0.015), -0.03, 0.03)))
    pial = REAL_SEMI_AXES * scale * np.exp(np.clip(rng.normal(0.0, 0.015, size=3), -0.03, 0.03))
    csf = 0.3 + 0.03 * preterm + float(rng.uniform(0.0, 0.2))
    vent_scale = scale * (1.0 + 0.04 * preterm) * float(np.exp(rng.normal(0.0, 0.1)))
    if real:
        depth = 12.0 + 0.25 * (pma - 40.0) - 0.07 * preterm
    else:
        depth = (3.4 + 0.1 * (pma - 40.0) - 0.03 * preterm) * fov / FOV_REFERENCE
    cap = float(thickness.max()) * (1.0 + folding.crown_fundus * _CROWN_SHARE)
    cap += 3.0 * folding.thickness_sd
    sulci = draw_sulci(rng, wavelength=_WAVELENGTH[real] * float(np.exp(rng.normal(0.0, 0.04))),
                       depth=max(0.5, depth), lip=cap + _LIP_MARGIN, thickness_cap=cap,
                       folding=folding)
    bs_top, bs_dir, bs_radius = _BRAINSTEM
    direction = np.asarray(bs_dir) / np.linalg.norm(bs_dir)
    return BrainGeometry(
        centre=_f32(_CENTRE * scale),
        pial=_f32(pial),
        envelope=_f32(pial + csf),
        thickness=thickness,
        sulci=sulci,
        crown_fundus=float(folding.crown_fundus),
        variation=_variation(rng, folding.thickness_sd, 30.0 * scale),
        insula_depth=_INSULA_DEPTH * scale,
        fissure_half_width=_FISSURE_HALF_WIDTH,
        callosum_z=_CALLOSUM_Z * scale,
        callosum=(_CALLOSUM[0] * scale, _CALLOSUM[1] * scale),
        ventricle=(_f32(np.asarray(_VENTRICLE[0]) * scale),
                   _f32(np.asarray(_VENTRICLE[1]) * vent_scale)),
        dgm=(_f32(np.asarray(_DGM[0]) * scale), _f32(np.asarray(_DGM[1]) * scale)),
        cerebellum=(_f32(np.asarray(_CEREBELLUM[0]) * scale),
                    _f32(np.asarray(_CEREBELLUM[1]) * scale)),
        cerebellar_gap=_CEREBELLAR_GAP,
        brainstem=(_f32(np.asarray(bs_top) * scale), _f32(direction), float(bs_radius * scale)),
        rotation=_f32(_rotation(np.radians(np.clip(rng.normal(0.0, 3.0, size=3), -6.0, 6.0)))),
    )


def _variation(rng: np.random.Generator, sd: float, wavelength: float) -> np.ndarray:
    """Eight random plane waves of ``wavelength`` mm whose sum has SD ``sd`` (mm)."""
    n = 8
    direction = rng.normal(size=(n, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    k = direction * (2.0 * np.pi / wavelength) * np.exp(rng.normal(0.0, 0.2, size=(n, 1)))
    amp = np.full((n, 1), sd * np.sqrt(2.0 / n))
    return np.hstack([amp, k, rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))]).astype(np.float32)


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
