"""Shared fixtures: tiny real NIfTI studies written to a temporary folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonstats.io import save_nifti, write_table


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def _tiny_labels(shape: tuple[int, int, int], shift: int = 0) -> np.ndarray:
    """Nested boxes: CSF around cortical GM around WM, plus dGM, cerebellum and brainstem."""
    lab = np.zeros(shape, dtype=np.uint8)
    lab[2:-2, 2:-2, 2:-2] = 1
    lab[4 - shift : -4, 4:-4, 4:-4] = 2
    lab[7:-7, 7:-7, 7:-7] = 3
    c = [s // 2 for s in shape]
    lab[c[0] - 1 : c[0] + 1, c[1] - 1 : c[1] + 1, c[2] - 1 : c[2] + 1] = 4
    lab[7:9, 7:9, 7:9] = 5
    lab[-9:-7, -9:-7, -9:-7] = 6
    return lab


def write_tiny_study(
    root: Path, n: int = 4, shape: tuple[int, int, int] = (24, 24, 24), spacing: float = 0.5
) -> Path:
    """Write a minimal BIDS-like study with original/truth/regions maps for ``n`` subjects."""
    affine = np.diag([spacing, spacing, spacing, 1.0])
    rows = []
    for i in range(n):
        pid = f"s{i:02d}"
        anat = root / f"sub-{pid}" / "anat"
        truth = _tiny_labels(shape)
        original = _tiny_labels(shape, shift=1 if i % 2 else 0)
        regions = np.where(truth == 2, 1 + (np.indices(shape)[0] * 11 // shape[0]), 0).astype(
            np.uint8
        )
        save_nifti(np.zeros(shape, np.float32) + truth, affine, anat / f"sub-{pid}_T2w.nii.gz")
        save_nifti(original, affine, anat / f"sub-{pid}_desc-original_dseg.nii.gz")
        save_nifti(truth, affine, anat / f"sub-{pid}_desc-truth_dseg.nii.gz")
        save_nifti(regions, affine, anat / f"sub-{pid}_desc-regions_dseg.nii.gz")
        rows.append(
            {
                "participant_id": pid,
                "cohort": "source" if i % 2 == 0 else "target",
                "ga_birth": 30.0 + i,
                "pma_scan": 40.0 + i * 0.5,
                "sex": "FM"[i % 2],
                "birth_weight": 1500.0 + 100 * i,
                "split": "test",
            }
        )
    write_table(pd.DataFrame(rows), root / "participants.tsv")
    return root


@pytest.fixture
def tiny_study(tmp_path: Path) -> Path:
    return write_tiny_study(tmp_path / "study")
