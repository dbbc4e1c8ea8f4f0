"""One synthetic subject in memory: images, label maps and the true measures (no file I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harmonstats.errors import InputError
from harmonstats.labels import TISSUES
from harmonstats.synth.acquisition import DOMAINS, acquire, original_labels
from harmonstats.synth.anatomy import build_anatomy
from harmonstats.synth.geometry import draw_geometry
from harmonstats.synth.model import REGION_NAMES, ThicknessModel

__all__ = [
    "MIN_FOV_MM",
    "NOMINAL_AREA_WEIGHTS",
    "SubjectSpec",
    "SubjectVolumes",
    "check_grid",
    "grid_affine",
    "synthesize_subject",
]

#: Smallest field of view (shape x spacing, mm) that holds a brain with a real-size cortex.
MIN_FOV_MM = 28.0

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
    thickness : dict of str to float
        True cortical thickness of each region (mm).
    thickness_mean : float
        Cortex-area-weighted mean of the regional thicknesses (mm).
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
    thickness: dict[str, float]
    thickness_mean: float
    volumes: dict[str, float]
    original_bias: float
    affine: np.ndarray


def check_grid(shape: object, spacing: object) -> tuple[int, float]:
    """Validate the grid size (voxels) and voxel size (mm); return them as int and float."""
    if isinstance(shape, bool) or not isinstance(shape, (int, np.integer)):
        raise TypeError(f"shape must be an integer number of voxels, got {shape!r}")
    if shape < 32:
        raise InputError(f"shape must be >= 32 voxels, got {shape}")
    if isinstance(spacing, bool) or not isinstance(spacing, (int, float, np.number)):
        raise TypeError(f"spacing must be a number of mm, got {spacing!r}")
    if not (np.isfinite(spacing) and spacing > 0):
        raise InputError(f"spacing must be a positive number of mm, got {spacing!r}")
    fov = int(shape) * float(spacing)
    if fov < MIN_FOV_MM:
        raise InputError(
            f"shape {shape} at spacing {spacing} mm gives a {fov:g} mm field of view; the brain "
            f"keeps a real-size cortex and needs >= {MIN_FOV_MM:g} mm: use spacing >= "
            f"{MIN_FOV_MM / int(shape):.3g} mm or shape >= {int(np.ceil(MIN_FOV_MM / spacing))}"
        )
    return int(shape), float(spacing)


def grid_affine(shape: int, spacing: float) -> np.ndarray:
    """Diagonal RAS affine of a cubic grid centred on the world origin."""
    affine = np.diag([spacing, spacing, spacing, 1.0])
    affine[:3, 3] = -(shape - 1) / 2.0 * spacing
    return affine


def synthesize_subject(
    spec: SubjectSpec,
    *,
    shape: int = 64,
    spacing: float = 0.5,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    thickness_model: ThicknessModel | None = None,
) -> SubjectVolumes:
    """Generate one subject's images, labels and true measures in memory.

    Parameters
    ----------
    spec : SubjectSpec
        Cohort, ages (weeks) and sex.
    shape : int
        Voxels per side of the cubic grid (>= 32).
    spacing : float
        Voxel size (mm); ``shape * spacing`` must be at least :data:`MIN_FOV_MM`.
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Source of randomness; the same seed gives the same arrays.
    thickness_model : ThicknessModel, optional
        Cortical thickness model (default :class:`~harmonstats.synth.model.ThicknessModel`).

    Returns
    -------
    SubjectVolumes
    """
    shape, spacing = check_grid(shape, spacing)
    model = thickness_model or ThicknessModel()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    regional = model.draw_regional(spec.pma_scan, spec.ga_birth, spec.sex,
                                   NOMINAL_AREA_WEIGHTS, rng)
    geom = draw_geometry(spec.pma_scan, spec.ga_birth, regional, shape * spacing, rng)
    anatomy = build_anatomy(geom, (shape, shape, shape), spacing)
    original, bias = original_labels(anatomy, spec.cohort, rng)
    t2w = acquire(anatomy, DOMAINS[spec.cohort], spacing, rng)
    voxel = spacing**3
    counts = np.bincount(anatomy.labels.ravel(), minlength=len(TISSUES))
    volumes = {name: float(counts[value] * voxel) for value, name in TISSUES.items() if value}
    volumes["icv"] = float(counts[1:].sum() * voxel)
    return SubjectVolumes(
        t2w=t2w,
        truth=anatomy.labels,
        original=original,
        regions=anatomy.regions,
        thickness={name: float(t) for name, t in zip(REGION_NAMES, regional, strict=True)},
        thickness_mean=float(np.sum(anatomy.area_weights * regional)),
        volumes=volumes,
        original_bias=bias,
        affine=grid_affine(shape, spacing),
    )
