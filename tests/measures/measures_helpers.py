"""Tiny label maps and a tiny BIDS-like study for the measures tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.io import save_nifti, write_table

SPACING = (0.5, 0.5, 0.5)
N = 28


def radius_grid(n: int = N, spacing: tuple[float, float, float] = SPACING) -> np.ndarray:
    """Distance (mm) of each voxel centre from the grid centre."""
    axes = [(np.arange(n) - (n - 1) / 2) * h for h in spacing]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    return np.sqrt(x**2 + y**2 + z**2)


def shell(r1: float, r2: float, spacing: tuple[float, float, float], n: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """GM (``r1 <= r < r2``, mm from the grid centre) and WM (``r < r1``) masks of an n^3 grid."""
    axes = [(np.arange(n) - (n - 1) / 2) * h for h in spacing]
    x, y, z = np.meshgrid(*axes, indexing="ij")
    r = np.sqrt(x**2 + y**2 + z**2)
    return (r >= r1) & (r < r2), r < r1


def ball_brain(r_wm: float, r_gm: float, r_csf: float = 6.5) -> np.ndarray:
    """7-tissue map: deep GM core, WM ball, cortical GM shell, CSF shell, background."""
    r = radius_grid()
    labels = np.zeros(r.shape, dtype=np.uint8)
    labels[r < r_csf] = 1
    labels[r < r_gm] = 2
    labels[r < r_wm] = 3
    labels[r < 1.0] = 4
    return labels


def halves(labels: np.ndarray) -> np.ndarray:
    """Region map: left half of the cortical GM region 1 (frontal_l), right half 2."""
    regions = np.zeros(labels.shape, dtype=np.uint8)
    gm = labels == 2
    regions[: N // 2][gm[: N // 2]] = 1
    regions[N // 2 :][gm[N // 2 :]] = 2
    return regions


#: participant -> (WM radius, GM outer radius) of the truth map, mm.
SUBJECTS = {"src001": (3.5, 5.5), "src002": (3.0, 5.5), "tgt001": (3.5, 5.0)}


def write_study(root: Path) -> Path:
    """Write a 3-subject study with methods truth and original (original of tgt001: no cGM)."""
    affine = np.diag([*SPACING, 1.0])
    table = pd.DataFrame({
        "participant_id": list(SUBJECTS), "cohort": ["source", "source", "target"],
        "ga_birth": [39.0, 30.0, 38.0], "pma_scan": [40.0, 41.0, 40.5], "sex": ["F", "M", "F"]})
    write_table(table, root / "participants.tsv")
    for pid, (r_wm, r_gm) in SUBJECTS.items():
        anat = root / f"sub-{pid}" / "anat"
        truth = ball_brain(r_wm, r_gm)
        original = ball_brain(r_wm + 0.5, r_gm)
        if pid == "tgt001":
            original[original == 2] = 3
        save_nifti(truth, affine, anat / f"sub-{pid}_desc-truth_dseg.nii.gz")
        save_nifti(original, affine, anat / f"sub-{pid}_desc-original_dseg.nii.gz")
        save_nifti(halves(truth), affine, anat / f"sub-{pid}_desc-regions_dseg.nii.gz")
    return root
