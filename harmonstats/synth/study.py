"""Write a synthetic two-cohort neonatal study with known truth as a BIDS dataset.

Layout (paths from :mod:`harmonstats.layout`; ``<scan>`` is ``sub-<label>[_ses-<label>]``)::

    STUDY/
      dataset_description.json, README, .bidsignore
      participants.tsv, participants.json           (participant_id = sub-<label>)
      truth.tsv, truth.json          (true thickness and volumes per scan; the generative
                                      coefficients, the acquisition settings, each scan's
                                      original-label bias; listed in .bidsignore)
      sub-<label>/sub-<label>_sessions.tsv          (with ``rescanned``: PMA at scan per session)
      sub-<label>[/ses-<label>]/anat/<scan>_T2w.nii.gz
      derivatives/harmonstats-synth/                (the label maps: a BIDS-Derivatives dataset)
        dataset_description.json, dseg.tsv, desc-regions_dseg.tsv
        sub-<label>[/ses-<label>]/anat/<scan>_desc-original_dseg.nii.gz
        sub-<label>[/ses-<label>]/anat/<scan>_desc-truth_dseg.nii.gz
        sub-<label>[/ses-<label>]/anat/<scan>_desc-regions_dseg.nii.gz

The label maps are not raw data, so they live in derivatives, as a dHCP release keeps its
Draw-EM maps; :class:`~harmonstats.cohort.Cohort` finds them there as the methods ``original``
and ``truth`` and the study's regions. With ``rescanned`` > 0 every subject has sessions
(``ses-01``; ``ses-02`` for the rescanned, a few weeks later) and PMA at scan moves from
``participants.tsv`` to the sessions tables.

Randomness: ``numpy.random.SeedSequence(seed)`` spawns one stream for the demographics and one
per subject, so a subject's files do not depend on how many processes (``jobs``) wrote them or
in which order: the same seed gives the same bytes. Every file is written atomically and the
tables last, so an interrupted run never leaves a ``participants.tsv`` that lists missing images.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from harmonstats.errors import InputError
from harmonstats.io import atomic_path, save_nifti, write_table
from harmonstats.labels import TISSUES
from harmonstats.layout import Scan, dataset_root, derivative_path, raw_path, sessions_path
from harmonstats.layout.derivatives import (
    generated_by,
    write_dataset_description,
    write_dseg_tables,
)
from harmonstats.synth.acquisition import DOMAINS, ORIGINAL_BIAS
from harmonstats.synth.demographics import (
    PARTICIPANT_COLUMNS,
    SOURCE_PRETERM_SHARE,
    draw_participants,
)
from harmonstats.synth.model import (
    REGION_NAMES,
    LanguageModel,
    ThicknessModel,
    generative_coefficients,
)
from harmonstats.synth.subject import SubjectSpec, check_grid, synthesize_subject

__all__ = ["LABELS_DATASET", "TRUTH_COLUMNS", "synthesize_study"]

#: The derivatives dataset holding a synthetic study's label maps.
LABELS_DATASET = "harmonstats-synth"

_TISSUE_NAMES = [name for value, name in sorted(TISSUES.items()) if value]

#: Column -> description/units of ``truth.tsv``.
TRUTH_COLUMNS: dict[str, Any] = {
    "participant_id": {"Description": "participant ID, sub-<label>"},
    "session_id": {"Description": "session ID, ses-<label> (n/a in a study without sessions)"},
    "cohort": {"Description": "acquisition domain (source/target)"},
    "thickness_mean": {"Description": "true mean cortical thickness (cortex-area-weighted mean "
                                      "of the regional thicknesses)", "Units": "mm"},
    **{f"thickness_{r}": {"Description": f"true cortical thickness, {r}", "Units": "mm"}
       for r in REGION_NAMES},
    **{f"volume_{t}": {"Description": f"volume of {t} in the truth labels", "Units": "mm3"}
       for t in _TISSUE_NAMES},
    "icv": {"Description": "intracranial volume: all non-background truth voxels",
            "Units": "mm3"},
}

_OUR_FILES = ("participants.tsv", "participants.json", "truth.tsv", "truth.json",
              "dataset_description.json", "README", ".bidsignore")
#: Sidecar of the sessions tables.
SESSION_COLUMNS: dict[str, Any] = {
    "session_id": {"Description": "session ID, ses-<label>"},
    "pma_scan": {"Description": "postmenstrual age at scan", "Units": "weeks"},
}
_README = """harmonstats synthetic neonatal two-cohort study

Synthetic T2w images of two acquisition domains (a dHCP-like source cohort and an ePrime-like
target cohort), written by harmonstats.synth with known truth. The label maps (the cohorts'
'original' segmentations, the 'truth' and the cortical regions) are in
derivatives/harmonstats-synth/; truth.tsv and truth.json hold the true measures and the
generative model.
"""


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise InputError(f"{name} must be >= 1, got {value}")
    return int(value)


def _prepare_folder(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a folder")
    if not out.exists():
        return
    ours = [out / f for f in _OUR_FILES if (out / f).exists()]
    subjects = sorted(p for p in out.glob("sub-*") if p.is_dir())
    if not ours and not subjects:
        return
    if not overwrite:
        raise InputError(
            f"{out} already holds a study ({len(subjects)} sub-* folders); refusing to write "
            "over it: choose another folder or pass overwrite=True (--overwrite)"
        )
    for path in subjects:
        shutil.rmtree(path)
    for path in ours:
        path.unlink()
    labels = dataset_root(out, LABELS_DATASET)
    if labels.exists():
        shutil.rmtree(labels)


def _write_subject(spec: SubjectSpec, seed: np.random.SeedSequence, scan: Scan, out: Path,
                   shape: int, spacing: float) -> tuple[dict[str, Any], float]:
    vol = synthesize_subject(spec, shape=shape, spacing=spacing, seed=seed)
    save_nifti(vol.t2w, vol.affine, out / raw_path(scan, "T2w"))
    for desc, arr in (("original", vol.original), ("truth", vol.truth),
                      ("regions", vol.regions)):
        save_nifti(arr, vol.affine, out / derivative_path(LABELS_DATASET, scan, desc=desc))
    row: dict[str, Any] = {"participant_id": scan.participant_id,
                           "session_id": scan.session_id, "cohort": spec.cohort,
                           "thickness_mean": round(vol.thickness_mean, 4)}
    row.update({f"thickness_{r}": round(v, 4) for r, v in vol.thickness.items()})
    row.update({f"volume_{t}": round(vol.volumes[t], 3) for t in _TISSUE_NAMES})
    row["icv"] = round(vol.volumes["icv"], 3)
    return row, round(vol.original_bias, 4)


_Task = tuple[SubjectSpec, np.random.SeedSequence, Scan]


def _run(tasks: list[_Task], out: Path, shape: int, spacing: float,
         jobs: int) -> Iterator[tuple[dict[str, Any], float]]:
    if jobs == 1:
        return (_write_subject(spec, ss, scan, out, shape, spacing) for spec, ss, scan in tasks)
    parallel = Parallel(n_jobs=jobs, return_as="generator")
    return parallel(delayed(_write_subject)(spec, ss, scan, out, shape, spacing)
                    for spec, ss, scan in tasks)


def _sessions(participants: pd.DataFrame, rescanned: float,
              rng: np.random.Generator) -> pd.DataFrame:
    """One row per scan: ``ses-01`` for everyone, ``ses-02`` 2-6 weeks later for a share."""
    if rescanned == 0:
        return participants.assign(session_id=None)
    n = len(participants)
    again = np.zeros(n, dtype=bool)
    again[rng.permutation(n)[: round(rescanned * n)]] = True
    # At most 50 weeks, the oldest brain the generator models (first scans are <= 46 weeks).
    later = np.round(np.minimum(participants["pma_scan"].to_numpy()
                                + rng.uniform(2.0, 6.0, n), 50.0), 2)
    first = participants.assign(session_id="ses-01")
    second = participants[again].assign(session_id="ses-02", pma_scan=later[again])
    scans = pd.concat([first, second]).reset_index().sort_values(["index", "session_id"])
    return scans.drop(columns="index").reset_index(drop=True)


def _write_tables(out: Path, participants: pd.DataFrame, scans: pd.DataFrame) -> None:
    table = participants.assign(
        participant_id=[Scan.of(p).participant_id for p in participants["participant_id"]])
    if scans["session_id"].notna().any():
        for pid, rows in scans.groupby("participant_id", sort=False):
            write_table(rows[list(SESSION_COLUMNS)], out / sessions_path(pid), SESSION_COLUMNS)
        table = table.drop(columns="pma_scan")
    write_table(table, out / "participants.tsv",
                {k: v for k, v in PARTICIPANT_COLUMNS.items() if k in table.columns})


def synthesize_study(
    out: str | os.PathLike[str],
    *,
    n_source: int = 40,
    n_target: int = 40,
    shape: int = 64,
    spacing: float = 0.5,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    overwrite: bool = False,
    source_preterm_share: float = SOURCE_PRETERM_SHARE,
    language: LanguageModel | None = None,
    rescanned: float = 0.0,
) -> Path:
    """Write a synthetic two-cohort study with known truth (layout in the module docstring).

    Parameters
    ----------
    out : path-like
        Study folder; created if missing. A folder that already holds a study (``sub-*``
        folders or the tables below) is refused unless ``overwrite``, which first deletes the
        ``sub-*`` folders and the tables this function writes; ``derivatives/`` is left alone.
    n_source, n_target : int
        Numbers of subjects of the source (dHCP-like) and target (ePrime-like) cohorts (>= 1).
    shape : int
        Voxels per side of the cubic grid (>= 32).
    spacing : float
        Voxel size (mm); ``shape * spacing`` must be >= 28 mm.
    seed : int
        Seed of everything random; the same seed writes the same bytes.
    jobs : int
        Worker processes (joblib); the output does not depend on it.
    progress : bool
        Show a progress bar (one step per subject).
    overwrite : bool
        Replace an existing study in ``out``.
    source_preterm_share : float
        Share of preterm-born subjects in the source cohort outside its test split (the
        dHCP-like default is mostly term-born); recorded in ``truth.json``.
    language : LanguageModel, optional
        Model of the language outcome (default :class:`LanguageModel`); recorded in
        ``truth.json``.
    rescanned : float
        Share of subjects scanned twice (in [0, 1]). Above 0, every subject has sessions
        (``ses-01``, and ``ses-02`` 2 to 6 weeks later for the rescanned: the same brain,
        older) and PMA at scan is in each subject's ``sub-<label>_sessions.tsv``.

    Returns
    -------
    pathlib.Path
        The study folder. Its ``participants.tsv`` has the columns of
        :data:`~harmonstats.synth.demographics.PARTICIPANT_COLUMNS` (IDs ``sub-<label>``;
        without ``pma_scan`` when there are sessions) and ``truth.tsv`` those of
        :data:`TRUTH_COLUMNS`, one row per scan.
    """
    n_source = _check_count("n_source", n_source)
    n_target = _check_count("n_target", n_target)
    shape, spacing = check_grid(shape, spacing)
    jobs = _check_count("jobs", jobs)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0.0 <= rescanned <= 1.0:
        raise InputError(f"rescanned must lie in [0, 1], got {rescanned!r}")
    out = Path(out)
    _prepare_folder(out, overwrite)

    # A third stream for the sessions: the first two, and so a study without sessions, are
    # those of earlier versions.
    demo_seq, subject_seq, session_seq = np.random.SeedSequence(int(seed)).spawn(3)
    language = language or LanguageModel()
    participants = draw_participants(n_source, n_target, np.random.default_rng(demo_seq),
                                     language=language,
                                     source_preterm_share=source_preterm_share)
    scans = _sessions(participants, float(rescanned), np.random.default_rng(session_seq))
    seeds = dict(zip(participants["participant_id"], subject_seq.spawn(len(participants)),
                     strict=True))
    # Every session of a subject uses the subject's stream: the same brain at another age.
    tasks = [(SubjectSpec(r.participant_id, r.cohort, float(r.ga_birth), float(r.pma_scan),
                          r.sex), seeds[r.participant_id], Scan.of(r.participant_id, r.session_id))
             for r in scans.itertuples(index=False)]
    results = list(tqdm(_run(tasks, out, shape, spacing, jobs), total=len(tasks),
                        desc="synth", unit="scan", disable=not progress))
    rows = [row for row, _bias in results]

    extra = {
        "seed": int(seed), "shape": shape, "spacing_mm": spacing,
        "source_preterm_share": float(source_preterm_share),
        "original_bias_mm": {k: {"mean": m, "sd": s} for k, (m, s) in ORIGINAL_BIAS.items()},
        "original_bias_mm_by_subject": {Scan.of(row["participant_id"], row["session_id"]).key:
                                        bias for row, bias in results},
        "domains": {name: vars(d) for name, d in DOMAINS.items()},
        "note": "The brain is scaled to the field of view (a 32 mm field holds a brain about a "
                "third of a real term brain); cortical thickness and CSF gaps keep real mm.",
    }
    write_table(pd.DataFrame(rows, columns=list(TRUTH_COLUMNS)), out / "truth.tsv",
                TRUTH_COLUMNS,
                metadata={"GenerativeModel": generative_coefficients(
                    ThicknessModel(), language, extra)})
    _write_tables(out, participants, scans)
    synth = generated_by("harmonstats.synth", description="synthetic neonatal brains with "
                         "known truth (harmonstats)")
    labels = dataset_root(out, LABELS_DATASET)
    write_dataset_description(labels, name="harmonstats synthetic study: label maps",
                              generated=[synth], links={"raw": "../.."})
    write_dseg_tables(labels)
    with atomic_path(out / "README") as tmp:
        tmp.write_text(_README)
    with atomic_path(out / ".bidsignore") as tmp:
        tmp.write_text("truth.tsv\ntruth.json\n")
    write_dataset_description(out, name="harmonstats synthetic neonatal two-cohort study",
                              dataset_type="raw", generated=[synth])
    return out
