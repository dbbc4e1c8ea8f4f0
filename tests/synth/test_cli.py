from __future__ import annotations

from harmonstats.cli import main
from harmonstats.io import read_table


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
