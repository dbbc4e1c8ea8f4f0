"""Building the networks of a training configuration."""

from __future__ import annotations

from harmonstats.models.config import TrainConfig
from harmonstats.models.discriminator import PatchDiscriminator3D
from harmonstats.models.unet import UNet3D

__all__ = ["build_discriminator", "build_generator", "build_segmenter"]


def _unet(cfg: TrainConfig, out_channels: int, final_activation: str | None = None) -> UNet3D:
    n = cfg.network
    return UNet3D(1, out_channels, n.channels, block_order=n.block_order, upsample=n.upsample,
                  half_first=n.half_first, negative_slope=n.negative_slope,
                  final_activation=final_activation)  # type: ignore[arg-type]


def build_segmenter(cfg: TrainConfig) -> UNet3D:
    """The segmenter: 7 tissue classes, or 12 (11 regions + background) for parcellation."""
    return _unet(cfg, cfg.out_channels)


def build_generator(cfg: TrainConfig) -> UNet3D:
    """The image-space generator: the same U-Net with one Tanh output."""
    return _unet(cfg, 1, "tanh")


def build_discriminator(cfg: TrainConfig) -> PatchDiscriminator3D:
    """PatchGAN: 1 -> 1 channel on images (image DA) or 240 -> 2 on decoder features (latent DA).

    The latent discriminator reads maps 1/8 of the crop size, so it defaults to kernel 3 and
    stride 1 everywhere to keep a voxel-wise output.
    """
    d = cfg.discriminator
    if cfg.method == "latent":
        in_ch, out_ch = sum(cfg.network.channels[:-1]), 2
        kernel = d.kernel_size or 3
        strides = d.strides or (1,) * len(d.channels)
    else:
        in_ch, out_ch = 1, 1
        kernel = d.kernel_size or 4
        strides = d.strides or (2,) * (len(d.channels) - 1) + (1,)
    return PatchDiscriminator3D(in_ch, out_ch, d.channels, kernel_size=kernel, strides=strides)
