"""The one finder: scans from participants and sessions tables, methods, regions, images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.io import save_nifti, write_table
from harmonstats.layout import (
    Scan,
    derivative_path,
    find_images,
    find_study_files,
    raw_path,
    read_scans,
    scans_of,
    sessions_path,
)


def _touch(root: Path, rel: Path) -> None:
    save_nifti(np.zeros((2, 2, 2), np.uint8), np.eye(4), root / rel)


def _study(root: Path) -> list[Scan]:
    write_table(pd.DataFrame({"participant_id": ["sub-a1", "a2"], "cohort": ["x", "y"],
                              "pma_scan": [40.0, 41.0]}), root / "participants.tsv")
    write_table(pd.DataFrame({"session_id": ["ses-1", "2"], "pma_scan": [35.0, 41.5]}),
                root / sessions_path("a1"))
    return [Scan.of("a1", "1"), Scan.of("a1", "2"), Scan.of("a2")]


def test_sessions_tables_give_one_row_per_scan(tmp_path):
    scans = _study(tmp_path)
    table, source = read_scans(tmp_path)
    assert source == "participants.tsv with the sessions tables"
    assert scans_of(table) == scans
    assert table["pma_scan"].tolist() == [35.0, 41.5, 41.0]  # the session's value wins
    assert table["participant_id"].tolist() == ["sub-a1", "sub-a1", "sub-a2"]


def test_user_columns_are_mapped_in_both_tables(tmp_path):
    pd.DataFrame({"subject": ["CC1"], "birth_age": [30.0]}).to_csv(tmp_path / "p.csv",
                                                                   index=False)
    write_table(pd.DataFrame({"session_id": ["ses-7"], "scan_age": [36.0]}),
                tmp_path / "sub-CC1" / "sub-CC1_sessions.tsv")
    table, _ = read_scans(tmp_path, participants="p.csv",
                          columns={"subject": "participant_id", "birth_age": "ga_birth",
                                   "scan_age": "pma_scan"})
    assert table.to_dict("records") == [{"participant_id": "sub-CC1", "session_id": "ses-7",
                                         "ga_birth": 30.0, "pma_scan": 36.0}]


def test_methods_regions_and_images_are_found_where_the_layout_puts_them(tmp_path):
    scans = _study(tmp_path)
    for scan in scans:
        _touch(tmp_path, raw_path(scan, "T2w"))
        # a pipeline's dataset: given methods and the study's regions
        for desc in ("original", "truth", "regions"):
            _touch(tmp_path, derivative_path("harmonstats-synth", scan, desc=desc))
        # a model's dataset, with its own parcellation for one scan
        _touch(tmp_path, derivative_path("baseline", scan))
    _touch(tmp_path, derivative_path("baseline", scans[0], desc="regions"))
    # a parcellation of a given method, and a label map of an older study beside the image
    _touch(tmp_path, derivative_path("original", scans[1], desc="regions"))
    _touch(tmp_path, raw_path(scans[2], "dseg", desc="manual"))
    found = find_study_files(tmp_path, scans)
    assert sorted(found.labels) == ["baseline", "manual", "original", "truth"]
    assert found.labels["truth"][scans[1]] == tmp_path / derivative_path(
        "harmonstats-synth", scans[1], desc="truth")
    assert found.labels["manual"][scans[0]] == tmp_path / raw_path(scans[0], "dseg",
                                                                   desc="manual")
    assert set(found.regions) == {"", "baseline", "original"}
    assert set(found.regions[""]) == set(scans)
    assert list(found.regions["baseline"]) == [scans[0]]
    assert list(found.regions["original"]) == [scans[1]]
    assert found.images == {s: tmp_path / raw_path(s, "T2w") for s in scans}
    assert find_images(tmp_path) == found.images
