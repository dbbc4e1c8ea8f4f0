"""``harmonstats segment`` killed (SIGKILL) at a random moment, then rerun."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from kill import command, files, kill_midway, run
from study_files import write_checkpoint, write_study

N_SUBJECTS = 8


def test_segment_killed_midway_resumes(tmp_path: Path) -> None:
    """No half-written map is visible after the kill; the rerun redoes only the missing scans
    and ends with the same files, byte for byte, as an uninterrupted run."""
    write_study(tmp_path / "study", n_per_cohort=N_SUBJECTS // 2)
    write_checkpoint(tmp_path / "net.pt", "baseline")
    parcellation = write_checkpoint(tmp_path / "parc.pt", "parcellation")

    def segment(out: str) -> list[str]:
        return command("segment", "net.pt", "--data", "study", "--out", out, "--parcellation",
                       parcellation.name, "--device", "cpu", "--no-progress")

    run(segment("straight"), cwd=tmp_path)
    straight = files(tmp_path / "straight")
    assert sum(name.endswith("_desc-regions_dseg.nii.gz") for name in straight) == N_SUBJECTS

    rng = np.random.default_rng(5)
    target = int(rng.integers(1, N_SUBJECTS - 2))  # scans finished when the kill comes

    def done() -> list[Path]:
        return [p for p in (tmp_path / "killed").rglob("sub-*_desc-regions_dseg.nii.gz")]

    kill_midway(segment("killed"), ready=lambda: len(done()) >= target,
                delay=float(rng.uniform(0, 0.05)), cwd=tmp_path)
    left = files(tmp_path / "killed")
    finished = {p: p.stat().st_mtime_ns for p in done()}
    assert target <= len(finished) < N_SUBJECTS, "killed at the wrong moment"
    # Every file the kill left in sight is complete: exactly the uninterrupted run's.
    assert {name: data == straight[name] for name, data in left.items()} == dict.fromkeys(
        left, True)
    run(segment("killed"), cwd=tmp_path)
    assert files(tmp_path / "killed") == straight
    assert {p: p.stat().st_mtime_ns for p in finished} == finished, "finished scans redone"
