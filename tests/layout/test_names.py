"""Identifiers, method names and paths of the study layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonstats.layout import (
    Scan,
    canonical_ids,
    derivative_path,
    expand_pattern,
    method_name,
    participant_id,
    raw_path,
    session_id,
    sessions_path,
    subject_label,
)


@pytest.mark.parametrize(("given", "label", "bids"), [
    ("h000", "h000", "sub-h000"),
    ("sub-h000", "h000", "sub-h000"),
    (" sub-CC00050XX01 ", "CC00050XX01", "sub-CC00050XX01"),
    (7, "7", "sub-7"),
    ("x" * 64, "x" * 64, "sub-" + "x" * 64),
])
def test_participant_ids_are_accepted_with_or_without_prefix(given, label, bids):
    assert subject_label(given) == label
    assert participant_id(given) == bids
    assert participant_id(bids) == bids


@pytest.mark.parametrize("bad", ["sub-", "a_b", "a-b", "../x", "a b", "é1", "x" * 65,
                                 "sub-sub-1", "a.b"])
def test_unsafe_participant_ids_are_refused_in_one_line(bad):
    with pytest.raises(ValueError, match=r"participant ID .* is not allowed") as info:
        subject_label(bad)
    assert "\n" not in str(info.value) and len(str(info.value)) < 250


@pytest.mark.parametrize("missing", ["", None, float("nan"), "n/a"])
def test_missing_participant_ids_are_refused(missing):
    with pytest.raises(ValueError, match=r"^participant ID is missing$"):
        subject_label(missing)


@pytest.mark.parametrize(("given", "want"), [
    ("ses-01", "ses-01"), ("01", "ses-01"), (7201, "ses-7201"), (None, None), ("n/a", None),
    (float("nan"), None), ("", None),
])
def test_session_ids(given, want):
    assert session_id(given) == want


@pytest.mark.parametrize(("name", "ok"), [
    ("original", True), ("image_aug", True), ("m2", True), ("a+b", False), ("Baseline", False),
    ("2net", False), ("", False), ("a-b", False), ("x" * 65, False),
])
def test_one_method_name_rule(name, ok):
    if ok:
        assert method_name(name) == name
    else:
        with pytest.raises(ValueError, match="lowercase letters, digits and '_'"):
            method_name(name)


def test_scan_keys_folders_and_paths():
    plain, two = Scan.of("sub-a1"), Scan.of("a1", "ses-02")
    assert (plain.key, two.key) == ("sub-a1", "sub-a1_ses-02")
    assert Scan.parse("sub-a1_ses-02") == two and Scan.parse("a1") == plain
    assert raw_path(plain, "T2w") == Path("sub-a1/anat/sub-a1_T2w.nii.gz")
    assert raw_path(two, "dseg", desc="drawem9") == Path(
        "sub-a1/ses-02/anat/sub-a1_ses-02_desc-drawem9_dseg.nii.gz")
    assert derivative_path("baseline", two, desc="regions") == Path(
        "derivatives/baseline/sub-a1/ses-02/anat/sub-a1_ses-02_desc-regions_dseg.nii.gz")
    assert two.filename("probseg", label="GM", space="T2w", desc="x") == (
        "sub-a1_ses-02_space-T2w_label-GM_desc-x_probseg.nii.gz")
    assert sessions_path("a1") == Path("sub-a1/sub-a1_sessions.tsv")
    with pytest.raises(ValueError, match="unknown BIDS entities"):
        two.filename("dseg", run="1")


def test_patterns_expand_labels_and_columns():
    scan = Scan.of("sub-a1", "ses-2")
    row = {"participant_id": "sub-a1", "cohort": "dhcp", "note": np.nan}
    pattern = "{cohort}/sub-{participant_id}/ses-{session_id}/x{note}.nii.gz"
    assert expand_pattern(pattern, scan, row) == "dhcp/sub-a1/ses-2/x.nii.gz"
    with pytest.raises(ValueError, match="'site', which is not a participants column"):
        expand_pattern("{site}/{participant_id}", scan, row)
    with pytest.raises(ValueError, match="has no session"):
        expand_pattern("ses-{session_id}", Scan.of("a1"), row)


def test_canonical_ids_keep_missing_sessions_and_name_the_bad_id():
    table = pd.DataFrame({"participant_id": ["a1", "sub-a2", "a3"],
                          "session_id": ["1", None, "ses-3"]})
    out = canonical_ids(table)
    assert out["participant_id"].tolist() == ["sub-a1", "sub-a2", "sub-a3"]
    assert out["session_id"].iloc[0] == "ses-1" and pd.isna(out["session_id"].iloc[1])
    with pytest.raises(ValueError, match=r"p.tsv: row \d+: column 'participant_id': .*'a/b'"):
        canonical_ids(pd.DataFrame({"participant_id": ["a/b"]}), source="p.tsv")
