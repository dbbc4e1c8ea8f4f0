"""Study YAML validation: every bad key or value is one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from study_files import study_config, write_yaml

from harmonstats.config import StudyConfig, load_study_config

ROOT = Path(__file__).resolve().parents[1]


def _with(path: str, value: Any) -> dict[str, Any]:
    config = study_config()
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value
    return config


def _without(path: str) -> dict[str, Any]:
    config = study_config()
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    del node[last]
    return config


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_with("colour", "red"), "study.yaml: unknown key 'colour'"),
        (_with("methods.original.foo", 1), "study.yaml: unknown key 'methods.original.foo'"),
        (_with("participants.sep", ","), "study.yaml: unknown key 'participants.sep'"),
        (_with("analysis.margn", 0.1), "study.yaml: unknown key 'analysis.margn'"),
        (_without("participants"), "study.yaml: missing key 'participants'"),
        (_without("cohorts.reference"), "study.yaml: missing key 'cohorts.reference'"),
        (_with("methods.original.labels", "labels/x.nii.gz"),
         "study.yaml: key 'methods.original.labels': path pattern 'labels/x.nii.gz' lacks"),
        (_with("methods.Bad-Name", {"labels": "{participant_id}.nii.gz"}),
         "study.yaml: key 'methods': method name 'Bad-Name' is not allowed"),
        (_with("measures.thickness", "freesurfer"), "study.yaml: key 'measures.thickness'"),
        (_with("measures.ground_truth", "manual"),
         "study.yaml: measures.ground_truth 'manual' is not one of the methods"),
        (_with("analysis.reference", "target"),
         "study.yaml: analysis.reference 'target' differs from cohorts.reference 'source'"),
        (_with("analysis.margin", -1), "study.yaml: key 'analysis.margin'"),
        (_with("participants.columns", {"GA": "ga_birth", "GA2": "ga_birth"}),
         "several columns map onto ['ga_birth']"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, config: dict, message: str
                                               ) -> None:
    path = write_yaml(tmp_path, config)
    with pytest.raises(ValueError) as info:
        load_study_config(path)
    text = str(info.value)
    assert text.startswith(message) if message.startswith("study.yaml") else message in text
    assert "\n" not in text


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"study file not found: .*nope\.yaml"):
        load_study_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("methods: [\n  - a\n b: c\n")
    with pytest.raises(ValueError, match=r"bad\.yaml: not valid YAML \(line \d+, column \d+\): "):
        load_study_config(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- a\n- b\n")
    with pytest.raises(ValueError, match=r"list\.yaml: expected a mapping"):
        load_study_config(top)


def test_battery_defaults_follow_the_study() -> None:
    config = load_study_config({**study_config(), "seed": 7,
                                "cohorts": {"reference": "source"}})
    assert config.analysis.reference == "source"
    assert config.analysis.seed == 7
    assert config.analysis.min_group == 5
    assert config.resolve("participants.tsv", "/data") == Path("/data/study/participants.tsv")
    assert config.resolve("/abs/p.tsv", "/data") == Path("/abs/p.tsv")


@pytest.mark.parametrize("name", ["demo.yaml", "drawem_study.yaml"])
def test_example_yamls_validate(name: str) -> None:
    config = load_study_config(ROOT / "analyses" / name)
    assert isinstance(config, StudyConfig)
    assert config.methods
