"""3D PatchGAN discriminator (Isola et al. 2017) as used for both domain-adaptation models."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["PatchDiscriminator3D", "latent_features"]


class PatchDiscriminator3D(nn.Module):
    """Four 3D convolution layers (64, 128, 256, 512 channels) then a convolution to the output map.

    Every layer but the first is followed by instance normalisation; all by LeakyReLU(0.2), as in
    pix2pix's PatchGAN.

    Parameters
    ----------
    in_channels : int
        1 for the image-space model (a T2w volume), 240 for the latent-space model (the
        concatenated decoder features).
    out_channels : int
        1 for the LSGAN (image space), 2 for the voxel-wise domain classifier (latent space).
    channels : sequence of int
        Channels of the four layers.
    kernel_size : int
        4 in pix2pix; the latent model reads a map 1/8 the input size and uses 3 so that the
        voxel-wise output keeps that size.
    strides : sequence of int
        Stride of each of the layers; pix2pix: 2, 2, 2, 1. The final convolution has stride 1.
    spectral_norm : bool
        Divide every convolution's weight by its largest singular value (one power iteration per
        step), which bounds how fast the discriminator can sharpen.
    norm : {"instance", "none"}
        Normalisation after every convolution but the first. Instance norm removes each feature
        map's mean and scale, so a global intensity offset or scale of the input reaches the
        output only through the first layer's nonlinearity.

    References
    ----------
    Isola P. et al. (2017). Image-to-image translation with conditional adversarial networks. CVPR.
    Miyato T. et al. (2018). Spectral normalization for generative adversarial networks. ICLR.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 1,
        channels: Sequence[int] = (64, 128, 256, 512),
        *,
        kernel_size: int = 4,
        strides: Sequence[int] = (2, 2, 2, 1),
        spectral_norm: bool = False,
        norm: str = "instance",
    ) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        strides = tuple(int(s) for s in strides)
        if len(strides) != len(channels):
            raise ValueError(
                f"PatchDiscriminator3D needs one stride per layer: {len(channels)} layers, "
                f"strides {strides}"
            )
        if norm not in ("instance", "none"):
            raise ValueError(f"unknown PatchDiscriminator3D norm {norm!r}")
        if kernel_size < 1 or in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"invalid PatchDiscriminator3D sizes: kernel_size={kernel_size}, "
                f"in_channels={in_channels}, out_channels={out_channels}"
            )
        pad = self.padding(kernel_size)
        def conv(c_in: int, c_out: int, stride: int) -> nn.Module:
            layer = nn.Conv3d(c_in, c_out, kernel_size, stride=stride, padding=pad)
            return nn.utils.parametrizations.spectral_norm(layer) if spectral_norm else layer

        layers: list[nn.Module] = []
        c_prev = in_channels
        for i, (c, s) in enumerate(zip(channels, strides, strict=True)):
            layers.append(conv(c_prev, c, s))
            if i > 0 and norm == "instance":
                layers.append(nn.InstanceNorm3d(c, affine=False))
            layers.append(nn.LeakyReLU(0.2))
            c_prev = c
        layers.append(conv(c_prev, out_channels, 1))
        self.model = nn.Sequential(*layers)

    @staticmethod
    def padding(kernel_size: int) -> int:
        """Zero padding of every layer: 1 for kernels 3 and 4 (pix2pix), else ``kernel // 2``."""
        return 1 if kernel_size in (3, 4) else kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the patch (or voxel) map of scores/logits."""
        return self.model(x)


def latent_features(features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Resample decoder features of every level to the second-deepest level and concatenate them.

    Parameters
    ----------
    features : sequence of torch.Tensor
        Decoder outputs, deepest first, as returned by ``UNet3D(..., return_features=True)``.

    Returns
    -------
    torch.Tensor
        ``(N, sum of channels, *size of features[0])``: 240 channels for the paper's U-Net.
    """
    size = features[0].shape[2:]
    resized = [features[0]] + [
        nn.functional.interpolate(f, size=size, mode="trilinear", align_corners=False)
        for f in features[1:]
    ]
    return torch.cat(resized, dim=1)
