"""From a user's study YAML to a validated study: column mapping, cohort selection, patterns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from study_files import study_config, write_yaml

from harmonstats.io import read_table
from harmonstats.pipeline import study_run

USER_COLUMNS = {"subject": "participant_id", "site": "cohort", "GA": "ga_birth",
                "PMA": "pma_scan", "gender": "sex", "BW": "birth_weight",
                "bayley": "language_composite"}


def _user_table(study: Path, extra_cohort: bool) -> Path:
    table = read_table(study / "study" / "participants.tsv")
    table = table.rename(columns={v: k for k, v in USER_COLUMNS.items()})
    if extra_cohort:
        table.loc[0, "site"] = "other"
    path = study / "user_participants.csv"
    table.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("include", "n_expected"), [(None, 24), (["source", "target"], 23)])
def test_column_mapping_and_include(study_folder: Path, tmp_path: Path,
                                    include: list[str] | None, n_expected: int) -> None:
    table = _user_table(study_folder, extra_cohort=include is not None)
    config = study_config(
        root=str(study_folder / "study"),
        participants={"table": str(table), "columns": USER_COLUMNS},
        cohorts={"reference": "source", **({"include": include} if include else {})},
    )
    run = study_run(write_yaml(tmp_path, config))
    people = run.cohort.participants
    assert len(people) == n_expected
    assert {"ga_birth", "pma_scan", "language_composite"} <= set(people.columns)
    assert set(people["cohort"]) == {"source", "target"}
    pid = people["participant_id"].iloc[-1]
    assert run.cohort.label_path("original", pid) == (
        study_folder / "study" / pid / "anat" / f"{pid}_desc-original_dseg.nii.gz")
    assert run.cohort.region_path("truth", pid).name == f"{pid}_desc-regions_dseg.nii.gz"
    assert run.battery.reference == "source" and run.ground_truth == "truth"
    assert run.inputs == [table]


def test_single_cohort_is_refused(study_folder: Path, tmp_path: Path) -> None:
    config = study_config(root=str(study_folder / "study"),
                          cohorts={"reference": "source", "include": ["source"]})
    with pytest.raises(ValueError, match="need at least two cohorts to compare"):
        study_run(write_yaml(tmp_path, config))


def test_unknown_included_cohort(study_folder: Path, tmp_path: Path) -> None:
    config = study_config(root=str(study_folder / "study"),
                          cohorts={"reference": "source", "include": ["source", "eprime"]})
    with pytest.raises(ValueError, match=r"cohorts.include names cohort\(s\) \['eprime'\]"):
        study_run(write_yaml(tmp_path, config))


def test_some_label_maps_missing_names_subject(study_folder: Path, tmp_path: Path) -> None:
    study = tmp_path / "copy"
    study.mkdir()
    table = read_table(study_folder / "study" / "participants.tsv")
    for pid in table["participant_id"]:
        src = study_folder / "study" / f"sub-{pid}"
        (study / f"sub-{pid}").symlink_to(src, target_is_directory=True)
    extra = pd.concat([table, table.iloc[[0]].assign(participant_id="ghost1")])
    extra.to_csv(study / "participants.tsv", sep="\t", index=False)
    config = study_config(root=str(study))
    with pytest.raises(FileNotFoundError, match=r"sub-ghost1 .*file not found"):
        study_run(write_yaml(tmp_path, config))
