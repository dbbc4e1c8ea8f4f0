"""Arithmetic options: bfloat16 agrees with float32, optimiser kernels agree, layouts keep names."""

from __future__ import annotations

import pytest
import torch

from harmonstats.models.compute import (
    MIN_BF16_CPU_EDGE,
    autocast,
    build_adam,
    native_bf16,
    prepare_input,
    prepare_module,
    resolve_precision,
    training_precision,
)
from harmonstats.models.config import ComputeConfig, load_config
from harmonstats.models.losses import GeneralisedDiceLoss
from harmonstats.models.unet import UNet3D

CPU = torch.device("cpu")


def _grads(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
            precision: str) -> list[torch.Tensor]:
    net.zero_grad()
    with autocast(CPU, precision):
        logits = net(x)
    GeneralisedDiceLoss(ce_weight=1.0)(logits, y).backward()
    return [p.grad.clone() for p in net.parameters()]


def test_bf16_gradients_agree_with_fp32_at_the_supported_map_sizes() -> None:
    # 4 levels at 32^3: the deepest maps are 4 voxels, the smallest edge training allows
    torch.manual_seed(0)
    net = UNet3D(1, 7, (4, 8, 16, 32))
    x = torch.randn(1, 1, 32, 32, 32)
    y = torch.randint(0, 7, (1, 32, 32, 32))
    ref = _grads(net, x, y, "fp32")
    half = _grads(net, x, y, "bf16")
    again = _grads(net, x, y, "bf16")
    for (name, _), g32, g16, g16b in zip(net.named_parameters(), ref, half, again, strict=True):
        assert torch.equal(g16, g16b), f"{name}: bf16 gradient differs between calls"
        if name.endswith("weight"):
            # rounded activations route some max-pool and LeakyReLU gradients differently, so
            # layers agree in direction, not to bfloat16's 0.4% (measured: cosine >= 0.97; at
            # 2-voxel maps oneDNN's wrong gradients give 0.5)
            cos = float(torch.nn.functional.cosine_similarity(g16.flatten(), g32.flatten(),
                                                              dim=0))
            assert cos > 0.9, f"{name}: bf16 gradient cosine {cos:.3f} to float32"


@pytest.mark.parametrize(
    ("precision", "patch", "expected"),
    [("fp32", 32, "fp32"), ("fp32", 64, "fp32"),
     ("auto", 32, "fp32"),  # the 5-level U-Net's deepest maps would be 2 voxels
     ("auto", 64, "bf16" if native_bf16("cpu") else "fp32"),
     ("bf16", 64, "bf16")],
)
def test_training_precision_on_cpu(precision: str, patch: int, expected: str) -> None:
    cfg = load_config({"name": "x", "method": "baseline", "data": {"patch_size": patch},
                       "compute": {"precision": precision}})
    assert training_precision(cfg, CPU) == expected


def test_bf16_refused_where_cpu_gradients_would_be_wrong() -> None:
    cfg = load_config({"name": "x", "method": "baseline", "data": {"patch_size": 32},
                       "compute": {"precision": "bf16"}})
    with pytest.raises(ValueError, match=f"at least {MIN_BF16_CPU_EDGE} voxels.*gives 2"):
        training_precision(cfg, CPU)


@pytest.mark.parametrize(("precision", "cpu_bf16", "expected"),
                         [("auto", False, "fp32"), ("bf16", False, "bf16"), ("fp32", True, "fp32"),
                          ("auto", True, "bf16" if native_bf16("cpu") else "fp32")])
def test_resolve_precision(precision: str, cpu_bf16: bool, expected: str) -> None:
    assert resolve_precision(precision, "cpu", cpu_bf16=cpu_bf16) == expected


def test_resolve_precision_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="precision 'fp16'"):
        resolve_precision("fp16", "cpu")


def test_optimiser_kernels_take_the_same_step() -> None:
    torch.manual_seed(0)
    # conv -> LeakyReLU -> norm: every bias has a gradient (before a norm it would be rounding
    # noise, which Adam's normalised steps amplify)
    base = UNet3D(1, 7, (4, 8, 16, 32), block_order="conv_act_norm")
    x = torch.randn(1, 1, 16, 16, 16)
    y = torch.randint(0, 7, (1, 16, 16, 16))
    after = {}
    for kind in ("loop", "foreach", "fused"):
        net = UNet3D(1, 7, (4, 8, 16, 32), block_order="conv_act_norm")
        net.load_state_dict(base.state_dict())
        opt = build_adam(net.parameters(), ComputeConfig(optimizer=kind), lr=1e-2,
                         weight_decay=1e-5)
        for _ in range(3):
            opt.zero_grad()
            GeneralisedDiceLoss()(net(x), y).backward()
            opt.step()
        after[kind] = net.state_dict()
    for kind in ("foreach", "fused"):
        for k, v in after["loop"].items():
            torch.testing.assert_close(after[kind][k], v, rtol=1e-4, atol=1e-6)


def test_channels_last_gives_the_same_output() -> None:
    torch.manual_seed(0)
    net = UNet3D(1, 7, (4, 8, 16, 32)).eval()
    x = torch.randn(1, 1, 16, 16, 16)
    ref = net(x)
    compute = ComputeConfig(channels_last=True)
    prepare_module(net, compute)
    assert net.encoders[0][0][0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    xc = prepare_input(x, compute)
    assert xc.is_contiguous(memory_format=torch.channels_last_3d)
    torch.testing.assert_close(net(xc), ref, rtol=1e-4, atol=1e-5)


def test_compilation_keeps_checkpoint_names() -> None:
    net = UNet3D(1, 7, (4, 8, 16, 32))
    names = list(net.state_dict())
    prepare_module(net, ComputeConfig(compile=True))  # compiles lazily, at the first call
    assert list(net.state_dict()) == names
