from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from harmonstats.io import read_table
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.synth import TRUTH_COLUMNS, synthesize_study
from harmonstats.synth.demographics import PARTICIPANT_COLUMNS

DESCS = ("desc-original_dseg", "desc-truth_dseg", "desc-regions_dseg")


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _load(root: Path, pid: str, suffix: str) -> nib.Nifti1Image:
    return nib.load(root / f"sub-{pid}" / "anat" / f"sub-{pid}_{suffix}.nii.gz")


def test_layout_and_tables(tiny_synth):
    parts = read_table(tiny_synth / "participants.tsv")
    assert list(parts.columns) == list(PARTICIPANT_COLUMNS)
    assert parts["participant_id"].tolist() == ["src001", "src002", "src003",
                                                "tgt001", "tgt002", "tgt003"]
    assert parts["cohort"].value_counts().to_dict() == {"source": 3, "target": 3}
    assert set(parts["split"]) <= {"train", "val", "test"}
    truth = read_table(tiny_synth / "truth.tsv")
    assert list(truth.columns) == list(TRUTH_COLUMNS)
    assert truth["participant_id"].tolist() == parts["participant_id"].tolist()
    sidecar = json.loads((tiny_synth / "participants.json").read_text())
    assert sidecar["ga_birth"]["Units"] == "weeks"
    for pid in parts["participant_id"]:
        for suffix in ("T2w", *DESCS):
            assert (tiny_synth / f"sub-{pid}" / "anat" / f"sub-{pid}_{suffix}.nii.gz").is_file()
    assert not list(tiny_synth.rglob("*.tmp*")), "temporary files left behind"


def test_images_shapes_affines_dtypes(tiny_synth, tiny):
    n, sp = tiny["shape"], tiny["spacing"]
    expected = np.diag([sp, sp, sp, 1.0])
    expected[:3, 3] = -(n - 1) / 2 * sp
    for pid in ("src001", "tgt002"):
        t2w = _load(tiny_synth, pid, "T2w")
        assert t2w.shape == (n, n, n)
        assert t2w.get_data_dtype() == np.float32
        np.testing.assert_allclose(t2w.affine, expected)
        np.testing.assert_allclose(t2w.header.get_zooms(), (sp, sp, sp))
        for suffix in DESCS:
            img = _load(tiny_synth, pid, suffix)
            assert img.get_data_dtype() == np.uint8
            np.testing.assert_allclose(img.affine, expected)
        data = np.asanyarray(t2w.dataobj)
        truth = np.asanyarray(_load(tiny_synth, pid, "desc-truth_dseg").dataobj)
        assert np.all(data[truth == 0] == 0), "image must be skull-stripped"
        assert data[truth > 0].mean() > 0.2


def test_all_classes_and_regions_present(tiny_synth):
    for pid in read_table(tiny_synth / "participants.tsv")["participant_id"]:
        truth = np.asanyarray(_load(tiny_synth, pid, "desc-truth_dseg").dataobj)
        original = np.asanyarray(_load(tiny_synth, pid, "desc-original_dseg").dataobj)
        regions = np.asanyarray(_load(tiny_synth, pid, "desc-regions_dseg").dataobj)
        assert set(np.unique(truth)) == set(TISSUES), pid
        assert set(np.unique(original)) == set(TISSUES), pid
        assert set(np.unique(regions)) == set(REGIONS), pid
        np.testing.assert_array_equal(regions > 0, truth == 2)


def test_truth_volumes_match_the_truth_labels(tiny_synth, tiny):
    truth = read_table(tiny_synth / "truth.tsv").set_index("participant_id")
    voxel = tiny["spacing"] ** 3
    for pid, row in truth.iterrows():
        lab = np.asanyarray(_load(tiny_synth, pid, "desc-truth_dseg").dataobj)
        for value, name in TISSUES.items():
            if value:
                assert row[f"volume_{name}"] == pytest.approx((lab == value).sum() * voxel)
        assert row["icv"] == pytest.approx((lab > 0).sum() * voxel)
        regional = row[[f"thickness_{r}" for v, r in REGIONS.items() if v]].astype(float)
        assert regional.min() <= row["thickness_mean"] <= regional.max()
        assert 1.0 <= regional.min() and regional.max() <= 2.8


def test_true_thickness_maps_beside_the_labels(tiny_synth):
    truth = read_table(tiny_synth / "truth.tsv").set_index("participant_id")
    for pid, row in truth.iterrows():
        img = _load(tiny_synth, pid, "desc-thickness")
        labels = _load(tiny_synth, pid, "desc-truth_dseg")
        np.testing.assert_allclose(img.affine, labels.affine)
        assert img.get_data_dtype() == np.float32
        tmap = np.asanyarray(img.dataobj)
        cortex = np.asanyarray(labels.dataobj) == 2
        assert (tmap[cortex] > 0).all() and (tmap[~cortex] == 0).all()
        assert row["thickness_mean"] == pytest.approx(float(tmap[cortex].mean()), abs=1e-4)
        touching = np.asanyarray(_load(tiny_synth, pid, "desc-touching_mask").dataobj)
        assert touching.dtype == np.uint8 and set(np.unique(touching)) <= {0, 1}
        assert not (touching.astype(bool) & ~cortex).any()


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
    assert sorted(bias) == ["src001", "src002", "src003", "tgt001", "tgt002", "tgt003"]
    assert all(bias[p] == 0.0 for p in ("src001", "src002", "src003"))
    assert all(0.08 < bias[p] < 0.32 for p in ("tgt001", "tgt002", "tgt003"))


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
    assert read_table(out / "participants.tsv")["participant_id"].tolist() == ["src001", "tgt001"]


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
