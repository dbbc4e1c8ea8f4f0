"""Study configuration: one YAML file describes a study, validated into a :class:`StudyConfig`.

A study YAML names the participants table and how its columns map onto harmonstats' names, the
cohorts and which one is the reference, where each method's label maps are (path patterns), the
label schemes, how to measure, and the statistics battery's options (section ``analysis``, whose
schema is the analysis package's own configuration).

Path patterns hold ``{participant_id}`` and, in a study with sessions, ``{session_id}``: they
expand to the subject and session *labels*, without ``sub-`` and ``ses-``, whether the tables
give the IDs with the prefixes (as BIDS requires) or without, so a pattern spells BIDS paths as
``sub-{participant_id}/ses-{session_id}/anat/sub-{participant_id}_ses-{session_id}_...``. Any
other ``{column}`` expands to that participants column. Sessions come from each subject's
``sub-<label>_sessions.tsv`` (``participants.sessions``).

Relative paths are resolved against ``root``, itself relative to the YAML file's folder.
Unknown keys are errors, reported as ``study.yaml: unknown key 'methods.original.foo'``.

Examples
--------
A minimal study (Draw-EM labels that came with the data, plus one model's outputs)::

    root: /data/myStudy
    participants:
      table: participants.tsv
      columns: {subject: participant_id, site: cohort, GA: ga_birth, PMA: pma_scan, Sex: sex}
    cohorts: {reference: dhcp}
    labels: {scheme: drawem9, region_scheme: drawem87,
             regions: "sub-{participant_id}/anat/sub-{participant_id}_drawem87.nii.gz"}
    methods:
      original: {labels: "sub-{participant_id}/anat/sub-{participant_id}_drawem9.nii.gz"}

A dHCP release, as released (sessions, PMA at scan in ``scan_age`` of the sessions tables)::

    participants:
      table: participants.tsv
      columns: {birth_age: ga_birth, scan_age: pma_scan, site: cohort}
    labels:
      scheme: drawem9
      region_scheme: drawem87
      regions: "sub-{participant_id}/ses-{session_id}/anat/sub-{participant_id}_ses-{session_id}_desc-drawem87_dseg.nii.gz"
      image: "sub-{participant_id}/ses-{session_id}/anat/sub-{participant_id}_ses-{session_id}_desc-restore_T2w.nii.gz"
    methods:
      original: {labels: "sub-{participant_id}/ses-{session_id}/anat/sub-{participant_id}_ses-{session_id}_desc-drawem9_dseg.nii.gz"}
"""  # noqa: E501

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harmonstats.analysis.config import BatteryConfig
from harmonstats.errors import InputError
from harmonstats.io import read_yaml
from harmonstats.layout.names import method_name

__all__ = [
    "CANONICAL_COLUMNS",
    "CohortsConfig",
    "LabelsConfig",
    "MeasuresConfig",
    "MethodSource",
    "ParticipantsConfig",
    "SegmentationConfig",
    "StudyConfig",
    "format_validation_error",
    "load_study_config",
]

#: Participants-table columns a user's own columns may be mapped onto.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "participant_id",
    "session_id",
    "cohort",
    "ga_birth",
    "pma_scan",
    "sex",
    "birth_weight",
    "split",
)

_COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_pattern(pattern: str | None) -> str | None:
    if pattern is not None and "{participant_id}" not in pattern:
        raise InputError(f"path pattern {pattern!r} lacks the placeholder '{{participant_id}}'")
    return pattern


class ParticipantsConfig(_Strict):
    """Where the participants table is and how its columns map onto harmonstats' names.

    Attributes
    ----------
    table : str
        Path of the table (TSV or CSV), relative to the study root unless absolute.
    columns : dict of str to str
        User column -> harmonstats column (``participant_id``, ``session_id``, ``cohort``,
        ``ga_birth`` (weeks), ``pma_scan`` (weeks), ``sex``, ``birth_weight`` (g), ``split``,
        or an outcome name); applied to the participants and the sessions tables.
    sessions : str, optional
        Pattern of each subject's sessions table (one row per session: ``session_id`` and the
        session's columns, e.g. PMA at scan); default the BIDS place,
        ``sub-{participant_id}/sub-{participant_id}_sessions.tsv``, read where present.
    """

    table: str
    columns: dict[str, str] = Field(default_factory=dict)
    sessions: str | None = None

    _sessions = field_validator("sessions")(_check_pattern)

    @field_validator("columns")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for user, ours in value.items():
            if not _COLUMN_RE.fullmatch(ours):
                raise InputError(f"column {user!r} maps to {ours!r}, not a valid column name")
        targets = list(value.values())
        dup = sorted({t for t in targets if targets.count(t) > 1})
        if dup:
            raise InputError(f"several columns map onto {dup}")
        return value


class CohortsConfig(_Strict):
    """The cohorts to analyse.

    Attributes
    ----------
    reference : str
        The reference cohort, the one the others are compared with (dHCP in the paper).
    include : list of str, optional
        Cohorts to keep (default: all in the table); must contain ``reference``.
    """

    reference: str
    include: list[str] | None = None


class LabelsConfig(_Strict):
    """Label schemes and the study's own region maps.

    Attributes
    ----------
    scheme : str
        Scheme of the tissue maps (``tissues7``, ``drawem9``; see
        :func:`harmonstats.labels.get_scheme`).
    region_scheme : str
        Scheme of the region maps (``regions11``, ``drawem87``).
    regions : str, optional
        Pattern of the study's region maps, used for methods that have none of their own.
    image : str, optional
        Pattern of the T2w images (recorded in provenance; not needed for measuring).
    """

    scheme: str = "tissues7"
    region_scheme: str = "regions11"
    regions: str | None = None
    image: str | None = None

    _regions = field_validator("regions", "image")(_check_pattern)


class MethodSource(_Strict):
    """Where one method's segmentations are, or which model makes them.

    Give exactly one of ``labels`` and ``checkpoint``.

    Attributes
    ----------
    labels : str, optional
        Pattern of its tissue label maps, e.g.
        ``derivatives/latent/sub-{participant_id}_dseg.nii.gz``.
    regions : str, optional
        Pattern of its own cortical region maps (else the study's are used).
    checkpoint : str, optional
        A trained segmenter (run folder or ``.pt`` file) to apply to every subject's
        ``labels.image``; its outputs go to ``segmentation.out/derivatives/<method>/`` and are
        parcellated by ``segmentation.parcellation`` when given.
    """

    labels: str | None = None
    regions: str | None = None
    checkpoint: str | None = None

    _patterns = field_validator("labels", "regions")(_check_pattern)

    @model_validator(mode="after")
    def _one_source(self) -> MethodSource:
        if (self.labels is None) == (self.checkpoint is None):
            raise InputError("give exactly one of 'labels' (existing label maps) and "
                             "'checkpoint' (a model to apply)")
        if self.checkpoint is not None and self.regions is not None:
            raise InputError("'regions' applies to given label maps; a checkpoint's outputs are "
                             "parcellated by segmentation.parcellation")
        return self


class SegmentationConfig(_Strict):
    """How methods given by a ``checkpoint`` are applied.

    Attributes
    ----------
    out : str
        Folder whose ``derivatives/<method>/`` receives the label maps (relative to ``root``);
        subjects already segmented by the same checkpoint are not redone.
    parcellation : str, optional
        Parcellation model applied to each predicted cortical GM (else the study's region maps
        are used for every method).
    device : str
        ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
    precision : str
        Network arithmetic: ``auto`` (bfloat16 on CUDA, float32 on CPU), ``fp32`` or ``bf16``.
    scheduler : str, optional
        Dask scheduler address (``tcp://host:port``): each scan is a task on that cluster, each
        worker on its own device (see :func:`harmonstats.models.apply.segment_images`).
    """

    out: str = "."
    parcellation: str | None = None
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    scheduler: str | None = None


class MeasuresConfig(_Strict):
    """How to measure the label maps.

    Attributes
    ----------
    thickness : {"pbt", "laplace", "direct"}
        Cortical thickness method: fast projection from the WM surface with buried sulci
        reconstructed (default), fast Laplace/Eulerian, or ANTs DiReCT.
    ground_truth : str, optional
        Method whose labels are the ground truth for Dice (none: no Dice).
    jobs : int
        Worker processes for per-subject measuring.
    """

    thickness: Literal["pbt", "laplace", "direct"] = "pbt"
    ground_truth: str | None = None
    jobs: int = Field(default=1, ge=1)


class StudyConfig(_Strict):
    """A whole study, as read from a study YAML.

    Attributes
    ----------
    name : str
        Name shown in the report.
    root : str
        Study folder; relative to the YAML file's folder unless absolute.
    participants : ParticipantsConfig
    cohorts : CohortsConfig
    labels : LabelsConfig
    methods : dict of str to MethodSource
        Method name (lowercase letters, digits, ``_``) -> where its label maps are, or the
        model that makes them.
    segmentation : SegmentationConfig
        Where model outputs go, and the parcellation model.
    measures : MeasuresConfig
    analysis : harmonstats.analysis.config.BatteryConfig
        Options of the statistics battery (matching, covariates, equivalence margins, outcome
        variables, ComBat); the analysis package's own schema. Its ``reference`` and ``seed``
        default to ``cohorts.reference`` and ``seed``.
    seed : int
        Seed recorded in provenance and passed to every random step.
    """

    name: str = "study"
    root: str = "."
    participants: ParticipantsConfig
    cohorts: CohortsConfig
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    methods: dict[str, MethodSource] = Field(min_length=1)
    segmentation: SegmentationConfig = Field(default_factory=SegmentationConfig)
    measures: MeasuresConfig = Field(default_factory=MeasuresConfig)
    analysis: BatteryConfig = Field(default_factory=lambda: BatteryConfig.model_validate({}))
    seed: int = 0

    @model_validator(mode="before")
    @classmethod
    def _battery_defaults(cls, data: Any) -> Any:
        """The battery's reference cohort and seed default to the study's."""
        if not isinstance(data, Mapping):
            return data
        analysis = data.get("analysis")
        if analysis is None:
            analysis = {}
        if not isinstance(analysis, Mapping):
            return data
        cohorts = data.get("cohorts")
        analysis = dict(analysis)
        if isinstance(cohorts, Mapping) and "reference" in cohorts:
            given = analysis.setdefault("reference", cohorts["reference"])
            if given != cohorts["reference"]:
                raise InputError(
                    f"analysis.reference {given!r} differs from cohorts.reference "
                    f"{cohorts['reference']!r}; give it once, under cohorts"
                )
        if "seed" in data:
            analysis.setdefault("seed", data["seed"])
        return {**data, "analysis": analysis}

    @field_validator("methods")
    @classmethod
    def _method_names(cls, value: dict[str, MethodSource]) -> dict[str, MethodSource]:
        for name in value:
            method_name(name)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> StudyConfig:
        truth = self.measures.ground_truth
        if truth is not None and truth not in self.methods:
            raise InputError(
                f"measures.ground_truth {truth!r} is not one of the methods {sorted(self.methods)}"
            )
        models = sorted(m for m, src in self.methods.items() if src.checkpoint is not None)
        if models and self.labels.image is None:
            raise InputError(
                f"methods {models} apply a checkpoint, which needs labels.image (the pattern "
                "of the T2w images to segment)"
            )
        include = self.cohorts.include
        if include is not None and self.cohorts.reference not in include:
            raise InputError(
                f"cohorts.reference {self.cohorts.reference!r} is not in cohorts.include {include}"
            )
        return self

    def resolve(self, path: str, base: str | os.PathLike[str]) -> Path:
        """An input path made absolute: relative to ``root``, itself relative to ``base``."""
        root = Path(self.root)
        root = root if root.is_absolute() else Path(base) / root
        p = Path(path)
        return p if p.is_absolute() else root / p


def _first_error(error: ValidationError) -> tuple[str, str, str]:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    where = ".".join(str(part) for part in loc if not str(part).startswith("function-"))
    return where, first["type"], first["msg"].removeprefix("Value error, ")


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line naming the file and the first bad key, e.g. ``study.yaml: unknown key 'a.b'``."""
    where, kind, message = _first_error(error)
    if kind == "extra_forbidden":
        return f"{source}: unknown key {where!r}"
    if kind == "missing":
        return f"{source}: missing key {where!r}"
    if where:
        return f"{source}: key {where!r}: {message}"
    return f"{source}: {message}"


def load_study_config(source: str | os.PathLike[str] | Mapping[str, Any]) -> StudyConfig:
    """Read and validate a study YAML (or an already-parsed mapping).

    Parameters
    ----------
    source : path or mapping
        The YAML file, or its content.

    Returns
    -------
    StudyConfig

    Raises
    ------
    FileNotFoundError
        If the YAML file does not exist.
    ValueError
        On invalid YAML, an unknown or missing key, or a bad value; one line naming the file
        and the key.
    """
    if isinstance(source, Mapping):
        data: Any = dict(source)
        name = "study config"
    else:
        path = Path(source)
        name = path.name
        data = read_yaml(path, what="study file")
    if not isinstance(data, Mapping):
        raise InputError(f"{name}: expected a mapping of keys at the top level")
    try:
        return StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(exc, name)) from None
