"""The notebooks of ``analyses/`` run end to end, as a user would run them, and are stored clean.

Each notebook is executed with nbclient in a kernel running this interpreter (a kernelspec
written to a temporary folder, so a machine with only the project's virtual environment needs no
Jupyter set-up), with ``analyses/`` as working folder and ``HARMONSTATS_NOTEBOOK_DATA`` pointing
to one temporary folder shared by the whole run (by every pytest-xdist worker too): the first
notebook synthesises the quick demo study there, under a file lock, and the others reuse it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"
NOTEBOOKS = sorted(ANALYSES.glob("*.ipynb"))
EXPECTED = [
    "01_segmentation_quality",
    "02_matched_validation",
    "03_term_vs_preterm",
    "04_outcome",
    "05_validate_your_own_cohort",
]
KERNEL = "harmonstats-tests"
CELL_TIMEOUT_S = 180  # the synthesis cell: ~20 s on 2 idle cores, ~80 s under a load of 8


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """Kernelspecs holding one kernel that runs ``sys.executable`` (this environment)."""
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
    spec = kernels / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "harmonstats tests",
        "language": "python",
    }))
    return KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)


@pytest.fixture(scope="session")
def notebook_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Data folder shared by the notebooks of this run, across pytest-xdist workers."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' folders sit side by side in the run's folder
    data = root / "notebook-data"
    data.mkdir(exist_ok=True)
    return data


@contextmanager
def _study_lock(data: Path) -> Iterator[None]:
    """Hold an exclusive lock while the shared study is missing: one notebook synthesises it."""
    with (data / "synthesis.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if (data / "quick" / "dataset_description.json").is_file():
            fcntl.flock(handle, fcntl.LOCK_UN)
        yield


def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_expected_notebooks_exist() -> None:
    assert [path.stem for path in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert dirty == [], f"{path.name}: code cells {dirty} hold outputs; clear them"
    assert nb.cells[0].cell_type == "markdown"
    assert "Grigorescu" in nb.cells[0].source


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_specs: KernelSpecManager, notebook_data: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARMONSTATS_NOTEBOOK_DATA", str(notebook_data))
    nb = nbformat.read(path, as_version=4)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = NotebookClient(nb, km=manager, kernel_name=KERNEL, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(ANALYSES)}})
    with _study_lock(notebook_data):
        client.execute()  # raises CellExecutionError, naming the cell, on any error

    outputs = [out for cell in _code_cells(nb) for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert all(cell.execution_count is not None for cell in _code_cells(nb))
    figures = [out for out in outputs if "image/png" in out.get("data", {})]
    assert figures, f"{path.name} displayed no figure"
    assert (notebook_data / "quick" / "dataset_description.json").is_file()
