"""Fixtures of the report tests: a small two-cohort study on disk, its YAML, its report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from study_files import study_config, write_study, write_yaml

from harmonstats.pipeline import Progress, run_report, study_run


@pytest.fixture(scope="session")
def study_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report_study")
    write_study(folder / "study", ids=("src", "tgt"))
    return folder


@pytest.fixture(scope="session")
def built_report(study_folder: Path) -> Path:
    """The report of the small study (index.html path), made once for the session."""
    path = write_yaml(study_folder, study_config())
    return run_report(study_run(path), study_folder / "report",
                      progress=Progress(io.StringIO(), total=5))
