"""The official BIDS validator on what harmonstats writes: a synthetic study and a model's outputs.

The validator is npm's ``bids-validator`` (installed by ``scripts/bids_validator.sh``; CI sets
``HARMONSTATS_BIDS_VALIDATOR`` to it and ``HARMONSTATS_REQUIRE_BIDS_VALIDATOR=1`` so that its
absence fails). Its 1.x line, the one npm serves, validates raw datasets and skips
``derivatives/``; run on a derivatives dataset it has no rule for derivative files, so there the
only errors allowed are "not part of the specification" for files named by the BIDS-Derivatives
segmentation rules (checked here against those rules) and "no valid data for a subject".
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from harmonstats.models.apply import segment_cohort
from harmonstats.pipeline.segment import demo_models
from harmonstats.synth import synthesize_study

ROOT = Path(__file__).resolve().parents[2]
# BIDS-Derivatives 1.9, "Segmentations": discrete segmentations and their look-up tables, and
# JSON sidecars of both.
_ENT = r"sub-[A-Za-z0-9]+(/ses-[A-Za-z0-9]+)?/anat/sub-[A-Za-z0-9]+(_ses-[A-Za-z0-9]+)?"
DERIVATIVE_FILE = re.compile(
    rf"^/({_ENT}(_space-[A-Za-z0-9]+)?(_desc-[A-Za-z0-9]+)?_dseg\.(nii\.gz|json)"
    r"|(desc-[A-Za-z0-9]+_)?dseg\.tsv)$")
NO_DERIVATIVE_RULES = {"NOT_INCLUDED", "NO_VALID_DATA_FOUND_FOR_SUBJECT"}


def _validator() -> Path:
    given = os.environ.get("HARMONSTATS_BIDS_VALIDATOR")
    path = Path(given) if given else ROOT / "build/bids-validator/node_modules/.bin/bids-validator"
    if not path.is_file():
        if os.environ.get("HARMONSTATS_REQUIRE_BIDS_VALIDATOR"):
            pytest.fail(f"bids-validator not found at {path} (run scripts/bids_validator.sh)")
        pytest.skip("bids-validator is not installed (bash scripts/bids_validator.sh)")
    return path


def _issues(validator: Path, dataset: Path) -> dict[str, list[tuple[str, list[str]]]]:
    result = subprocess.run([str(validator), str(dataset), "--json"], capture_output=True,
                            text=True, timeout=300)
    report = json.loads(result.stdout)
    return {kind: [(i["key"], sorted({f["file"]["relativePath"] for f in i["files"]
                                      if f.get("file")})) for i in report["issues"][kind]]
            for kind in ("errors", "warnings")}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_study(tmp_path_factory.mktemp("bids") / "study", n_source=2, n_target=2,
                            shape=32, spacing=1.0, seed=3, rescanned=0.5, progress=False)


def test_a_synthetic_study_is_valid_bids(study: Path) -> None:
    issues = _issues(_validator(), study)
    assert issues["errors"] == []
    # what is left are recommendations a synthetic study cannot follow (no authors) and the
    # sessions only some subjects have
    assert {key for key, _ in issues["warnings"]} <= {"NO_AUTHORS", "MISSING_SESSION"}


def test_a_models_outputs_are_a_bids_derivatives_dataset(study: Path) -> None:
    validator = _validator()
    models, _ = demo_models()
    if "baseline" not in models:
        pytest.skip("no demo checkpoint models/demo/baseline.pt")
    segment_cohort(models["baseline"], study, study, method="baseline", device="cpu",
                   progress=False)
    dataset = study / "derivatives" / "baseline"
    description = json.loads((dataset / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "harmonstats"
    issues = _issues(validator, dataset)
    assert {key for key, _ in issues["errors"]} <= NO_DERIVATIVE_RULES
    unknown = [f for key, files in issues["errors"] if key == "NOT_INCLUDED" for f in files]
    assert unknown and all(DERIVATIVE_FILE.match(f) for f in unknown), unknown
    assert "/dseg.tsv" in unknown
    # and the raw study around it stays valid with its derivatives in place
    assert _issues(validator, study)["errors"] == []
