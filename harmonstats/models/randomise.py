"""Domain randomisation: training images rendered from label maps alone (SynthSeg's idea).

Every training sample's image is drawn anew from its label map: each tissue gets a random mean
intensity and within-tissue spread (a Gaussian mixture with random parameters, any contrast
order), the image is acquired at a random resolution (random slab thickness and spacing along
each axis, one axis often much coarser, as thick slices are), then goes through a random bias
field, gamma, Rician-like noise and motion, and is masked to the brain and normalised exactly as
real images are before the network. A segmenter trained on such images sees no target (or
source) image at all and so cannot overfit to one scanner's contrast.

As in TorchIO, a random transform only draws parameters (:class:`RandomRendering` ->
:class:`RenderParameters`) and hands them to a deterministic one (:class:`Rendering`), so every
image can be replayed from the parameters recorded in the subject's history.

References
----------
Billot B. et al. (2023). SynthSeg: segmentation of brain MRI scans of any contrast and
resolution without retraining. Medical Image Analysis 86, 102789.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchio as tio
from torchio.transforms.augmentation import RandomTransform

from harmonstats.models.config import AugmentConfig, RandomiseConfig
from harmonstats.models.data import image_of, normalise_intensity
from harmonstats.synth.acquisition import thick_slices

__all__ = ["MaskAndNormalise", "RandomRendering", "RenderParameters", "Rendering",
           "build_randomisation", "render_labels"]


@dataclass(frozen=True)
class RenderParameters:
    """Everything that makes one rendered image.

    Parameters
    ----------
    means, stds : tuple of float
        Mean and SD of each label's intensity (label order; the background stays 0).
    thickness_mm, step_mm : tuple of float
        Slab thickness and slab spacing along each axis (mm); the grid's spacing along an axis
        means no resampling there.
    seed : int
        Seed of the within-tissue variation.
    """

    means: tuple[float, ...]
    stds: tuple[float, ...]
    thickness_mm: tuple[float, float, float]
    step_mm: tuple[float, float, float]
    seed: int


def render_labels(labels: np.ndarray, params: RenderParameters, spacing: float) -> np.ndarray:
    """The image of a label map under ``params`` (float32, 0 outside the brain).

    Parameters
    ----------
    labels : numpy.ndarray of int
        Tissue labels (0 background) on a grid of ``spacing`` mm.
    params : RenderParameters
        Drawn by :class:`RandomRendering`.
    spacing : float
        Voxel size (mm).
    """
    n_labels = len(params.means)
    if labels.min() < 0 or labels.max() >= n_labels:
        raise ValueError(f"label values must be in [0, {n_labels}), got {labels.min()}.."
                         f"{labels.max()}")
    rng = np.random.default_rng(params.seed)
    means = np.asarray(params.means, dtype=np.float32)
    stds = np.asarray(params.stds, dtype=np.float32)
    img = means[labels] + stds[labels] * rng.standard_normal(labels.shape, dtype=np.float32)
    for axis, (thick, step) in enumerate(zip(params.thickness_mm, params.step_mm, strict=True)):
        if thick > spacing * 1.01 or step > spacing * 1.01:
            img = thick_slices(img, spacing, max(thick, spacing), step, axis=axis)
    img[labels == 0] = 0.0
    return img.astype(np.float32)


class Rendering(tio.Transform):
    """Replace a subject's ``image`` by the rendering of its ``label`` under fixed parameters."""

    def __init__(self, params: RenderParameters, spacing: float, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.params = params
        self.spacing = spacing
        self.args_names = ["params", "spacing"]

    def apply_transform(self, subject: tio.Subject) -> tio.Subject:
        """Render ``label`` into ``image`` (same grid)."""
        labels = image_of(subject, "label").data[0].numpy().astype(np.int64)
        img = render_labels(labels, self.params, self.spacing)
        image_of(subject, "image").set_data(torch.from_numpy(img)[None])
        return subject


class RandomRendering(RandomTransform):
    """Draw :class:`RenderParameters` from a :class:`RandomiseConfig` and render.

    Parameters
    ----------
    cfg : RandomiseConfig
        Ranges of the draws.
    spacing : float
        Voxel size of the training grid (mm).
    n_labels : int
        Labels of the maps (7 tissues).
    """

    def __init__(self, cfg: RandomiseConfig, spacing: float, n_labels: int = 7,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.cfg = cfg
        self.spacing = spacing
        self.n_labels = n_labels

    def draw(self) -> RenderParameters:
        """One draw of the parameters from torch's random generator (replayable with a seed)."""
        c = self.cfg
        means = [0.0] + [self.sample_uniform(*c.mean_range) for _ in range(self.n_labels - 1)]
        stds = [0.0] + [self.sample_uniform(*c.std_range) for _ in range(self.n_labels - 1)]
        thickness = [self.sample_uniform(self.spacing, max(self.spacing, c.max_inplane_mm))
                     for _ in range(3)]
        if float(torch.rand(1)) < c.thick_slice_p:
            axis = int(torch.randint(3, (1,)))
            thickness[axis] = self.sample_uniform(self.spacing, max(self.spacing,
                                                                    c.max_slice_mm))
        steps = [t * self.sample_uniform(c.min_step_fraction, 1.0) for t in thickness]
        seed = int(torch.randint(2**31 - 1, (1,)))
        return RenderParameters(tuple(means), tuple(stds), tuple(thickness),  # type: ignore[arg-type]
                                tuple(max(s, self.spacing) for s in steps),  # type: ignore[arg-type]
                                seed)

    def apply_transform(self, subject: tio.Subject) -> tio.Subject:
        """Render the subject's label map with freshly drawn parameters."""
        out = Rendering(self.draw(), self.spacing, **self._get_base_args())(subject)
        assert isinstance(out, tio.Subject)  # TorchIO returns the type it was given
        return out


class MaskAndNormalise(tio.Transform):
    """Zero outside the brain (label 0), keep the brain positive, normalise as real images are."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.args_names = []

    def apply_transform(self, subject: tio.Subject) -> tio.Subject:
        """Mask and normalise ``image`` with the brain of ``label``."""
        brain = image_of(subject, "label").data[0].numpy() > 0
        img = image_of(subject, "image").data[0].numpy().astype(np.float32)
        floor = 1e-3 * float(np.abs(img[brain]).max()) if brain.any() else 0.0
        img = np.where(brain, np.maximum(img, floor), 0.0).astype(np.float32)
        image_of(subject, "image").set_data(torch.from_numpy(normalise_intensity(img))[None])
        return subject


def build_randomisation(cfg: RandomiseConfig, augment: AugmentConfig,
                        spacing: float) -> tio.Transform:
    """The whole randomised rendering of one training sample.

    Spatial augmentation of the label map (``augment``'s random affine, when enabled), the
    rendering, a random bias field, gamma, noise and motion (``cfg``), then the brain mask and
    the inference-time normalisation.
    """
    transforms: list[tio.Transform] = []
    if augment.enabled:
        d = augment.affine_degrees
        transforms.append(tio.RandomAffine(scales=augment.affine_scales, degrees=(-d, d),
                                           p=augment.affine_p))
    transforms += [
        RandomRendering(cfg, spacing),
        tio.RandomBiasField(coefficients=cfg.bias_coefficients, p=cfg.bias_p),
        tio.RandomGamma(log_gamma=(-cfg.log_gamma, cfg.log_gamma)),
        tio.RandomNoise(std=(0.0, cfg.max_noise)),
        tio.RandomMotion(degrees=augment.motion_degrees, translation=augment.motion_translation,
                         p=cfg.motion_p),
        MaskAndNormalise(),
    ]
    return tio.Compose(transforms)

