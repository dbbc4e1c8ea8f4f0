"""Cohorts: a participants table plus, for each method, where each scan's label map lives.

A :class:`Cohort` is built from a BIDS study folder (:meth:`Cohort.from_bids`) or from path
patterns (:meth:`Cohort.from_patterns`), and is validated on construction: every problem is
reported with the subject, the file and what is wrong. It is the one object the models,
measures and report layers take. The files it finds, and where, are those of the study layout
(:mod:`harmonstats.layout`).

A cohort's unit is the *scan* (:class:`harmonstats.layout.Scan`): one subject at one session.
Its participants table has one row per scan, ``participant_id`` as ``sub-<label>`` and
``session_id`` as ``ses-<label>`` (missing in a study without sessions).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmonstats.errors import InputError
from harmonstats.io import load_nifti
from harmonstats.labels import LabelScheme, get_scheme
from harmonstats.layout import (
    PARTICIPANTS,
    Scan,
    check_participants,
    expand_paths,
    find_study_files,
    method_name,
    read_scans,
    scans_of,
)

__all__ = ["Cohort", "check_images", "check_scan_files"]

_AFFINE_TOL = 1e-3

ScanKey = Scan | str
# Scan (or scan key) -> path; keys are Scan objects once a Cohort holds them.
ScanPaths = Mapping[Any, Path]


def check_scan_files(scan: Scan | str,
                     files: Sequence[tuple[str, str | os.PathLike[str], LabelScheme | None]]
                     ) -> None:
    """Check one scan's files: each reads as a 3D NIfTI volume, all share one grid (shape and
    affine), images hold finite intensities and label maps the labels of their scheme.

    Parameters
    ----------
    scan : Scan or str
        The scan, for messages.
    files : sequence of (what, path, scheme)
        What each file is (``T2w image``, ``label map (original)``...), its path, and its
        label scheme (None for an intensity image).

    Raises
    ------
    FileNotFoundError
        If a file is missing.
    InputError
        Naming the scan, the file and the problem.
    """
    ref_shape: tuple[int, ...] | None = None
    ref_affine = np.eye(4)
    ref_name = ""
    for what, path, scheme in files:
        desc = f"{scan} {what}"
        img = load_nifti(path, what=desc)
        if ref_shape is None:
            ref_shape, ref_affine, ref_name = img.shape, img.affine, str(path)
        elif img.shape != ref_shape:
            raise InputError(
                f"{desc}: shape {img.shape} of {path} differs from {ref_shape} of {ref_name}"
            )
        elif not np.allclose(img.affine, ref_affine, atol=_AFFINE_TOL):
            raise InputError(f"{desc}: affine of {path} differs from that of {ref_name}")
        data = np.asanyarray(img.dataobj)
        if scheme is None:
            finite = np.isfinite(data)
            if not finite.all():
                raise InputError(f"{desc}: {path} holds {int((~finite).sum())} NaN or "
                                 "infinite voxel(s)")
            continue
        if not np.issubdtype(data.dtype, np.integer) and not np.allclose(data, np.rint(data)):
            raise InputError(f"{desc}: {path} holds non-integer label values")
        bad = scheme.invalid_labels(np.rint(data).astype(np.int64))
        if bad:
            raise InputError(
                f"{desc}: {path} holds labels {bad[:10]} outside label scheme {scheme.name!r}"
            )


def check_images(images: Mapping[Any, str | os.PathLike[str]]) -> None:
    """Check T2w images before any is segmented (see :func:`check_scan_files`).

    Raises
    ------
    FileNotFoundError
        Naming the first scan whose image is missing.
    InputError
        Naming the scan and file of an unreadable, non-3D or non-finite image.
    """
    for scan, path in images.items():
        if not Path(path).is_file():
            raise FileNotFoundError(f"{scan}: T2w image not found: {path}")
        check_scan_files(scan, [("T2w image", path, None)])


def _scan_map(paths: Mapping[Any, str | os.PathLike[str]]) -> dict[Scan, Path]:
    return {Scan.parse(k): Path(v) for k, v in paths.items()}


@dataclass
class Cohort:
    """Participants plus per-method label maps, validated.

    Parameters
    ----------
    participants : pandas.DataFrame
        Participants table, one row per scan (see :data:`REQUIRED_COLUMNS`); validated with
        :func:`check_participants`.
    labels : mapping
        Method -> scan -> path of its tissue label map. A scan is a
        :class:`~harmonstats.layout.Scan` or its key (``sub-X``, ``sub-X_ses-Y``, or a bare
        subject label).
    regions : mapping, optional
        Method -> scan -> path of a cortical region map. The key ``""`` holds the study's own
        region maps, used for methods that have none of their own.
    images : mapping, optional
        Scan -> path of the T2w image.
    scheme, region_scheme : str or LabelScheme
        Label schemes of the tissue and region maps.
    root : path, optional
        The study folder, if any.
    check : bool
        Validate every file on construction (existence, readability, 3D, shape and affine
        agreement with the scan's other files, labels within the scheme).
    """

    participants: pd.DataFrame
    labels: Mapping[str, ScanPaths]
    regions: Mapping[str, ScanPaths] = field(default_factory=dict)
    images: ScanPaths = field(default_factory=dict)
    scheme: LabelScheme | str = "tissues7"
    region_scheme: LabelScheme | str = "regions11"
    root: Path | None = None
    check: bool = True

    def __post_init__(self) -> None:
        self.participants = check_participants(self.participants)
        self.scheme = get_scheme(self.scheme, kind="tissue")
        self.region_scheme = get_scheme(self.region_scheme, kind="region")
        if not self.labels:
            raise InputError("cohort has no methods (no label maps were found or given)")
        self.labels = {method_name(m): _scan_map(p) for m, p in self.labels.items()}
        self.regions = {k: _scan_map(p) for k, p in self.regions.items()}
        self.images = _scan_map(self.images)
        scans = set(self.scans)
        for method, paths in self.labels.items():
            missing = [str(s) for s in self.scans if s not in paths]
            if missing:
                raise InputError(f"method {method!r}: no label map for participants {missing[:10]}")
            extra = sorted(str(s) for s in set(paths) - scans)
            if extra:
                raise InputError(
                    f"method {method!r}: label maps for unknown participants {extra[:10]}"
                )
        if self.check:
            self.validate()

    @property
    def scans(self) -> list[Scan]:
        """The scans (subject-sessions), in table order."""
        return scans_of(self.participants)

    @property
    def subjects(self) -> list[str]:
        """Participant IDs (``sub-<label>``), each once, in table order."""
        return list(dict.fromkeys(self.participants["participant_id"]))

    @property
    def methods(self) -> list[str]:
        """Names of the methods with label maps."""
        return list(self.labels)

    def _scan(self, scan: ScanKey) -> Scan:
        key = Scan.parse(scan)
        if key in self.images or any(key in p for p in self.labels.values()):
            return key
        sessions = [s for s in self.scans if s.subject == key.subject]
        if key.session is None and len(sessions) == 1:
            return sessions[0]
        if sessions:
            raise InputError(f"{key} has sessions {[s.session_id for s in sessions]}: "
                             "name the scan as sub-<label>_ses-<label>")
        raise InputError(f"unknown participant {str(scan)!r}")

    def label_path(self, method: str, scan: ScanKey) -> Path:
        """Path of a scan's tissue label map for ``method``."""
        if method not in self.labels:
            raise InputError(f"unknown method {method!r}; cohort has {self.methods}")
        return Path(self.labels[method][self._scan(scan)])

    def region_path(self, method: str, scan: ScanKey) -> Path | None:
        """Region map for ``method`` (its own, else the study's), or None if there is none."""
        key = self._scan(scan)
        for name in (method, ""):
            path = self.regions.get(name, {}).get(key)
            if path is not None:
                return Path(path)
        return None

    def image_path(self, scan: ScanKey) -> Path | None:
        """Path of the scan's T2w image, if known."""
        path = self.images.get(self._scan(scan))
        return Path(path) if path is not None else None

    def row(self, scan: ScanKey) -> pd.Series:
        """The participants-table row of a scan."""
        key = self._scan(scan)
        return self.participants.iloc[self.scans.index(key)]

    def spacing(self, scan: ScanKey) -> tuple[float, float, float]:
        """Voxel size in mm of the scan's first label map (from the NIfTI header)."""
        img = load_nifti(self.label_path(self.methods[0], scan))
        zooms = img.header.get_zooms()[:3]
        return (float(zooms[0]), float(zooms[1]), float(zooms[2]))

    def subset(self, methods: Sequence[str]) -> Cohort:
        """A cohort restricted to some methods (no re-validation of files)."""
        unknown = [m for m in methods if m not in self.labels]
        if unknown:
            raise InputError(f"unknown method(s) {unknown}; cohort has {self.methods}")
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
        """Check every file; raise ValueError/FileNotFoundError naming scan, file and problem."""
        tissue = get_scheme(self.scheme)
        region = get_scheme(self.region_scheme, kind="region")
        for method in self.methods:
            missing = [s for s in self.scans if not self.label_path(method, s).is_file()]
            if missing:
                raise FileNotFoundError(
                    f"{missing[0]} label map ({method}): file not found: "
                    f"{self.label_path(method, missing[0])} (method {method!r} has no label map "
                    f"for {len(missing)} of {len(self.scans)} subjects; if a segmentation was "
                    "interrupted, rerun it or remove that method's files)"
                )
        for scan in self.scans:
            self._validate_scan(scan, tissue, region)

    def _validate_scan(self, scan: Scan, tissue: LabelScheme, region: LabelScheme) -> None:
        files: list[tuple[str, Path, LabelScheme | None]] = []
        image = self.image_path(scan)
        if image is not None:
            files.append(("T2w image", image, None))
        for method in self.methods:
            files.append((f"label map ({method})", self.label_path(method, scan), tissue))
        for key, paths in self.regions.items():
            if scan in paths:
                files.append((f"region map ({key or 'study'})", Path(paths[scan]), region))
        check_scan_files(scan, files)

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
        sessions: str | None = None,
        check: bool = True,
    ) -> Cohort:
        """Build a cohort from path patterns.

        A pattern is a path holding ``{participant_id}`` (and optionally ``{session_id}`` or
        any participants column such as ``{cohort}``), relative to ``root`` unless absolute.
        ``{participant_id}`` and ``{session_id}`` expand to the labels, without ``sub-`` and
        ``ses-`` (:func:`harmonstats.layout.expand_pattern`). Use method ``""`` in ``regions``
        for region maps shared by all methods.

        Parameters
        ----------
        participants : DataFrame or path
            Participants table; with a ``root``, each subject's sessions table is read too
            (see :func:`harmonstats.layout.read_scans`).
        sessions : str, optional
            Pattern of the subjects' sessions tables (default: the BIDS place).

        Examples
        --------
        >>> Cohort.from_patterns(  # doctest: +SKIP
        ...     "study/participants.tsv",
        ...     labels={"original": "sub-{participant_id}/anat/drawem9.nii.gz"},
        ...     root="study", scheme="drawem9")
        """
        base = Path(root) if root is not None else None
        raw, source = read_scans(base, participants=participants, sessions=sessions)
        table = check_participants(raw, source=source)

        def expand(pattern: str) -> dict[Scan, Path]:
            return expand_paths(pattern, table, base)

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
        participants: str | os.PathLike[str] = PARTICIPANTS,
        scheme: LabelScheme | str = "tissues7",
        region_scheme: LabelScheme | str = "regions11",
        check: bool = True,
    ) -> Cohort:
        """Discover a BIDS study folder (layout in :mod:`harmonstats.layout`).

        Parameters
        ----------
        root : path
            The study folder.
        methods : sequence of str, optional
            Methods to load; default: every method found (``desc-<method>_dseg`` maps other
            than ``regions``, and every model dataset of ``derivatives/``), ``original`` and
            ``truth`` first.
        participants : path
            Participants table, relative to ``root`` unless absolute; each subject's
            ``sub-<label>_sessions.tsv`` is read beside it.
        """
        base = Path(root)
        if not base.is_dir():
            raise FileNotFoundError(f"study folder not found: {base}")
        raw, source = read_scans(base, participants=participants)
        table = check_participants(raw, source=source)
        found = find_study_files(base, scans_of(table))
        if methods is None:
            methods = sorted(found.labels, key=lambda m: (m not in ("original", "truth"), m))
        unknown = [m for m in methods if m not in found.labels]
        if unknown:
            raise InputError(
                f"method(s) {unknown} not found in {base}; found {sorted(found.labels) or 'none'}"
            )
        return cls(
            participants=table,
            labels={m: found.labels[m] for m in methods},
            regions={k: v for k, v in found.regions.items() if k == "" or k in methods},
            images=found.images,
            scheme=scheme,
            region_scheme=region_scheme,
            root=base,
            check=check,
        )
