"""Segmenting a cohort with a trained model, and parcellating any cortical GM map.

Outputs follow the study layout that the measures runner reads as a method:
``OUT/derivatives/<method>/sub-<id>/anat/sub-<id>_dseg.nii.gz`` (7 tissues) and
``..._desc-regions_dseg.nii.gz`` (11 cortical regions).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import torch
import torchio as tio
from tqdm import tqdm

from harmonstats.io import check_participant_id, file_sha256, load_nifti, save_nifti, write_json
from harmonstats.measures.qc import ENTROPY_KEY, entropy_sidecar
from harmonstats.models.checkpoint import check_compatible, load_checkpoint
from harmonstats.models.config import load_config
from harmonstats.models.data import image_of, prepare_subject
from harmonstats.models.inference import (
    normalised_entropy,
    predict_probabilities,
    resolve_precision,
)
from harmonstats.models.networks import build_segmenter
from harmonstats.models.unet import UNet3D

__all__ = ["LoadedModel", "find_images", "load_segmenter", "parcellate", "parcellate_cohort",
           "segment_cohort", "segment_image", "segment_images", "segment_with_entropy"]

_METHOD_RE = re.compile(r"^[a-z0-9_]+$")
_MODELS_RECORD = ".harmonstats-models.json"


class LoadedModel:
    """A segmenter rebuilt from a checkpoint, with the metadata it was trained with."""

    def __init__(self, network: UNet3D, metadata: dict[str, Any], source: Path) -> None:
        self.network = network
        self.metadata = metadata
        self.source = source

    @property
    def spacing(self) -> float:
        """Voxel size the model works at, mm."""
        return float(self.metadata["spacing_mm"])

    @property
    def roi(self) -> int:
        """Sliding-window edge, voxels (the training crop size)."""
        return int(self.metadata["patch_size"])

    @property
    def name(self) -> str:
        """The model's name in its config (used as the method name by default)."""
        return str(self.metadata["config"]["name"])


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
    meta = ckpt["metadata"]
    check_compatible(meta, label_scheme=label_scheme, in_channels=in_channels,
                     out_channels=out_channels, where=str(p))
    cfg = load_config(meta["config"])
    net = build_segmenter(cfg)
    try:
        net.load_state_dict(ckpt["models"]["segmenter"])
    except (KeyError, RuntimeError) as exc:
        raise ValueError(f"{p}: weights do not fit the network of its config: {exc}") from None
    net.eval()
    return LoadedModel(net, meta, p)


def find_images(root: str | os.PathLike[str]) -> dict[str, Path]:
    """Participant ID -> T2w image of every ``sub-<id>/anat/sub-<id>_T2w.nii.gz`` under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data folder not found: {root}")
    out = {}
    for img in sorted(root.glob("sub-*/anat/sub-*_T2w.nii.gz")):
        out[check_participant_id(img.parent.parent.name)] = img
    if not out:
        raise FileNotFoundError(f"no sub-<id>/anat/sub-<id>_T2w.nii.gz images under {root}")
    return out


def _to_input_grid(labels: torch.Tensor, prepared: tio.Subject, reference: Path) -> np.ndarray:
    affine = image_of(prepared, "image").affine
    pred = tio.LabelMap(tensor=labels[None].to(torch.int16), affine=affine)
    back = tio.Resample(str(reference))(tio.Subject(label=pred))
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
    labels = probs.argmax(0)
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
    check_compatible(model.metadata, label_scheme="regions11", where=str(model.source))
    ref = load_nifti(tissue_map, what="tissue map to parcellate")
    gm = np.asarray(ref.dataobj) == gm_label
    mask = tio.ScalarImage(tensor=torch.from_numpy(gm.astype(np.float32))[None], affine=ref.affine)
    subject = tio.Compose([tio.ToCanonical(), tio.Resample(model.spacing)])(
        tio.Subject(image=mask))
    binary = (image_of(subject, "image").data > 0.5).float()
    model.network.to(device)
    probs = predict_probabilities(model.network, binary, roi=window or model.roi,
                                  overlap=overlap, device=device, precision=precision)
    regions = probs[1:].argmax(0) + 1
    out = _to_input_grid(regions, subject, Path(tissue_map))
    return np.where(gm, out, 0).astype(np.uint8)


def segment_cohort(
    model: str | os.PathLike[str],
    data: str | os.PathLike[str],
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
) -> list[Path]:
    """Segment every T2w image of a study and write one tissue (and region) map per subject.

    Parameters
    ----------
    model : path-like
        Run folder or checkpoint of a tissue segmenter.
    data : path-like
        Study folder with ``sub-<id>/anat/sub-<id>_T2w.nii.gz``.
    out : path-like
        Output root; maps go to ``out/derivatives/<method>/sub-<id>/anat/``.
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
        ``cpu``, ``cuda``...
    overwrite : bool
        Redo subjects whose outputs exist (default: skip them).

    Returns
    -------
    list of pathlib.Path
        The tissue maps written or found.
    """
    return segment_images(model, find_images(data), out, method=method,
                          parcellation=parcellation, overlap=overlap, device=device,
                          precision=precision, window=window, progress=progress,
                          overwrite=overwrite)


def segment_images(
    model: str | os.PathLike[str],
    images: Mapping[str, str | os.PathLike[str]],
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
) -> list[Path]:
    """Segment (and parcellate) the T2w images of a cohort given as ``{participant_id: path}``.

    Outputs go to ``out/derivatives/<method>/sub-<id>/anat/`` as in :func:`segment_cohort`.
    A record beside them (``.harmonstats-models.json``) holds the SHA-256 of the checkpoints that
    made them, the window, the overlap and the precision: subjects already done with the same
    are skipped, outputs of another checkpoint or setting are redone. Each map is written
    atomically, so an interrupted run resumes.

    Returns
    -------
    list of pathlib.Path
        The tissue maps, in the order of ``images``.
    """
    seg = load_segmenter(model, label_scheme="tissues7", in_channels=1, out_channels=7)
    parc = (load_segmenter(parcellation, label_scheme="regions11", in_channels=1)
            if parcellation is not None else None)
    name = method or seg.name
    if not _METHOD_RE.fullmatch(name):
        raise ValueError(f"method name {name!r}: use lowercase letters, digits and '_'")
    folder = Path(out) / "derivatives" / name
    record_path = folder / _MODELS_RECORD
    previous = json.loads(record_path.read_text()) if record_path.is_file() else {}
    record = {"segmenter": file_sha256(seg.source),
              "parcellation": (file_sha256(parc.source) if parc is not None
                               else previous.get("parcellation")),
              "overlap": overlap, "precision": resolve_precision(precision, device),
              "window": window or seg.roi}
    redo = any(previous.get(k, record[k]) != record[k]
               for k in ("segmenter", "overlap", "precision", "window"))
    redo_regions = redo or (previous.get("parcellation", record["parcellation"])
                            != record["parcellation"])
    # Outputs of other checkpoints go before the new record is written, so that a run killed
    # midway never leaves stale maps that look finished.
    if redo or redo_regions:
        for stale in folder.glob("sub-*/anat/*_desc-regions_dseg.nii.gz"):
            stale.unlink()
    if redo:
        for stale in folder.glob("sub-*/anat/sub-*_dseg.nii.gz"):
            stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    write_json(record, record_path)
    written = []
    for pid, image in tqdm(images.items(), desc=f"segment {name}", disable=not progress):
        check_participant_id(pid)
        anat = folder / f"sub-{pid}" / "anat"
        dseg = anat / f"sub-{pid}_dseg.nii.gz"
        regions = anat / f"sub-{pid}_desc-regions_dseg.nii.gz"
        ref = load_nifti(image, what=f"T2w image of subject {pid}")
        if overwrite or not dseg.is_file():
            labels, entropy = segment_with_entropy(seg, image, overlap=overlap, device=device,
                                                   precision=precision, window=window)
            write_json({ENTROPY_KEY: entropy}, entropy_sidecar(dseg))  # read by measures.qc
            _save_like(labels, ref, dseg)
        if parc is not None and (overwrite or not regions.is_file()):
            _save_like(parcellate(parc, dseg, overlap=overlap, device=device,
                                  precision=precision, window=window), ref, regions)
        written.append(dseg)
    return written


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
) -> list[Path]:
    """Parcellate the cortical GM of one method's tissue maps, for every subject.

    The tissue map of a subject is ``out/derivatives/<method>/sub-<id>/anat/sub-<id>_dseg.nii.gz``
    if it exists, else the study's ``data/sub-<id>/anat/sub-<id>_desc-<method>_dseg.nii.gz``
    (e.g. ``original`` or ``truth``). Region maps are written to
    ``out/derivatives/<method>/sub-<id>/anat/sub-<id>_desc-regions_dseg.nii.gz``.

    Raises
    ------
    FileNotFoundError
        If a subject has no tissue map for ``method``.
    """
    if not _METHOD_RE.fullmatch(method):
        raise ValueError(f"method name {method!r}: use lowercase letters, digits and '_'")
    parc = load_segmenter(parcellation, label_scheme="regions11", in_channels=1)
    written = []
    for pid in tqdm(find_images(data), desc=f"parcellate {method}", disable=not progress):
        anat = Path(out) / "derivatives" / method / f"sub-{pid}" / "anat"
        tissue = anat / f"sub-{pid}_dseg.nii.gz"
        if not tissue.is_file():
            tissue = Path(data) / f"sub-{pid}" / "anat" / f"sub-{pid}_desc-{method}_dseg.nii.gz"
        if not tissue.is_file():
            raise FileNotFoundError(f"subject {pid}: no tissue map of method {method!r} "
                                    f"({anat / f'sub-{pid}_dseg.nii.gz'} or {tissue})")
        regions = anat / f"sub-{pid}_desc-regions_dseg.nii.gz"
        if overwrite or not regions.is_file():
            ref = load_nifti(tissue, what=f"tissue map of subject {pid}")
            _save_like(parcellate(parc, tissue, overlap=overlap, device=device,
                                  precision=precision, window=window), ref, regions)
        written.append(regions)
    return written
