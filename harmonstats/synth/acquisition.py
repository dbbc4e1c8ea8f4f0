"""The two acquisition domains: T2w images from tissue fractions, and each cohort's own labels.

Source (dHCP-like): isotropic, sharp (Gaussian PSF of 0.3 mm SD), high SNR (noise SD 2% of the
CSF signal), a faint bias field (SD 3%), neonatal T2w contrast: CSF brightest, unmyelinated WM
brighter than cortex, cortex darkest, deep GM between.

Target (ePrime-like, paper section 2.1: 0.86 x 0.86 x 2 mm voxels linearly up-sampled to
0.5 mm): pixels of 0.86 mm in-plane and contiguous axial slices 2 mm thick, each box-sampled and
linearly up-sampled back to the grid as in the paper's pre-processing; lower SNR (noise SD 4.5% of
the source CSF signal), a strong bias field (SD 12%), lower GM/CSF contrast (CSF/GM signal 1.66
against the source's 3.3) and lower GM/WM contrast, hence much more partial volume at the
cortex/CSF boundary: a model trained on the source loses several points of Dice there.

Original labels (what each cohort's own pipeline, e.g. Draw-EM, gave): the true labels with both
cortical boundaries moved by a smooth random field (SD 0.05 mm) in both cohorts; in the target
cohort the cortex/CSF boundary is moved outwards by a further ``bias ~ N(0.2, 0.03^2)`` mm, so
cortical GM is over-estimated at the CSF boundary and thickness measured on the target's original
labels is about 0.2 mm higher than the truth (the paper: 1.93 vs 1.73 mm in matched subsets).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, sections 2.1 and 3.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from harmonstats.synth.anatomy import Anatomy, label_tissues

__all__ = ["DOMAINS", "ORIGINAL_BIAS", "Domain", "acquire", "original_labels", "smooth_field",
           "thick_slices"]

#: Mean and SD (mm) of the outward move of the target's original cortex/CSF boundary.
ORIGINAL_BIAS: dict[str, tuple[float, float]] = {"source": (0.0, 0.0), "target": (0.2, 0.03)}
_BOUNDARY_NOISE = 0.05


@dataclass(frozen=True)
class Domain:
    """How one cohort's scanner and protocol render tissue into a T2w image.

    Parameters
    ----------
    name : str
        ``"source"`` or ``"target"``.
    intensities : tuple of float
        Signal of each tissue class in label order (background, CSF, cGM, WM, dGM,
        cerebellum, brainstem), CSF of the source = 1.
    noise : float
        SD of the Gaussian noise in each of the two quadrature channels (Rician magnitude).
    psf_mm : tuple of float
        SD (mm) of the Gaussian point-spread function along x, y, z.
    slice_thickness, slice_step : float or None
        Thickness and spacing (mm) of the axial slices, or None for an isotropic acquisition.
    bias : float
        SD of the log bias field.
    texture : float
        SD of the smooth within-tissue intensity variation (relative).
    inplane_mm : float or None
        In-plane pixel size of the acquisition (mm): x and y are sampled in boxes this wide
        and linearly up-sampled back to the grid; None for an acquisition at the grid's
        resolution.
    """

    name: str
    intensities: tuple[float, ...]
    noise: float
    psf_mm: tuple[float, float, float]
    slice_thickness: float | None
    slice_step: float | None
    bias: float
    texture: float
    inplane_mm: float | None = None


DOMAINS: dict[str, Domain] = {
    "source": Domain("source", (0.0, 1.0, 0.30, 0.70, 0.48, 0.40, 0.36), noise=0.02,
                     psf_mm=(0.3, 0.3, 0.3), slice_thickness=None, slice_step=None,
                     bias=0.03, texture=0.02),
    "target": Domain("target", (0.0, 0.78, 0.47, 0.64, 0.52, 0.47, 0.44), noise=0.045,
                     psf_mm=(0.2, 0.2, 0.2), slice_thickness=2.0, slice_step=2.0,
                     bias=0.12, texture=0.02, inplane_mm=0.86),
}


def smooth_field(shape: tuple[int, ...], rng: np.random.Generator, *, cells: int = 4) -> np.ndarray:
    """A smooth random field of unit SD: ``cells^3`` random values, Gaussian-interpolated.

    Separable (one small weight matrix per axis), so it costs a few tensor contractions.
    """
    coarse = rng.normal(0.0, 1.0, size=(cells,) * len(shape))
    field = coarse
    for axis, n in enumerate(shape):
        pos = (np.arange(n) + 0.5) / n * cells - 0.5
        weights = np.exp(-0.5 * (pos[:, None] - np.arange(cells)[None, :]) ** 2)
        weights /= weights.sum(axis=1, keepdims=True)
        field = np.moveaxis(np.tensordot(weights, field, axes=([1], [axis])), 0, axis)
    return (field - field.mean()) / max(float(field.std()), 1e-12)


def _resample_last(arr: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``arr`` along its last axis at ``positions`` (voxel units)."""
    n = arr.shape[-1]
    if n == 1:
        return np.repeat(arr, len(positions), axis=-1)
    pos = np.clip(positions, 0.0, n - 1.0)
    i0 = np.minimum(np.floor(pos).astype(int), n - 2)
    w = pos - i0
    return arr[..., i0] * (1.0 - w) + arr[..., i0 + 1] * w


def thick_slices(img: np.ndarray, spacing: float, thickness: float, step: float,
                 axis: int = 2) -> np.ndarray:
    """Acquire ``img`` in slabs ``thickness`` mm thick every ``step`` mm along ``axis``, then
    up-sample linearly back to the grid (what a scanner's slices and the usual resampling do).

    Parameters
    ----------
    img : numpy.ndarray
        Volume on a grid of ``spacing`` mm.
    spacing : float
        Voxel size of the grid along ``axis`` (mm).
    thickness, step : float
        Slab thickness (box profile) and slab spacing (mm); ``step < thickness`` overlaps.
    axis : int
        Slice direction.
    """
    half = thickness / spacing / 2.0
    reach = int(np.ceil(half))
    offsets = np.arange(-reach, reach + 1)
    weights = np.clip(np.minimum(offsets + 0.5, half) - np.maximum(offsets - 0.5, -half), 0, None)
    slabs = ndimage.correlate1d(img, weights / weights.sum(), axis=axis, mode="nearest")
    slabs = np.moveaxis(slabs, axis, -1)
    n = img.shape[axis]
    step_vox = step / spacing
    centres = np.arange(0.0, n - 1 + 1e-9, step_vox)
    if centres[-1] < n - 1:
        centres = np.append(centres, centres[-1] + step_vox)
    sampled = _resample_last(slabs, centres)
    return np.moveaxis(_resample_last(sampled, np.arange(n) / step_vox), -1, axis)


def acquire(anatomy: Anatomy, domain: Domain, spacing: float,
            rng: np.random.Generator) -> np.ndarray:
    """Render a T2w image of ``anatomy`` as ``domain`` acquires it.

    Parameters
    ----------
    anatomy : Anatomy
        The voxelised brain (its tissue fractions give partial volume).
    domain : Domain
        Acquisition domain.
    spacing : float
        Voxel size (mm).
    rng : numpy.random.Generator
        Source of the texture, bias field and noise.

    Returns
    -------
    numpy.ndarray of float32
        The skull-stripped image (0 outside the brain mask, i.e. where the true labels are 0).
    """
    shape = anatomy.labels.shape
    img = np.tensordot(np.asarray(domain.intensities), anatomy.fractions, axes=1)
    img *= 1.0 + domain.texture * smooth_field(shape, rng, cells=8)
    img = ndimage.gaussian_filter(img, [s / spacing for s in domain.psf_mm], mode="nearest")
    if domain.inplane_mm is not None:
        for axis in (0, 1):
            img = thick_slices(img, spacing, domain.inplane_mm, domain.inplane_mm, axis=axis)
    if domain.slice_thickness is not None and domain.slice_step is not None:
        img = thick_slices(img, spacing, domain.slice_thickness, domain.slice_step)
    img *= np.exp(domain.bias * smooth_field(shape, rng, cells=3))
    real = img + rng.normal(0.0, domain.noise, size=shape)
    imag = rng.normal(0.0, domain.noise, size=shape)
    img = np.sqrt(real * real + imag * imag)
    img[anatomy.labels == 0] = 0.0
    return img.astype(np.float32)


def original_labels(anatomy: Anatomy, cohort: str,
                    rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """The labels the cohort's own pipeline would give, and the cortex/CSF bias used (mm).

    Both cortical boundaries move by smooth random fields of SD 0.05 mm; in the target cohort
    the cortex/CSF boundary also moves outwards by a subject bias (:data:`ORIGINAL_BIAS`). The
    cortex only grows into CSF; the other tissues are those of the truth.
    """
    mean, sd = ORIGINAL_BIAS[cohort]
    bias = float(mean + sd * rng.normal()) if sd > 0 else float(mean)
    shape = anatomy.labels.shape
    wm_shift = _BOUNDARY_NOISE * smooth_field(shape, rng, cells=6)
    pial_shift = bias + _BOUNDARY_NOISE * smooth_field(shape, rng, cells=6)
    labels = label_tissues(anatomy.depth, anatomy.thickness_field, anatomy.structures,
                           wm_shift=wm_shift, pial_shift=pial_shift)
    return labels, bias
