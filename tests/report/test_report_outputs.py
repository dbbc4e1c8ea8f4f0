"""A study YAML to a report: the numbers in its tables against numpy, hashes, verdicts."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from harmonstats.io import read_table
from harmonstats.report.provenance import hash_inputs


def test_report_folder(built_report: Path) -> None:
    out = built_report.parent
    assert {p.name for p in out.iterdir()} == {"index.html", "tables", "figures",
                                               "provenance.json"}
    assert (out / "tables" / "equivalence_thickness.tsv").is_file()
    assert (out / "tables" / "measures.tsv").is_file()
    assert list((out / "figures").glob("*.png"))


def test_volumes_match_voxel_counts(built_report: Path, study_folder: Path) -> None:
    measures = read_table(built_report.parent / "tables" / "measures.tsv")
    for pid in ("src000", "tgt005"):
        anat = study_folder / "study" / f"sub-{pid}" / "anat"
        path = anat / f"sub-{pid}_desc-original_dseg.nii.gz"
        labels = np.asarray(nib.load(path).dataobj)
        rows = measures[(measures["participant_id"] == f"sub-{pid}")
                        & (measures["method"] == "original")]
        value = dict(zip(rows["measure"], rows["value"], strict=True))
        assert value["volume_wm"] == pytest.approx(float((labels == 3).sum()))
        assert value["icv"] == pytest.approx(float((labels > 0).sum()))


def test_thicker_target_cortex_is_reported_different(built_report: Path) -> None:
    eq = read_table(built_report.parent / "tables" / "equivalence_thickness.tsv")
    row = eq[(eq["method"] == "original") & (eq["measure"] == "thickness_mean")].iloc[0]
    assert row["verdict"] == "different"
    assert row["estimate"] > 0.5
    page = built_report.read_text()
    assert re.search(r"original \(target vs source\): harmonised on \d+ of \d+ measures; "
                     r"NOT harmonised", page)


def test_provenance_hashes(built_report: Path, study_folder: Path) -> None:
    prov = json.loads((built_report.parent / "provenance.json").read_text())
    table = (study_folder / "study" / "participants.tsv").resolve()
    record = next(r for r in prov["inputs"] if r["path"] == str(table))
    assert record["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest()
    assert len(prov["inputs"]) == 1 + 24 * 2 + 24
    assert prov["seed"] == 0
    assert [s["stage"] for s in prov["stages"]][:3] == ["segment", "measure", "analyse"]


def test_hash_inputs_reuses_unchanged_files(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    first = hash_inputs([f])[0]
    assert first["sha256"] == hashlib.sha256(b"abc").hexdigest()
    stale = {first["path"]: {**first, "sha256": "from-before"}}
    assert hash_inputs([f], previous=stale)[0]["sha256"] == "from-before"
    os.utime(f, ns=(first["mtime_ns"] + 10**9, first["mtime_ns"] + 10**9))
    assert hash_inputs([f], previous=stale)[0]["sha256"] == first["sha256"]
