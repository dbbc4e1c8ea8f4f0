"""The study layout: BIDS names and paths of every file harmonstats reads or writes.

One module spells the layout; every reader and writer asks it for a path. A study is a BIDS
dataset, optionally with derivatives::

    STUDY/participants.tsv                  participant_id = sub-<label>
    STUDY/sub-<label>/sub-<label>_sessions.tsv      session_id = ses-<label>, pma_scan per session
    STUDY/sub-<label>[/ses-<label>]/anat/sub-<label>[_ses-<label>]_T2w.nii.gz
    STUDY/derivatives/<method>/                     one BIDS-Derivatives dataset per method:
        dataset_description.json, dseg.tsv, desc-regions_dseg.tsv
        sub-<label>[/ses-<label>]/anat/sub-<label>[_ses-<label>]_dseg.nii.gz          tissues
        sub-<label>[/ses-<label>]/anat/sub-<label>[_ses-<label>]_desc-regions_dseg.nii.gz

Label maps that came with the data (a pipeline's, such as Draw-EM's, or a synthetic study's
truth) are ``..._desc-<method>_dseg.nii.gz`` in a derivatives dataset of that pipeline (or, in
older studies, beside the T2w image); its ``..._desc-regions_dseg.nii.gz`` are the study's
cortical regions.

Identifiers
-----------
Tables keep the BIDS forms: ``participant_id`` is ``sub-<label>`` and ``session_id`` is
``ses-<label>``; every reader accepts them with or without the prefix (:func:`participant_id`,
:func:`session_id`). A label is ASCII letters and digits (BIDS), at most
:data:`MAX_LABEL_LENGTH` characters, since it becomes file names. In a path pattern of a study
YAML, ``{participant_id}`` and ``{session_id}`` expand to the *labels* (without prefix), so a
pattern spells ``sub-{participant_id}/ses-{session_id}/anat/...`` as BIDS does.

Method names (:func:`method_name`) are lowercase letters, digits and ``_``, starting with a
letter: they name derivatives folders and table rows.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harmonstats.errors import InputError

__all__ = [
    "DERIVATIVES",
    "MAX_LABEL_LENGTH",
    "PARTICIPANTS",
    "REGIONS_DESC",
    "Scan",
    "canonical_ids",
    "dataset_root",
    "derivative_path",
    "expand_paths",
    "expand_pattern",
    "method_name",
    "participant_id",
    "raw_path",
    "scan_columns",
    "scans_of",
    "session_id",
    "session_label",
    "sessions_path",
    "subject_label",
]

#: Participants table of a study, relative to its root.
PARTICIPANTS = "participants.tsv"
#: Folder of the derivatives datasets, relative to a study's root.
DERIVATIVES = "derivatives"
#: ``desc`` of cortical region maps.
REGIONS_DESC = "regions"
#: Longest subject or session label accepted (they become file names).
MAX_LABEL_LENGTH = 64

_LABEL_RE = re.compile(r"^[A-Za-z0-9]+$")
_METHOD_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# BIDS entity order (the specification's entity table) of the entities harmonstats writes.
_ENTITY_ORDER = ("space", "label", "desc")
_MISSING = ("", "n/a", "nan", "none")


def _label(value: object, prefix: str, what: str) -> str:
    if _is_missing(value):
        raise InputError(f"{what} is missing")
    text = str(value).strip()
    label = text[len(prefix):] if text.startswith(prefix) else text
    if not _LABEL_RE.fullmatch(label) or len(label) > MAX_LABEL_LENGTH:
        shown = text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"
        raise InputError(
            f"{what} {shown!r} is not allowed: use 1 to {MAX_LABEL_LENGTH} ASCII letters and "
            f"digits (optionally prefixed '{prefix}'); IDs become file names"
        )
    return label


def subject_label(value: object) -> str:
    """The label of a participant ID, ``h000`` for ``sub-h000`` or ``h000``.

    Raises
    ------
    ValueError
        If the label is empty, longer than :data:`MAX_LABEL_LENGTH`, or holds anything but
        ASCII letters and digits (path separators, dots and spaces could write outside the
        output folder).
    """
    return _label(value, "sub-", "participant ID")


def participant_id(value: object) -> str:
    """The BIDS participant ID, ``sub-<label>``, of ``value`` given with or without prefix."""
    return f"sub-{subject_label(value)}"


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or (
        str(value).strip().lower() in _MISSING)


def session_label(value: object) -> str | None:
    """The label of a session ID (``ses-01`` or ``01`` -> ``01``); None where there is none."""
    return None if _is_missing(value) else _label(value, "ses-", "session ID")


def session_id(value: object) -> str | None:
    """The BIDS session ID, ``ses-<label>``, or None where the value is missing (NaN, n/a)."""
    label = session_label(value)
    return None if label is None else f"ses-{label}"


def method_name(name: object) -> str:
    """Return ``name`` if it may name a method, else raise ValueError saying why.

    A method names a derivatives folder and rows of the measures table: lowercase ASCII letters,
    digits and ``_``, starting with a letter, at most :data:`MAX_LABEL_LENGTH` characters.
    """
    text = str(name)
    if not _METHOD_RE.fullmatch(text) or len(text) > MAX_LABEL_LENGTH:
        raise InputError(
            f"method name {text!r} is not allowed: use lowercase letters, digits and '_', "
            "starting with a letter"
        )
    return text


def canonical_ids(table: pd.DataFrame, *, source: str = "table") -> pd.DataFrame:
    """A copy of ``table`` with ``participant_id`` (and ``session_id``) in their BIDS forms.

    Missing session IDs stay missing (NaN). Raises ValueError naming ``source`` and the ID at
    fault (see :func:`subject_label`).
    """
    out = table.copy()
    for column, canon in (("participant_id", participant_id), ("session_id", session_id)):
        if column not in out.columns:
            continue
        values = []
        for row, value in enumerate(out[column], start=1):
            try:
                values.append(canon(value))
            except ValueError as exc:
                raise InputError(f"{source}: row {row}: column {column!r}: {exc}") from None
        out[column] = pd.Series(values, index=out.index, dtype=object)
        if column == "session_id":
            out[column] = out[column].where(out[column].notna(), float("nan"))
    return out


@dataclass(frozen=True, order=True)
class Scan:
    """One subject at one session: what every per-image file of a study belongs to.

    Attributes
    ----------
    subject : str
        Subject label (no ``sub-``).
    session : str or None
        Session label (no ``ses-``), or None in a study without sessions.
    """

    subject: str
    session: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", subject_label(self.subject))
        object.__setattr__(self, "session", session_label(self.session))

    @classmethod
    def of(cls, participant: object, session: object = None) -> Scan:
        """The scan of a participant ID and session ID (each with or without prefix)."""
        return cls(subject_label(participant), session_label(session))

    @classmethod
    def parse(cls, text: str | Scan) -> Scan:
        """A scan from its key (``sub-X``, ``sub-X_ses-Y``) or a bare subject label."""
        if isinstance(text, Scan):
            return text
        sub, sep, ses = str(text).partition("_ses-")
        return cls(subject_label(sub), ses if sep else None)

    @property
    def participant_id(self) -> str:
        """``sub-<label>``."""
        return f"sub-{self.subject}"

    @property
    def session_id(self) -> str | None:
        """``ses-<label>``, or None."""
        return None if self.session is None else f"ses-{self.session}"

    @property
    def key(self) -> str:
        """The BIDS file-name prefix of the scan, ``sub-X`` or ``sub-X_ses-Y``."""
        return self.participant_id + (f"_{self.session_id}" if self.session else "")

    def __str__(self) -> str:
        return self.key

    def folder(self, datatype: str = "anat") -> Path:
        """``sub-X[/ses-Y]/<datatype>``, relative to a dataset's root."""
        parts = [self.participant_id, *([self.session_id] if self.session else []), datatype]
        return Path(*[p for p in parts if p])

    def filename(self, suffix: str, *, extension: str = ".nii.gz",
                 **entities: str | None) -> str:
        """``sub-X[_ses-Y][_space-S][_label-L][_desc-D]_<suffix><extension>``."""
        unknown = sorted(set(entities) - set(_ENTITY_ORDER))
        if unknown:
            raise ValueError(f"unknown BIDS entities {unknown}; harmonstats writes "
                             f"{list(_ENTITY_ORDER)}")
        parts = [self.key]
        for name in _ENTITY_ORDER:
            value = entities.get(name)
            if value is not None:
                parts.append(f"{name}-{value}")
        return "_".join([*parts, suffix]) + extension


def raw_path(scan: Scan, suffix: str, *, desc: str | None = None, extension: str = ".nii.gz",
             datatype: str = "anat") -> Path:
    """Path, relative to the study root, of a scan's raw file (``suffix`` ``T2w``...)."""
    return scan.folder(datatype) / scan.filename(suffix, desc=desc, extension=extension)


def derivative_path(dataset: str, scan: Scan, suffix: str = "dseg", *, desc: str | None = None,
                    extension: str = ".nii.gz", datatype: str = "anat") -> Path:
    """Path, relative to the study root, of a file of derivatives dataset ``dataset``.

    ``derivative_path("baseline", scan)`` is a model's tissue map,
    ``derivative_path("baseline", scan, desc="regions")`` its parcellation.
    """
    return Path(DERIVATIVES) / dataset / raw_path(scan, suffix, desc=desc, extension=extension,
                                                   datatype=datatype)


def sessions_path(subject: object) -> Path:
    """``sub-X/sub-X_sessions.tsv``, relative to the study root."""
    pid = participant_id(subject)
    return Path(pid) / f"{pid}_sessions.tsv"


def expand_pattern(pattern: str, scan: Scan, row: Mapping[str, Any] | None = None) -> str:
    """Fill a path pattern of a study YAML for one scan.

    ``{participant_id}`` and ``{session_id}`` become the labels (no prefix); any other
    ``{column}`` the scan's value in ``row`` (its participants-table row).

    Raises
    ------
    ValueError
        If the pattern names a column the table lacks, or ``{session_id}`` for a scan without
        a session.
    """
    values = {k: ("" if _is_missing(v) else v) for k, v in (row or {}).items()}
    values["participant_id"] = scan.subject
    if "{session_id}" in pattern and scan.session is None:
        raise InputError(f"path pattern {pattern!r} uses '{{session_id}}', but {scan} has no "
                         "session")
    values["session_id"] = scan.session or ""
    try:
        return pattern.format(**values)
    except KeyError as exc:
        raise InputError(f"path pattern {pattern!r} uses {exc.args[0]!r}, which is not a "
                         "participants column") from None
    except (IndexError, ValueError) as exc:
        raise InputError(f"path pattern {pattern!r} is not a valid pattern: {exc}") from None


def expand_paths(pattern: str, table: pd.DataFrame,
                 root: str | os.PathLike[str] | None = None) -> dict[Scan, Path]:
    """Scan -> path of a pattern, for every scan of a participants table.

    Relative paths are taken relative to ``root`` (when given). See :func:`expand_pattern`.
    """
    base = Path(root) if root is not None else None
    out = {}
    for scan, row in zip(scans_of(table), table.to_dict("records"), strict=True):
        path = Path(expand_pattern(pattern, scan, row))
        out[scan] = path if path.is_absolute() or base is None else base / path
    return out


def scan_columns(*tables: pd.DataFrame) -> list[str]:
    """The columns that name a scan in every table: ``participant_id``, and ``session_id`` when
    each table has one with at least one session (tables of a study with sessions)."""
    with_sessions = all("session_id" in t.columns and t["session_id"].notna().any()
                        for t in tables)
    return ["participant_id", *(["session_id"] if with_sessions else [])]


def scans_of(table: pd.DataFrame) -> list[Scan]:
    """The scans of a participants table (one row per subject, or per subject-session)."""
    sessions: Iterable[object] = (table["session_id"] if "session_id" in table.columns
                                  else [None] * len(table))
    return [Scan.of(p, s) for p, s in zip(table["participant_id"], sessions, strict=True)]


def dataset_root(root: str | os.PathLike[str], dataset: str | None = None) -> Path:
    """A study's root (``dataset`` None) or the root of one of its derivatives datasets."""
    base = Path(root)
    return base if dataset is None else base / DERIVATIVES / dataset
