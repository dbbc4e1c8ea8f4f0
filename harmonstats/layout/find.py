"""The one subject/session finder: a study's scans, its label maps, region maps and images.

:func:`read_scans` reads ``participants.tsv`` and each subject's ``sub-<label>_sessions.tsv``
into one table with a row per scan; :func:`find_study_files` finds, for those scans, the files
of the layout in :mod:`harmonstats.layout.names`:

- a *method dataset* is ``derivatives/<method>/`` holding ``<scan>_dseg.nii.gz`` (a model's
  outputs); its ``<scan>_desc-regions_dseg.nii.gz`` are that method's own region maps;
- a *given* method is a ``<scan>_desc-<method>_dseg.nii.gz`` beside the T2w image or in any
  other derivatives dataset (a pipeline's, e.g. the synthetic study's ``harmonstats-synth``);
  ``desc-regions`` maps there are the study's region maps, used by methods without their own;
- ``derivatives/<method>/`` holding only region maps parcellates a given method.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harmonstats.errors import InputError
from harmonstats.io import read_table
from harmonstats.layout.names import (
    DERIVATIVES,
    PARTICIPANTS,
    REGIONS_DESC,
    Scan,
    canonical_ids,
    derivative_path,
    expand_pattern,
    method_name,
    raw_path,
    scans_of,
    sessions_path,
)
from harmonstats.layout.tables import check_participants

__all__ = ["StudyFiles", "find_images", "find_study_files", "read_participants_file",
           "read_scans"]

_EXTENSIONS = (".nii.gz", ".nii")


def read_participants_file(path: str | os.PathLike[str], *,
                           columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read a participants (or sessions) table, TSV or CSV, renaming the user's columns.

    Parameters
    ----------
    path : path-like
        The table; ``.csv`` is read as comma-separated, anything else as BIDS TSV.
    columns : mapping, optional
        User column -> harmonstats column; user columns absent from this table are ignored
        (one mapping serves the participants and the sessions tables).

    Raises
    ------
    FileNotFoundError
        If the table does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"participants table not found: {p}")
    table = read_table(p, sep="," if p.suffix.lower() == ".csv" else "\t")
    mapping = {k: v for k, v in (columns or {}).items() if k in table.columns}
    table = table.rename(columns=mapping)
    for col in ("participant_id", "session_id"):
        if col in table.columns:
            table[col] = table[col].astype(object).where(table[col].notna(), None)
            table[col] = [None if v is None else str(v) for v in table[col]]
    return table


def read_scans(
    root: str | os.PathLike[str] | None,
    *,
    participants: str | os.PathLike[str] | pd.DataFrame = PARTICIPANTS,
    sessions: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, str]:
    """The participants table joined with the subjects' sessions tables: one row per scan.

    Parameters
    ----------
    root : path-like or None
        Study folder; relative paths start there.
    participants : path-like or DataFrame
        The participants table (one row per subject, or per subject-session when it has a
        ``session_id`` column), relative to ``root`` unless absolute.
    sessions : str, optional
        Pattern of each subject's sessions table (``{participant_id}`` is the label); default
        the BIDS place, ``sub-<label>/sub-<label>_sessions.tsv``. Subjects without one keep a
        single row without session; a table that already has ``session_id`` is used as it is.
    columns : mapping, optional
        User column -> harmonstats column, applied to both tables.

    Returns
    -------
    table : pandas.DataFrame
        IDs in their BIDS forms (each sessions table checked by
        :func:`~harmonstats.layout.check_participants`, the joined table not yet); a column in
        both tables takes the session's value where the session gives one.
    source : str
        The participants table's file name (``... with the sessions tables`` when sessions
        were joined), for messages.
    """
    base = Path(root) if root is not None else None
    if isinstance(participants, pd.DataFrame):
        seen = set(participants.columns)
        table, source = participants.rename(columns=dict(columns or {})), "participants table"
    else:
        path = Path(participants)
        path = path if path.is_absolute() or base is None else base / path
        table, source = read_participants_file(path, columns=columns), path.name
        seen = set(read_participants_file(path).columns)
    if "participant_id" not in table.columns or "session_id" in table.columns or base is None:
        _check_mapped(columns, seen, table, source)
        return (canonical_ids(table, source=source) if "participant_id" in table.columns
                else table), source
    table = canonical_ids(table, source=source)
    frames = []
    for pid in table["participant_id"].drop_duplicates():
        scan = Scan.of(pid)
        rel = (sessions_path(pid) if sessions is None
               else Path(expand_pattern(sessions, scan)))
        path = rel if rel.is_absolute() else base / rel
        if path.is_file():
            seen |= set(read_participants_file(path).columns)
            ses = read_participants_file(path, columns=columns)
            frames.append(check_participants(ses.assign(participant_id=pid),
                                             source=path.name, required=("session_id",)))
    _check_mapped(columns, seen, table, source)
    if not frames:
        return table, source
    per_session = pd.concat(frames, ignore_index=True)
    both = [c for c in per_session.columns
            if c in table.columns and c != "participant_id"]
    merged = table.merge(per_session, on="participant_id", how="left", suffixes=("", "_ses"))
    for col in both:
        merged[col] = merged.pop(f"{col}_ses").combine_first(merged[col])
    lead = ["participant_id", "session_id"]
    return (merged[lead + [c for c in merged.columns if c not in lead]],
            f"{source} with the sessions tables")


def _check_mapped(columns: Mapping[str, str] | None, seen: set[str], table: pd.DataFrame,
                  source: str) -> None:
    """Raise if a user column of the mapping is in neither the participants nor a sessions
    table."""
    absent = [c for c in (columns or {}) if c not in seen]
    if absent:
        raise InputError(f"{source}: column {absent[0]!r} named in participants.columns is not "
                         f"in the table; it has {list(table.columns)}")


@dataclass
class StudyFiles:
    """What :func:`find_study_files` found for a study's scans.

    Attributes
    ----------
    labels : dict
        Method -> scan -> path of its tissue map (built for every scan from where the method's
        maps were found: a missing file is the cohort's to report).
    regions : dict
        Method (``""`` for the study's) -> scan -> region map, files present only.
    images : dict
        Scan -> T2w image, files present only.
    """

    labels: dict[str, dict[Scan, Path]] = field(default_factory=dict)
    regions: dict[str, dict[Scan, Path]] = field(default_factory=dict)
    images: dict[Scan, Path] = field(default_factory=dict)


def _entries(folder: Path, key: str) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(e.name for e in folder.iterdir() if e.name.startswith(key + "_"))


def _split_name(name: str, key: str) -> tuple[str | None, str] | None:
    """``(desc, extension)`` of ``<key>[_desc-<desc>]_dseg<ext>``, else None."""
    for ext in _EXTENSIONS:
        if name.endswith("_dseg" + ext):
            middle = name[len(key):-len("_dseg" + ext)]
            if middle == "":
                return None, ext
            if middle.startswith("_desc-") and "_" not in middle[1:]:
                return middle[len("_desc-"):], ext
    return None


def find_study_files(root: str | os.PathLike[str], scans: Sequence[Scan]) -> StudyFiles:
    """Find the methods, region maps and T2w images of a study (rules in the module docstring).

    Parameters
    ----------
    root : path-like
        The study folder.
    scans : sequence of Scan
        The scans of its participants table.
    """
    base = Path(root)
    deriv = base / DERIVATIVES
    datasets = sorted(e.name for e in deriv.iterdir() if e.is_dir()) if deriv.is_dir() else []
    # method -> (dataset or None for raw, desc or None, extension)
    where: dict[str, tuple[str | None, str | None, str]] = {}
    model_sets = set()
    for dataset in datasets:
        try:
            method_name(dataset)
        except ValueError:
            continue
        for scan in scans:
            names = _entries(deriv / dataset / scan.folder(), scan.key)
            if any(_split_name(n, scan.key) == (None, ext) for n in names
                   for ext in _EXTENSIONS):
                model_sets.add(dataset)
                break
    for scan in scans:
        places: list[tuple[str | None, Path]] = [(None, base / scan.folder())]
        places += [(d, deriv / d / scan.folder()) for d in datasets]
        for place, folder in places:
            for name in _entries(folder, scan.key):
                parsed = _split_name(name, scan.key)
                if parsed is None:
                    continue
                desc, ext = parsed
                own = place if place in model_sets else None
                if desc == REGIONS_DESC:
                    continue
                if desc is None and own is not None:
                    where.setdefault(own, (own, None, ext))
                elif desc is not None and own is None:
                    try:
                        where.setdefault(method_name(desc), (place, desc, ext))
                    except ValueError:
                        continue
    found = StudyFiles()
    for method, (home, desc, ext) in where.items():
        found.labels[method] = {
            s: base / (derivative_path(home, s, desc=desc, extension=ext) if home
                       else raw_path(s, "dseg", desc=desc, extension=ext)) for s in scans}
    # The study's region maps: beside the images or in a pipeline's dataset; a method's own:
    # in its dataset (a given method's, in derivatives/<method>/).
    places_of_regions: dict[str, list[Path]] = {"": []}
    places_of_regions[""].append(base)
    for dataset in datasets:
        if dataset in model_sets or dataset in where:
            places_of_regions.setdefault(dataset, []).append(deriv / dataset)
        else:
            places_of_regions[""].append(deriv / dataset)
    for key, roots in places_of_regions.items():
        present: dict[Scan, Path] = {}
        for scan in scans:
            for top in roots:
                for ext in _EXTENSIONS:
                    path = top / scan.folder() / scan.filename("dseg", desc=REGIONS_DESC,
                                                               extension=ext)
                    if scan not in present and path.is_file():
                        present[scan] = path
        if present:
            found.regions[key] = present
    found.images = find_images(base, scans)
    return found


def find_images(root: str | os.PathLike[str], scans: Sequence[Scan] | None = None, *,
                pattern: str | None = None) -> dict[Scan, Path]:
    """Scan -> T2w image, for the scans whose image exists.

    Parameters
    ----------
    root : path-like
        The study folder.
    scans : sequence of Scan, optional
        Default: those of the study's participants table (and sessions tables).
    pattern : str, optional
        Path pattern of the images (a study YAML's ``labels.image``); default the BIDS place,
        ``sub-<label>[/ses-<label>]/anat/sub-<label>[_ses-<label>]_T2w.nii.gz``.

    Without ``scans``, the scans are those of the study's participants table, or, in a folder
    without one, those of its ``sub-*[/ses-*]`` folders.
    """
    base = Path(root)
    if scans is None:
        if not base.is_dir():
            raise FileNotFoundError(f"study folder not found: {base}")
        if (base / PARTICIPANTS).is_file():
            table, source = read_scans(base)
            scans = scans_of(check_participants(table, source=source,
                                                required=("participant_id",)))
        else:
            scans = _scans_in_folders(base)
    out = {}
    for scan in scans:
        rel = Path(expand_pattern(pattern, scan)) if pattern else raw_path(scan, "T2w")
        path = rel if rel.is_absolute() else base / rel
        if path.is_file():
            out[scan] = path
    return out


def _scans_in_folders(base: Path) -> list[Scan]:
    """The scans of a folder's ``sub-<label>[/ses-<label>]`` folders (no participants table)."""
    out = []
    for sub in sorted(p for p in base.glob("sub-*") if p.is_dir()):
        sessions = sorted(p.name for p in sub.glob("ses-*") if p.is_dir())
        out += [Scan.of(sub.name, ses) for ses in sessions] or [Scan.of(sub.name)]
    return out
