"""``harmonstats report`` killed (SIGKILL) during its segment stage, then rerun."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from kill import command, files, kill_midway, run
from study_files import ANAT, study_config, write_checkpoint, write_study, write_yaml

from harmonstats.cohort import Cohort
from harmonstats.models.apply import segment_images
from harmonstats.pipeline.demo import QUICK, demo_run
from harmonstats.pipeline.segment import run_segmentation

pytestmark = pytest.mark.slow

N_PER_COHORT = 5


def _study(folder: Path, checkpoint: Path) -> Path:
    write_study(folder / "study", n_per_cohort=N_PER_COHORT)
    # one checkpoint file for both runs: torch.save does not write the same bytes twice
    shutil.copyfile(checkpoint, folder / "net.pt")
    return write_yaml(folder, study_config(
        methods={"original": {"labels": f"{ANAT}_desc-original_dseg.nii.gz"},
                 "truth": {"labels": f"{ANAT}_desc-truth_dseg.nii.gz"},
                 "net": {"checkpoint": "../net.pt"}},
        segmentation={"out": "../seg", "device": "cpu"}))


def test_report_killed_while_segmenting_reruns_to_the_same_report(tmp_path: Path) -> None:
    """Killed at a random moment of its segment stage, the report leaves no report folder and
    only finished label maps; its rerun segments the rest (not the finished ones again) and
    writes the tables an uninterrupted run writes."""
    report = command("report", "study.yaml", "--out", "report")
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    checkpoint = write_checkpoint(tmp_path / "net.pt", "baseline")
    _study(straight, checkpoint)
    _study(killed, checkpoint)
    run(report, cwd=straight)

    rng = np.random.default_rng(11)
    target = int(rng.integers(1, 2 * N_PER_COHORT - 2))

    def maps() -> list[Path]:
        return list((killed / "seg").rglob("sub-*_dseg.nii.gz"))

    kill_midway(report, ready=lambda: len(maps()) >= target, delay=float(rng.uniform(0, 0.05)),
                cwd=killed)
    finished = {p: p.stat().st_mtime_ns for p in maps()}
    assert target <= len(finished) < 2 * N_PER_COHORT, "killed at the wrong moment"
    assert not (killed / "report").exists()
    left = files(killed / "seg")
    reference = files(straight / "seg")
    assert {k: v == reference[k] for k, v in left.items()} == dict.fromkeys(left, True)

    run(report, cwd=killed)
    assert files(killed / "seg") == reference
    assert {p: p.stat().st_mtime_ns for p in finished} == finished, "finished scans redone"
    # Every result table as in the uninterrupted run (the stages' timings aside).
    tables = files(killed / "report" / "tables", "*.tsv")
    expected = files(straight / "report" / "tables", "*.tsv")
    assert sorted(tables) == sorted(expected)
    differ = [name for name in expected if tables[name] != expected[name]]
    assert differ == ["status.tsv"] or differ == []


def test_demo_finishes_a_segmentation_an_earlier_run_left_undone(tmp_path: Path) -> None:
    """The demo's study holding one model's maps for some scans only (a run killed in its
    segment stage) loads, and its segment stage completes them (it used to be refused: "method
    'image_aug' has no label map for N of M subjects")."""
    root = write_study(tmp_path / "study", n_per_cohort=2)
    models = tmp_path / "models"
    for name in ("baseline", "image_aug"):
        write_checkpoint(models / f"{name}.pt", "baseline")
    cohort = Cohort.from_bids(root)
    first = cohort.scans[0]
    segment_images(models / "image_aug.pt", {first: cohort.image_path(first)}, root,
                   method="image_aug", device="cpu", progress=False)
    study = demo_run(root, QUICK, jobs=1, quick=True, models_folder=models)
    assert study.cohort is not None and study.cohort.methods == ["original", "truth"]
    assert study.segment is not None
    done = run_segmentation(study.segment)
    assert done.methods == ["original", "truth", "baseline", "image_aug"]
