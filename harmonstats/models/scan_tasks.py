"""One scan's segmentation as a task that runs anywhere: here, or on a Dask worker.

:func:`harmonstats.models.apply.segment_images` (and ``parcellate_cohort``) make one
:class:`ScanTask` per scan still to do, run them through a :class:`ScanRunner` and write what
comes back. The computation is :func:`compute_scan` on both paths, so the maps a cluster makes
are those of a local run, byte for byte.

On a Dask worker, :func:`run_scan` takes the networks from a cache of the worker process keyed
by checkpoint SHA-256 and device: a worker loads a model on its first task, checks that its
file is the one the client hashed, and keeps it for the rest of the cohort (the last
:data:`CACHED_MODELS` models stay). ``device="auto"`` is resolved on each worker, so each
worker uses its own GPU where it has one (on a multi-GPU node, start one worker per GPU with
``CUDA_VISIBLE_DEVICES``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import nibabel as nib
import numpy as np

from harmonstats.errors import InputError
from harmonstats.io import file_sha256

if TYPE_CHECKING:
    from nibabel.spatialimages import SpatialImage

    from harmonstats.models.apply import LoadedModel

__all__ = ["CACHED_MODELS", "Checkpoint", "ScanResult", "ScanRunner", "ScanTask",
           "compute_scan", "run_scan"]

#: Networks a worker process keeps loaded (the 7 methods of a study are applied one after
#: another, so a few suffice).
CACHED_MODELS = 4

_CACHE: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint file and the SHA-256 of its bytes (hex)."""

    path: Path
    sha256: str


@dataclass(frozen=True)
class ScanTask:
    """What one scan still needs.

    Attributes
    ----------
    scan : str
        Scan key (``sub-<label>[_ses-<label>]``), for messages.
    image : pathlib.Path or None
        T2w image to segment (None: parcellation only).
    segmenter : Checkpoint or None
        Tissue segmenter to apply to ``image`` (None: the tissues are done).
    parcellation : Checkpoint or None
        Parcellation model to split the cortical GM with (None: no regions to make).
    tissue_map : pathlib.Path or None
        Tissue map to parcellate when ``segmenter`` is None.
    overlap, window, precision
        As for :func:`harmonstats.models.apply.segment_image` (``precision`` resolved).
    device : str
        ``auto`` (resolved where the task runs), ``cpu``, ``cuda``...
    """

    scan: str
    image: Path | None
    segmenter: Checkpoint | None
    parcellation: Checkpoint | None
    tissue_map: Path | None
    overlap: float
    window: int | None
    device: str
    precision: str


@dataclass(frozen=True)
class ScanResult:
    """Maps of one scan on its input grid (uint8), and the network's mean voxel entropy."""

    labels: np.ndarray | None
    entropy: float | None
    regions: np.ndarray | None


def compute_scan(task: ScanTask, segmenter: LoadedModel | None,
                 parcellation: LoadedModel | None, device: str) -> ScanResult:
    """Run ``task`` with networks already loaded; the one computation of both paths."""
    from harmonstats.models.apply import parcellate, parcellate_labels, segment_with_entropy

    options: dict[str, Any] = {"overlap": task.overlap, "device": device,
                               "precision": task.precision, "window": task.window}
    labels = entropy = regions = None
    if task.segmenter is not None:
        if segmenter is None or task.image is None:
            raise ValueError(f"{task.scan}: a segmentation task needs its image and network")
        labels, entropy = segment_with_entropy(segmenter, task.image, **options)
    if task.parcellation is not None:
        if parcellation is None:
            raise ValueError(f"{task.scan}: a parcellation task needs its network")
        if labels is not None and task.image is not None:
            # The header only: the grid the labels are on.
            grid = cast("SpatialImage", nib.load(task.image))
            regions = parcellate_labels(parcellation, labels, np.asarray(grid.affine),
                                        **options)
        elif task.tissue_map is not None:
            regions = parcellate(parcellation, task.tissue_map, **options)
        else:
            raise ValueError(f"{task.scan}: nothing to parcellate")
    return ScanResult(labels, entropy, regions)


def _cached(checkpoint: Checkpoint, device: str) -> LoadedModel:
    from harmonstats.models.apply import load_segmenter

    key = (checkpoint.sha256, device)
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            found = file_sha256(checkpoint.path)
            if found != checkpoint.sha256:
                raise InputError(f"{checkpoint.path}: the worker's file has SHA-256 "
                                 f"{found[:16]}..., not the client's {checkpoint.sha256[:16]}...; "
                                 "workers must see the same checkpoint under the same path")
            model = load_segmenter(checkpoint.path)
            model.network.to(device)
            _CACHE[key] = model
        _CACHE.move_to_end(key)
        while len(_CACHE) > CACHED_MODELS:
            _CACHE.popitem(last=False)
    return model


def _worker_device(device: str) -> str:
    from harmonstats.models.train import resolve_device

    return str(resolve_device(device))


def run_scan(task: ScanTask) -> ScanResult:
    """Run ``task`` on a Dask worker: resolve the device there, networks from the cache."""
    device = _worker_device(task.device)
    seg = _cached(task.segmenter, device) if task.segmenter is not None else None
    parc = _cached(task.parcellation, device) if task.parcellation is not None else None
    return compute_scan(task, seg, parc, device)


class ScanRunner:
    """Where a cohort's scan tasks run: in this process, or on a Dask cluster.

    Use as a context manager; it connects to the cluster (and leaves it) there.

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        Dask scheduler address or client; None runs the tasks here, one after another.
    device : str
        ``auto``, ``cpu``, ``cuda``...: resolved here, or by each worker for its own tasks.
    precision : str
        ``auto``, ``fp32`` or ``bf16``. On a cluster, ``auto`` is bfloat16 when every worker
        runs on CUDA and float32 otherwise, so that all maps of a method share one arithmetic.

    Attributes
    ----------
    device : str
        The device tasks carry (resolved when local, as given on a cluster).
    precision : str
        ``fp32`` or ``bf16``: what the tasks compute in (and what the outputs' record says).
    """

    def __init__(self, scheduler: Any, device: str, precision: str) -> None:
        from harmonstats.models.inference import resolve_precision

        self._scheduler = scheduler
        self._connection: Any = None
        self._client: Any = None
        self._asked = precision
        resolve_precision(precision, "cpu")  # refuse a bad value before connecting
        self.device = device if scheduler is not None else _worker_device(device)
        self.precision = resolve_precision(precision, self.device) if scheduler is None else ""

    def __enter__(self) -> ScanRunner:
        if self._scheduler is None:
            return self
        from harmonstats.cluster import connect
        from harmonstats.models.inference import resolve_precision

        self._connection = connect(self._scheduler)
        self._client = self._connection.__enter__()
        try:
            devices = self._client.run(_worker_device, self.device)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        chosen = {resolve_precision(self._asked, d) for d in devices.values()}
        self.precision = chosen.pop() if len(chosen) == 1 else "fp32"
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._connection is not None:
            connection, self._connection, self._client = self._connection, None, None
            connection.__exit__(kind, exc, tb)

    def run(self, tasks: list[ScanTask], segmenter: LoadedModel | None,
            parcellation: LoadedModel | None) -> Iterator[tuple[int, ScanResult]]:
        """``(index, result)`` of every task, as they finish (in order when local).

        The networks given are used by local tasks; workers load theirs from the tasks'
        checkpoints (:func:`run_scan`).
        """
        if self._client is None:
            for i, task in enumerate(tasks):
                yield i, compute_scan(task, segmenter, parcellation, self.device)
            return
        from harmonstats.cluster import map_unordered

        yield from map_unordered(self._client, run_scan, tasks)
