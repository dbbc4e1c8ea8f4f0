"""The package carries what it needs: the demo's checkpoints are package data of the wheel.

``scripts/check_wheel.sh`` installs the built wheel in a fresh venv and runs the quick demo
from an empty folder (slow); here the wheel is built and its content checked, and the lookup
the installed demo uses is checked against the source tree.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import harmonstats
from harmonstats.pipeline.segment import (
    DEMO_MODEL_NAMES,
    PAPER_MODEL_NAMES,
    demo_models,
    demo_models_folder,
)

ROOT = Path(__file__).resolve().parents[1]
# every checkpoint of the source tree: the paper's six at least, and the parcellation net
CHECKPOINTS = sorted(p.stem for p in (ROOT / "models" / "demo").glob("*.pt"))


def test_demo_checkpoints_are_found_inside_the_package() -> None:
    folder = demo_models_folder()
    assert folder == Path(harmonstats.__file__).parent / "demo_models"
    found, parcellation = demo_models()
    assert set(PAPER_MODEL_NAMES) <= set(found) <= set(DEMO_MODEL_NAMES)
    assert sorted([*found, "parcellation"]) == CHECKPOINTS and parcellation is not None
    assert all(p.parent == folder for p in found.values())
    # in a source checkout the folder is the repository's models/demo
    assert folder.resolve() == (ROOT / "models" / "demo").resolve()


def test_the_wheel_holds_the_demo_checkpoints(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("harmonstats-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in CHECKPOINTS:
        assert f"harmonstats/demo_models/{name}.pt" in names
    assert "harmonstats/report/templates/report.html.j2" in names
    assert not any(n.startswith(("tests/", "models/")) for n in names)
