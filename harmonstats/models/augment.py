"""TorchIO augmentation of the paper, with a fresh draw for every sample that can be replayed."""

from __future__ import annotations

import torch
import torchio as tio

from harmonstats.models.config import AugmentConfig

__all__ = ["build_augmentation", "sample_seed", "seeded_apply"]


def build_augmentation(cfg: AugmentConfig) -> tio.Transform | None:
    """Random affine (rotation U(-10, 10) deg, scale U(0.8, 1.2)), motion, spike and bias field.

    Parameters
    ----------
    cfg : AugmentConfig
        ``enabled=False`` gives ``None``; ``intensity=False`` keeps the affine part only (the
        parcellation network's augmentation).

    Returns
    -------
    torchio.Transform or None
        Applied to a ``tio.Subject``; labels are resampled with nearest neighbours.
    """
    if not cfg.enabled:
        return None
    d = cfg.affine_degrees
    transforms: list[tio.Transform] = [
        tio.RandomAffine(scales=cfg.affine_scales, degrees=(-d, d), p=cfg.affine_p),
    ]
    if cfg.intensity:
        transforms += [
            tio.RandomMotion(degrees=cfg.motion_degrees, translation=cfg.motion_translation,
                             p=cfg.motion_p),
            tio.RandomSpike(p=cfg.spike_p),
            tio.RandomBiasField(p=cfg.bias_field_p),
        ]
    return tio.Compose(transforms)


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """Seed of one sample's random draws: a function of the run seed, the epoch and the sample."""
    return (seed * 1_000_003 + epoch * 10_007 + index) % (2**63 - 1)


def seeded_apply(transform: tio.Transform, subject: tio.Subject, seed: int) -> tio.Subject:
    """Apply a random TorchIO transform with its draws taken from ``seed`` only.

    TorchIO draws from torch's global generator; forking it keeps the caller's stream untouched
    and makes the draw a function of ``seed``, so a resumed run sees the same augmentations.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return transform(subject)
