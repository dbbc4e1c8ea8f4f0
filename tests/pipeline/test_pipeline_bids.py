"""Real layouts in: a BIDS study with ``sub-`` IDs and sessions, and the same study as a dHCP
release, go through ``harmonstats measure``, ``validate`` and ``report`` with no renaming.

The study is synthetic (some subjects scanned twice); the dHCP twin is the same files laid out
and named as the dHCP release does (``ses-`` folders, ``desc-restore_T2w``, ``desc-drawem9`` and
``desc-drawem87`` maps in Draw-EM's label values, ``birth_age``/``scan_age`` columns, sex as
``female``/``male``), so both must measure the same numbers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from study_files import TO_DRAWEM9, TO_DRAWEM87, relabel

from harmonstats.cohort import Cohort
from harmonstats.io import read_table, write_table
from harmonstats.layout import raw_path, sessions_path
from harmonstats.synth import synthesize_study

pytestmark = pytest.mark.slow

SES = "sub-{participant_id}/ses-{session_id}/anat/sub-{participant_id}_ses-{session_id}"
LABELS = f"derivatives/harmonstats-synth/{SES}"
ANALYSIS = {"matching": "nearest", "match_on": ["pma_scan"], "min_group": 5,
            "comparator": None, "combat": [], "n_permutations": 20, "n_boot": 100}


def _harmonstats(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "harmonstats", *args], capture_output=True,
                            text=True, cwd=cwd, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_study(tmp_path_factory.mktemp("bids") / "study", n_source=12,
                            n_target=12, shape=32, spacing=1.0, seed=5, rescanned=0.4,
                            progress=False)


def _yaml(folder: Path, config: dict) -> Path:
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_bids_study_with_sessions_through_measure_validate_and_report(study: Path,
                                                                      tmp_path: Path) -> None:
    scans = Cohort.from_bids(study).scans
    assert len(scans) == 34 and sum(s.session == "02" for s in scans) == 10
    participants = read_table(study / "participants.tsv")
    assert participants["participant_id"].str.startswith("sub-").all()

    _harmonstats("measure", str(study), "--out", str(tmp_path / "measures.tsv"),
                 "--no-progress", cwd=tmp_path)
    measures = read_table(tmp_path / "measures.tsv")
    assert measures["participant_id"].str.startswith("sub-").all()
    assert set(zip(measures["participant_id"], measures["session_id"], strict=True)) == {
        (s.participant_id, s.session_id) for s in scans}

    (tmp_path / "battery.yaml").write_text(yaml.safe_dump(ANALYSIS))
    _harmonstats("validate", str(tmp_path / "measures.tsv"), "--participants",
                 str(study / "participants.tsv"), "--config", str(tmp_path / "battery.yaml"),
                 "--out", str(tmp_path / "results"), cwd=tmp_path)
    status = read_table(tmp_path / "results" / "status.tsv").set_index("analysis")
    # one row per scan and method: both sessions of the rescanned subjects are analysed
    assert status.loc["input checks", "rows"] == 2 * len(scans)
    assert status.loc["cohort_effect", "status"] == "done"

    config = {"name": "bids-sessions", "root": str(study),
              "participants": {"table": "participants.tsv"},
              "cohorts": {"reference": "source"},
              "labels": {"regions": f"{LABELS}_desc-regions_dseg.nii.gz",
                         "image": f"{SES}_T2w.nii.gz"},
              "methods": {"original": {"labels": f"{LABELS}_desc-original_dseg.nii.gz"},
                          "truth": {"labels": f"{LABELS}_desc-truth_dseg.nii.gz"}},
              "measures": {"ground_truth": "truth"}, "analysis": ANALYSIS}
    _harmonstats("report", str(_yaml(tmp_path, config)), "--out", str(tmp_path / "report"),
                 cwd=tmp_path)
    reported = read_table(tmp_path / "report" / "tables" / "measures.tsv")
    key = ["participant_id", "session_id", "method", "measure"]
    both = reported.merge(measures, on=key, suffixes=("_report", "_measure"))
    assert len(both) == len(measures) == len(reported)
    np.testing.assert_array_equal(both["value_report"], both["value_measure"])
    assert "bids-sessions" in (tmp_path / "report" / "index.html").read_text()


def _as_dhcp_release(study: Path, out: Path) -> None:
    """The study laid out and named as the dHCP release is."""
    cohort = Cohort.from_bids(study)
    for scan in cohort.scans:
        anat = out / scan.folder()
        anat.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cohort.image_path(scan), out / raw_path(scan, "T2w", desc="restore"))
        relabel(cohort.label_path("original", scan),
                out / raw_path(scan, "dseg", desc="drawem9"), TO_DRAWEM9)
        relabel(cohort.region_path("original", scan),
                out / raw_path(scan, "dseg", desc="drawem87"), TO_DRAWEM87)
    people = read_table(study / "participants.tsv")
    write_table(pd.DataFrame({
        "participant_id": people["participant_id"],
        "sex": people["sex"].map({"F": "female", "M": "male"}),
        "birth_age": people["ga_birth"], "birth_weight": people["birth_weight"],
        "site": people["cohort"].map({"source": "dhcp", "target": "eprime"})}),
        out / "participants.tsv")
    for pid in people["participant_id"]:
        sessions = read_table(study / sessions_path(pid))
        write_table(pd.DataFrame({"session_id": sessions["session_id"].str.removeprefix("ses-"),
                                  "scan_age": sessions["pma_scan"]}), out / sessions_path(pid))


def test_the_same_study_as_a_dhcp_release_through_a_study_yaml(study: Path,
                                                               tmp_path: Path) -> None:
    release = tmp_path / "dhcp"
    _as_dhcp_release(study, release)
    config = {"name": "dhcp-release", "root": str(release),
              "participants": {"table": "participants.tsv",
                               "columns": {"birth_age": "ga_birth", "scan_age": "pma_scan",
                                           "site": "cohort"}},
              "cohorts": {"reference": "dhcp"},
              "labels": {"scheme": "drawem9", "region_scheme": "drawem87",
                         "regions": f"{SES}_desc-drawem87_dseg.nii.gz",
                         "image": f"{SES}_desc-restore_T2w.nii.gz"},
              "methods": {"original": {"labels": f"{SES}_desc-drawem9_dseg.nii.gz"}},
              "measures": {"ground_truth": None}, "analysis": ANALYSIS}
    _harmonstats("report", str(_yaml(tmp_path, config)), "--out", str(tmp_path / "report"),
                 cwd=tmp_path)
    reported = read_table(tmp_path / "report" / "tables" / "measures.tsv")
    _harmonstats("measure", str(study), "--methods", "original", "--reference", "none",
                 "--out", str(tmp_path / "ours.tsv"), "--no-progress", cwd=tmp_path)
    ours = read_table(tmp_path / "ours.tsv")
    key = ["participant_id", "session_id", "measure"]
    both = reported.merge(ours, on=key, suffixes=("_dhcp", "_ours"))
    assert len(both) == len(ours) == len(reported) and both["session_id"].notna().all()
    np.testing.assert_allclose(both["value_dhcp"], both["value_ours"], rtol=1e-12,
                               equal_nan=True)
    assert set(reported["cohort"]) == {"dhcp", "eprime"}
