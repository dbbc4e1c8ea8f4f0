"""Tiny two-cohort studies (32^3 phantoms) written as real NIfTI files in the study layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harmonstats.io import save_nifti, write_table

SIZE = 32
SPACING = 0.5

# Tissue intensities per cohort (source is T2-like; target has lower GM/WM contrast and offset).
CONTRAST = {
    "source": {0: 0.0, 1: 1.0, 2: 0.45, 3: 0.7, 4: 0.4, 5: 0.5, 6: 0.55},
    "target": {0: 0.0, 1: 0.9, 2: 0.55, 3: 0.65, 4: 0.5, 5: 0.6, 6: 0.6},
}
PREFIX = {"source": "src", "target": "tgt"}


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(1)


def phantom(rng: np.random.Generator, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """A brain-like phantom: nested ellipsoids (CSF, cGM, WM), deep GM, cerebellum, brainstem.

    Returns the 7-tissue map and an 11-region map on the cortical GM.
    """
    c = (size - 1) / 2 + rng.uniform(-1, 1, 3)
    z, y, x = np.meshgrid(*(np.arange(size) - ci for ci in c), indexing="ij")
    r = np.sqrt((x / 1.1) ** 2 + y**2 + (z / 0.95) ** 2)
    scale = size / 32 * rng.uniform(0.95, 1.05)
    tissue = np.zeros((size,) * 3, np.uint8)
    tissue[r < 13 * scale] = 1
    tissue[r < 11 * scale] = 2
    tissue[r < 9 * scale] = 3
    tissue[np.sqrt(x**2 + y**2 + (z - 1) ** 2) < 3 * scale] = 4
    tissue[np.sqrt((x) ** 2 + (y + 6 * scale) ** 2 + (z + 6 * scale) ** 2) < 3 * scale] = 5
    tissue[np.sqrt(x**2 + (y + 2 * scale) ** 2 + (z + 8 * scale) ** 2) < 2 * scale] = 6
    regions = np.zeros_like(tissue)
    gm = tissue == 2
    ang = np.arctan2(y, x)
    left = x < 0
    sector = np.digitize(ang, np.linspace(-np.pi, np.pi, 6)[1:-1])
    lut_l = np.array([1, 4, 6, 8, 10])
    lut_r = np.array([2, 5, 7, 9, 11])
    regions[gm] = np.where(left[gm], lut_l[sector[gm]], lut_r[sector[gm]])
    regions[gm & (np.abs(x) < 1.0)] = 3
    return tissue, regions


def write_study(root: Path, *, n_train: int = 3, n_val: int = 1, n_target: int = 2,
                seed: int = 0, size: int = SIZE) -> Path:
    """Write a tiny study folder; returns its root."""
    rng = np.random.default_rng(seed)
    rows = []
    specs = ([("source", "train")] * n_train + [("source", "val")] * n_val
             + [("source", "test")] + [("target", "train")] * n_target + [("target", "val")])
    affine = np.diag([SPACING, SPACING, SPACING, 1.0])
    counters = {"source": 0, "target": 0}
    for cohort, split in specs:
        counters[cohort] += 1
        pid = f"{PREFIX[cohort]}{counters[cohort]:03d}"
        tissue, regions = phantom(rng, size)
        lut = np.array([CONTRAST[cohort][k] for k in range(7)], np.float32)
        image = lut[tissue] + rng.normal(0, 0.03, tissue.shape).astype(np.float32)
        image[tissue == 0] = 0.0
        anat = root / f"sub-{pid}" / "anat"
        save_nifti(image.astype(np.float32) * 1000, affine, anat / f"sub-{pid}_T2w.nii.gz")
        for desc in ("original", "truth"):
            save_nifti(tissue, affine, anat / f"sub-{pid}_desc-{desc}_dseg.nii.gz")
        save_nifti(regions, affine, anat / f"sub-{pid}_desc-regions_dseg.nii.gz")
        rows.append({"participant_id": pid, "cohort": cohort, "ga_birth": 37.0,
                     "pma_scan": float(rng.uniform(37, 44)), "sex": "F", "birth_weight": 3000.0,
                     "split": split, "language_composite": np.nan})
    write_table(pd.DataFrame(rows), root / "participants.tsv")
    return root


@pytest.fixture(scope="session")
def model_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 32^3 study: 3 source train, 1 source val, 1 source test, 2 target train, 1 target val."""
    return write_study(tmp_path_factory.mktemp("study"))
