"""One synthetic subject in memory: images, label maps and the true measures (no file I/O).

Grids may be cubic (``shape=64``) or not (``shape=(256, 256, 200)``). The brain is scaled to the
field of view (``size="fov"``, the demo's setting) or drawn at real neonatal size
(``size="real"``: cerebrum about 90 x 110 x 75 mm at 40 weeks PMA, in a field of view of about
128 x 128 x 100 mm at 0.5 mm, i.e. ``shape=(256, 256, 200)``), which must then fit the field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harmonstats.errors import InputError
from harmonstats.labels import TISSUES
from harmonstats.synth.acquisition import DOMAINS, acquire, original_labels
from harmonstats.synth.anatomy import build_anatomy
from harmonstats.synth.folding import Folding
from harmonstats.synth.geometry import draw_geometry
from harmonstats.synth.model import REGION_NAMES, ThicknessModel

__all__ = [
    "MIN_FOV_MM",
    "NOMINAL_AREA_WEIGHTS",
    "REAL_SIZE_SHAPE",
    "SubjectSpec",
    "SubjectVolumes",
    "check_grid",
    "grid_affine",
    "synthesize_subject",
]

#: Smallest field of view (shape x spacing, mm) that holds a brain with a real-size cortex.
MIN_FOV_MM = 28.0

#: Grid (voxels at 0.5 mm) of a real-size brain: a 128 x 128 x 100 mm field of view.
REAL_SIZE_SHAPE = (256, 256, 200)

#: Typical share of the WM surface of each region (label order); centres the regional offsets.
NOMINAL_AREA_WEIGHTS = np.array(
    [0.17, 0.17, 0.05, 0.09, 0.09, 0.03, 0.03, 0.09, 0.09, 0.09, 0.09])


@dataclass(frozen=True)
class SubjectSpec:
    """Who a synthetic subject is.

    Parameters
    ----------
    participant_id : str
        Label without ``sub-``.
    cohort : {"source", "target"}
        Acquisition domain.
    ga_birth, pma_scan : float
        Gestational age at birth and postmenstrual age at scan (weeks).
    sex : {"F", "M"}
        Sex.
    """

    participant_id: str
    cohort: str
    ga_birth: float
    pma_scan: float
    sex: str

    def __post_init__(self) -> None:
        if self.cohort not in DOMAINS:
            raise InputError(f"subject {self.participant_id}: cohort must be one of "
                             f"{sorted(DOMAINS)}, got {self.cohort!r}")
        if self.sex not in ("F", "M"):
            raise InputError(f"subject {self.participant_id}: sex must be 'F' or 'M', "
                             f"got {self.sex!r}")
        for name in ("ga_birth", "pma_scan"):
            value = getattr(self, name)
            if not (np.isfinite(value) and 20.0 <= value <= 50.0):
                raise InputError(f"subject {self.participant_id}: {name} must be between 20 and "
                                 f"50 weeks, got {value!r}")


@dataclass(frozen=True)
class SubjectVolumes:
    """One synthetic subject's arrays and true measures.

    Attributes
    ----------
    t2w : numpy.ndarray of float32
        T2w image as the subject's cohort acquires it.
    truth, original : numpy.ndarray of uint8
        True tissue labels, and the labels of the cohort's own pipeline.
    regions : numpy.ndarray of uint8
        True 11 cortical regions on the true cortical GM.
    thickness_map : numpy.ndarray of float32
        True cortical thickness (mm) of each voxel of the true cortical GM, 0 elsewhere.
    touching : numpy.ndarray of bool
        True cortical GM on banks that touch the opposite bank with no CSF between them.
    thickness : dict of str to float
        True cortical thickness of each region: mean of ``thickness_map`` over its voxels (mm).
    thickness_mean : float
        Mean of ``thickness_map`` over the true cortical GM (mm).
    touching_share : float
        Share of the true cortical GM voxels on touching banks.
    volumes : dict of str to float
        Volume of each tissue of ``truth`` (mm3) and ``icv`` (all non-background voxels).
    original_bias : float
        Outward move of the cortex/CSF boundary in ``original`` (mm; 0 for the source).
    affine : numpy.ndarray, shape (4, 4)
        Voxel-to-world (RAS mm) affine.
    """

    t2w: np.ndarray
    truth: np.ndarray
    original: np.ndarray
    regions: np.ndarray
    thickness_map: np.ndarray
    touching: np.ndarray
    thickness: dict[str, float]
    thickness_mean: float
    touching_share: float
    volumes: dict[str, float]
    original_bias: float
    affine: np.ndarray


def check_grid(shape: object, spacing: object) -> tuple[tuple[int, int, int], float]:
    """Validate the grid size (voxels: one int for a cube, or three) and voxel size (mm).

    Returns the shape as a tuple of three ints and the spacing as a float.
    """
    sides = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if len(sides) not in (1, 3):
        raise InputError(f"shape must be one number of voxels or three, got {shape!r}")
    for n in sides:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"shape must be an integer number of voxels, got {shape!r}")
        if n < 32:
            raise InputError(f"shape must be >= 32 voxels, got {shape!r}")
    if isinstance(spacing, bool) or not isinstance(spacing, (int, float, np.number)):
        raise TypeError(f"spacing must be a number of mm, got {spacing!r}")
    if not (np.isfinite(spacing) and spacing > 0):
        raise InputError(f"spacing must be a positive number of mm, got {spacing!r}")
    grid = tuple(int(n) for n in sides) * (3 if len(sides) == 1 else 1)
    fov = min(grid) * float(spacing)
    if fov < MIN_FOV_MM:
        raise InputError(
            f"shape {shape} at spacing {spacing} mm gives a {fov:g} mm field of view; the brain "
            f"keeps a real-size cortex and needs >= {MIN_FOV_MM:g} mm: use spacing >= "
            f"{MIN_FOV_MM / min(grid):.3g} mm or shape >= {int(np.ceil(MIN_FOV_MM / spacing))}"
        )
    return (grid[0], grid[1], grid[2]), float(spacing)


def grid_affine(shape: int | tuple[int, int, int], spacing: float) -> np.ndarray:
    """Diagonal RAS affine of a grid centred on the world origin."""
    sides = np.broadcast_to(np.asarray(shape, dtype=float), (3,))
    affine = np.diag([spacing, spacing, spacing, 1.0])
    affine[:3, 3] = -(sides - 1) / 2.0 * spacing
    return affine


def _check_fits(box: tuple[np.ndarray, np.ndarray], shape: tuple[int, int, int], spacing: float,
                who: str) -> None:
    """Raise if the cerebrum's box (centre, half extent, mm) leaves the field of view (the
    cerebellum and brainstem may reach beyond its lower edge, as in real scans)."""
    centre, half = box
    fov = np.asarray(shape) * spacing
    need = 2.0 * (np.abs(centre) + half)
    if np.any(need > fov):
        raise InputError(
            f"subject {who}: a real-size cerebrum needs a field of view of "
            f"{' x '.join(f'{v:.0f}' for v in need)} mm, the grid {shape} at {spacing:g} mm "
            f"gives {' x '.join(f'{v:.0f}' for v in fov)} mm: use a larger shape"
        )


def synthesize_subject(
    spec: SubjectSpec,
    *,
    shape: int | tuple[int, int, int] = 64,
    spacing: float = 0.5,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    thickness_model: ThicknessModel | None = None,
    size: str = "fov",
    folding: Folding | None = None,
) -> SubjectVolumes:
    """Generate one subject's images, labels and true measures in memory.

    Parameters
    ----------
    spec : SubjectSpec
        Cohort, ages (weeks) and sex.
    shape : int or tuple of 3 int
        Voxels per side of a cubic grid, or along x, y, z (each >= 32).
    spacing : float
        Voxel size (mm); the smallest side of the field of view must be at least
        :data:`MIN_FOV_MM`.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Source of randomness; the same seed gives the same arrays.
    thickness_model : ThicknessModel, optional
        Cortical thickness model (default :class:`~harmonstats.synth.model.ThicknessModel`).
    size : {"fov", "real"}
        Brain scaled to the field of view (default), or at real neonatal size
        (:func:`~harmonstats.synth.geometry.draw_geometry`); a real-size brain that does not fit
        the field of view raises ``ValueError``.
    folding : Folding, optional
        How the cortex folds, e.g. the share of touching banks (default
        :class:`~harmonstats.synth.folding.Folding`).

    Returns
    -------
    SubjectVolumes
    """
    grid, spacing = check_grid(shape, spacing)
    model = thickness_model or ThicknessModel()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    regional = model.draw_regional(spec.pma_scan, spec.ga_birth, spec.sex,
                                   NOMINAL_AREA_WEIGHTS, rng)
    geom = draw_geometry(spec.pma_scan, spec.ga_birth, regional, min(grid) * spacing, rng,
                         size=size, folding=folding)
    if size == "real":
        _check_fits(geom.cerebrum_box(), grid, spacing, spec.participant_id)
    anatomy = build_anatomy(geom, grid, spacing)
    original, bias = original_labels(anatomy, spec.cohort, rng)
    t2w = acquire(anatomy, DOMAINS[spec.cohort], spacing, rng)
    voxel = spacing**3
    counts = np.bincount(anatomy.labels.ravel(), minlength=len(TISSUES))
    volumes = {name: float(counts[value] * voxel) for value, name in TISSUES.items() if value}
    volumes["icv"] = float(counts[1:].sum() * voxel)
    cortex = anatomy.labels == 2
    sums = np.bincount(anatomy.regions[cortex], weights=anatomy.truth[cortex], minlength=12)
    n = np.bincount(anatomy.regions[cortex], minlength=12)
    means = np.where(n > 0, sums / np.maximum(n, 1), np.nan)[1:]
    return SubjectVolumes(
        t2w=t2w,
        truth=anatomy.labels,
        original=original,
        regions=anatomy.regions,
        thickness_map=anatomy.truth,
        touching=anatomy.touching,
        thickness={name: float(t) for name, t in zip(REGION_NAMES, means, strict=True)},
        thickness_mean=float(anatomy.truth[cortex].mean()) if cortex.any() else float("nan"),
        touching_share=float(anatomy.touching.sum() / max(int(cortex.sum()), 1)),
        volumes=volumes,
        original_bias=bias,
        affine=grid_affine(grid, spacing),
    )
