"""Fixtures of the measures tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from measures_helpers import write_study


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A 3-subject BIDS-like study (methods truth and original) in a temporary folder."""
    return write_study(tmp_path / "study")
