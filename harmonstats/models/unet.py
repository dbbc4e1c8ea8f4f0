"""The paper's 3D U-Net: tissue segmenter, image generator and cortical parcellation network.

Five levels (16-32-64-128-256 channels), two 3x3x3 convolutions per level with instance
normalisation and LeakyReLU, 2x2x2 average pooling after the first level and max pooling after
the others, and a decoder that up-samples with 3x3x3 transposed convolutions (Grigorescu et al.
2021, section 2.3). The authors' public code differs in block order (conv -> LeakyReLU -> norm),
halves the first convolution's channels, up-samples trilinearly and has a single convolution
unit at most levels (:data:`AUTHORS_UNET`); all are options here, the paper's choices are the
defaults. No MONAI U-Net has this pooling pattern, hence this module.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["AUTHORS_UNET", "ResidualUNet3D", "UNet3D"]

BlockOrder = Literal["conv_norm_act", "conv_act_norm"]
Upsample = Literal["transposed", "trilinear"]

#: The authors' public U-Net (``UNetModel`` in their ``src/networks.py``): conv -> LeakyReLU(0.2)
#: -> instance norm, half-width first convolution, trilinear up-sampling, and a single
#: convolution unit at encoder levels 2-4 and the first three (deepest) decoder levels; 4.72 M
#: parameters at 16-256 channels against the paper-default 6.47 M.
AUTHORS_UNET: dict[str, object] = {
    "block_order": "conv_act_norm",
    "upsample": "trilinear",
    "half_first": True,
    "encoder_units": (2, 1, 1, 1, 2),
    "decoder_units": (2, 1, 1, 1),
}


def _conv_unit(c_in: int, c_out: int, order: BlockOrder, slope: float) -> nn.Sequential:
    conv = nn.Conv3d(c_in, c_out, kernel_size=3, stride=1, padding=1)
    norm = nn.InstanceNorm3d(c_out, affine=False)
    act = nn.LeakyReLU(slope)
    if order == "conv_norm_act":
        return nn.Sequential(conv, norm, act)
    return nn.Sequential(conv, act, norm)


def _block(c_in: int, c_mid: int, c_out: int, units: int, order: BlockOrder,
           slope: float) -> nn.Sequential:
    """``units`` convolution units, ``c_in -> c_mid -> c_out -> ... -> c_out``; one unit maps
    ``c_in -> c_out``."""
    if units == 1:
        return nn.Sequential(_conv_unit(c_in, c_out, order, slope))
    widths = [c_in, c_mid] + [c_out] * (units - 1)
    return nn.Sequential(*(_conv_unit(a, b, order, slope)
                           for a, b in itertools.pairwise(widths)))


def _units(units: Sequence[int] | None, n: int, name: str) -> tuple[int, ...]:
    if units is None:
        return (2,) * n
    out = tuple(int(u) for u in units)
    if len(out) != n or any(u < 1 for u in out):
        raise ValueError(f"UNet3D {name} needs {n} values >= 1 (one per level), got {out}")
    return out


class UNet3D(nn.Module):
    """3D U-Net of Grigorescu et al. (2021).

    Parameters
    ----------
    in_channels : int
        Input channels (1 for a T2w volume or a binary cortical GM mask).
    out_channels : int
        Output channels: 7 tissue classes, 12 for parcellation (11 regions + background), 1 for
        the generator.
    channels : sequence of int
        Channels per level, shallowest first; the paper uses five levels, 16 to 256.
    block_order : {"conv_norm_act", "conv_act_norm"}
        Order inside a convolution unit: the paper's conv -> instance norm -> LeakyReLU, or the
        authors' conv -> LeakyReLU -> instance norm.
    upsample : {"transposed", "trilinear"}
        Decoder up-sampling: the paper's 3x3x3 transposed convolution (stride 2), or the authors'
        trilinear interpolation (``align_corners=True``).
    half_first : bool
        Authors' variant: the first convolution of the first block has half its output channels.
    negative_slope : float
        LeakyReLU slope (the paper does not give it; the authors' code uses 0.2).
    encoder_units, decoder_units : sequence of int, optional
        Convolution units per encoder level (``len(channels)`` values, shallowest first, the
        last one the centre) and per decoder level (``len(channels) - 1`` values, shallowest
        first); two everywhere by default (the paper). The authors' code has
        ``(2, 1, 1, 1, 2)`` and ``(2, 1, 1, 1)`` (:data:`AUTHORS_UNET`).
    final_activation : {None, "tanh"}
        ``"tanh"`` for the generator; segmenters return logits.

    Notes
    -----
    Input sizes must be divisible by ``2 ** (len(channels) - 1)`` (16 for five levels).
    ``forward(x, return_features=True)`` also returns the decoder output of every level, deepest
    first (128, 64, 32, 16 channels by default), which the latent-space discriminator reads.

    References
    ----------
    Grigorescu I. et al. (2021). Harmonized segmentation of neonatal brain MRI. Front. Neurosci.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 7,
        channels: Sequence[int] = (16, 32, 64, 128, 256),
        *,
        block_order: BlockOrder = "conv_norm_act",
        upsample: Upsample = "transposed",
        half_first: bool = False,
        negative_slope: float = 0.2,
        final_activation: Literal["tanh"] | None = None,
        encoder_units: Sequence[int] | None = None,
        decoder_units: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"UNet3D needs at least one input and output channel, got in_channels="
                f"{in_channels}, out_channels={out_channels}"
            )
        if len(channels) < 2 or any(c < 1 for c in channels):
            raise ValueError(f"UNet3D channels must be >= 2 positive values, got {channels}")
        if block_order not in ("conv_norm_act", "conv_act_norm"):
            raise ValueError(f"unknown block_order {block_order!r}")
        if upsample not in ("transposed", "trilinear"):
            raise ValueError(f"unknown upsample {upsample!r}")
        if final_activation not in (None, "tanh"):
            raise ValueError(f"unknown final_activation {final_activation!r}")
        enc_units = _units(encoder_units, len(channels), "encoder_units")
        dec_units = _units(decoder_units, len(channels) - 1, "decoder_units")
        self.channels = channels
        self.upsample_mode = upsample
        self.final_activation = final_activation
        first_mid = channels[0] // 2 if half_first else channels[0]
        self.encoders = nn.ModuleList()
        c_prev = in_channels
        for level, c in enumerate(channels):
            mid = first_mid if level == 0 else c
            self.encoders.append(_block(c_prev, mid, c, enc_units[level], block_order,
                                        negative_slope))
            c_prev = c
        self.pools = nn.ModuleList(
            [nn.AvgPool3d(2) if lv == 0 else nn.MaxPool3d(2) for lv in range(len(channels) - 1)]
        )
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in range(len(channels) - 2, -1, -1):
            c_deep, c = channels[level + 1], channels[level]
            if upsample == "transposed":
                self.ups.append(nn.ConvTranspose3d(c_deep, c, kernel_size=3, stride=2, padding=1,
                                                   output_padding=1))
                c_up = c
            else:
                self.ups.append(nn.Identity())
                c_up = c_deep
            self.decoders.append(_block(c_up + c, c, c, dec_units[level], block_order,
                                        negative_slope))
        self.head = nn.Conv3d(channels[0], out_channels, kernel_size=1)

    @property
    def divisor(self) -> int:
        """Input sizes must be multiples of this."""
        return 2 ** (len(self.channels) - 1)

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Return logits (or the Tanh image), and optionally the decoder features per level."""
        if any(s % self.divisor for s in x.shape[2:]):
            raise ValueError(
                f"UNet3D input spatial size {tuple(x.shape[2:])} is not divisible by "
                f"{self.divisor}; pad or crop the volume"
            )
        skips = []
        h = x
        for level, enc in enumerate(self.encoders):
            h = enc(h)
            if level < len(self.pools):
                skips.append(h)
                h = self.pools[level](h)
        features = []
        for up, dec, skip in zip(self.ups, self.decoders, reversed(skips), strict=True):
            if self.upsample_mode == "transposed":
                h = up(h)
            else:
                h = F.interpolate(h, size=skip.shape[2:], mode="trilinear", align_corners=True)
            h = dec(torch.cat([h, skip], dim=1))
            features.append(h)
        out = self.head(h)
        if self.final_activation == "tanh":
            out = torch.tanh(out)
        return (out, features) if return_features else out


class ResidualUNet3D(UNet3D):
    """A one-channel :class:`UNet3D` whose output is added to its input: ``x + U(x)``.

    The last 1x1 convolution starts at zero, so the network starts as the identity. Its
    parameters are named as :class:`UNet3D`'s, so checkpoints of either load into the other.
    """

    def __init__(self, channels: Sequence[int], **kwargs: Any) -> None:
        super().__init__(1, 1, channels, final_activation=None, **kwargs)
        nn.init.zeros_(self.head.weight)
        if self.head.bias is not None:
            nn.init.zeros_(self.head.bias)

    def forward(
        self, x: torch.Tensor, return_features: bool = False
    ) -> torch.Tensor:
        """The input plus the U-Net's residual (``return_features`` is not supported)."""
        if return_features:
            raise ValueError("ResidualUNet3D has no decoder features to return")
        residual = super().forward(x)
        assert isinstance(residual, torch.Tensor)
        return x + residual
