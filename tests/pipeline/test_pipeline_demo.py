"""``python -m harmonstats.report --quick``: synthetic study to rendered report, as users run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harmonstats.io import read_table
from harmonstats.pipeline.segment import demo_models
from harmonstats.synth.acquisition import ORIGINAL_BIAS

pytestmark = pytest.mark.slow


def test_quick_demo(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "harmonstats.report", "--quick", "--data",
               str(tmp_path / "data"), "--out", str(tmp_path / "report")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    index = tmp_path / "report" / "index.html"
    assert result.stdout.strip() == f"report written to {index}"
    models = {k: v for k, v in demo_models()[0].items() if k in ("baseline", "image_aug")}
    stages = ["synthesise", "load", "measure", "analyse", "figures", "write report"]
    for stage in [*stages, *(["segment"] if models else [])]:
        assert f"] {stage} done in " in result.stderr
    if not models:
        assert "] segment skipped: " in result.stderr
    page = index.read_text()
    assert "harmonstats demo: synthetic two-cohort study" in page
    assert page.count('<img src="data:image/png;base64,') >= 8
    prov = json.loads((tmp_path / "report" / "provenance.json").read_text())
    assert prov["command"].startswith("python -m harmonstats.report --quick --data ")
    assert prov["battery"]["seed"] == 0 and prov["measures"]["thickness"]["method"] == "laplace"

    # Every demo model's segmentations are measured and compared with the truth.
    measures = read_table(tmp_path / "report" / "tables" / "measures.tsv")
    assert set(models) <= set(measures["method"])

    # The target's original labels over-estimate thickness by the generator's bias; the truth
    # labels do not: the difference of the two cohort effects recovers that bias.
    eq = read_table(tmp_path / "report" / "tables" / "equivalence_thickness.tsv")
    mean = eq[eq["measure"] == "thickness_mean"].set_index("method")["estimate"]
    bias = ORIGINAL_BIAS["target"][0] - ORIGINAL_BIAS["source"][0]
    assert mean["original"] - mean["truth"] == pytest.approx(bias, abs=0.12)

    # A second run reuses the cached study and replaces the report in place.
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "synthesise done in" in again.stderr and "(reused " in again.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "report"]
