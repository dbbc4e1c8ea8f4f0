"""Reading studies, intensity normalisation, crops and per-sample augmentation draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harmonstats.models.augment import build_augmentation
from harmonstats.models.config import AugmentConfig
from harmonstats.models.data import VolumeDataset, find_volumes, normalise_intensity


def test_find_volumes(model_study: Path) -> None:
    vols = find_volumes(model_study)
    assert [(v.cohort, v.split) for v in vols][:5] == [
        ("source", "train"), ("source", "train"), ("source", "train"), ("source", "val"),
        ("source", "test")]
    assert all(v.labels is not None and v.regions is not None for v in vols)
    assert find_volumes(model_study, label_desc="nothing")[0].labels is None


def test_find_volumes_missing_image(tmp_path: Path) -> None:
    table = "participant_id\tcohort\tsplit\nab1\tsource\ttrain\n"
    (tmp_path / "participants.tsv").write_text(table)
    with pytest.raises(FileNotFoundError, match="sub-ab1: T2w image not found"):
        find_volumes(tmp_path)


def test_normalise_intensity_against_hand_values() -> None:
    img = np.array([0.0, 1.0, 2.0, 3.0], dtype=np.float32)
    # Brain = [1, 2, 3]: mean 2, std sqrt(2/3); background z = -2 / std is the minimum.
    std = np.sqrt(2 / 3)
    z = np.array([-2 / std, -1 / std, 0, 1 / std])
    expected = 2 * (z - z.min()) / (z.max() - z.min()) - 1
    np.testing.assert_allclose(normalise_intensity(img), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="no voxel above 0"):
        normalise_intensity(np.zeros(4))


def test_tissue_items_and_crop(model_study: Path) -> None:
    vols = [v for v in find_volumes(model_study) if v.split == "train" and v.cohort == "source"]
    ds = VolumeDataset(vols, task="tissue", spacing=0.5, patch_size=16, seed=1)
    item = ds[0]
    assert item["image"].shape == (1, 16, 16, 16) and item["label"].shape == (16, 16, 16)
    assert float(item["image"].min()) >= -1 and float(item["image"].max()) <= 1
    whole = VolumeDataset(vols, task="tissue", spacing=0.5, patch_size=None)[0]
    assert whole["image"].shape == (1, 32, 32, 32)
    assert set(torch.unique(whole["label"]).tolist()) == set(range(7))


def test_parcellation_items(model_study: Path) -> None:
    vols = find_volumes(model_study)[:1]
    item = VolumeDataset(vols, task="parcellation", spacing=0.5, patch_size=None)[0]
    mask, regions = item["image"][0], item["label"]
    assert set(torch.unique(mask).tolist()) == {0.0, 1.0}
    assert torch.equal(mask > 0, regions > 0)


def test_resampling_to_model_spacing(model_study: Path) -> None:
    vols = find_volumes(model_study)[:1]
    item = VolumeDataset(vols, task="tissue", spacing=1.0, patch_size=None)[0]
    assert item["image"].shape == (1, 16, 16, 16)
    assert item["label"].dtype == torch.int64 and int(item["label"].max()) <= 6


def test_augmentation_drawn_per_sample_and_replayable(model_study: Path) -> None:
    vols = [v for v in find_volumes(model_study) if v.split == "train" and v.cohort == "source"]
    aug = build_augmentation(AugmentConfig(enabled=True, motion_p=1, spike_p=1, bias_field_p=1))
    ds = VolumeDataset(vols[:1], task="tissue", spacing=0.5, patch_size=None, augment=aug, seed=5)
    plain = VolumeDataset(vols[:1], task="tissue", spacing=0.5, patch_size=None)[0]["image"]
    first = ds[0]["image"]
    assert torch.equal(first, ds[0]["image"])  # same seed, epoch and sample: same draw
    ds.set_epoch(1)
    second = ds[0]["image"]
    assert not torch.equal(first, second)  # a new draw every epoch
    assert not torch.equal(first, plain)


def test_parcellation_augmentation_is_affine_only() -> None:
    aug = build_augmentation(AugmentConfig(enabled=True, intensity=False))
    assert [type(t).__name__ for t in aug.transforms] == ["RandomAffine"]
    assert build_augmentation(AugmentConfig()) is None
