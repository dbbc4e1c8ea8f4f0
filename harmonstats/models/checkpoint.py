"""Checkpoints that carry their metadata and never run code when loaded.

A checkpoint is a plain dictionary of tensors, numbers, strings, lists and dicts, written with
``torch.save`` and read back with ``torch.load(..., weights_only=True)``: a file holding any
other pickled object (which could run code) is refused.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from harmonstats import __version__
from harmonstats.errors import InputError
from harmonstats.io import atomic_path

__all__ = ["CHECKPOINT_FORMAT", "ModelMetadata", "check_compatible", "export_model",
           "load_checkpoint", "read_metadata", "save_checkpoint"]

#: Value of the ``format`` key of every harmonstats checkpoint.
CHECKPOINT_FORMAT = "harmonstats-checkpoint-1"


@dataclass(frozen=True)
class ModelMetadata:
    """What a checkpoint says about its model, read through typed accessors.

    Built by :meth:`from_mapping` (or :func:`read_metadata`), which names the checkpoint and
    the key when a required entry is missing or of the wrong type.

    Attributes
    ----------
    config : dict
        The training configuration (:class:`harmonstats.models.config.TrainConfig` as a dict).
    method : str
        ``baseline``, ``latent``, ``image`` or ``parcellation``.
    label_scheme : str
        ``tissues7`` or ``regions11``.
    labels : dict of int to str
        Output label -> name.
    spacing_mm : float
        Voxel size the model works at.
    patch_size : int
        Training crop edge, voxels (the sliding-window size).
    in_channels, out_channels : int
        Network channels.
    normalisation : str
        Input intensity normalisation.
    package_version : str
        harmonstats version that wrote the checkpoint.
    selected : dict or None
        An exported model's selected epoch (``epoch``, ``val_dice``...), if recorded.
    epochs_run : int or None
        Epochs trained, for an exported model.
    """

    config: dict[str, Any]
    method: str
    label_scheme: str
    labels: dict[int, str]
    spacing_mm: float
    patch_size: int
    in_channels: int
    out_channels: int
    normalisation: str = ""
    package_version: str = ""
    selected: dict[str, Any] | None = None
    epochs_run: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mapping(cls, metadata: Mapping[str, Any], *, where: str = "checkpoint"
                     ) -> ModelMetadata:
        """Read a checkpoint's ``metadata`` dict; raise InputError naming a bad entry."""
        if not isinstance(metadata, Mapping):
            raise InputError(f"{where}: metadata is not a mapping")

        def get(key: str, kind: type, default: Any = ...) -> Any:
            if key not in metadata:
                if default is ...:
                    raise InputError(f"{where}: metadata lacks {key!r}")
                return default
            value = metadata[key]
            try:
                return kind(value)
            except (TypeError, ValueError):
                raise InputError(f"{where}: metadata {key!r} is {value!r}, not of type "
                                 f"{kind.__name__}") from None

        def get_in(section: Mapping[str, Any], key: str) -> int:
            try:
                return int(section[key])
            except (TypeError, ValueError):
                raise InputError(f"{where}: metadata {key!r} is {section[key]!r}, not of "
                                 "type int") from None

        config = get("config", dict)
        training = metadata.get("training") or {}
        selected = list(training.get("selected") or []) if isinstance(training, Mapping) else []
        if selected and not isinstance(selected[-1], Mapping):
            raise InputError(f"{where}: metadata 'training.selected' is not a list of mappings")
        known = {"config", "method", "label_scheme", "labels", "spacing_mm", "patch_size",
                 "in_channels", "out_channels", "normalisation", "package_version", "training"}
        labels = get("labels", dict, {})
        try:
            labels = {int(k): str(v) for k, v in labels.items()}
        except (TypeError, ValueError):
            raise InputError(f"{where}: metadata 'labels' is {labels!r}, not a mapping of "
                             "integer labels to names") from None
        return cls(
            config=config,
            method=get("method", str, str(config.get("method", ""))),
            label_scheme=get("label_scheme", str),
            labels=labels,
            spacing_mm=get("spacing_mm", float),
            patch_size=get("patch_size", int),
            in_channels=get("in_channels", int),
            out_channels=get("out_channels", int),
            normalisation=get("normalisation", str, ""),
            package_version=get("package_version", str, ""),
            selected=dict(selected[-1]) if selected else None,
            epochs_run=(get_in(training, "epochs_run") if isinstance(training, Mapping)
                        and "epochs_run" in training else None),
            extra={k: v for k, v in metadata.items() if k not in known},
        )

    @property
    def name(self) -> str:
        """The model's name in its config (the method name it gets by default)."""
        return str(self.config.get("name", self.method))

    @property
    def channels(self) -> list[int]:
        """U-Net channels per level, from the config (empty if not recorded)."""
        return [int(c) for c in self.config.get("network", {}).get("channels", [])]

    @property
    def epochs(self) -> int | None:
        """Epochs the config asked for."""
        epochs = self.config.get("epochs")
        return int(epochs) if epochs is not None else None

    @property
    def augmented(self) -> bool:
        """Whether training used augmentation."""
        return bool(self.config.get("augment", {}).get("enabled"))

    @property
    def loss(self) -> str:
        """The segmentation loss, in words."""
        return "GDL + cross-entropy" if self.config.get("seg_ce_weight") else "GDL"


def read_metadata(path: str | os.PathLike[str]) -> ModelMetadata:
    """The typed metadata of a checkpoint file or run folder (its ``best.pt``)."""
    p = Path(path)
    p = p / "best.pt" if p.is_dir() else p
    return ModelMetadata.from_mapping(load_checkpoint(p)["metadata"], where=str(p))


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
    InputError
        If the file holds anything but plain data (e.g. a pickled object that would run code),
        cannot be read (truncated, not a PyTorch file), is not a harmonstats checkpoint, or its
        parts are not of the expected types.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint not found: {p}")
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of files it then refuses: the error says it
            warnings.simplefilter("ignore")
            payload = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        call = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if call is None:  # bytes that do not unpickle at all: not code, not a checkpoint
            raise InputError(f"cannot read checkpoint {p}: not a PyTorch checkpoint, or a "
                             "truncated one (not a torch.save file)") from None
        raise InputError(
            f"refusing to load checkpoint {p}: it holds objects other than tensors and plain "
            f"data, which could run code (it would call {call.group(1)})"
        ) from None
    except Exception as exc:  # torch raises many types for bytes that are no checkpoint
        detail = " ".join(str(exc).split(". ")[0].split())[:150]
        raise InputError(f"cannot read checkpoint {p}: not a PyTorch checkpoint, or a "
                         f"truncated one ({type(exc).__name__}"
                         + (f": {detail})" if detail else ")")) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{p} is not a harmonstats checkpoint (format {CHECKPOINT_FORMAT!r})")
    _check_structure(payload, p)
    return payload


def _check_structure(payload: dict[str, Any], path: Path) -> None:
    """Raise unless a checkpoint's parts have the types its readers rely on."""
    for key in ("metadata", "models", "optimizers", "state"):
        if not isinstance(payload.get(key, {}), dict):
            raise InputError(f"{path}: checkpoint entry {key!r} is not a mapping")
    if "metadata" not in payload or "models" not in payload:
        raise InputError(f"{path}: checkpoint lacks its metadata or its weights")
    for name, weights in payload["models"].items():
        if not isinstance(weights, dict) or not all(
                isinstance(v, torch.Tensor) for v in weights.values()):
            raise InputError(f"{path}: weights of {name!r} are not a mapping of tensors")


def check_compatible(
    metadata: ModelMetadata | Mapping[str, Any],
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
        have = (getattr(metadata, key) if isinstance(metadata, ModelMetadata)
                else metadata.get(key))
        if have != want:
            raise InputError(f"{where}: {key} is {have!r}, but {want!r} is needed")


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
        raise InputError(f"{p}: no segmenter weights to export")
    dtype = torch.float16 if half else torch.float32
    weights = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    state = ckpt.get("state", {})
    history = list(state.get("history", []))
    metadata = {**ckpt["metadata"], "exported_from": p.name, "weights_dtype": str(dtype),
                "training": {"epochs_run": len(history), "selected": [
                    dict(row) for row in history if row.get("selected") == 1][-1:]}}
    return save_checkpoint(dest, models={"segmenter": weights}, metadata=metadata)
