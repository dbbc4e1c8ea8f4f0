"""Fixtures of the pipeline tests: a small two-cohort study on disk (see tests/study_files.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_files import write_study


@pytest.fixture(scope="session")
def study_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pipeline_study")
    write_study(folder / "study", ids=("src", "tgt"))
    return folder
