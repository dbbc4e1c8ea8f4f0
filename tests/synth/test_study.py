from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from harmonstats.cohort import Cohort
from harmonstats.io import read_table
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout import Scan, derivative_path, raw_path
from harmonstats.synth import TRUTH_COLUMNS, synthesize_study
from harmonstats.synth.demographics import PARTICIPANT_COLUMNS
from harmonstats.synth.study import LABELS_DATASET

DESCS = ("original", "truth", "regions")
IDS = ["src001", "src002", "src003", "tgt001", "tgt002", "tgt003"]


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _load(root: Path, pid: str, desc: str | None = None) -> nib.Nifti1Image:
    """The T2w image (no ``desc``) or a label map of the study, where the layout puts them."""
    scan = Scan.of(pid)
    rel = (raw_path(scan, "T2w") if desc is None
           else derivative_path(LABELS_DATASET, scan, desc=desc))
    return nib.load(root / rel)


def test_layout_and_tables(tiny_synth):
    parts = read_table(tiny_synth / "participants.tsv")
    assert list(parts.columns) == list(PARTICIPANT_COLUMNS)
    assert parts["participant_id"].tolist() == [f"sub-{p}" for p in IDS]
    assert parts["cohort"].value_counts().to_dict() == {"source": 3, "target": 3}
    assert set(parts["split"]) <= {"train", "val", "test"}
    truth = read_table(tiny_synth / "truth.tsv")
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    assert truth["participant_id"].tolist() == parts["participant_id"].tolist()
    sidecar = json.loads((tiny_synth / "participants.json").read_text())
    assert sidecar["ga_birth"]["Units"] == "weeks"
    labels = tiny_synth / "derivatives" / LABELS_DATASET
    description = json.loads((labels / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    assert description["GeneratedBy"][0]["Name"] == "harmonstats.synth"
    assert (labels / "dseg.tsv").is_file() and (labels / "desc-regions_dseg.tsv").is_file()
    for pid in parts["participant_id"]:
        _load(tiny_synth, pid)
        for desc in DESCS:
            _load(tiny_synth, pid, desc)
    # nothing but the raw images beside the participants' folders: label maps are derivatives
    assert sorted(p.name for p in tiny_synth.glob("sub-*/anat/*")) == sorted(
        f"{p}_T2w.nii.gz" for p in parts["participant_id"])
    assert not list(tiny_synth.rglob("*.tmp*")), "temporary files left behind"
    cohort = Cohort.from_bids(tiny_synth)
    assert cohort.methods == ["original", "truth"] and set(cohort.regions) == {""}


def test_images_shapes_affines_dtypes(tiny_synth, tiny):
    n, sp = tiny["shape"], tiny["spacing"]
    expected = np.diag([sp, sp, sp, 1.0])
    expected[:3, 3] = -(n - 1) / 2 * sp
    for pid in ("src001", "tgt002"):
        t2w = _load(tiny_synth, pid)
        assert t2w.shape == (n, n, n)
        assert t2w.get_data_dtype() == np.float32
        np.testing.assert_allclose(t2w.affine, expected)
        np.testing.assert_allclose(t2w.header.get_zooms(), (sp, sp, sp))
        for desc in DESCS:
            img = _load(tiny_synth, pid, desc)
            assert img.get_data_dtype() == np.uint8
            np.testing.assert_allclose(img.affine, expected)
        data = np.asanyarray(t2w.dataobj)
        truth = np.asanyarray(_load(tiny_synth, pid, "truth").dataobj)
        assert np.all(data[truth == 0] == 0), "image must be skull-stripped"
        assert data[truth > 0].mean() > 0.2


def test_all_classes_and_regions_present(tiny_synth):
    for pid in read_table(tiny_synth / "participants.tsv")["participant_id"]:
        truth = np.asanyarray(_load(tiny_synth, pid, "truth").dataobj)
        original = np.asanyarray(_load(tiny_synth, pid, "original").dataobj)
        regions = np.asanyarray(_load(tiny_synth, pid, "regions").dataobj)
        assert set(np.unique(truth)) == set(TISSUES), pid
        assert set(np.unique(original)) == set(TISSUES), pid
        assert set(np.unique(regions)) == set(REGIONS), pid
        np.testing.assert_array_equal(regions > 0, truth == 2)


def test_truth_volumes_match_the_truth_labels(tiny_synth, tiny):
    truth = read_table(tiny_synth / "truth.tsv").set_index("participant_id")
    voxel = tiny["spacing"] ** 3
    for pid, row in truth.iterrows():
        lab = np.asanyarray(_load(tiny_synth, pid, "truth").dataobj)
        for value, name in TISSUES.items():
            if value:
                assert row[f"volume_{name}"] == pytest.approx((lab == value).sum() * voxel)
        assert row["icv"] == pytest.approx((lab > 0).sum() * voxel)
        regional = row[[f"thickness_{r}" for v, r in REGIONS.items() if v]].astype(float)
        assert regional.min() <= row["thickness_mean"] <= regional.max()
        assert 1.0 <= regional.min() and regional.max() <= 2.8


def test_truth_json_holds_the_generative_model(tiny_synth, tiny):
    model = json.loads((tiny_synth / "truth.json").read_text())["GenerativeModel"]
    t = model["thickness"]
    assert (t["b_pma"], t["b_ga"], t["b_pma_ga"]) == (0.19, 0.154, -0.004)
    assert t["crossing_pma"] == pytest.approx(38.5)
    assert model["original_bias_mm"]["target"]["mean"] == 0.2
    assert model["original_bias_mm"]["source"]["mean"] == 0.0
    assert "thickness" not in model["language_composite"]["formula"].split(";")[0]
    assert model["seed"] == tiny["seed"]
    bias = model["original_bias_mm_by_subject"]
    assert sorted(bias) == [f"sub-{p}" for p in IDS]
    assert all(bias[f"sub-{p}"] == 0.0 for p in IDS[:3])
    assert all(0.08 < bias[f"sub-{p}"] < 0.32 for p in IDS[3:])


def test_same_seed_same_bytes_any_jobs(tmp_path, tiny_synth, tiny):
    again = synthesize_study(tmp_path / "a", progress=False, **tiny)
    parallel = synthesize_study(tmp_path / "b", progress=False, jobs=2, **tiny)
    reference = _hashes(tiny_synth)
    assert _hashes(again) == reference
    assert _hashes(parallel) == reference
    other = synthesize_study(tmp_path / "c", progress=False, **{**tiny, "seed": 8})
    assert _hashes(other)["sub-src001/anat/sub-src001_T2w.nii.gz"] != \
        reference["sub-src001/anat/sub-src001_T2w.nii.gz"]


def test_refuses_to_overwrite_unless_asked(tmp_path, tiny):
    small = {**tiny, "n_source": 2, "n_target": 1}
    out = synthesize_study(tmp_path / "s", progress=False, **small)
    before = _hashes(out)
    with pytest.raises(ValueError, match="already holds a study"):
        synthesize_study(out, progress=False, **small)
    assert _hashes(out) == before
    synthesize_study(out, progress=False, overwrite=True, **{**small, "n_source": 1})
    assert not (out / "sub-src002").exists()
    assert read_table(out / "participants.tsv")["participant_id"].tolist() == ["sub-src001",
                                                                               "sub-tgt001"]
    assert not (out / "derivatives" / LABELS_DATASET / "sub-src002").exists()


def test_rescanned_subjects_have_a_second_later_session(tmp_path, tiny):
    out = synthesize_study(tmp_path / "s", progress=False, **{**tiny, "rescanned": 0.5})
    parts = read_table(out / "participants.tsv")
    assert "pma_scan" not in parts.columns  # per session, in the sessions tables
    sessions = {p: read_table(out / f"{p}/{p}_sessions.tsv") for p in parts["participant_id"]}
    counts = sorted(len(t) for t in sessions.values())
    assert counts == [1, 1, 1, 2, 2, 2]
    for table in sessions.values():
        assert table["session_id"].tolist()[:1] == ["ses-01"]
        assert table["pma_scan"].is_monotonic_increasing
        assert (table["pma_scan"].diff().dropna().between(2.0, 6.0)).all()
    cohort = Cohort.from_bids(out)
    assert len(cohort.scans) == 9 and cohort.methods == ["original", "truth"]
    truth = read_table(out / "truth.tsv")
    assert list(zip(truth["participant_id"], truth["session_id"], strict=True)) == [
        (s.participant_id, s.session_id) for s in cohort.scans]
    # the same brain, older: its cortex is thicker at the second session
    again = truth.groupby("participant_id").filter(lambda d: len(d) == 2)
    pairs = again.groupby("participant_id")["thickness_mean"].agg(["first", "last"])
    assert (pairs["last"] > pairs["first"]).all()
    model = json.loads((out / "truth.json").read_text())["GenerativeModel"]
    assert len(model["original_bias_mm_by_subject"]) == 9


def test_writes_into_an_existing_empty_folder(tmp_path, tiny):
    (tmp_path / "empty").mkdir()
    out = synthesize_study(tmp_path / "empty", progress=False, **{**tiny, "n_source": 1,
                                                                   "n_target": 1})
    assert (out / "truth.tsv").is_file()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_source": 0}, ValueError, "n_source must be >= 1"),
        ({"n_target": -2}, ValueError, "n_target must be >= 1"),
        ({"n_source": 1.5}, TypeError, "n_source must be an integer"),
        ({"shape": 31}, ValueError, "shape must be >= 32"),
        ({"shape": 40.0}, TypeError, "shape must be an integer"),
        ({"spacing": 0}, ValueError, "spacing must be a positive"),
        ({"spacing": -1.0}, ValueError, "spacing must be a positive"),
        ({"spacing": float("nan")}, ValueError, "spacing must be a positive"),
        ({"shape": 32, "spacing": 0.5}, ValueError, "16 mm field of view"),
        ({"jobs": 0}, ValueError, "jobs must be >= 1"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
        ({"rescanned": 1.5}, ValueError, "rescanned must lie in"),
    ],
)
def test_argument_errors(tmp_path, tiny, kwargs, error, match):
    with pytest.raises(error, match=match):
        synthesize_study(tmp_path / "x", progress=False, **{**tiny, **kwargs})
    assert not (tmp_path / "x").exists()


def test_output_path_that_is_a_file(tmp_path, tiny):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        synthesize_study(tmp_path / "f", progress=False, **tiny)
