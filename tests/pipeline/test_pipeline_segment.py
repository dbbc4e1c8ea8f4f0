"""The report's segment stage: checkpoints named in a study YAML are applied, then measured."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from study_files import ANAT, study_config, write_checkpoint, write_study, write_yaml

from harmonstats.config import load_study_config
from harmonstats.pipeline.segment import DEMO_MODEL_NAMES, demo_models, run_segmentation
from harmonstats.pipeline.study import study_run


@pytest.fixture()
def model_study(tmp_path: Path) -> Path:
    write_study(tmp_path / "study", n_per_cohort=3)
    write_checkpoint(tmp_path / "net.pt", "baseline")
    write_checkpoint(tmp_path / "parc.pt", "parcellation")
    config = study_config(
        methods={"original": {"labels": f"{ANAT}_desc-original_dseg.nii.gz"},
                 "net": {"checkpoint": "../net.pt"}},
        measures={},
        segmentation={"out": "../seg", "parcellation": "../parc.pt", "device": "cpu"},
    )
    return write_yaml(tmp_path, config)


def test_checkpoint_methods_are_segmented_parcellated_and_loaded(model_study: Path) -> None:
    run = study_run(model_study)
    assert run.cohort is not None and run.cohort.methods == ["original"]
    assert run.segment is not None and set(run.segment.models) == {"net"}
    cohort = run_segmentation(run.segment)
    assert cohort.methods == ["original", "net"]
    seg = model_study.parent / "seg" / "derivatives" / "net"
    for pid in cohort.subjects:  # sub-<label>
        image = nib.load(model_study.parent / "study" / pid / "anat" / f"{pid}_T2w.nii.gz")
        dseg = nib.load(seg / pid / "anat" / f"{pid}_dseg.nii.gz")
        regions = nib.load(seg / pid / "anat" / f"{pid}_desc-regions_dseg.nii.gz")
        assert dseg.shape == image.shape
        np.testing.assert_allclose(dseg.affine, image.affine)
        labels = np.asarray(dseg.dataobj)
        assert labels.min() >= 0 and labels.max() <= 6
        # Regions only on the predicted cortical GM, and every such voxel has one.
        parc = np.asarray(regions.dataobj)
        assert np.array_equal(parc > 0, labels == 2)
        want = seg / pid / "anat" / f"{pid}_dseg.nii.gz"
        assert cohort.label_path("net", pid).resolve() == want.resolve()


def test_finished_subjects_are_kept_and_a_new_checkpoint_redoes_them(model_study: Path) -> None:
    run = study_run(model_study)
    assert run.segment is not None
    run_segmentation(run.segment)
    maps = sorted((model_study.parent / "seg").rglob("*_dseg.nii.gz"))
    stamps = [m.stat().st_mtime_ns for m in maps]
    run_segmentation(run.segment)
    assert [m.stat().st_mtime_ns for m in maps] == stamps
    write_checkpoint(model_study.parent / "net.pt", "baseline", seed=1)
    run_segmentation(study_run(model_study).segment)  # type: ignore[arg-type]
    assert all(m.stat().st_mtime_ns != s for m, s in zip(maps, stamps, strict=True))


def test_precision_is_read_from_the_yaml_and_refused_when_unknown(model_study: Path) -> None:
    text = model_study.read_text()
    model_study.write_text(text.replace("device: cpu", "device: cpu\n  precision: bf16"))
    run = study_run(model_study)
    assert run.segment is not None and run.segment.precision == "bf16"
    model_study.write_text(text.replace("device: cpu", "device: cpu\n  precision: fp16"))
    with pytest.raises(ValueError, match="precision"):
        load_study_config(model_study)


@pytest.mark.parametrize(("change", "message"), [
    ({"methods": {"net": {"labels": f"{ANAT}_dseg.nii.gz", "checkpoint": "x.pt"}}},
     "exactly one of 'labels'"),
    ({"methods": {"net": {"checkpoint": "x.pt"}}, "labels": {}}, "needs labels.image"),
])
def test_bad_model_methods_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    config = study_config(**change)
    config["measures"] = {}
    with pytest.raises(ValueError, match=message):
        load_study_config(write_yaml(tmp_path, config))


def test_missing_checkpoint_names_the_method(model_study: Path) -> None:
    (model_study.parent / "net.pt").unlink()
    with pytest.raises(FileNotFoundError, match="method 'net': checkpoint not found"):
        study_run(model_study)


def test_demo_models_lists_what_is_there(tmp_path: Path) -> None:
    assert demo_models(tmp_path) == ({}, None)
    for name in DEMO_MODEL_NAMES[:2]:
        write_checkpoint(tmp_path / f"{name}.pt", "baseline")
    shutil.copy(tmp_path / "baseline.pt", tmp_path / "parcellation.pt")
    found, parcellation = demo_models(tmp_path)
    assert list(found) == list(DEMO_MODEL_NAMES[:2])
    assert parcellation == tmp_path / "parcellation.pt"


def test_methods_text_describes_the_models_applied(model_study: Path) -> None:
    from harmonstats.pipeline.segment import model_summaries
    from harmonstats.report.methods import methods_text

    run = study_run(model_study)
    assert run.segment is not None
    summaries = model_summaries(run.segment)
    assert summaries["net"].startswith("baseline method, U-Net 4-64 channels, 100 epochs, GDL,")
    assert summaries["parcellation"].startswith("parcellation method")
    paragraphs, refs = methods_text(cohorts={"source": 3, "target": 3}, reference="source",
                                    methods=["original", "net"], schemes={}, thickness={},
                                    ground_truth=None, battery={}, ran=[], software={},
                                    models=summaries)
    text = " ".join(paragraphs)
    assert "Label maps of net and parcellation were produced in this run" in text
    assert any("Grigorescu" in r for r in refs)


def test_a_study_of_checkpoints_only_loads_and_is_described(model_study: Path) -> None:
    config = load_study_config(model_study).model_dump(mode="json")
    config["methods"] = {"net": {"checkpoint": "../net.pt"}}
    config["measures"]["ground_truth"] = None
    run = study_run(write_yaml(model_study.parent, config))
    assert run.cohort is None and run.segment is not None
    assert run.describe() == "6 subjects, methods ['net']"
    assert run_segmentation(run.segment).methods == ["net"]


def test_the_yaml_scheduler_runs_the_stage_on_a_cluster(model_study: Path) -> None:
    from distributed import LocalCluster
    from kill import files

    run_segmentation(study_run(model_study).segment)  # type: ignore[arg-type]
    local = files(model_study.parent / "seg")
    shutil.rmtree(model_study.parent / "seg")
    text = model_study.read_text()
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        model_study.write_text(text.replace("device: cpu", f"device: cpu\n  scheduler: {address}"))
        run = study_run(model_study)
        assert run.segment is not None and run.segment.scheduler == address
        run_segmentation(run.segment)
    assert files(model_study.parent / "seg") == local
