"""Preparing studies for the networks: resampling, rigid alignment, masking, stratified splits.

Synthetic studies come aligned and masked; real ones go through :func:`preprocess_study`. Intensity
normalisation (:data:`harmonstats.models.data.NORMALISATION`) is applied by the models on the fly,
identically in training and inference, so preprocessed images keep their intensities (and their
background at 0, which the normalisation uses as the brain mask).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torchio as tio
from tqdm import tqdm

from harmonstats.errors import InputError
from harmonstats.io import load_nifti, save_nifti, write_json
from harmonstats.layout import DERIVATIVES, find_images, raw_path
from harmonstats.layout.derivatives import sidecar_path
from harmonstats.models.data import NORMALISATION, image_of

__all__ = ["preprocess_study", "preprocess_subject", "stratified_split"]


def stratified_split(
    participants: pd.DataFrame,
    *,
    by: str = "pma_scan",
    within: str | None = "cohort",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> pd.DataFrame:
    """Assign ``train``/``val``/``test`` so that each split keeps the distribution of ``by``.

    Subjects (per ``within`` group) are sorted by ``by`` and cut into consecutive blocks of
    ``1 / min(fraction)`` subjects (10 for 80/10/10); within each block the splits are assigned
    in proportion at random, so every split samples the whole age range.

    Parameters
    ----------
    participants : pandas.DataFrame
        Must hold ``participant_id`` and ``by`` (and ``within`` if given).
    by : str
        Column whose distribution is kept (PMA at scan, weeks).
    within : str or None
        Column splitting the table into groups handled separately (cohort).
    fractions : tuple of float
        Train, validation and test fractions (sum 1).
    seed : int
        Seed of the random assignment.

    Returns
    -------
    pandas.DataFrame
        A copy of ``participants`` with a ``split`` column (``train``, ``val``, ``test``).

    Raises
    ------
    ValueError
        If a column is missing, ``by`` has missing values, or the fractions are invalid.
    """
    frac = np.asarray(fractions, dtype=float)
    if frac.shape != (3,) or (frac < 0).any() or not np.isclose(frac.sum(), 1.0):
        raise InputError(f"fractions must be three non-negative numbers summing to 1: {fractions}")
    for col in ["participant_id", by] + ([within] if within else []):
        if col not in participants.columns:
            raise InputError(f"participants table has no column {col!r}")
    if participants[by].isna().any():
        bad = participants.loc[participants[by].isna(), "participant_id"].tolist()
        raise InputError(f"column {by!r} is missing for participant(s) {bad[:10]}")
    rng = np.random.default_rng(seed)
    block = round(1.0 / frac[frac > 0].min())
    names = np.array(["train", "val", "test"])
    out = participants.copy()
    out["split"] = ""
    groups = out.groupby(within, sort=True) if within else [(None, out)]
    for _, group in groups:
        order = group.sort_values([by, "participant_id"]).index.to_numpy()
        for start in range(0, len(order), block):
            idx = order[start:start + block]
            counts = _allocate(len(idx), frac, rng)
            labels = np.repeat(names, counts)
            out.loc[idx, "split"] = rng.permutation(labels)
    return out


def _allocate(n: int, frac: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Largest-remainder allocation of ``n`` items; ties in remainders broken at random."""
    exact = frac * n
    counts = np.floor(exact).astype(int)
    rest = n - counts.sum()
    if rest:
        remainder = exact - counts + rng.uniform(0, 1e-9, 3)
        counts[np.argsort(-remainder)[:rest]] += 1
    return counts


def preprocess_subject(
    image: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    spacing: float = 0.5,
    labels: list[str | os.PathLike[str]] | None = None,
    mask: str | os.PathLike[str] | None = None,
    template: str | os.PathLike[str] | None = None,
    label_outputs: list[str | os.PathLike[str]] | None = None,
) -> Path:
    """Align, resample and mask one subject's T2w image and label maps; record the steps.

    Parameters
    ----------
    image : path-like
        ``sub-<id>_T2w.nii.gz``.
    out_dir : path-like
        Folder receiving files of the same names and a ``sub-<id>_T2w.json`` sidecar.
    spacing : float
        Output isotropic voxel size, mm (linear interpolation for the image, nearest
        neighbour for label maps and the mask).
    labels : list of path-like, optional
        Label maps on the image's grid.
    mask : path-like, optional
        Brain mask on the image's grid; voxels outside it are set to 0.
    template : path-like, optional
        Template for a rigid alignment (``ants.registration``, ``Rigid``) done before
        resampling; the output then lies in template space.
    label_outputs : list of path-like, optional
        Where each label map goes (default: ``out_dir`` under its own name).

    Returns
    -------
    pathlib.Path
        The preprocessed image.
    """
    image = Path(image)
    out_dir = Path(out_dir)
    steps: list[dict[str, Any]] = []
    original = load_nifti(image, what="T2w image")
    subject = tio.Subject(image=tio.ScalarImage(image))
    for i, lab in enumerate(labels or []):
        load_nifti(lab, what=f"label map of {image.name}")
        subject[f"label{i}"] = tio.LabelMap(lab)
    if mask is not None:
        load_nifti(mask, what=f"brain mask of {image.name}")
        subject["mask"] = tio.LabelMap(mask)
    if template is not None:
        subject = _rigid(subject, Path(template))
        steps.append({"step": "rigid alignment", "tool": "ants.registration", "type": "Rigid",
                      "template": str(template)})
    subject = tio.Resample(float(spacing))(subject)
    steps.append({"step": "resample", "spacing_mm": float(spacing), "image": "linear",
                  "labels": "nearest"})
    if mask is not None:
        brain = image_of(subject, "mask").data > 0
        img = image_of(subject, "image")
        img.set_data(torch.where(brain, img.data, 0.0))
        steps.append({"step": "brain mask", "mask": str(mask)})
    steps.append({"step": "intensity normalisation", "applied": "by the model, on the fly",
                  "method": NORMALISATION})
    out_img = out_dir / image.name
    data = image_of(subject, "image").data[0].numpy().astype(np.float32)
    save_nifti(data, image_of(subject, "image").affine, out_img)
    targets = label_outputs or [out_dir / Path(lab).name for lab in labels or []]
    if len(targets) != len(labels or []):
        raise ValueError(f"{len(labels or [])} label maps but {len(targets)} output paths")
    for i, (lab, target) in enumerate(zip(labels or [], targets, strict=True)):
        arr = image_of(subject, f"label{i}").data[0].numpy()
        save_nifti(arr.astype(np.asarray(load_nifti(lab).dataobj).dtype),
                   image_of(subject, f"label{i}").affine, target)
    write_json({"Sources": [str(image)], "OriginalShape": list(original.shape),
                "OriginalZooms": [float(z) for z in original.header.get_zooms()[:3]],
                "Preprocessing": steps}, sidecar_path(out_img))
    return out_img


def _rigid(subject: tio.Subject, template: Path) -> tio.Subject:
    import ants

    fixed = ants.image_read(str(template))
    moving = ants.image_read(str(image_of(subject, "image").path))
    reg = ants.registration(fixed, moving, type_of_transform="Rigid", random_seed=1)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, img in subject.get_images_dict(intensity_only=False).items():
            scalar = isinstance(img, tio.ScalarImage)
            warped = ants.apply_transforms(fixed, ants.image_read(str(img.path)),
                                           reg["fwdtransforms"],
                                           interpolator="linear" if scalar else "nearestNeighbor")
            path = Path(tmp) / f"{name}.nii.gz"
            ants.image_write(warped, str(path))
            loaded = (tio.ScalarImage if scalar else tio.LabelMap)(path)
            loaded.load()
            out[name] = loaded
    return tio.Subject(**out)


def preprocess_study(
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    spacing: float = 0.5,
    template: str | os.PathLike[str] | None = None,
    mask_desc: str | None = None,
    progress: bool = True,
) -> list[Path]:
    """Preprocess every scan's T2w image with its label maps, into the same layout.

    The scans and their files are those :mod:`harmonstats.layout` finds: each scan's
    ``..._T2w.nii.gz`` and every ``..._dseg.nii.gz`` of the scan, beside it or in a derivatives
    dataset (written to the same place under ``out``). The derivatives datasets' own files
    (``dataset_description.json``, look-up tables) are copied.

    Parameters
    ----------
    data, out : path-like
        Input and output study folders (same layout).
    spacing : float
        Isotropic voxel size, mm.
    template : path-like, optional
        Rigid-alignment template.
    mask_desc : str, optional
        Use ``<scan>_desc-<mask_desc>_mask.nii.gz`` beside the image as the brain mask.
    """
    data, out = Path(data), Path(out)
    images = find_images(data)
    if not images:
        raise FileNotFoundError(f"no T2w images (sub-<label>[/ses-<label>]/anat/"
                                f"sub-<label>[_ses-<label>]_T2w.nii.gz) under {data}")
    datasets = sorted(p for p in (data / DERIVATIVES).glob("*") if p.is_dir())
    done = []
    for scan, image in tqdm(images.items(), desc="preprocess", disable=not progress):
        mask = data / raw_path(scan, "mask", desc=mask_desc) if mask_desc else None
        if mask is not None and not mask.is_file():
            raise FileNotFoundError(f"{scan}: brain mask not found: {mask}")
        labels = [p for top in (data, *datasets)
                  for p in sorted((top / scan.folder()).glob(f"{scan.key}_*dseg.nii.gz"))]
        done.append(preprocess_subject(
            image, out / scan.folder(), spacing=spacing, labels=list(labels), mask=mask,
            template=template, label_outputs=[out / p.relative_to(data) for p in labels]))
    for dataset in datasets:
        for meta in sorted(p for p in dataset.iterdir() if p.is_file()):
            target = out / meta.relative_to(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(meta, target)
    return done
