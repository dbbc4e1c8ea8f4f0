"""Cohorts: a participants table plus, for each method, where each subject's label map lives.

A :class:`Cohort` is built from a BIDS-like study folder (:meth:`Cohort.from_bids`) or from path
patterns (:meth:`Cohort.from_patterns`), and is validated on construction: every problem is
reported with the subject, the file and what is wrong.

Layout read by :meth:`Cohort.from_bids`::

    STUDY/participants.tsv
    STUDY/sub-<id>/anat/sub-<id>_T2w.nii.gz
    STUDY/sub-<id>/anat/sub-<id>_desc-<method>_dseg.nii.gz       methods that came with the data
    STUDY/sub-<id>/anat/sub-<id>_desc-regions_dseg.nii.gz        the study's cortical regions
    STUDY/derivatives/<method>/sub-<id>/anat/sub-<id>_dseg.nii.gz               model outputs
    STUDY/derivatives/<method>/sub-<id>/anat/sub-<id>_desc-regions_dseg.nii.gz  their parcellation
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.io import check_participant_id, load_nifti, read_table
from harmonstats.labels import LabelScheme, get_scheme

__all__ = ["REQUIRED_COLUMNS", "Cohort", "check_participants"]

#: Columns every participants table must have (DESIGN.md).
REQUIRED_COLUMNS: tuple[str, ...] = ("participant_id", "cohort", "ga_birth", "pma_scan", "sex")

_NUMERIC_COLUMNS = ("ga_birth", "pma_scan", "birth_weight")
_METHOD_RE = re.compile(r"^[a-z][a-z0-9_+]*$")
_RAW_DSEG = re.compile(r"^sub-(?P<id>[A-Za-z0-9]+)_desc-(?P<desc>[A-Za-z0-9]+)_dseg\.nii(\.gz)?$")
_AFFINE_TOL = 1e-3


def check_participants(table: pd.DataFrame, *, source: str = "participants table") -> pd.DataFrame:
    """Validate a participants table and return a clean copy.

    IDs lose their ``sub-`` prefix, ``sex`` is upper-cased, and numeric columns become floats.

    Raises
    ------
    ValueError
        On missing required columns, an empty table, unsafe or duplicate IDs, non-numeric or
        impossible ages (PMA at scan before GA at birth, non-positive ages), or unknown sex codes.
        The message names the column and the participants at fault.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{source}: missing required column(s) {missing}; has {list(table.columns)}"
        )
    if len(table) == 0:
        raise ValueError(f"{source}: empty cohort (no participants)")
    df = table.copy()
    df["participant_id"] = [check_participant_id(p) for p in df["participant_id"]]
    dup = df["participant_id"][df["participant_id"].duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"{source}: duplicate participant IDs {dup}")
    df["cohort"] = df["cohort"].astype(str)
    for col in _NUMERIC_COLUMNS:
        if col not in df.columns:
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        bad = df["participant_id"][values.isna() & df[col].notna()].tolist()
        if bad:
            raise ValueError(f"{source}: column {col!r} is not numeric for participants {bad[:10]}")
        df[col] = values.astype(float)
    for col in ("ga_birth", "pma_scan"):
        bad = df["participant_id"][df[col] <= 0].tolist()
        if bad:
            raise ValueError(f"{source}: {col} must be positive (weeks); participants {bad[:10]}")
    impossible = df["participant_id"][df["pma_scan"] < df["ga_birth"]].tolist()
    if impossible:
        raise ValueError(
            f"{source}: PMA at scan is before GA at birth for participants {impossible[:10]}"
        )
    sex = df["sex"].astype(str).str.upper()
    bad_sex = df["participant_id"][~sex.isin(["F", "M"]) & df["sex"].notna()].tolist()
    if bad_sex:
        raise ValueError(f"{source}: column 'sex' must be F or M; participants {bad_sex[:10]}")
    df["sex"] = sex.where(df["sex"].notna())
    return df.reset_index(drop=True)


@dataclass
class Cohort:
    """Participants plus per-method label maps, validated.

    Parameters
    ----------
    participants : pandas.DataFrame
        Participants table (see :data:`REQUIRED_COLUMNS`); validated with
        :func:`check_participants`.
    labels : mapping
        Method -> participant ID -> path of its tissue label map.
    regions : mapping, optional
        Method -> participant ID -> path of a cortical region map. The key ``""`` holds the
        study's own region maps, used for methods that have none of their own.
    images : mapping, optional
        Participant ID -> path of the T2w image.
    scheme, region_scheme : str or LabelScheme
        Label schemes of the tissue and region maps.
    root : path, optional
        The study folder, if any.
    check : bool
        Validate every file on construction (existence, readability, 3D, shape and affine
        agreement with the subject's other files, labels within the scheme).
    """

    participants: pd.DataFrame
    labels: Mapping[str, Mapping[str, Path]]
    regions: Mapping[str, Mapping[str, Path]] = field(default_factory=dict)
    images: Mapping[str, Path] = field(default_factory=dict)
    scheme: LabelScheme | str = "tissues7"
    region_scheme: LabelScheme | str = "regions11"
    root: Path | None = None
    check: bool = True

    def __post_init__(self) -> None:
        self.participants = check_participants(self.participants)
        self.scheme = get_scheme(self.scheme, kind="tissue")
        self.region_scheme = get_scheme(self.region_scheme, kind="region")
        for method in self.labels:
            if not _METHOD_RE.fullmatch(method):
                raise ValueError(
                    f"method name {method!r} is not allowed: use lowercase letters, digits and '_'"
                )
        if not self.labels:
            raise ValueError("cohort has no methods (no label maps were found or given)")
        ids = set(self.subjects)
        for method, paths in self.labels.items():
            missing = [pid for pid in self.subjects if pid not in paths]
            if missing:
                raise ValueError(f"method {method!r}: no label map for participants {missing[:10]}")
            extra = sorted(set(paths) - ids)
            if extra:
                raise ValueError(
                    f"method {method!r}: label maps for unknown participants {extra[:10]}"
                )
        if self.check:
            self.validate()

    @property
    def subjects(self) -> list[str]:
        """Participant IDs, in table order."""
        return self.participants["participant_id"].tolist()

    @property
    def methods(self) -> list[str]:
        """Names of the methods with label maps."""
        return list(self.labels)

    def label_path(self, method: str, participant_id: str) -> Path:
        """Path of a subject's tissue label map for ``method``."""
        if method not in self.labels:
            raise ValueError(f"unknown method {method!r}; cohort has {self.methods}")
        try:
            return Path(self.labels[method][participant_id])
        except KeyError:
            raise ValueError(f"unknown participant {participant_id!r}") from None

    def region_path(self, method: str, participant_id: str) -> Path | None:
        """Region map for ``method`` (its own, else the study's), or None if there is none."""
        for key in (method, ""):
            path = self.regions.get(key, {}).get(participant_id)
            if path is not None:
                return Path(path)
        return None

    def image_path(self, participant_id: str) -> Path | None:
        """Path of the subject's T2w image, if known."""
        path = self.images.get(participant_id)
        return Path(path) if path is not None else None

    def spacing(self, participant_id: str) -> tuple[float, float, float]:
        """Voxel size in mm of the subject's first label map (from the NIfTI header)."""
        img = load_nifti(self.label_path(self.methods[0], participant_id))
        zooms = img.header.get_zooms()[:3]
        return (float(zooms[0]), float(zooms[1]), float(zooms[2]))

    def subset(self, methods: Sequence[str]) -> Cohort:
        """A cohort restricted to some methods (no re-validation of files)."""
        unknown = [m for m in methods if m not in self.labels]
        if unknown:
            raise ValueError(f"unknown method(s) {unknown}; cohort has {self.methods}")
        return Cohort(
            participants=self.participants,
            labels={m: self.labels[m] for m in methods},
            regions={k: v for k, v in self.regions.items() if k in methods or k == ""},
            images=self.images,
            scheme=self.scheme,
            region_scheme=self.region_scheme,
            root=self.root,
            check=False,
        )

    def validate(self) -> None:
        """Check every file; raise ValueError/FileNotFoundError naming subject, file and problem."""
        tissue = get_scheme(self.scheme)
        region = get_scheme(self.region_scheme, kind="region")
        for method in self.methods:
            missing = [pid for pid in self.subjects if not self.label_path(method, pid).is_file()]
            if missing:
                raise FileNotFoundError(
                    f"sub-{missing[0]} label map ({method}): file not found: "
                    f"{self.label_path(method, missing[0])} (method {method!r} has no label map "
                    f"for {len(missing)} of {len(self.subjects)} subjects; if a segmentation was "
                    "interrupted, rerun it or remove that method's files)"
                )
        for pid in self.subjects:
            ref_shape: tuple[int, ...] | None = None
            ref_affine = np.eye(4)
            ref_name = ""
            files: list[tuple[str, Path, LabelScheme | None]] = []
            if self.image_path(pid) is not None:
                files.append(("T2w image", self.images[pid], None))
            for method in self.methods:
                files.append((f"label map ({method})", self.label_path(method, pid), tissue))
            for key, paths in self.regions.items():
                if pid in paths:
                    files.append((f"region map ({key or 'study'})", Path(paths[pid]), region))
            for what, path, scheme in files:
                desc = f"sub-{pid} {what}"
                img = load_nifti(path, what=desc)
                if ref_shape is None:
                    ref_shape, ref_affine, ref_name = img.shape, img.affine, str(path)
                elif img.shape != ref_shape:
                    raise ValueError(
                        f"{desc}: shape {img.shape} of {path} differs from {ref_shape} "
                        f"of {ref_name}"
                    )
                elif not np.allclose(img.affine, ref_affine, atol=_AFFINE_TOL):
                    raise ValueError(f"{desc}: affine of {path} differs from that of {ref_name}")
                if scheme is not None:
                    data = np.asanyarray(img.dataobj)
                    if not np.issubdtype(data.dtype, np.integer) and not np.allclose(
                        data, np.rint(data)
                    ):
                        raise ValueError(f"{desc}: {path} holds non-integer label values")
                    bad = scheme.invalid_labels(np.rint(data).astype(np.int64))
                    if bad:
                        raise ValueError(
                            f"{desc}: {path} holds labels {bad[:10]} outside label scheme "
                            f"{scheme.name!r}"
                        )

    @classmethod
    def from_patterns(
        cls,
        participants: pd.DataFrame | str | os.PathLike[str],
        labels: Mapping[str, str],
        *,
        regions: Mapping[str, str] | None = None,
        image: str | None = None,
        root: str | os.PathLike[str] | None = None,
        scheme: LabelScheme | str = "tissues7",
        region_scheme: LabelScheme | str = "regions11",
        check: bool = True,
    ) -> Cohort:
        """Build a cohort from path patterns.

        A pattern is a path holding ``{participant_id}`` (and optionally ``{session_id}`` or
        ``{cohort}``), relative to ``root`` unless absolute. Use method ``""`` in ``regions``
        for region maps shared by all methods.

        Examples
        --------
        >>> Cohort.from_patterns(  # doctest: +SKIP
        ...     "study/participants.tsv",
        ...     labels={"original": "sub-{participant_id}/anat/drawem9.nii.gz"},
        ...     root="study", scheme="drawem9")
        """
        table = (
            read_table(participants) if not isinstance(participants, pd.DataFrame) else participants
        )
        table = check_participants(table)
        base = Path(root) if root is not None else None

        def expand(pattern: str) -> dict[str, Path]:
            out = {}
            for row in table.to_dict("records"):
                try:
                    rel = pattern.format(**{k: ("" if pd.isna(v) else v) for k, v in row.items()})
                except KeyError as exc:
                    raise ValueError(
                        f"path pattern {pattern!r} uses {exc.args[0]!r}, which is not a "
                        "participants column"
                    ) from None
                path = Path(rel)
                out[row["participant_id"]] = (
                    path if path.is_absolute() or base is None else base / path
                )
            return out

        return cls(
            participants=table,
            labels={m: expand(p) for m, p in labels.items()},
            regions={m: expand(p) for m, p in (regions or {}).items()},
            images=expand(image) if image else {},
            scheme=scheme,
            region_scheme=region_scheme,
            root=base,
            check=check,
        )

    @classmethod
    def from_bids(
        cls,
        root: str | os.PathLike[str],
        methods: Sequence[str] | None = None,
        *,
        participants: str | os.PathLike[str] = "participants.tsv",
        scheme: LabelScheme | str = "tissues7",
        region_scheme: LabelScheme | str = "regions11",
        check: bool = True,
    ) -> Cohort:
        """Discover a BIDS-like study folder (layout in the module docstring).

        Parameters
        ----------
        root : path
            The study folder.
        methods : sequence of str, optional
            Methods to load; default: every method found (``desc-<method>_dseg`` maps in
            ``anat/`` other than ``regions``, and every folder of ``derivatives/``).
        participants : path
            Participants table, relative to ``root`` unless absolute.
        """
        base = Path(root)
        if not base.is_dir():
            raise FileNotFoundError(f"study folder not found: {base}")
        table_path = Path(participants)
        table_path = table_path if table_path.is_absolute() else base / table_path
        table = check_participants(read_table(table_path), source=str(table_path))
        found = cls._discover_methods(base, table["participant_id"].tolist())
        if methods is None:
            methods = sorted(found, key=lambda m: (m not in ("original", "truth"), m))
        unknown = [m for m in methods if m not in found]
        if unknown:
            raise ValueError(
                f"method(s) {unknown} not found in {base}; found {sorted(found) or 'none'}"
            )
        anat = "sub-{participant_id}/anat/sub-{participant_id}"
        labels = {m: found[m] for m in methods}
        # A method's own parcellation lives in derivatives/<method>/, whether its tissue maps
        # came with the data (desc-<method>) or from a model.
        regions = {"": f"{anat}_desc-regions_dseg.nii.gz"}
        regions.update({m: f"derivatives/{m}/{anat}_desc-regions_dseg.nii.gz" for m in methods})
        region_paths = {}
        for key, pattern in regions.items():
            paths = {
                pid: base / pattern.format(participant_id=pid) for pid in table["participant_id"]
            }
            present = {pid: p for pid, p in paths.items() if p.is_file()}
            if present:
                region_paths[key] = present
        image_pattern = f"{anat}_T2w.nii.gz"
        images = {
            pid: base / image_pattern.format(participant_id=pid) for pid in table["participant_id"]
        }
        return cls(
            participants=table,
            labels={
                m: {pid: base / p.format(participant_id=pid) for pid in table["participant_id"]}
                for m, p in labels.items()
            },
            regions=region_paths,
            images={pid: p for pid, p in images.items() if p.is_file()},
            scheme=scheme,
            region_scheme=region_scheme,
            root=base,
            check=check,
        )

    @staticmethod
    def _discover_methods(base: Path, subjects: Sequence[str]) -> dict[str, str]:
        """Method -> path pattern, from the files of the first subjects and derivatives/."""
        found: dict[str, str] = {}
        anat = "sub-{participant_id}/anat/sub-{participant_id}"
        for pid in subjects:
            folder = base / f"sub-{pid}" / "anat"
            if not folder.is_dir():
                continue
            for entry in sorted(folder.iterdir()):
                match = _RAW_DSEG.match(entry.name)
                if match and match["desc"] != "regions":
                    ext = entry.name[entry.name.index(".nii") :]
                    found.setdefault(match["desc"], f"{anat}_desc-{match['desc']}_dseg{ext}")
        deriv = base / "derivatives"
        if deriv.is_dir():
            for entry in sorted(deriv.iterdir()):
                if not (entry.is_dir() and _METHOD_RE.fullmatch(entry.name)):
                    continue
                pattern = f"derivatives/{entry.name}/{anat}_dseg.nii.gz"
                # A folder holding only parcellations of a method that came with the data
                # (derivatives/original/) is not a method of its own.
                if any((base / pattern.format(participant_id=pid)).is_file() for pid in subjects):
                    found.setdefault(entry.name, pattern)
        return found
