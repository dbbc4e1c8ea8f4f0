"""Checkpoints that carry their metadata and never run code when loaded.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and dicts, written with
``torch.save`` and read back with ``torch.load(..., weights_only=True)``: a file holding any
other pickled object (which could run code) is refused.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from harmonstats import __version__
from harmonstats.io import atomic_path

__all__ = ["CHECKPOINT_FORMAT", "check_compatible", "export_model", "load_checkpoint",
           "save_checkpoint"]

#: Value of the ``format`` key of every harmonstats checkpoint.
CHECKPOINT_FORMAT = "harmonstats-checkpoint-1"


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    models: Mapping[str, torch.nn.Module | Mapping[str, torch.Tensor]],
    metadata: Mapping[str, Any],
    optimizers: Mapping[str, Any] | None = None,
    state: Mapping[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically.

    Parameters
    ----------
    path : path-like
        Output ``.pt`` file.
    models : mapping
        Name (``segmenter``, ``generator``, ``discriminator``) -> module or state dict.
    metadata : mapping
        Plain data describing the model: ``config`` (the training config as a dict),
        ``label_scheme`` (name), ``labels`` ({value: name}), ``spacing_mm``, ``normalisation``,
        ``in_channels``, ``out_channels``; ``package_version`` is added.
    optimizers : mapping, optional
        Name -> optimiser or scheduler ``state_dict()`` for resuming.
    state : mapping, optional
        Training progress (epoch, best criterion, ...).
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "metadata": {**dict(metadata), "package_version": __version__},
        "models": {
            name: {k: v.detach().cpu() for k, v in (
                m.state_dict() if isinstance(m, torch.nn.Module) else m).items()}
            for name, m in models.items()
        },
        "optimizers": dict(optimizers or {}),
        "state": dict(state or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint without running any code from it.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file holds anything but plain data (e.g. a pickled object that would run code),
        cannot be read, or is not a harmonstats checkpoint.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint not found: {p}")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"refusing to load checkpoint {p}: it holds objects other than tensors and plain "
            f"data, which could run code ({str(exc).splitlines()[0][:200]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ValueError(f"cannot read checkpoint {p}: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{p} is not a harmonstats checkpoint (format {CHECKPOINT_FORMAT!r})")
    return payload


def check_compatible(
    metadata: Mapping[str, Any],
    *,
    label_scheme: str | None = None,
    in_channels: int | None = None,
    out_channels: int | None = None,
    where: str = "checkpoint",
) -> None:
    """Raise if a checkpoint's label scheme or channels differ from what the caller needs.

    Raises
    ------
    ValueError
        Naming the field, the checkpoint's value and the expected value.
    """
    expected = {"label_scheme": label_scheme, "in_channels": in_channels,
                "out_channels": out_channels}
    for key, want in expected.items():
        if want is None:
            continue
        have = metadata.get(key)
        if have != want:
            raise ValueError(f"{where}: {key} is {have!r}, but {want!r} is needed")


def export_model(
    source: str | os.PathLike[str], dest: str | os.PathLike[str], *, half: bool = True
) -> Path:
    """Write a compact inference checkpoint: the segmenter's weights and the metadata only.

    Parameters
    ----------
    source : path-like
        A run folder (its ``best.pt``) or a checkpoint file.
    dest : path-like
        Output ``.pt`` file (written atomically).
    half : bool
        Store the weights in float16 (half the size; they are cast back to float32 on load,
        which changes a prediction only where two classes are within ~1e-3 of each other).

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    p = Path(source)
    if p.is_dir():
        p = p / "best.pt"
    ckpt = load_checkpoint(p)
    weights = ckpt["models"].get("segmenter")
    if weights is None:
        raise ValueError(f"{p}: no segmenter weights to export")
    dtype = torch.float16 if half else torch.float32
    weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    state = ckpt.get("state", {})
    history = list(state.get("history", []))
    metadata = {**ckpt["metadata"], "exported_from": p.name, "weights_dtype": str(dtype),
                "training": {"epochs_run": len(history), "selected": [
                    dict(row) for row in history if row.get("selected") == 1][-1:]}}
    return save_checkpoint(dest, models={"segmenter": weights}, metadata=metadata)
