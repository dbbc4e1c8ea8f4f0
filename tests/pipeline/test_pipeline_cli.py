"""The report command: bad input gives one line naming the problem, exit code 2, nothing written."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from study_files import ANAT, study_config, write_study, write_yaml

from harmonstats import cli
from harmonstats.io import read_table, write_table
from harmonstats.pipeline import cli as report_cli


def test_report_is_a_subcommand() -> None:
    assert cli.COMMANDS["report"][0] == "harmonstats.pipeline.cli"


@pytest.fixture(scope="module")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli_study")
    write_study(folder / "study", n_per_cohort=3)
    return folder / "study"


def _case(tmp_path: Path, small_study: Path, config: dict[str, Any],
          participants: pd.DataFrame | None = None) -> Path:
    study = tmp_path / "study"
    study.symlink_to(small_study, target_is_directory=True)
    if participants is not None:
        table = tmp_path / "people.tsv"
        write_table(participants, table)
        config["participants"] = {"table": str(table)}
    return write_yaml(tmp_path, config)


def _drop(column: str) -> Any:
    return lambda table: table.drop(columns=[column])


@pytest.mark.parametrize(
    ("change", "edit_table", "message"),
    [
        ({"methods": {"original": {"labels": f"{ANAT}_desc-original_dseg.nii.gz", "foo": 1}}},
         None, "study.yaml: unknown key 'methods.original.foo'"),
        ({"participants": {"table": "missing.tsv"}}, None,
         "participants table not found: "),
        ({"methods": {"original": {"labels": f"{ANAT}_desc-original_dseg.nii.gz"},
                      "latent": {"labels": f"derivatives/latent/{ANAT}_dseg.nii.gz"}},
          "measures": {"ground_truth": None}}, None,
         "method 'latent': no label maps found (0 of 6) for pattern"),
        ({}, _drop("ga_birth"), "missing required column(s) ['ga_birth']"),
        ({"participants": {"table": "participants.tsv", "columns": {"GA": "ga_birth"}}}, None,
         "participants.tsv: column 'GA' named in participants.columns is not in the table"),
        ({"cohorts": {"reference": "dhcp"}}, None,
         "participants.tsv: reference cohort 'dhcp' not in the table"),
        ({"measures": {"ground_truth": "truth", "thickness": "fast"}}, None,
         "study.yaml: key 'measures.thickness'"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(
    tmp_path: Path, small_study: Path, capsys: pytest.CaptureFixture[str],
    change: dict[str, Any], edit_table: Any, message: str,
) -> None:
    participants = None
    if edit_table is not None:
        participants = edit_table(read_table(small_study / "participants.tsv"))
    path = _case(tmp_path, small_study, study_config(**change), participants)
    out = tmp_path / "out"
    code = cli.main(["report", str(path), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("harmonstats report: error: ")
    assert message in err[-1]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_demo_only_options_are_refused_with_a_study(tmp_path: Path, small_study: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = _case(tmp_path, small_study, study_config())
    assert cli.main(["report", str(path), "--quick"]) == 2
    assert "--quick and --data apply to the demo only" in capsys.readouterr().err


def test_arguments() -> None:
    parser = argparse.ArgumentParser()
    report_cli.add_arguments(parser)
    args = parser.parse_args(["s.yaml", "--out", "o", "--jobs", "3"])
    assert (args.study, args.out, args.jobs, args.quick) == (Path("s.yaml"), Path("o"), 3, False)
    args = parser.parse_args(["--quick", "--seed", "4"])
    assert args.study is None and args.quick and args.seed == 4


def test_module_entry_point_reports_errors(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "harmonstats.report", str(tmp_path / "none.yaml")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"harmonstats report: error: study file not found: {tmp_path / 'none.yaml'}"
    )
