"""Training volumes of a study (found by :mod:`harmonstats.layout`), prepared like inference."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torchio as tio
from torch.utils.data import Dataset

from harmonstats.cohort import check_scan_files
from harmonstats.errors import InputError
from harmonstats.labels import LabelScheme, get_scheme
from harmonstats.layout import (
    PARTICIPANTS,
    Scan,
    check_participants,
    find_study_files,
    read_scans,
    scans_of,
)
from harmonstats.models.augment import sample_seed, seeded_apply

__all__ = [
    "NORMALISATION",
    "StudyVolume",
    "VolumeDataset",
    "find_volumes",
    "image_of",
    "normalise_intensity",
    "prepare_subject",
]

#: Intensity normalisation applied to every image before the network (recorded in checkpoints).
NORMALISATION = "z-score within brain (voxels > 0), then min-max rescaled to [-1, 1]"


@dataclass(frozen=True)
class StudyVolume:
    """One scan's files in a study folder."""

    scan: Scan
    cohort: str
    split: str
    image: Path
    labels: Path | None
    regions: Path | None


def find_volumes(
    root: str | os.PathLike[str],
    *,
    label_desc: str = "original",
    participants: str = PARTICIPANTS,
) -> list[StudyVolume]:
    """List the scans of a BIDS study folder with their image, label and region files.

    Parameters
    ----------
    root : path-like
        Study folder with ``participants.tsv`` (``cohort`` and ``split`` columns; sessions in
        each subject's sessions table); files as :mod:`harmonstats.layout` finds them.
    label_desc : str
        The method whose tissue maps are the training labels (``desc-<label_desc>_dseg``, or
        ``derivatives/<label_desc>/``); scans without one get None.
    participants : str
        Participants table, relative to ``root``.

    Raises
    ------
    FileNotFoundError
        If the table or a scan's T2w image is missing.
    InputError
        If the table lacks ``participant_id``, ``cohort`` or ``split``, or fails
        :func:`~harmonstats.layout.check_participants`.
    """
    root = Path(root)
    raw, source = read_scans(root, participants=participants)
    table = check_participants(raw, source=source, required=("participant_id", "cohort", "split"))
    scans = scans_of(table)
    found = find_study_files(root, scans)
    labels = found.labels.get(label_desc, {})
    out = []
    for scan, row in zip(scans, table.itertuples(index=False), strict=True):
        image = found.images.get(scan)
        if image is None:
            raise FileNotFoundError(f"{scan}: T2w image not found in {root}")
        lab = labels.get(scan)
        out.append(StudyVolume(scan, str(row.cohort), str(row.split), image,
                               lab if lab is not None and lab.is_file() else None,
                               found.regions.get("", {}).get(scan)))
    return out


def image_of(subject: tio.Subject, name: str) -> tio.Image:
    """The image called ``name`` of a TorchIO subject (typed accessor)."""
    return cast(tio.Image, subject[name])


def normalise_intensity(image: np.ndarray) -> np.ndarray:
    """Z-score the brain (voxels > 0), then rescale the whole volume linearly to [-1, 1]."""
    img = np.asarray(image, dtype=np.float32)
    brain = img > 0
    if not brain.any():
        raise InputError("image has no voxel above 0: cannot normalise (is it brain-masked?)")
    mean = float(img[brain].mean())
    std = float(img[brain].std()) or 1.0
    z = np.where(brain, (img - mean) / std, (0.0 - mean) / std).astype(np.float32)
    lo, hi = float(z.min()), float(z.max())
    if hi <= lo:
        return np.zeros_like(z)
    return (2.0 * (z - lo) / (hi - lo) - 1.0).astype(np.float32)


def prepare_subject(subject: tio.Subject, spacing: float) -> tio.Subject:
    """Canonical orientation, resampling to ``spacing`` mm (linear / nearest), normalisation."""
    prep = tio.Compose([tio.ToCanonical(), tio.Resample(float(spacing))])
    out = prep(subject)
    for name, img in out.get_images_dict(intensity_only=True).items():
        arr = normalise_intensity(img.data[0].numpy())
        image_of(out, name).set_data(torch.from_numpy(arr)[None])
    return out


class VolumeDataset(Dataset):
    """Random crops of prepared volumes, optionally augmented; one draw per sample and epoch.

    Parameters
    ----------
    volumes : list of StudyVolume
        The subjects.
    task : {"tissue", "parcellation", "image"}
        ``tissue``: T2w -> 7 tissue labels (mapped through ``label_scheme``); ``parcellation``:
        binary cortical GM mask (region map > 0) -> 11 regions; ``image``: T2w only.
    spacing : float
        Model voxel size, mm.
    patch_size : int or None
        Crop edge in voxels; ``None`` returns whole volumes (validation).
    augment : torchio.Transform or None
        Random augmentation.
    seed : int
        Seed of the crops and augmentations.
    label_scheme : str
        Scheme of the tissue label files.
    cache : bool
        Keep prepared volumes in memory (about 65 MB per 256 x 256 x 200 subject) instead of
        reading and resampling them for every sample.
    """

    def __init__(self, volumes: list[StudyVolume], *, task: str, spacing: float,
                 patch_size: int | None, augment: tio.Transform | None = None, seed: int = 0,
                 label_scheme: str = "tissues7", cache: bool = True) -> None:
        if task not in ("tissue", "parcellation", "image"):
            raise ValueError(f"unknown dataset task {task!r}")
        scheme = get_scheme(label_scheme, kind="tissue")
        # Every file is checked before training starts (and writes anything).
        for v in volumes:
            files: list[tuple[str, Path, LabelScheme | None]] = []
            if task == "parcellation":
                if v.regions is None:
                    raise FileNotFoundError(f"{v.scan}: no region map")
                files.append(("region map (study)", v.regions, get_scheme("regions11")))
            else:
                files.append(("T2w image", v.image, None))
            if task == "tissue":
                if v.labels is None:
                    raise FileNotFoundError(f"{v.scan}: no training label map")
                files.append((f"label map ({label_scheme})", v.labels, scheme))
            check_scan_files(v.scan, files)
        self.volumes = list(volumes)
        self.task = task
        self.spacing = spacing
        self.patch_size = patch_size
        self.augment = augment
        self.seed = seed
        self.scheme = scheme
        self.epoch = 0
        self.cache = cache
        self._cache: dict[int, tio.Subject] = {}

    def __len__(self) -> int:
        return len(self.volumes)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose crops and augmentations are drawn."""
        self.epoch = epoch

    def _prepared(self, index: int) -> tio.Subject:
        if index in self._cache:
            return self._cache[index]
        v = self.volumes[index]
        if self.task == "parcellation":
            regions = tio.LabelMap(v.regions)
            mask = tio.ScalarImage(tensor=(regions.data > 0).float(), affine=regions.affine)
            subject = tio.Subject(image=mask, label=regions)
            subject = tio.Compose([tio.ToCanonical(), tio.Resample(float(self.spacing))])(
                subject)
            mask_img = image_of(subject, "image")
            mask_img.set_data((mask_img.data > 0.5).float())
        else:
            items: dict[str, tio.Image] = {"image": tio.ScalarImage(v.image)}
            if self.task == "tissue":
                lab = tio.LabelMap(v.labels)
                target = self.scheme.to_target(lab.data.numpy())
                items["label"] = tio.LabelMap(tensor=torch.from_numpy(target),
                                              affine=lab.affine)
            subject = prepare_subject(tio.Subject(**items), self.spacing)
        if self.cache:
            self._cache[index] = subject
        return subject

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        subject = self._prepared(index)
        seed = sample_seed(self.seed, self.epoch, index)
        if self.patch_size is not None:
            subject = _random_crop(subject, self.patch_size, np.random.default_rng(seed))
        if self.augment is not None:
            subject = seeded_apply(self.augment, subject, seed)
        out = {"image": image_of(subject, "image").data.float(), "index": torch.tensor(index)}
        if "label" in subject:
            out["label"] = image_of(subject, "label").data[0].long()
        return out


def _random_crop(subject: tio.Subject, size: int, rng: np.random.Generator) -> tio.Subject:
    shape = np.array(subject.spatial_shape)
    pad = np.maximum(size - shape, 0)
    if pad.any():
        before = pad // 2
        padding = tuple(int(x) for pair in zip(before, pad - before, strict=True) for x in pair)
        subject = tio.Pad(padding, padding_mode="minimum")(subject)
        shape = np.array(subject.spatial_shape)
    start = [int(rng.integers(0, s - size + 1)) for s in shape]
    crop = tuple(int(x) for s0, s in zip(start, shape, strict=True)
                 for x in (s0, s - s0 - size))
    return tio.Crop(crop)(subject)
