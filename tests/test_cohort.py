from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonstats.cohort import Cohort
from harmonstats.io import load_nifti, read_table, save_nifti, write_table


def test_from_bids_discovers_methods_and_regions(tiny_study):
    cohort = Cohort.from_bids(tiny_study)
    assert cohort.methods == ["original", "truth"]
    assert cohort.subjects == ["sub-s00", "sub-s01", "sub-s02", "sub-s03"]
    assert [s.key for s in cohort.scans] == cohort.subjects  # no sessions
    assert cohort.region_path("truth", "s00").name == "sub-s00_desc-regions_dseg.nii.gz"
    assert cohort.image_path("s01").name == "sub-s01_T2w.nii.gz"
    assert cohort.spacing("s00") == (0.5, 0.5, 0.5)


def test_derivatives_method_with_own_regions(tiny_study):
    lab = np.asanyarray(
        load_nifti(tiny_study / "sub-s00/anat/sub-s00_desc-truth_dseg.nii.gz").dataobj
    )
    for pid in ["s00", "s01", "s02", "s03"]:
        anat = tiny_study / "derivatives/baseline_aug" / f"sub-{pid}" / "anat"
        save_nifti(lab, np.diag([0.5, 0.5, 0.5, 1]), anat / f"sub-{pid}_dseg.nii.gz")
    save_nifti(
        (lab == 2).astype(np.uint8),
        np.diag([0.5, 0.5, 0.5, 1]),
        tiny_study / "derivatives/baseline_aug/sub-s00/anat/sub-s00_desc-regions_dseg.nii.gz",
    )
    cohort = Cohort.from_bids(tiny_study)
    assert cohort.methods == ["original", "truth", "baseline_aug"]
    own = cohort.region_path("baseline_aug", "s00").relative_to(tiny_study)
    assert own.parts[:2] == ("derivatives", "baseline_aug")
    # subjects without their own parcellation fall back to the study's regions
    shared = cohort.region_path("baseline_aug", "s01").relative_to(tiny_study)
    assert shared.parts[0] == "sub-s01"


def test_unknown_method(tiny_study):
    with pytest.raises(ValueError, match=r"method\(s\) \['latent'\] not found"):
        Cohort.from_bids(tiny_study, methods=["latent"])


def _participants(tiny_study) -> pd.DataFrame:
    return read_table(tiny_study / "participants.tsv")


def test_bad_participants_file_is_named(tiny_study):
    write_table(_participants(tiny_study).drop(columns=["sex"]), tiny_study / "participants.tsv")
    with pytest.raises(ValueError, match=r"participants\.tsv: missing required column"):
        Cohort.from_bids(tiny_study)


def test_missing_file_names_subject(tiny_study):
    (tiny_study / "sub-s02/anat/sub-s02_desc-original_dseg.nii.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"sub-s02 label map \(original\).*not found.*"
                       r"no label map for 1 of 4 subjects"):
        Cohort.from_bids(tiny_study)


def test_corrupt_file_names_subject(tiny_study):
    path = tiny_study / "sub-s01/anat/sub-s01_desc-truth_dseg.nii.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=r"sub-s01 label map \(truth\): cannot read NIfTI"):
        Cohort.from_bids(tiny_study)


def test_shape_mismatch(tiny_study):
    save_nifti(
        np.zeros((20, 24, 24), np.uint8),
        np.diag([0.5, 0.5, 0.5, 1]),
        tiny_study / "sub-s03/anat/sub-s03_desc-truth_dseg.nii.gz",
    )
    with pytest.raises(ValueError, match=r"sub-s03 label map \(truth\): shape \(20, 24, 24\)"):
        Cohort.from_bids(tiny_study)


def test_affine_mismatch(tiny_study):
    lab = np.zeros((24, 24, 24), np.uint8)
    save_nifti(
        lab, np.diag([0.6, 0.5, 0.5, 1]), tiny_study / "sub-s03/anat/sub-s03_desc-truth_dseg.nii.gz"
    )
    with pytest.raises(ValueError, match=r"sub-s03 label map \(truth\): affine"):
        Cohort.from_bids(tiny_study)


def test_non_3d(tiny_study):
    save_nifti(
        np.zeros((24, 24, 24, 2), np.uint8),
        np.diag([0.5, 0.5, 0.5, 1]),
        tiny_study / "sub-s00/anat/sub-s00_desc-original_dseg.nii.gz",
    )
    with pytest.raises(ValueError, match=r"sub-s00 label map \(original\): expected a 3D volume"):
        Cohort.from_bids(tiny_study)


def test_labels_outside_scheme(tiny_study):
    lab = np.zeros((24, 24, 24), np.uint8)
    lab[5, 5, 5] = 9
    save_nifti(
        lab,
        np.diag([0.5, 0.5, 0.5, 1]),
        tiny_study / "sub-s01/anat/sub-s01_desc-original_dseg.nii.gz",
    )
    with pytest.raises(ValueError, match=r"sub-s01 label map \(original\).*labels \[9\] outside"):
        Cohort.from_bids(tiny_study)


def test_from_patterns_with_drawem_scheme(tiny_study):
    table = _participants(tiny_study)
    cohort = Cohort.from_patterns(
        table,
        {"original": "sub-{participant_id}/anat/sub-{participant_id}_desc-original_dseg.nii.gz"},
        root=tiny_study,
        scheme="drawem9",
    )
    assert cohort.label_path("original", "s01").is_file()
    with pytest.raises(ValueError, match=r"uses 'subject', which is not a participants column"):
        Cohort.from_patterns(table, {"original": "{subject}.nii.gz"}, root=tiny_study)
    with pytest.raises(ValueError, match="method name 'Bad-Name'"):
        Cohort.from_patterns(
            table,
            {
                "Bad-Name": "sub-{participant_id}/anat/sub-{participant_id}"
                "_desc-original_dseg.nii.gz"
            },
            root=tiny_study,
        )


def test_parcellation_of_a_raw_method_is_found_in_derivatives(tiny_study):
    lab = np.asanyarray(
        load_nifti(tiny_study / "sub-s00/anat/sub-s00_desc-truth_dseg.nii.gz").dataobj
    )
    own = tiny_study / "derivatives/original/sub-s01/anat/sub-s01_desc-regions_dseg.nii.gz"
    save_nifti((lab == 2).astype(np.uint8), np.diag([0.5, 0.5, 0.5, 1]), own)
    cohort = Cohort.from_bids(tiny_study)
    assert cohort.methods == ["original", "truth"]  # no 'original' method from derivatives/
    assert cohort.label_path("original", "s01").parent == tiny_study / "sub-s01" / "anat"
    assert cohort.region_path("original", "s01") == own
    assert cohort.region_path("original", "s00").parent == tiny_study / "sub-s00" / "anat"
    assert cohort.region_path("truth", "s01").parent == tiny_study / "sub-s01" / "anat"
