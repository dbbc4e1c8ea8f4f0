"""Training on subjects the generator draws while training runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harmonstats.models.checkpoint import load_checkpoint
from harmonstats.models.config import SyntheticConfig, load_config
from harmonstats.models.synthetic import SyntheticDataset
from harmonstats.models.train import train

GRID = {"shape": 32}  # 32 mm at 1 mm: the generator's fastest grid


def _labels(ds: SyntheticDataset, epoch: int) -> list[torch.Tensor]:
    ds.set_epoch(epoch)
    return [ds[i]["label"] for i in range(len(ds))]


@pytest.mark.parametrize(("refresh", "same_in_epoch_1"), [(1, False), (2, True)])
def test_new_subjects_every_refresh(refresh: int, same_in_epoch_1: bool) -> None:
    cfg = SyntheticConfig(subjects=2, refresh_epochs=refresh, seed=3, **GRID)
    ds = SyntheticDataset(cfg, cohort="source", task="tissue", label_desc="original",
                          spacing=1.0, patch_size=None)
    first, second = _labels(ds, 0), _labels(ds, 1)
    assert not torch.equal(first[0], first[1])  # two different subjects in a draw
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True)) == same_in_epoch_1
    again = SyntheticDataset(cfg, cohort="source", task="tissue", label_desc="original",
                             spacing=1.0, patch_size=None)
    assert all(torch.equal(a, b) for a, b in zip(first, _labels(again, 0), strict=True))


def test_target_draws_images_of_the_target_domain() -> None:
    cfg = SyntheticConfig(subjects=1, seed=3, **GRID)
    src = SyntheticDataset(cfg, cohort="source", task="tissue", label_desc="truth", spacing=1.0,
                           patch_size=16)
    tgt = SyntheticDataset(cfg, cohort="target", task="image", label_desc="truth", spacing=1.0,
                           patch_size=16)
    s, t = src[0], tgt[0]
    assert s["image"].shape == t["image"].shape == (1, 16, 16, 16)
    assert "label" in s and "label" not in t
    assert int(s["label"].max()) <= 6


def test_training_on_drawn_subjects(model_study: Path, tmp_path: Path) -> None:
    cfg = load_config({
        "name": "synthetic", "method": "baseline", "epochs": 2, "val_subjects": 1,
        "network": {"channels": [4, 8, 16]}, "optim": {"base_lr": 2e-3, "max_lr": 2e-3},
        "data": {"spacing": 1.0, "patch_size": 16,
                 "synthetic": {"subjects": 2, "seed": 1, **GRID}}})
    best = train(cfg, model_study, tmp_path, device="cpu", progress=False)
    assert load_checkpoint(best)["metadata"]["config"]["data"]["synthetic"]["subjects"] == 2


def test_synthetic_needs_generator_labels() -> None:
    with pytest.raises(ValueError, match="draws 'original' or 'truth'"):
        load_config({"name": "s", "method": "baseline",
                     "data": {"label_desc": "drawem", "synthetic": {"subjects": 2}}})
