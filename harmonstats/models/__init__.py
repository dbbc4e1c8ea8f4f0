"""The deep-learning models of Grigorescu et al. (2021): networks, losses, training, inference.

Three methods, each with and without augmentation (the paper's six tissue models), plus the
cortical parcellation network::

    from harmonstats.models import train, segment_cohort
    best = train("models/baseline_aug.yaml", "data/demo", "runs/baseline_aug")
    segment_cohort(best, "data/demo", "data/demo")   # -> derivatives/baseline_aug/...

torch, MONAI and TorchIO are imported with this package, not with ``harmonstats``.
"""

from __future__ import annotations

from harmonstats.models.apply import (
    LoadedModel,
    load_segmenter,
    parcellate,
    parcellate_cohort,
    segment_cohort,
    segment_image,
)
from harmonstats.models.checkpoint import load_checkpoint, save_checkpoint
from harmonstats.models.config import TrainConfig, load_config
from harmonstats.models.discriminator import PatchDiscriminator3D, latent_features
from harmonstats.models.losses import (
    GeneralisedDiceLoss,
    domain_cross_entropy,
    generalised_dice_loss,
    global_ncc_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from harmonstats.models.preprocess import preprocess_study, preprocess_subject, stratified_split
from harmonstats.models.train import train
from harmonstats.models.unet import UNet3D

__all__ = [
    "GeneralisedDiceLoss",
    "LoadedModel",
    "PatchDiscriminator3D",
    "TrainConfig",
    "UNet3D",
    "domain_cross_entropy",
    "generalised_dice_loss",
    "global_ncc_loss",
    "latent_features",
    "load_checkpoint",
    "load_config",
    "load_segmenter",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "parcellate",
    "parcellate_cohort",
    "preprocess_study",
    "preprocess_subject",
    "save_checkpoint",
    "segment_cohort",
    "segment_image",
    "stratified_split",
    "train",
]
