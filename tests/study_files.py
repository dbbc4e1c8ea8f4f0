"""A small real study on disk for the report tests: two cohorts, nested-shell brains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from harmonstats.io import load_nifti, save_nifti, write_table

SHAPE = (20, 20, 20)


def _brain(shape: tuple[int, int, int], gm: int, wm_shrink: int, edge: int) -> np.ndarray:
    """CSF shell, cortical GM shell ``gm`` voxels thick, WM core, small dGM/cerebellum/brainstem."""
    lab = np.zeros(shape, dtype=np.uint8)
    lab[edge:-1, 1:-1, 1:-edge] = 1
    lab[3:-3, 3:-3, 3:-3] = 2
    w = 3 + gm + wm_shrink
    lab[w:-w, w:-w, w:-w] = 3
    c = shape[0] // 2
    lab[c - 1 : c + 1, c - 1 : c + 1, c - 1 : c + 1] = 4
    lab[w : w + 2, w : w + 2, w : w + 2] = 5
    lab[-w - 2 : -w, -w - 2 : -w, -w - 2 : -w] = 6
    return lab


def write_study(root: Path, *, n_per_cohort: int = 12, seed: int = 0,
                ids: tuple[str, str] = ("src", "tgt")) -> Path:
    """Write participants.tsv and original/truth/regions maps; the target's GM is thicker."""
    rng = np.random.default_rng(seed)
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    rows = []
    for cohort, prefix in zip(("source", "target"), ids, strict=True):
        for i in range(n_per_cohort):
            pid = f"{prefix}{i:03d}"
            anat = root / f"sub-{pid}" / "anat"
            gm = 2 + (cohort == "target")
            edge = int(rng.integers(1, 3))
            truth = _brain(SHAPE, 2, int(rng.integers(0, 2)), edge)
            original = _brain(SHAPE, gm, int(rng.integers(0, 2)), edge)
            x = np.indices(SHAPE)[0]
            band = np.clip((x - 3) * 11 // (SHAPE[0] - 6), 0, 10)
            regions = np.where(truth == 2, 1 + band, 0).astype(np.uint8)
            save_nifti(truth.astype(np.float32), affine, anat / f"sub-{pid}_T2w.nii.gz")
            save_nifti(original, affine, anat / f"sub-{pid}_desc-original_dseg.nii.gz")
            save_nifti(truth, affine, anat / f"sub-{pid}_desc-truth_dseg.nii.gz")
            save_nifti(regions, affine, anat / f"sub-{pid}_desc-regions_dseg.nii.gz")
            ga = float(rng.uniform(37, 41) if i % 2 else rng.uniform(26, 36))
            rows.append({
                "participant_id": pid, "cohort": cohort, "ga_birth": round(ga, 1),
                "pma_scan": round(max(ga, 37.0) + float(rng.uniform(0.5, 6)), 1),
                "sex": "FM"[(i // 2) % 2], "birth_weight": round(800 + 80 * (ga - 24), 0),
                "split": "train" if i % 3 else "test",
                "language_composite": round(float(rng.normal(95, 12)), 0),
            })
    write_table(pd.DataFrame(rows), root / "participants.tsv")
    return root


ANAT = "sub-{participant_id}/anat/sub-{participant_id}"
#: A tiny U-Net at the 1 mm of the test studies: one 32^3 window covers a 20^3 image.
SMALL_NET = {"network": {"channels": [4, 8, 16, 32, 64]},
             "data": {"patch_size": 32, "spacing": 1.0}}


def write_checkpoint(path: Path, method: str, seed: int = 0) -> Path:
    """An untrained checkpoint of :data:`SMALL_NET` (a ``baseline`` or ``parcellation`` model)."""
    import torch

    from harmonstats.models.checkpoint import save_checkpoint
    from harmonstats.models.config import load_config
    from harmonstats.models.networks import build_segmenter
    from harmonstats.models.train import checkpoint_metadata

    cfg = load_config({"name": path.stem, "method": method, **SMALL_NET})
    torch.manual_seed(seed)
    return save_checkpoint(path, models={"segmenter": build_segmenter(cfg)},
                           metadata=checkpoint_metadata(cfg))


def study_config(**changes: Any) -> dict[str, Any]:
    """A valid study YAML (as a dict) for the study of :func:`write_study` in ``study/``."""
    config: dict[str, Any] = {
        "name": "tiny",
        "root": "study",
        "participants": {"table": "participants.tsv"},
        "cohorts": {"reference": "source"},
        "labels": {"regions": f"{ANAT}_desc-regions_dseg.nii.gz", "image": f"{ANAT}_T2w.nii.gz"},
        "methods": {
            "original": {"labels": f"{ANAT}_desc-original_dseg.nii.gz"},
            "truth": {"labels": f"{ANAT}_desc-truth_dseg.nii.gz"},
        },
        "measures": {"ground_truth": "truth"},
        "analysis": {"min_group": 5, "n_permutations": 20, "n_boot": 100, "comparator": None},
    }
    config.update(changes)
    return config


def write_yaml(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# harmonstats label -> one Draw-EM label that maps back onto it (PAPER_NOTES.md).
TO_DRAWEM9 = {0: 0, 1: 1, 2: 2, 3: 3, 4: 7, 5: 6, 6: 8}
TO_DRAWEM87 = {0: 0, 1: 37, 2: 36, 3: 32, 4: 5, 5: 6, 6: 21, 7: 20, 8: 39, 9: 38, 10: 23,
               11: 22}


def relabel(src: Path, dst: Path, table: dict[int, int]) -> None:
    """Write the label map ``src`` with its labels translated by ``table`` to ``dst``."""
    img = load_nifti(src)
    lut = np.zeros(max(table) + 1, dtype=np.uint8)
    for ours, theirs in table.items():
        lut[ours] = theirs
    save_nifti(lut[np.asanyarray(img.dataobj)], img.affine, dst)
