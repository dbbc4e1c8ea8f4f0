"""How the networks' arithmetic runs: precision, memory layout, optimiser kernels, compilation.

None of these changes what a model learns beyond floating-point noise; they change how fast it
learns. ``benchmarks/models.py`` measures each against the authors' U-Net in one process and
checks that validation Dice after a fixed number of steps stays the same (``--parts accuracy``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import torch
from torch import nn

from harmonstats.errors import InputError
from harmonstats.models.config import ComputeConfig, TrainConfig
from harmonstats.models.networks import smallest_conv_input

__all__ = [
    "PRECISIONS",
    "autocast",
    "build_adam",
    "native_bf16",
    "prepare_input",
    "prepare_module",
    "resolve_precision",
    "training_precision",
]

#: Arithmetic a network may run in: ``auto``, ``fp32`` or ``bf16`` (mixed precision).
PRECISIONS = ("auto", "fp32", "bf16")

#: Smallest map edge (voxels) at which oneDNN's bfloat16 3D convolutions give right weight
#: gradients on the CPU: at edge 2 (kernel 3) or 3 (kernel 4) they are wrong by 80-100% and change
#: from call to call (torch 2.13, oneDNN 3.12; measured on AVX512-BF16; edges 4-16 agree with
#: float32 to 0.4%, bfloat16's rounding).
MIN_BF16_CPU_EDGE = 4


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bfloat16 natively: CUDA, or a CPU with AVX512-BF16 or AMX.

    On a CPU without them bfloat16 is emulated and several times slower than float32.
    """
    dev = torch.device(device)
    if dev.type == "cuda":
        return True
    if dev.type != "cpu":
        return False
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolve_precision(precision: str, device: torch.device | str, *,
                      cpu_bf16: bool = False) -> str:
    """``fp32`` or ``bf16``: what ``precision`` means on ``device``.

    Parameters
    ----------
    precision : {"auto", "fp32", "bf16"}
        ``auto`` is bfloat16 on CUDA; on a CPU it is bfloat16 only with ``cpu_bf16`` and a
        processor that computes it natively (:func:`native_bf16`), else float32.
    device : torch.device or str
        Where the network runs.
    cpu_bf16 : bool
        Let ``auto`` choose bfloat16 on a CPU with native bfloat16. Training does (a model's
        weights depend on the processor anyway); inference does not, so that a checkpoint gives
        the same maps on every CPU.

    Raises
    ------
    ValueError
        If ``precision`` is not one of :data:`PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise InputError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    dev = torch.device(device)
    if dev.type == "cuda" or (cpu_bf16 and native_bf16(dev)):
        return "bf16"
    return "fp32"


def training_precision(cfg: TrainConfig, device: torch.device) -> str:
    """``fp32`` or ``bf16``: the training arithmetic of ``cfg.compute.precision`` on ``device``.

    ``auto`` takes bfloat16 where it is native (:func:`native_bf16`) unless, on a CPU, some
    convolution would read a map smaller than :data:`MIN_BF16_CPU_EDGE` (small crops).

    Raises
    ------
    ValueError
        If ``bf16`` is asked for on a CPU with such a small map.
    """
    precision = resolve_precision(cfg.compute.precision, device, cpu_bf16=True)
    if precision == "fp32" or device.type != "cpu":
        return precision
    edge = smallest_conv_input(cfg)
    if edge >= MIN_BF16_CPU_EDGE:
        return precision
    if cfg.compute.precision == "auto":
        return "fp32"
    raise InputError(
        f"{cfg.name}: compute.precision bf16 on the CPU needs every convolution to read maps of "
        f"at least {MIN_BF16_CPU_EDGE} voxels, but data.patch_size {cfg.data.patch_size} gives "
        f"{edge} (oneDNN's bfloat16 weight gradients are wrong there); use fp32 or a larger crop")


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[None]:
    """Mixed precision for a resolved ``precision`` (``bf16``), or nothing (``fp32``)."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def prepare_module(module: nn.Module, compute: ComputeConfig) -> nn.Module:
    """Put a network in the memory layout and (optionally) compiled form of ``compute``.

    Compilation is in place (``nn.Module.compile``), so parameter names and checkpoints are
    those of the plain module.
    """
    if compute.channels_last:
        module.to(memory_format=torch.channels_last_3d)  # type: ignore[call-overload]
    if compute.compile:
        module.compile()
    return module


def prepare_input(x: torch.Tensor, compute: ComputeConfig) -> torch.Tensor:
    """A 5D batch in the layout the networks of ``compute`` expect."""
    if compute.channels_last and x.ndim == 5:
        return x.contiguous(memory_format=torch.channels_last_3d)
    return x


def build_adam(params: Iterable[nn.Parameter], compute: ComputeConfig, *, lr: float,
               betas: tuple[float, float] = (0.9, 0.999),
               weight_decay: float = 0.0) -> torch.optim.Adam:
    """Adam with the update kernel of ``compute.optimizer``.

    ``fused`` updates every parameter in one kernel, ``foreach`` in a few batched ones, ``loop``
    one parameter at a time (torch's default on the CPU); the numbers are the same up to
    rounding.
    """
    kind = compute.optimizer
    return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay,
                            fused=kind == "fused", foreach=kind == "foreach")
