"""A Draw-EM-labelled study (9-tissue and 87-region maps, own column names) runs end to end.

The study is made by relabelling a synthetic study into Draw-EM's label values, so the report
run on it must measure exactly what the same study gives in harmonstats' own 7/11 labels.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from study_files import TO_DRAWEM9, TO_DRAWEM87, relabel

from harmonstats.cohort import Cohort
from harmonstats.io import read_table
from harmonstats.layout import subject_label
from harmonstats.measures import measure_study
from harmonstats.synth import synthesize_study

USER_COLUMNS = {"participant_id": "subject", "cohort": "site", "ga_birth": "GA_weeks",
                "pma_scan": "PMA_weeks", "sex": "gender", "birth_weight": "BW_g",
                "language_composite": "bayley_language"}


@pytest.mark.slow
def test_drawem_study_yaml_runs_end_to_end(tmp_path: Path) -> None:
    synthetic = synthesize_study(tmp_path / "synthetic", n_source=12, n_target=12, shape=32,
                                 spacing=1.0, seed=5, progress=False)
    root = tmp_path / "drawem"
    # IDs without the sub- prefix in the user's own table: accepted as well
    participants = read_table(synthetic / "participants.tsv").assign(
        participant_id=lambda d: [subject_label(p) for p in d["participant_id"]])
    cohort = Cohort.from_bids(synthetic)
    for scan in cohort.scans:
        out = root / "derivatives" / "drawem" / scan.folder()
        relabel(cohort.label_path("original", scan),
                out / scan.filename("dseg", desc="drawem9"), TO_DRAWEM9)
        relabel(cohort.region_path("original", scan),
                out / scan.filename("dseg", desc="drawem87"), TO_DRAWEM87)
    participants.rename(columns=USER_COLUMNS).assign(
        site=lambda d: d["site"].map({"source": "dhcp", "target": "eprime"})
    ).to_csv(root / "participants.csv", index=False)
    anat = "derivatives/drawem/sub-{participant_id}/anat/sub-{participant_id}"
    study = {
        "name": "drawem-test",
        "root": str(root),
        "participants": {"table": "participants.csv",
                         "columns": {v: k for k, v in USER_COLUMNS.items()}},
        "cohorts": {"reference": "dhcp"},
        "labels": {"scheme": "drawem9", "region_scheme": "drawem87",
                   "regions": f"{anat}_desc-drawem87_dseg.nii.gz"},
        "methods": {"original": {"labels": f"{anat}_desc-drawem9_dseg.nii.gz"}},
        "measures": {"thickness": "laplace", "ground_truth": None, "jobs": 1},
        "analysis": {"matching": "nearest", "match_on": ["pma_scan"], "min_group": 5,
                     "comparator": None, "combat": []},
    }
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(study, sort_keys=False))

    out = tmp_path / "report"
    result = subprocess.run([sys.executable, "-m", "harmonstats.report", str(config), "--out",
                             str(out)], capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "index.html").is_file()
    page = (out / "index.html").read_text()
    assert "drawem-test" in page and "eprime" in page

    # The Draw-EM maps, read through the schemes, measure what the 7/11-label study measures.
    measured = read_table(out / "tables" / "measures.tsv")
    reference = measure_study(synthetic, methods=["original"], thickness="laplace",
                              progress=False, cache_dir=tmp_path / "cache")
    reference = reference[~reference["measure"].str.startswith("dice_")]
    key = ["participant_id", "measure"]
    both = measured.merge(reference, on=key, suffixes=("_drawem", "_ours"))
    assert len(both) == len(reference) > 0
    np.testing.assert_allclose(both["value_drawem"], both["value_ours"], rtol=1e-9, atol=1e-9,
                               equal_nan=True)
    eq = read_table(out / "tables" / "equivalence_thickness.tsv")
    row = eq[(eq["measure"] == "thickness_mean") & (eq["method"] == "original")].iloc[0]
    assert row["comparison"] == "eprime" and row["estimate"] > 0
