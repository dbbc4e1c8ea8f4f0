"""Shapes and parameter counts of the networks against the paper's description (section 2.3)."""

from __future__ import annotations

import itertools

import pytest
import torch

from harmonstats.models.config import load_config
from harmonstats.models.discriminator import PatchDiscriminator3D, latent_features
from harmonstats.models.networks import build_discriminator, smallest_conv_input
from harmonstats.models.unet import AUTHORS_UNET, UNet3D

CH = (16, 32, 64, 128, 256)


def conv(c_in: int, c_out: int, k: int) -> int:
    """Parameters of a 3D convolution with bias (instance norm without affine adds none)."""
    return c_in * c_out * k**3 + c_out


def paper_unet_count(c_in: int, c_out: int) -> int:
    n = conv(c_in, CH[0], 3) + conv(CH[0], CH[0], 3)
    for a, b in itertools.pairwise(CH):
        n += conv(a, b, 3) + conv(b, b, 3)
    for a, b in itertools.pairwise(CH):
        n += conv(b, a, 3)  # 3x3x3 transposed convolution, same count as a convolution
        n += conv(2 * a, a, 3) + conv(a, a, 3)
    return n + conv(CH[0], c_out, 1)


def trilinear_two_units_count(c_in: int, c_out: int) -> int:
    n = conv(c_in, CH[0] // 2, 3) + conv(CH[0] // 2, CH[0], 3)
    for a, b in itertools.pairwise(CH):
        n += conv(a, b, 3) + conv(b, b, 3)
    for a, b in itertools.pairwise(CH):
        n += conv(a + b, a, 3) + conv(a, a, 3)
    return n + conv(CH[0], c_out, 1)


def authors_unet_count(c_in: int, c_out: int) -> int:
    """The authors' UNetModel, layer by layer: two units at level 1, the centre and the last
    decoder level, one elsewhere."""
    enc = conv(c_in, 8, 3) + conv(8, 16, 3) + conv(16, 32, 3) + conv(32, 64, 3) + conv(64, 128, 3)
    centre = conv(128, 256, 3) + conv(256, 256, 3)
    dec = (conv(256 + 128, 128, 3) + conv(128 + 64, 64, 3) + conv(64 + 32, 32, 3)
           + conv(32 + 16, 16, 3) + conv(16, 16, 3))
    return enc + centre + dec + conv(16, c_out, 1)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"in_channels": 1, "out_channels": 7}, paper_unet_count(1, 7)),
        ({"in_channels": 1, "out_channels": 1, "final_activation": "tanh"},
         paper_unet_count(1, 1)),
        ({"in_channels": 1, "out_channels": 12}, paper_unet_count(1, 12)),
        ({"in_channels": 1, "out_channels": 7, "upsample": "trilinear", "half_first": True,
          "block_order": "conv_act_norm"}, trilinear_two_units_count(1, 7)),
        ({"in_channels": 1, "out_channels": 7, **AUTHORS_UNET}, authors_unet_count(1, 7)),
    ],
)
def test_unet_parameter_count(kwargs: dict, expected: int) -> None:
    assert count(UNet3D(**kwargs)) == expected


def test_authors_unet_is_their_size() -> None:
    # the figure for their code at 16-256 channels: 4.72 M
    assert round(count(UNet3D(1, 7, **AUTHORS_UNET)) / 1e6, 2) == 4.72
    assert authors_unet_count(1, 7) == 4_718_791


@pytest.mark.parametrize(
    ("network", "message"),
    [({"encoder_units": [2, 1, 1, 1]}, "encoder_units .* need 5 values"),
     ({"decoder_units": [2, 1, 1, 0]}, "decoder_units .* need 4 values >= 1")],
)
def test_unit_counts_are_checked(network: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_config({"name": "x", "method": "baseline", "network": network})
    with pytest.raises(ValueError, match="units"):
        UNet3D(**{k: tuple(v) for k, v in network.items()})


@pytest.mark.parametrize(
    ("method", "patch", "channels", "expected"),
    [
        ("baseline", 128, [16, 32, 64, 128, 256], 8),
        ("baseline", 32, [16, 32, 64, 128, 256], 2),
        ("baseline", 32, [4, 8, 16, 32], 4),
        # U-Net 64 -> 4; latent D reads 64 / 8 = 8 at stride 1 throughout
        ("latent", 64, [16, 32, 64, 128, 256], 4),
        # image D, kernel 4 pad 1: 64 -> 32 -> 16 -> 8 (stride 2) -> 7 (stride 1); reads 64..7
        ("image", 64, [4, 8, 16, 32], 7),
        # 32 -> 16 -> 8 -> 4 -> 3: the last convolution reads 3
        ("image", 32, [4, 8, 16, 32], 3),
    ],
)
def test_smallest_conv_input(method: str, patch: int, channels: list[int],
                             expected: int) -> None:
    cfg = load_config({"name": "x", "method": method, "data": {"patch_size": patch},
                       "network": {"channels": channels}})
    assert smallest_conv_input(cfg) == expected


@pytest.mark.parametrize("variant", [{}, {"upsample": "trilinear", "half_first": True,
                                          "block_order": "conv_act_norm"}, AUTHORS_UNET])
def test_unet_shapes_and_features(variant: dict) -> None:
    torch.manual_seed(0)
    net = UNet3D(1, 7, **variant)
    x = torch.randn(1, 1, 32, 32, 32)
    logits, feats = net(x, return_features=True)
    assert logits.shape == (1, 7, 32, 32, 32)
    assert [tuple(f.shape) for f in feats] == [(1, 128, 4, 4, 4), (1, 64, 8, 8, 8),
                                                (1, 32, 16, 16, 16), (1, 16, 32, 32, 32)]
    lat = latent_features(feats)
    assert lat.shape == (1, 240, 4, 4, 4)


def test_unet_pooling_pattern_and_generator_range() -> None:
    net = UNet3D(1, 1, final_activation="tanh")
    kinds = [type(p).__name__ for p in net.pools]
    assert kinds == ["AvgPool3d", "MaxPool3d", "MaxPool3d", "MaxPool3d"]
    assert all(type(u).__name__ == "ConvTranspose3d" and u.kernel_size == (3, 3, 3)
               for u in net.ups)
    out = net(torch.randn(1, 1, 32, 32, 32) * 100)
    assert out.shape == (1, 1, 32, 32, 32)
    assert out.abs().max() <= 1.0


def test_unet_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="not divisible by 16"):
        UNet3D()(torch.zeros(1, 1, 24, 32, 32))
    with pytest.raises(ValueError, match="block_order"):
        UNet3D(block_order="norm_first")  # type: ignore[arg-type]


def test_patchgan_count_and_shape() -> None:
    d = PatchDiscriminator3D(1, 1)
    expected = conv(1, 64, 4) + conv(64, 128, 4) + conv(128, 256, 4) + conv(256, 512, 4) + conv(
        512, 1, 4)
    assert count(d) == expected
    # 32 -> 16 -> 8 -> 4 (stride 2, kernel 4, pad 1) -> 3 -> 2 (stride 1).
    assert d(torch.randn(2, 1, 32, 32, 32)).shape == (2, 1, 2, 2, 2)


def test_latent_discriminator_is_voxelwise_two_class() -> None:
    cfg = load_config({"name": "x", "method": "latent"})
    d = build_discriminator(cfg)
    expected = conv(240, 64, 3) + conv(64, 128, 3) + conv(128, 256, 3) + conv(256, 512, 3) + conv(
        512, 2, 3)
    assert count(d) == expected
    assert d(torch.randn(1, 240, 4, 4, 4)).shape == (1, 2, 4, 4, 4)
