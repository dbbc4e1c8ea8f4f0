from __future__ import annotations

import nibabel as nib
import numpy as np

from harmonstats.cli import main
from harmonstats.io import read_table
from harmonstats.layout import Scan, derivative_path, raw_path
from harmonstats.synth.study import LABELS_DATASET


def test_cli_writes_a_study_and_refuses_a_rerun(tmp_path, capsys):
    args = ["synth", "--out", str(tmp_path / "s"), "--n-source", "1", "--n-target", "2",
            "--shape", "32", "--spacing", "1", "--seed", "3", "--no-progress"]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "s")
    parts = read_table(tmp_path / "s" / "participants.tsv")
    assert parts["cohort"].tolist() == ["source", "target", "target"]
    assert main(args) == 2
    assert "already holds a study" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


def test_cli_argument_error_is_one_line(tmp_path, capsys):
    assert main(["synth", "--out", str(tmp_path / "s"), "--n-source", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "harmonstats synth: error: n_source must be >= 1, got 0"


def test_cli_non_cubic_grid_and_touching_share(tmp_path, capsys):
    out = tmp_path / "s"
    base = ["synth", "--out", str(out), "--n-source", "1", "--n-target", "1", "--spacing", "1",
            "--no-progress"]
    assert main([*base, "--shape", "32", "34", "36", "--touching", "0"]) == 0
    scan = Scan.of("src001")
    assert nib.load(out / raw_path(scan, "T2w")).shape == (32, 34, 36)
    mask = derivative_path(LABELS_DATASET, scan, "mask", desc="touching")
    touching = np.asanyarray(nib.load(out / mask).dataobj)
    assert not touching.any()
    capsys.readouterr()
    assert main([*base, "--touching", "1.5", "--overwrite"]) == 2
    assert capsys.readouterr().err.strip() == (
        "harmonstats synth: error: touching must be in [0, 1), got 1.5")
