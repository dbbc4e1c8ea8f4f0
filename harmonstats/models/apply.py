"""Segmenting a cohort with a trained model, and parcellating any cortical GM map.

Each method's outputs are a BIDS-Derivatives dataset, ``OUT/derivatives/<method>/``, in the
layout the measures runner reads (:mod:`harmonstats.layout`): ``<scan>_dseg.nii.gz`` (7 tissues)
and ``<scan>_desc-regions_dseg.nii.gz`` (11 cortical regions) with a JSON sidecar each, the
look-up tables ``dseg.tsv`` and ``desc-regions_dseg.tsv``, and a ``dataset_description.json``
whose ``GeneratedBy`` names harmonstats, its version and the SHA-256 of the checkpoints.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
import torchio as tio
from tqdm import tqdm

from harmonstats.cohort import Cohort, check_images
from harmonstats.errors import InputError
from harmonstats.io import file_sha256, load_nifti, save_nifti, write_json
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout import (
    REGIONS_DESC,
    Scan,
    check_participants,
    dataset_root,
    derivative_path,
    find_images,
    find_study_files,
    method_name,
    read_scans,
    scans_of,
)
from harmonstats.layout.derivatives import (
    generated_by,
    write_dataset_description,
    write_dseg_tables,
    write_sidecar,
)
from harmonstats.measures.qc import ENTROPY_KEY
from harmonstats.models.checkpoint import ModelMetadata, check_compatible, load_checkpoint
from harmonstats.models.config import load_config
from harmonstats.models.data import image_of, prepare_subject
from harmonstats.models.inference import (
    hard_labels,
    normalised_entropy,
    predict_probabilities,
)
from harmonstats.models.networks import build_segmenter
from harmonstats.models.scan_tasks import Checkpoint, ScanResult, ScanRunner, ScanTask
from harmonstats.models.unet import UNet3D

__all__ = ["LoadedModel", "load_segmenter", "parcellate", "parcellate_cohort",
           "parcellate_labels", "segment_cohort", "segment_image", "segment_images",
           "segment_with_entropy"]

_MODELS_RECORD = ".harmonstats-models.json"


class LoadedModel:
    """A segmenter rebuilt from a checkpoint, with the metadata it was trained with."""

    def __init__(self, network: UNet3D, metadata: ModelMetadata | Mapping[str, Any],
                 source: Path) -> None:
        self.network = network
        self.metadata = (metadata if isinstance(metadata, ModelMetadata)
                         else ModelMetadata.from_mapping(metadata, where=str(source)))
        self.source = source

    @property
    def spacing(self) -> float:
        """Voxel size the model works at, mm."""
        return self.metadata.spacing_mm

    @property
    def roi(self) -> int:
        """Sliding-window edge, voxels (the training crop size)."""
        return self.metadata.patch_size

    @property
    def name(self) -> str:
        """The model's name in its config (used as the method name by default)."""
        return self.metadata.name


def load_segmenter(
    path: str | os.PathLike[str],
    *,
    label_scheme: str | None = None,
    in_channels: int | None = None,
    out_channels: int | None = None,
) -> LoadedModel:
    """Load the segmenter of a run folder (its ``best.pt``) or of a checkpoint file.

    Parameters
    ----------
    path : path-like
        Run folder or ``.pt`` file.
    label_scheme, in_channels, out_channels : optional
        What the caller needs (e.g. ``"tissues7"``, 1, 7); a checkpoint that differs is refused.

    Raises
    ------
    ValueError
        If the checkpoint holds code, is not a harmonstats checkpoint, or does not match.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "best.pt"
    ckpt = load_checkpoint(p)
    meta = ModelMetadata.from_mapping(ckpt["metadata"], where=str(p))
    check_compatible(meta, label_scheme=label_scheme, in_channels=in_channels,
                     out_channels=out_channels, where=str(p))
    cfg = load_config(meta.config)
    net = build_segmenter(cfg)
    try:
        net.load_state_dict(ckpt["models"]["segmenter"])
    except (KeyError, RuntimeError) as exc:
        raise InputError(f"{p}: weights do not fit the network of its config: {exc}") from None
    net.eval()
    return LoadedModel(net, meta, p)


def _to_input_grid(labels: torch.Tensor, prepared: tio.Subject,
                   reference: Path | tuple[tuple[int, ...], np.ndarray]) -> np.ndarray:
    """Labels of the prepared grid back on the grid of ``reference`` (a file or
    ``(shape, affine)``), nearest neighbour."""
    affine = image_of(prepared, "image").affine
    pred = tio.LabelMap(tensor=labels[None].to(torch.int16), affine=affine)
    target = str(reference) if isinstance(reference, Path) else reference
    back = tio.Resample(target)(tio.Subject(label=pred))
    return image_of(back, "label").data[0].numpy().astype(np.uint8)


def _save_like(data: np.ndarray, reference: nib.Nifti1Image, path: Path) -> None:
    header = reference.header.copy()
    header.set_slope_inter(1.0, 0.0)
    save_nifti(data, reference.affine, path, header=header)


def segment_image(model: LoadedModel, image: str | os.PathLike[str], *, overlap: float = 0.5,
                  device: str | torch.device = "cpu", precision: str = "auto",
                  window: int | None = None) -> np.ndarray:
    """Tissue map (uint8, the input's grid) of one T2w image, prepared exactly as in training.

    ``precision`` and ``window`` (default: the model's training crop) are those of
    :func:`harmonstats.models.inference.predict_probabilities`.
    """
    return segment_with_entropy(model, image, overlap=overlap, device=device,
                                precision=precision, window=window)[0]


def segment_with_entropy(model: LoadedModel, image: str | os.PathLike[str], *,
                         overlap: float = 0.5, device: str | torch.device = "cpu",
                         precision: str = "auto",
                         window: int | None = None) -> tuple[np.ndarray, float]:
    """:func:`segment_image` and the network's mean normalised voxel entropy over the brain
    (the voxels it labels as tissue; :func:`~harmonstats.models.inference.normalised_entropy`)."""
    subject = prepare_subject(tio.Subject(image=tio.ScalarImage(image)), model.spacing)
    model.network.to(device)
    probs = predict_probabilities(model.network, image_of(subject, "image").data,
                                  roi=window or model.roi, overlap=overlap, device=device,
                                  precision=precision)
    labels = hard_labels(probs)
    entropy = normalised_entropy(probs, labels > 0)
    return _to_input_grid(labels, subject, Path(image)), entropy


def parcellate(model: LoadedModel, tissue_map: str | os.PathLike[str], *, gm_label: int = 2,
               overlap: float = 0.5, device: str | torch.device = "cpu",
               precision: str = "auto", window: int | None = None) -> np.ndarray:
    """Split the cortical GM of any tissue map (reference or predicted) into the 11 regions.

    Every GM voxel gets its most probable region (background excluded); other voxels get 0.

    Parameters
    ----------
    model : LoadedModel
        A parcellation model (``label_scheme`` ``regions11``).
    tissue_map : path-like
        7-tissue label map (NIfTI).
    gm_label : int
        Label of cortical GM in the map.
    overlap, device, precision, window
        As for :func:`segment_image`.
    """
    ref = load_nifti(tissue_map, what="tissue map to parcellate")
    return parcellate_labels(model, np.asarray(ref.dataobj), ref.affine, gm_label=gm_label,
                             overlap=overlap, device=device, precision=precision,
                             window=window)


def parcellate_labels(model: LoadedModel, tissue: np.ndarray, affine: np.ndarray, *,
                      gm_label: int = 2, overlap: float = 0.5,
                      device: str | torch.device = "cpu", precision: str = "auto",
                      window: int | None = None) -> np.ndarray:
    """:func:`parcellate` of a tissue map held in memory (e.g. just predicted).

    Parameters
    ----------
    tissue : numpy.ndarray
        3D 7-tissue label map.
    affine : numpy.ndarray
        Its voxel-to-world matrix (4 x 4, mm); the regions come back on the same grid.
    """
    check_compatible(model.metadata, label_scheme="regions11", where=str(model.source))
    gm = np.asarray(tissue) == gm_label
    mask = tio.ScalarImage(tensor=torch.from_numpy(gm.astype(np.float32))[None], affine=affine)
    subject = tio.Compose([tio.ToCanonical(), tio.Resample(model.spacing)])(
        tio.Subject(image=mask))
    binary = (image_of(subject, "image").data > 0.5).float()
    model.network.to(device)
    probs = predict_probabilities(model.network, binary, roi=window or model.roi,
                                  overlap=overlap, device=device, precision=precision)
    regions = hard_labels(probs[1:]) + 1
    out = _to_input_grid(regions, subject, (gm.shape, np.asarray(affine)))
    return np.where(gm, out, 0).astype(np.uint8)


def _images(data: Cohort | str | os.PathLike[str]) -> tuple[dict[Scan, Path], Path | None]:
    """Scan -> T2w image of a cohort or study folder, and the root the images lie in."""
    if isinstance(data, Cohort):
        images = {s: p for s, p in ((s, data.image_path(s)) for s in data.scans) if p}
        missing = [str(s) for s in data.scans if s not in images]
        if missing:
            raise FileNotFoundError(f"{missing[0]}: no T2w image in the cohort "
                                    f"({len(missing)} scans without one)")
        return images, data.root
    images = find_images(data)
    if not images:
        raise FileNotFoundError(f"no T2w images (sub-<label>[/ses-<label>]/anat/"
                                f"sub-<label>[_ses-<label>]_T2w.nii.gz) under {data}")
    return images, Path(data)


def segment_cohort(
    model: str | os.PathLike[str],
    data: Cohort | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    method: str | None = None,
    parcellation: str | os.PathLike[str] | None = None,
    overlap: float = 0.5,
    device: str = "cpu",
    precision: str = "auto",
    window: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    scheduler: Any = None,
) -> list[Path]:
    """Segment every T2w image of a cohort and write one tissue (and region) map per scan.

    Parameters
    ----------
    model : path-like
        Run folder or checkpoint of a tissue segmenter.
    data : Cohort or path-like
        The cohort, or a BIDS study folder (its scans' ``..._T2w.nii.gz``).
    out : path-like
        Output root; maps go to the derivatives dataset ``out/derivatives/<method>/``.
    method : str, optional
        Method name (lowercase letters, digits, ``_``); default: the model's config name.
    parcellation : path-like, optional
        Parcellation run folder or checkpoint, applied to each predicted cortical GM.
    overlap : float
        Sliding-window overlap.
    window : int, optional
        Sliding-window edge in voxels (default: the model's training crop).
    precision : str
        ``auto`` (bfloat16 on CUDA, float32 on CPU), ``fp32`` or ``bf16``.
    device : str
        ``auto`` (CUDA when present), ``cpu``, ``cuda``...; with a ``scheduler``, resolved by
        each worker for itself.
    overwrite : bool
        Redo scans whose outputs exist (default: skip them).
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:port``) or client: each scan is a task on that
        cluster (see :func:`segment_images`).

    Returns
    -------
    list of pathlib.Path
        The tissue maps written or found.
    """
    images, root = _images(data)
    return segment_images(model, images, out, method=method, parcellation=parcellation,
                          overlap=overlap, device=device, precision=precision, window=window,
                          progress=progress, overwrite=overwrite, source_root=root,
                          scheduler=scheduler)


def _source_uri(path: Path, root: Path | None, dataset: str = "raw") -> list[str] | None:
    """``["bids:<dataset>:<relative path>"]`` if ``path`` lies in ``root``, else None."""
    if root is None:
        return None
    try:
        rel = Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return None
    return [f"bids:{dataset}:{rel.as_posix()}"]


def _describe_dataset(folder: Path, name: str, record: Mapping[str, Any], seg: LoadedModel,
                      parc: LoadedModel | None, source_root: Path | None) -> None:
    models = f"segmenter {seg.source.name} (sha256 {record['segmenter']})"
    if parc is not None:
        models += f", parcellation {parc.source.name} (sha256 {record['parcellation']})"
    links = ({"raw": os.path.relpath(Path(source_root).resolve(), folder.resolve())}
             if source_root is not None else None)
    write_dataset_description(
        folder, name=f"{name}: tissue segmentations (and cortical parcellations)",
        generated=[generated_by(description=f"harmonstats segment, method {name}: {models}; "
                                f"window {record['window']}, overlap {record['overlap']}, "
                                f"precision {record['precision']}")],
        links=links)
    write_dseg_tables(folder, tissues=TISSUES, regions=REGIONS)


def segment_images(
    model: str | os.PathLike[str],
    images: Mapping[Any, str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    method: str | None = None,
    parcellation: str | os.PathLike[str] | None = None,
    overlap: float = 0.5,
    device: str = "cpu",
    precision: str = "auto",
    window: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    source_root: str | os.PathLike[str] | None = None,
    scheduler: Any = None,
) -> list[Path]:
    """Segment (and parcellate) the T2w images of a cohort given as ``{scan: path}``.

    Outputs go to the derivatives dataset ``out/derivatives/<method>/`` as in
    :func:`segment_cohort`. A record beside them (``.harmonstats-models.json``) holds the
    SHA-256 of the checkpoints that made them, the window, the overlap and the precision: scans
    already done with the same are skipped, outputs of another checkpoint or setting are redone.
    Each map is written atomically after its sidecar (which holds the network's mean normalised
    entropy, read by :mod:`harmonstats.measures.qc`), so an interrupted run resumes.

    With a ``scheduler``, each scan still to do is one task on the Dask cluster
    (:mod:`harmonstats.models.scan_tasks`): a worker loads each network once and keeps it,
    reads the images and checkpoints by path (the workers must see the same files) and sends
    the maps back; this process writes them as they arrive, exactly as a local run does.

    Parameters
    ----------
    images : mapping
        Scan (or scan key such as ``sub-a1_ses-2``) -> T2w image.
    source_root : path-like, optional
        The raw dataset the images belong to: sidecars then name them as ``bids:raw:`` URIs.
    scheduler : str or distributed.Client, optional
        Dask scheduler address or client. ``device`` is then resolved by each worker and
        ``precision="auto"`` is bfloat16 only when every worker runs on CUDA.

    Returns
    -------
    list of pathlib.Path
        The tissue maps, in the order of ``images``.
    """
    seg = load_segmenter(model, label_scheme="tissues7", in_channels=1, out_channels=7)
    parc = (load_segmenter(parcellation, label_scheme="regions11", in_channels=1)
            if parcellation is not None else None)
    name = method_name(method or seg.name)
    scans = {Scan.parse(k): Path(v) for k, v in images.items()}
    check_images(scans)
    base = Path(out)
    folder = dataset_root(base, name)
    record_path = folder / _MODELS_RECORD
    try:
        previous = json.loads(record_path.read_text()) if record_path.is_file() else {}
    except ValueError:
        previous = None
    if not isinstance(previous, dict):  # unreadable: outputs of unknown checkpoints, redone
        previous = {"segmenter": "", "parcellation": ""}
    seg_ckpt = Checkpoint(seg.source, file_sha256(seg.source))
    parc_ckpt = Checkpoint(parc.source, file_sha256(parc.source)) if parc is not None else None
    with ScanRunner(scheduler, device, precision) as runner:
        record = {"segmenter": seg_ckpt.sha256,
                  "parcellation": (parc_ckpt.sha256 if parc_ckpt is not None
                                   else previous.get("parcellation")),
                  "overlap": overlap, "precision": runner.precision,
                  "window": window or seg.roi}
        redo = any(previous.get(k, record[k]) != record[k]
                   for k in ("segmenter", "overlap", "precision", "window"))
        redo_regions = redo or (previous.get("parcellation", record["parcellation"])
                                != record["parcellation"])
        # Outputs of other checkpoints go before the new record is written, so that a run
        # killed midway never leaves stale maps that look finished.
        for stale in sorted(folder.rglob("sub-*_dseg.nii.gz")) if redo or redo_regions else []:
            if redo or f"_desc-{REGIONS_DESC}_" in stale.name:
                stale.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        write_json(record, record_path)
        root = Path(source_root) if source_root is not None else None
        _describe_dataset(folder, name, record, seg, parc, root)
        tasks = []
        for scan, image in scans.items():
            dseg = base / derivative_path(name, scan)
            tissues = overwrite or not dseg.is_file()  # a map present is a scan finished
            regions = parc_ckpt is not None and (
                overwrite or not (base / derivative_path(name, scan, desc=REGIONS_DESC)).is_file())
            if tissues or regions:
                tasks.append(ScanTask(
                    scan=scan.key, image=image, segmenter=seg_ckpt if tissues else None,
                    parcellation=parc_ckpt if regions else None,
                    tissue_map=None if tissues else dseg, overlap=overlap, window=window,
                    device=runner.device, precision=runner.precision))
        with tqdm(total=len(scans), initial=len(scans) - len(tasks), desc=f"segment {name}",
                  disable=not progress) as bar:
            for i, result in runner.run(tasks, seg, parc):
                _write_scan(tasks[i], result, base, name, seg, parc, root)
                bar.update(1)
    return [base / derivative_path(name, scan) for scan in scans]


def _write_scan(task: ScanTask, result: ScanResult, base: Path, name: str, seg: LoadedModel,
                parc: LoadedModel | None, root: Path | None) -> None:
    """Write one scan's maps, each after its sidecar (a map present is a map finished)."""
    scan = Scan.parse(task.scan)
    dseg = base / derivative_path(name, scan)
    image = Path(str(task.image))
    ref = load_nifti(image, what=f"{scan} T2w image")
    if result.labels is not None:
        write_sidecar(dseg, Sources=_source_uri(image, root),
                      Description=f"7 tissue classes predicted by {seg.source.name}",
                      Manual=False, **{ENTROPY_KEY: result.entropy})
        _save_like(result.labels, ref, dseg)
    if result.regions is not None and parc is not None:
        regions = base / derivative_path(name, scan, desc=REGIONS_DESC)
        write_sidecar(regions, Sources=_source_uri(dseg, dataset_root(base, name), ""),
                      Description=f"11 cortical regions of the predicted cortical GM, by "
                                  f"{parc.source.name}", Manual=False)
        _save_like(result.regions, ref, regions)


def parcellate_cohort(
    parcellation: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    method: str,
    overlap: float = 0.5,
    device: str = "cpu",
    precision: str = "auto",
    window: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    scheduler: Any = None,
) -> list[Path]:
    """Parcellate the cortical GM of one method's tissue maps, for every scan.

    A scan's tissue map is the model output ``out/derivatives/<method>/<scan>_dseg.nii.gz`` if
    it exists, else the study's own map of that method as :mod:`harmonstats.layout` finds it
    in ``data`` (e.g. ``original`` or ``truth``). Region maps are written to
    ``out/derivatives/<method>/<scan>_desc-regions_dseg.nii.gz``. ``scheduler`` runs each scan
    as a task on a Dask cluster, as in :func:`segment_images`.

    Raises
    ------
    FileNotFoundError
        If a scan has no tissue map for ``method``.
    """
    name = method_name(method)
    parc = load_segmenter(parcellation, label_scheme="regions11", in_channels=1)
    parc_ckpt = Checkpoint(parc.source, file_sha256(parc.source))
    base = Path(out)
    table, source = read_scans(data)
    scans = scans_of(check_participants(table, source=source, required=("participant_id",)))
    given = find_study_files(data, scans).labels.get(name, {})
    folder = dataset_root(base, name)
    tissues = {}
    for scan in scans:
        own = base / derivative_path(name, scan)
        tissue = own if own.is_file() else given.get(scan)
        if tissue is None or not tissue.is_file():
            raise FileNotFoundError(f"{scan}: no tissue map of method {name!r} ({own} or the "
                                    f"study's desc-{name} map in {data})")
        tissues[scan] = tissue
    with ScanRunner(scheduler, device, precision) as runner:
        tasks = [ScanTask(scan=scan.key, image=None, segmenter=None, parcellation=parc_ckpt,
                          tissue_map=tissue, overlap=overlap, window=window,
                          device=runner.device, precision=runner.precision)
                 for scan, tissue in tissues.items()
                 if overwrite or not (base / derivative_path(name, scan, desc=REGIONS_DESC))
                 .is_file()]
        with tqdm(total=len(scans), initial=len(scans) - len(tasks),
                  desc=f"parcellate {name}", disable=not progress) as bar:
            for i, result in runner.run(tasks, None, parc):
                task, tissue = tasks[i], Path(str(tasks[i].tissue_map))
                regions = base / derivative_path(name, Scan.parse(task.scan), desc=REGIONS_DESC)
                ref = load_nifti(tissue, what=f"{task.scan} tissue map")
                write_sidecar(regions, Sources=_source_uri(tissue, Path(data)),
                              Description=f"11 cortical regions by {parc.source.name}",
                              Manual=False)
                if result.regions is not None:
                    _save_like(result.regions, ref, regions)
                bar.update(1)
    if not (folder / "dataset_description.json").is_file():
        write_dataset_description(
            folder, name=f"{name}: cortical parcellations",
            generated=[generated_by(description=f"harmonstats segment: parcellation "
                                    f"{parc.source.name} (sha256 {parc_ckpt.sha256})")],
            links={"raw": os.path.relpath(Path(data).resolve(), folder.resolve())})
        write_dseg_tables(folder, tissues=TISSUES, regions=REGIONS)
    return [base / derivative_path(name, scan, desc=REGIONS_DESC) for scan in scans]
