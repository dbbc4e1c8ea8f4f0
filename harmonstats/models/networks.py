"""Building the networks of a training configuration."""

from __future__ import annotations

from typing import Any

from torch import nn

from harmonstats.models.acquisition_generator import AcquisitionGenerator
from harmonstats.models.config import TrainConfig
from harmonstats.models.discriminator import PatchDiscriminator3D
from harmonstats.models.unet import ResidualUNet3D, UNet3D

__all__ = ["build_discriminator", "build_generator", "build_segmenter", "smallest_conv_input"]


def _layout(cfg: TrainConfig) -> dict[str, Any]:
    """The U-Net options of ``cfg.network`` shared by every network built from it."""
    n = cfg.network
    return {"block_order": n.block_order, "upsample": n.upsample, "half_first": n.half_first,
            "negative_slope": n.negative_slope, "encoder_units": n.encoder_units,
            "decoder_units": n.decoder_units}


def build_segmenter(cfg: TrainConfig) -> UNet3D:
    """The segmenter: 7 tissue classes, or 12 (11 regions + background) for parcellation."""
    return UNet3D(1, cfg.out_channels, cfg.network.channels, **_layout(cfg))


def build_generator(cfg: TrainConfig) -> nn.Module:
    """The image-space generator: the same U-Net with one Tanh output (the paper); with
    ``adversary.residual_generator``, the input plus a U-Net's residual that starts at zero; with
    ``adversary.acquisition_generator``, a learned re-acquisition of the input."""
    if cfg.adversary.acquisition_generator:
        return AcquisitionGenerator()
    if cfg.adversary.residual_generator:
        return ResidualUNet3D(cfg.network.channels, **_layout(cfg))
    return UNet3D(1, 1, cfg.network.channels, final_activation="tanh", **_layout(cfg))


def _discriminator_layout(cfg: TrainConfig) -> tuple[int, int, int, tuple[int, ...]]:
    """Input channels, output channels, kernel and strides of the method's discriminator."""
    d = cfg.discriminator
    if cfg.method == "latent":
        return (sum(cfg.network.channels[:-1]), 2, d.kernel_size or 3,
                d.strides or (1,) * len(d.channels))
    return 1, 1, d.kernel_size or 4, d.strides or (2,) * (len(d.channels) - 1) + (1,)


def smallest_conv_input(cfg: TrainConfig) -> int:
    """The smallest edge (voxels) of any map a convolution of the method reads at the crop size.

    The U-Net's deepest level reads ``patch_size / 2^(levels - 1)``; the discriminators shrink
    their input with every strided layer.
    """
    levels = len(cfg.network.channels)
    sizes = [cfg.data.patch_size // 2 ** (levels - 1)]
    if cfg.method in ("latent", "image"):
        _, _, kernel, strides = _discriminator_layout(cfg)
        n = (cfg.data.patch_size // 2 ** (levels - 2) if cfg.method == "latent"
             else cfg.data.patch_size)
        pad = PatchDiscriminator3D.padding(kernel)
        for stride in (*strides, 1):
            sizes.append(n)
            n = (n + 2 * pad - kernel) // stride + 1
    return min(sizes)


def build_discriminator(cfg: TrainConfig) -> PatchDiscriminator3D:
    """PatchGAN: 1 -> 1 channel on images (image DA) or 240 -> 2 on decoder features (latent DA).

    The latent discriminator reads maps 1/8 of the crop size, so it defaults to kernel 3 and
    stride 1 everywhere to keep a voxel-wise output.
    """
    in_ch, out_ch, kernel, strides = _discriminator_layout(cfg)
    return PatchDiscriminator3D(in_ch, out_ch, cfg.discriminator.channels, kernel_size=kernel,
                                strides=strides, spectral_norm=cfg.adversary.spectral_norm,
                                norm=cfg.discriminator.norm)
