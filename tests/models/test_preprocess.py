"""Preprocessing: resampling, masking, sidecars, rigid alignment and the stratified split."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmonstats import cli
from harmonstats.io import read_table, save_nifti
from harmonstats.models.preprocess import preprocess_subject, stratified_split


def _table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"participant_id": [f"p{i:03d}" for i in range(n)],
                         "cohort": np.where(np.arange(n) % 3 == 0, "target", "source"),
                         "pma_scan": rng.uniform(36, 46, n)})


@pytest.mark.parametrize("n", [100, 57])
def test_split_fractions_and_pma_distribution(n: int) -> None:
    out = stratified_split(_table(n))
    for _, g in out.groupby("cohort"):
        counts = g["split"].value_counts()
        assert abs(counts["train"] - 0.8 * len(g)) <= 1
        assert abs(counts.get("val", 0) - 0.1 * len(g)) <= 1
        train, rest = g.loc[g.split == "train", "pma_scan"], g.loc[g.split != "train", "pma_scan"]
        # Blocks of 10 across the sorted ages: the held-out PMA spans the range like training.
        assert stats.ks_2samp(train, rest).pvalue > 0.5
    assert out.equals(stratified_split(_table(n)))  # same seed, same split
    assert not out["split"].equals(stratified_split(_table(n), seed=1)["split"])


def test_split_errors() -> None:
    with pytest.raises(ValueError, match="no column 'pma_scan'"):
        stratified_split(_table(10).drop(columns="pma_scan"))
    t = _table(10)
    t.loc[3, "pma_scan"] = np.nan
    with pytest.raises(ValueError, match=r"missing for participant\(s\) \['p003'\]"):
        stratified_split(t)
    with pytest.raises(ValueError, match="summing to 1"):
        stratified_split(_table(10), fractions=(0.5, 0.1, 0.1))


def test_preprocess_resamples_masks_and_records(tmp_path: Path) -> None:
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    img = np.full((16, 16, 16), 5.0, np.float32)
    lab = np.zeros((16, 16, 16), np.uint8)
    lab[4:12, 4:12, 4:12] = 3
    mask = np.zeros((16, 16, 16), np.uint8)
    mask[2:14, 2:14, 2:14] = 1
    anat = tmp_path / "in" / "sub-x1" / "anat"
    save_nifti(img, affine, anat / "sub-x1_T2w.nii.gz")
    save_nifti(lab, affine, anat / "sub-x1_desc-original_dseg.nii.gz")
    save_nifti(mask, affine, anat / "sub-x1_desc-brain_mask.nii.gz")
    out = tmp_path / "out"
    code = _run_cli(["preprocess", "--data", str(tmp_path / "in"), "--out", str(out),
                     "--spacing", "0.5", "--mask-desc", "brain", "--no-progress"])
    assert code == 0
    o_img = nib.load(out / "sub-x1" / "anat" / "sub-x1_T2w.nii.gz")
    o_lab = nib.load(out / "sub-x1" / "anat" / "sub-x1_desc-original_dseg.nii.gz")
    assert o_img.shape == (32, 32, 32) and o_img.header.get_zooms()[:3] == (0.5, 0.5, 0.5)
    arr = np.asarray(o_img.dataobj)
    assert set(np.unique(np.asarray(o_lab.dataobj))) == {0, 3}  # nearest: no new labels
    assert np.asarray(o_lab.dataobj).sum() == 3 * 8**3 * 8  # 8^3 voxels -> 16^3 at 0.5 mm
    assert arr[0, 0, 0] == 0 and arr[16, 16, 16] == pytest.approx(5.0)
    sidecar = json.loads((out / "sub-x1" / "anat" / "sub-x1_T2w.json").read_text())
    assert [s["step"] for s in sidecar["Preprocessing"]] == [
        "resample", "brain mask", "intensity normalisation"]


def test_rigid_alignment_to_template(tmp_path: Path) -> None:
    i, j, k = np.indices((32, 32, 32))
    blob = np.exp(-(((i - 14) / 5.0) ** 2 + ((j - 16) / 7.0) ** 2 + ((k - 17) / 4.0) ** 2))
    moved = np.roll(blob, (3, -2, 2), axis=(0, 1, 2))
    affine = np.eye(4)
    save_nifti((blob * 100).astype(np.float32), affine, tmp_path / "template.nii.gz")
    save_nifti((moved * 100).astype(np.float32), affine, tmp_path / "in" / "sub-y1_T2w.nii.gz")
    out = preprocess_subject(tmp_path / "in" / "sub-y1_T2w.nii.gz", tmp_path / "out",
                             spacing=1.0, template=tmp_path / "template.nii.gz")
    aligned = np.asarray(nib.load(out).dataobj)
    before = np.corrcoef(moved.ravel(), blob.ravel())[0, 1]
    after = np.corrcoef(aligned.ravel(), blob.ravel())[0, 1]
    assert before < 0.8 < 0.99 < after


def test_cli_split(tmp_path: Path, model_study: Path) -> None:
    code = _run_cli(["preprocess", "--data", str(model_study), "--out", str(tmp_path),
                     "--split", "--no-progress"])
    assert code == 0
    table = read_table(tmp_path / "participants.tsv")
    assert set(table["split"]) <= {"train", "val", "test"} and len(table) == 8


def _run_cli(argv: list[str]) -> int:
    saved = dict(cli.COMMANDS)
    cli.COMMANDS["preprocess"] = ("harmonstats.models.cli_preprocess", "preprocess")
    try:
        return cli.main(argv)
    finally:
        cli.COMMANDS.clear()
        cli.COMMANDS.update(saved)


def test_preprocess_keeps_the_bids_layout_sessions_and_derivatives(tmp_path: Path) -> None:
    from harmonstats.cohort import Cohort
    from harmonstats.synth import synthesize_study

    study = synthesize_study(tmp_path / "in", n_source=1, n_target=1, shape=32, spacing=1.0,
                             rescanned=1.0, progress=False)
    out = tmp_path / "out"
    assert _run_cli(["preprocess", "--data", str(study), "--out", str(out), "--spacing", "2",
                     "--no-progress"]) == 0
    before, after = Cohort.from_bids(study), Cohort.from_bids(out)
    assert after.scans == before.scans and len(after.scans) == 4
    assert after.methods == ["original", "truth"]
    for scan in after.scans:
        assert nib.load(after.image_path(scan)).shape == (16, 16, 16)
        assert nib.load(after.label_path("truth", scan)).shape == (16, 16, 16)
        assert after.region_path("original", scan) is not None
    assert (out / "derivatives" / "harmonstats-synth" / "dataset_description.json").is_file()
    assert read_table(out / "participants.tsv")["participant_id"].str.startswith("sub-").all()
