"""Segmentation QC: component counts, islands, volume curve, entropy; and how they track Dice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonstats.cohort import Cohort
from harmonstats.io import save_nifti
from harmonstats.labels import TISSUES
from harmonstats.layout.derivatives import sidecar_path
from harmonstats.measures.qc import (
    ENTROPY_KEY,
    QC_COLUMNS,
    component_checks,
    qc_dice_correlation,
    qc_summary,
    read_entropy,
    segmentation_qc,
)

N = 10
SIZE = 24


def _brain(scale: float) -> np.ndarray:
    """Nested spheres (CSF, cGM, WM) and a deep GM ball, radius scaled with the subject."""
    z, y, x = np.meshgrid(*(np.arange(SIZE) - (SIZE - 1) / 2,) * 3, indexing="ij")
    r = np.sqrt(x**2 + y**2 + z**2)
    lab = np.zeros((SIZE,) * 3, np.uint8)
    lab[r < 10 * scale] = 1
    lab[r < 8.5 * scale] = 2
    lab[r < 7 * scale] = 3
    lab[r < 2.5 * scale] = 4
    return lab


def test_component_checks_count_pieces_and_islands() -> None:
    lab = np.zeros((20, 20, 20), np.uint8)
    lab[2:12, 2:12, 2:12] = 3           # 1000 voxels of WM
    lab[15:17, 15:17, 15] = 3           # a 4-voxel island
    lab[15, 2, 2] = 4                    # dGM: one voxel, no island (it is its own largest)
    out = component_checks(lab)
    assert out["wm"] == (2, pytest.approx(4 / 1004))
    assert out["dgm"] == (1, 0.0)
    assert out["cgm"][0] == 0 and np.isnan(out["cgm"][1])
    diagonal = np.zeros((4, 4, 4), np.uint8)
    diagonal[0, 0, 0] = diagonal[1, 1, 1] = 3  # touching at a corner: one piece (26-connected)
    assert component_checks(diagonal)["wm"][0] == 1


def test_read_entropy_from_the_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "sub-a_dseg.nii.gz"
    assert sidecar_path(path) == tmp_path / "sub-a_dseg.json"
    assert np.isnan(read_entropy(path))
    sidecar_path(path).write_text(json.dumps({ENTROPY_KEY: 0.25, "Manual": False}))
    assert read_entropy(path) == 0.25
    sidecar_path(path).write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a JSON object"):
        read_entropy(path)


@pytest.fixture
def qc_study(tmp_path: Path) -> tuple[Cohort, pd.DataFrame]:
    """10 subjects; brains grow with PMA. ``model`` matches ``original`` except three maps:
    s03 has six WM specks apart from the WM, s05 a WM far too large for its PMA (its cortex
    labelled WM), s07 a high entropy."""
    affine = np.diag([1.0, 1.0, 1.0, 1.0])
    rng = np.random.default_rng(0)
    rows, labels, volumes = [], {"original": {}, "model": {}}, []
    for i in range(N):
        pid = f"sub-s{i:02d}"
        pma = 38.0 + 0.6 * i
        orig = _brain(0.9 + 0.01 * i + rng.normal(0, 0.003))
        model = orig.copy()
        if pid == "sub-s03":
            for x, y, z in ((0, 0, 0), (0, 0, 3), (0, 3, 0), (3, 0, 0), (0, 3, 3), (3, 3, 0)):
                model[x:x + 2, y:y + 2, z:z + 2] = 3  # six WM specks, apart, in a corner
        if pid == "sub-s05":
            model[model == 2] = 3
        for method, lab in (("original", orig), ("model", model)):
            path = save_nifti(lab, affine, tmp_path / method / f"{pid}_dseg.nii.gz")
            labels[method][pid] = path
            if method == "model":
                sidecar_path(path).write_text(json.dumps(
                    {ENTROPY_KEY: 0.4 if pid == "sub-s07" else 0.05 + 0.002 * i}))
            for value, name in TISSUES.items():
                if value:
                    volumes.append({"participant_id": pid, "cohort": "source", "method": method,
                                    "measure": f"volume_{name}",
                                    "value": float((lab == value).sum()), "unit": "mm3"})
        rows.append({"participant_id": pid, "cohort": "source", "ga_birth": 37.0,
                     "pma_scan": pma, "sex": "F"})
    cohort = Cohort(participants=pd.DataFrame(rows), labels=labels)
    return cohort, pd.DataFrame(volumes)


def test_segmentation_qc_flags_the_broken_maps(qc_study: tuple[Cohort, pd.DataFrame]) -> None:
    cohort, measures = qc_study
    qc = segmentation_qc(cohort, measures, methods=["model"])
    assert list(qc.columns) == list(QC_COLUMNS)
    flagged = qc[qc["flag"] == 1]
    found = {(r.participant_id, r.check, r.tissue) for r in flagged.itertuples()}
    assert ("sub-s03", "islands", "wm") in found
    assert ("sub-s03", "components", "wm") in found
    assert ("sub-s05", "volume", "wm") in found and ("sub-s05", "volume", "cgm") in found
    assert ("sub-s07", "entropy", "brain") in found
    assert {pid for pid, _, _ in found} == {"sub-s03", "sub-s05", "sub-s07"}
    # the volume reference is the original maps' line over PMA: its value at s05's PMA
    orig = measures[(measures["method"] == "original") & (measures["measure"] == "volume_wm")]
    pma = cohort.participants.set_index("participant_id")["pma_scan"]
    slope, intercept = np.polyfit(pma.loc[orig["participant_id"]], orig["value"], 1)
    row = qc[(qc["participant_id"] == "sub-s05") & (qc["check"] == "volume")
             & (qc["tissue"] == "wm")]
    assert float(row["expected"].iloc[0]) == pytest.approx(intercept + slope * pma["sub-s05"])


def test_entropy_is_judged_within_each_cohort(
        qc_study: tuple[Cohort, pd.DataFrame]) -> None:
    """A second cohort whose images leave the network less certain on every map (a domain gap)
    has none of its maps flagged for that, only the one less certain than its own peers."""
    cohort, measures = qc_study
    info = cohort.participants.copy()
    target = [f"sub-s{i:02d}" for i in range(0, N, 2)]
    info.loc[info["participant_id"].isin(target), "cohort"] = "target"
    for pid in target:
        path = cohort.label_path("model", pid)
        entropy = 0.9 if pid == "sub-s04" else 0.3 + 0.002 * int(pid[-2:])
        sidecar_path(path).write_text(json.dumps({ENTROPY_KEY: entropy}))
    measures = measures.assign(cohort=np.where(measures["participant_id"].isin(target), "target",
                                                "source"))
    qc = segmentation_qc(Cohort(participants=info, labels=cohort.labels), measures,
                         methods=["model"], reference_cohort="source")
    ent = qc[qc["check"] == "entropy"].set_index("participant_id")
    assert set(ent.index[ent["flag"] == 1]) == {"sub-s04", "sub-s07"}
    # each cohort's expected value is its own median (sub-s07 is source, 0.4)
    source = [0.05 + 0.002 * i if i != 7 else 0.4 for i in range(1, N, 2)]
    targets = [0.3 + 0.002 * i if i != 4 else 0.9 for i in range(0, N, 2)]
    assert ent.loc["sub-s01", "expected"] == pytest.approx(np.median(source))
    assert ent.loc["sub-s00", "expected"] == pytest.approx(np.median(targets))


def test_segmentation_qc_without_entropy_or_reference(
        qc_study: tuple[Cohort, pd.DataFrame]) -> None:
    cohort, measures = qc_study
    qc = segmentation_qc(cohort, measures, methods=["original"], reference_method=None)
    entropy = qc[qc["check"] == "entropy"]
    assert entropy["value"].isna().all() and entropy["flag"].isna().all()
    assert not (qc["flag"] == 1).any()  # the original maps against themselves
    with pytest.raises(ValueError, match="unknown method"):
        segmentation_qc(cohort, measures, methods=["nope"])


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of average ranks (ties share their mean rank)."""
    def ranks(v: np.ndarray) -> np.ndarray:
        order = v.argsort()
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=float)
        for value in np.unique(v):
            r[v == value] = r[v == value].mean()
        return r
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def test_qc_dice_correlation_matches_rank_correlation(
        qc_study: tuple[Cohort, pd.DataFrame]) -> None:
    cohort, measures = qc_study
    qc = segmentation_qc(cohort, measures, methods=["model"])
    rng = np.random.default_rng(1)
    dice = pd.DataFrame([{"participant_id": f"sub-s{i:02d}", "cohort": "source", "method": "model",
                          "measure": f"dice_{t}", "value": float(rng.uniform(0.7, 0.95)),
                          "unit": "1"} for i in range(N) for t in ("wm", "cgm")])
    corr = qc_dice_correlation(qc, pd.concat([measures, dice]))
    row = corr[(corr["method"] == "model") & (corr["qc"] == "entropy_brain")].iloc[0]
    ent = qc[qc["check"] == "entropy"].set_index("participant_id")["z"]
    mean_dice = dice.groupby("participant_id")["value"].mean()
    assert row["n"] == N
    assert row["spearman_rho"] == pytest.approx(_spearman(ent.loc[mean_dice.index].to_numpy(),
                                                          mean_dice.to_numpy()))
    assert set(corr["method"]) == {"model", "all"}
    assert qc_dice_correlation(qc, measures).empty  # no Dice rows: nothing to correlate


def test_qc_summary_counts_flagged_maps(qc_study: tuple[Cohort, pd.DataFrame]) -> None:
    cohort, measures = qc_study
    qc = segmentation_qc(cohort, measures, methods=["model"])
    row = qc_summary(qc, measures).iloc[0]
    assert (row["method"], row["cohort"], row["maps"], row["flagged_maps"]) == (
        "model", "source", N, 3)
    expected = qc[qc["flag"] == 1].groupby("check").size()
    for check in ("components", "islands", "volume", "entropy"):
        assert row[f"flags_{check}"] == expected.get(check, 0)
    assert np.isnan(row["mean_dice"])  # no Dice rows in these measures


def test_segmentation_qc_keeps_sessions_apart(tmp_path: Path) -> None:
    """Two sessions of each subject: the checks, and the flags, belong to the scan."""
    affine = np.eye(4)
    rows, labels, volumes = [], {"original": {}, "model": {}}, []
    for i, sub in enumerate(("sub-a", "sub-b", "sub-c")):
        for k, ses in enumerate(("ses-1", "ses-2")):
            key = f"{sub}_{ses}"
            orig = _brain(0.9 + 0.02 * i + 0.01 * k)
            model = orig.copy()
            if key == "sub-b_ses-2":
                for x, y, z in ((0, 0, 0), (0, 0, 3), (0, 3, 0), (3, 0, 0)):
                    model[x:x + 2, y:y + 2, z:z + 2] = 3
            for method, lab in (("original", orig), ("model", model)):
                labels[method][key] = save_nifti(lab, affine,
                                                 tmp_path / method / f"{key}_dseg.nii.gz")
                volumes.append({"participant_id": sub, "session_id": ses, "cohort": "source",
                                "method": method, "measure": "volume_wm",
                                "value": float((lab == 3).sum()), "unit": "mm3"})
            rows.append({"participant_id": sub, "session_id": ses, "cohort": "source",
                         "ga_birth": 37.0, "pma_scan": 38.0 + 2 * k + 0.1 * i, "sex": "F"})
    cohort = Cohort(participants=pd.DataFrame(rows), labels=labels)
    qc = segmentation_qc(cohort, pd.DataFrame(volumes), methods=["model"])
    components = qc[(qc["check"] == "components") & (qc["tissue"] == "wm")]
    assert len(components) == 6
    assert set(zip(components["participant_id"], components["session_id"], strict=True)) == {
        (s, t) for s in ("sub-a", "sub-b", "sub-c") for t in ("ses-1", "ses-2")}
    flagged = components[components["flag"] == 1]
    assert list(zip(flagged["participant_id"], flagged["session_id"], strict=True)) == [
        ("sub-b", "ses-2")]
    summary = qc_summary(qc).iloc[0]
    assert (summary["maps"], summary["flagged_maps"]) == (6, 1)
