"""Inference: whole volumes of any size and orientation, outputs on the input's grid."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from harmonstats import cli
from harmonstats.io import save_nifti, write_table
from harmonstats.measures.qc import ENTROPY_KEY
from harmonstats.models.apply import LoadedModel, load_segmenter, segment_cohort, segment_image
from harmonstats.models.checkpoint import save_checkpoint
from harmonstats.models.config import load_config
from harmonstats.models.data import normalise_intensity
from harmonstats.models.inference import (
    hard_labels,
    normalised_entropy,
    predict_labels,
    predict_probabilities,
    resolve_precision,
)
from harmonstats.models.networks import build_segmenter
from harmonstats.models.train import checkpoint_metadata
from harmonstats.models.unet import UNet3D

SMALL = {"network": {"channels": [4, 8, 16, 32, 64]}, "data": {"patch_size": 32}}
# Flipped first axis, permuted second/third axes and an offset: not the canonical orientation.
AFFINE = np.array([[-0.5, 0, 0, 20.0], [0, 0, 0.5, -8.0], [0, 0.5, 0, 3.0], [0, 0, 0, 1]])


def _checkpoint(tmp_path: Path, method: str) -> Path:
    cfg = load_config({"name": method, "method": method, **SMALL})
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / f"{method}.pt", models={"segmenter": build_segmenter(cfg)},
                           metadata=checkpoint_metadata(cfg))


def _labels(shape: tuple[int, int, int]) -> np.ndarray:
    i, j, k = np.indices(shape)
    lab = np.zeros(shape, np.uint8)
    lab[(i > 4) & (j > 5) & (k > 3)] = 1
    lab[(i > 10) & (j > 14)] = 2
    lab[(i < 20) & (k > 18) & (j > 5)] = 3
    return lab


class IntensityClassifier(nn.Module):
    """Classifies each voxel by its nearest intensity level: a network with a known answer."""

    def __init__(self, levels: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -((x - self.levels.view(1, -1, 1, 1, 1)) ** 2) * 100


@pytest.mark.parametrize(("voxel", "min_agreement"), [(0.5, 1.0), (0.6, 0.97)])
def test_segment_image_returns_to_the_input_grid(tmp_path: Path, voxel: float,
                                                 min_agreement: float) -> None:
    shape = (30, 34, 27)
    lab = _labels(shape)
    image = lab.astype(np.float32) + 1.0  # levels 1..4 (> 0: all brain)
    affine = AFFINE.copy()
    affine[:3, :3] *= voxel / 0.5
    path = save_nifti(image, affine, tmp_path / "sub-a1_T2w.nii.gz")
    levels = np.unique(normalise_intensity(image))
    cfg = load_config({"name": "x", "method": "baseline", **SMALL})
    model = LoadedModel(IntensityClassifier(levels), checkpoint_metadata(cfg), path)
    pred = segment_image(model, path)  # at 0.6 mm: resampled to 0.5 mm and back
    assert pred.shape == shape and pred.dtype == np.uint8
    assert np.mean(pred == lab) >= min_agreement


def test_segment_cohort_layout_affine_and_skip(tmp_path: Path) -> None:
    data = tmp_path / "study"
    rng = np.random.default_rng(0)
    for pid in ("a1", "b2"):
        lab = _labels((30, 34, 27))
        img = (lab + 1 + rng.normal(0, 0.1, lab.shape)).astype(np.float32)
        save_nifti(img, AFFINE, data / f"sub-{pid}" / "anat" / f"sub-{pid}_T2w.nii.gz")
    write_table(pd.DataFrame({"participant_id": ["a1", "b2"]}), data / "participants.tsv")
    seg, parc = _checkpoint(tmp_path, "baseline"), _checkpoint(tmp_path, "parcellation")
    out = tmp_path / "out"
    written = segment_cohort(seg, data, out, method="baseline_aug", parcellation=parc,
                             progress=False)
    anat = out / "derivatives" / "baseline_aug" / "sub-a1" / "anat"
    assert written[0] == anat / "sub-a1_dseg.nii.gz"
    for name in ("sub-a1_dseg.nii.gz", "sub-a1_desc-regions_dseg.nii.gz"):
        img = nib.load(anat / name)
        np.testing.assert_allclose(img.affine, AFFINE)
        assert img.shape == (30, 34, 27) and img.get_data_dtype() == np.uint8
    tissue = np.asarray(nib.load(anat / "sub-a1_dseg.nii.gz").dataobj)
    regions = np.asarray(nib.load(anat / "sub-a1_desc-regions_dseg.nii.gz").dataobj)
    assert set(np.unique(tissue)) <= set(range(7))
    assert np.array_equal(regions > 0, tissue == 2)  # every predicted cGM voxel gets a region
    before = written[0].stat().st_mtime_ns
    segment_cohort(seg, data, out, method="baseline_aug", progress=False)
    assert written[0].stat().st_mtime_ns == before  # done subjects are skipped
    segment_cohort(seg, data, out, method="baseline_aug", precision="bf16", progress=False)
    assert written[0].stat().st_mtime_ns != before  # another precision: redone
    record = json.loads((out / "derivatives" / "baseline_aug" / ".harmonstats-models.json")
                        .read_text())
    assert record["precision"] == "bf16" and record["overlap"] == 0.5
    assert not (anat / "sub-a1_desc-regions_dseg.nii.gz").exists()  # stale regions removed


def test_segment_cohort_writes_a_bids_derivatives_dataset(tmp_path: Path) -> None:
    data = tmp_path / "study"
    for pid, ses in (("a1", "01"), ("a1", "02"), ("b2", "01")):
        save_nifti((_labels((30, 34, 27)) + 1).astype(np.float32), AFFINE,
                   data / f"sub-{pid}" / f"ses-{ses}" / "anat" / f"sub-{pid}_ses-{ses}_T2w.nii.gz")
    write_table(pd.DataFrame({"participant_id": ["sub-a1", "sub-b2"]}), data / "participants.tsv")
    for pid, sessions in (("a1", ["ses-01", "ses-02"]), ("b2", ["ses-01"])):
        write_table(pd.DataFrame({"session_id": sessions}),
                    data / f"sub-{pid}" / f"sub-{pid}_sessions.tsv")
    seg, parc = _checkpoint(tmp_path, "baseline"), _checkpoint(tmp_path, "parcellation")
    written = segment_cohort(seg, data, tmp_path, method="net", parcellation=parc,
                             progress=False)
    folder = tmp_path / "derivatives" / "net"
    assert [p.relative_to(folder).as_posix() for p in written] == [
        "sub-a1/ses-01/anat/sub-a1_ses-01_dseg.nii.gz",
        "sub-a1/ses-02/anat/sub-a1_ses-02_dseg.nii.gz",
        "sub-b2/ses-01/anat/sub-b2_ses-01_dseg.nii.gz"]
    description = json.loads((folder / "dataset_description.json").read_text())
    assert description["DatasetType"] == "derivative"
    generated = description["GeneratedBy"][0]
    assert generated["Name"] == "harmonstats" and generated["Version"]
    assert hashlib.sha256(seg.read_bytes()).hexdigest() in generated["Description"]
    assert hashlib.sha256(parc.read_bytes()).hexdigest() in generated["Description"]
    assert description["DatasetLinks"] == {"raw": "../../study"}
    lut = pd.read_csv(folder / "dseg.tsv", sep="\t")
    assert lut["index"].tolist() == list(range(7)) and lut["name"].iloc[2] == "cgm"
    assert len(pd.read_csv(folder / "desc-regions_dseg.tsv", sep="\t")) == 12
    sidecar = json.loads((folder / "sub-a1/ses-02/anat/sub-a1_ses-02_dseg.json").read_text())
    assert sidecar["Sources"] == ["bids:raw:sub-a1/ses-02/anat/sub-a1_ses-02_T2w.nii.gz"]
    regions = json.loads(
        (folder / "sub-a1/ses-02/anat/sub-a1_ses-02_desc-regions_dseg.json").read_text())
    assert regions["Sources"] == ["bids::sub-a1/ses-02/anat/sub-a1_ses-02_dseg.nii.gz"]


def test_precision_choices_and_bf16_agreement() -> None:
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("auto", "cuda") == "bf16"
    assert resolve_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="precision 'fp16'"):
        resolve_precision("fp16", "cpu")
    lab = torch.from_numpy(_labels((30, 34, 27)).astype(np.int64))
    levels = np.array([-1.0, -0.3, 0.3, 1.0])
    image = torch.from_numpy(levels[lab.numpy()].astype(np.float32))[None]
    model = IntensityClassifier(levels)
    for precision in ("fp32", "bf16"):  # well-separated classes: identical labels
        pred = predict_labels(model, image, roi=16, precision=precision)
        assert torch.equal(pred, lab)
    cfg = load_config({"name": "x", "method": "baseline", **SMALL})
    torch.manual_seed(0)
    net = build_segmenter(cfg)
    a = predict_probabilities(net, image, roi=32, precision="fp32")
    b = predict_probabilities(net, image, roi=32, precision="bf16")
    assert a.dtype == b.dtype == torch.float32
    assert float((a - b).abs().max()) < 0.05  # bfloat16 keeps ~3 significant digits


def test_segment_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                     model_study: Path) -> None:
    monkeypatch.setitem(cli.COMMANDS, "segment", ("harmonstats.models.cli_segment", "segment"))
    seg = _checkpoint(tmp_path, "baseline")
    code = cli.main(["segment", str(seg), "--data", str(model_study), "--out",
                     str(tmp_path / "o"), "--device", "cpu", "--no-progress"])
    assert code == 0
    maps = sorted((tmp_path / "o" / "derivatives" / "baseline").glob("sub-*/anat/*"))
    assert len([m for m in maps if m.name.endswith("_dseg.nii.gz")]) == 8
    sidecars = [m for m in maps if m.name.endswith("_dseg.json")]  # a sidecar each
    assert len(sidecars) == 8
    # with the network's entropy, for QC
    assert all(0.0 <= json.loads(p.read_text())[ENTROPY_KEY] <= 1.0 for p in sidecars)
    parc = _checkpoint(tmp_path, "parcellation")
    args = ["segment", str(parc), "--data", str(model_study), "--out", str(tmp_path / "o"),
            "--no-progress"]
    assert cli.main(args) == 2  # a parcellation model needs the method to parcellate
    assert cli.main([*args, "--method", "nothing"]) == 2  # no such tissue maps
    for method in ("original", "baseline"):  # a reference and a predicted tissue map
        assert cli.main([*args, "--method", method]) == 0
        for pid in ("src001", "tgt001"):
            anat = tmp_path / "o" / "derivatives" / method / f"sub-{pid}" / "anat"
            regions = np.asarray(nib.load(anat / f"sub-{pid}_desc-regions_dseg.nii.gz").dataobj)
            study_anat = model_study / f"sub-{pid}" / "anat"
            tissue_file = (anat / f"sub-{pid}_dseg.nii.gz" if method == "baseline" else
                           study_anat / f"sub-{pid}_desc-original_dseg.nii.gz")
            tissue = np.asarray(nib.load(tissue_file).dataobj)
            assert np.array_equal(regions > 0, tissue == 2)


def test_load_segmenter_from_run_folder(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, "baseline")
    path.rename(tmp_path / "best.pt")
    assert load_segmenter(tmp_path).name == "baseline"
    with pytest.raises(FileNotFoundError):
        load_segmenter(tmp_path / "nothing")


def test_window_larger_than_the_image_is_one_pass() -> None:
    torch.manual_seed(0)
    net = UNet3D(1, 3, (4, 8, 16)).eval()  # divisor 4
    image = torch.randn(1, 20, 24, 28)
    whole = predict_probabilities(net, image, roi=64, overlap=0.0)  # capped to 20 x 24 x 28
    with torch.no_grad():
        direct = torch.softmax(net(image[None]), dim=1)[0]
    torch.testing.assert_close(whole, direct, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="multiple of 4"):
        predict_probabilities(net, image, roi=30)


@pytest.mark.parametrize(("probs", "expected"), [
    (torch.full((4, 2, 2, 2), 0.25), 1.0),                       # every class equally likely
    (torch.nn.functional.one_hot(torch.zeros(2, 2, 2, dtype=torch.long), 4).movedim(-1, 0)
     .float(), 0.0),                                              # certain
    (torch.tensor([0.5, 0.5, 0.0, 0.0]).view(4, 1, 1, 1), 0.5),  # ln 2 / ln 4
])
def test_normalised_entropy(probs: torch.Tensor, expected: float) -> None:
    assert normalised_entropy(probs) == pytest.approx(expected, abs=1e-6)


def test_normalised_entropy_within_a_mask() -> None:
    probs = torch.stack([torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])]).view(2, 2, 1, 1)
    assert normalised_entropy(probs, torch.tensor([False, True]).view(2, 1, 1)) == 1.0
    assert np.isnan(normalised_entropy(probs, torch.zeros(2, 1, 1, dtype=torch.bool)))


@pytest.mark.parametrize(("scores", "expected"), [
    (torch.tensor([[0.1, 0.7], [0.6, 0.2], [0.3, 0.1]]).view(3, 2, 1, 1), [1, 0]),
    (torch.tensor([[0.4, 0.5], [0.4, 0.5], [0.2, 0.0]]).view(3, 2, 1, 1), [0, 0]),  # ties: first
    (torch.tensor([[0.0], [0.5], [0.5]]).view(3, 1, 1, 1), [1]),
])
def test_hard_labels_is_the_first_maximum(scores: torch.Tensor, expected: list[int]) -> None:
    labels = hard_labels(scores)
    assert labels.dtype == torch.int64 and labels.flatten().tolist() == expected
    assert torch.equal(labels, scores.argmax(0))


def test_hard_labels_equal_argmax_on_rounded_probabilities() -> None:
    """bfloat16-rounded probabilities have many exact ties: the same labels as argmax."""
    probs = torch.softmax(torch.randn(7, 12, 13, 14, generator=torch.Generator().manual_seed(0))
                          * 3, 0).to(torch.bfloat16).float()
    assert torch.equal(hard_labels(probs), probs.argmax(0))
