"""Write a synthetic two-cohort neonatal study with known truth as a BIDS-like folder.

Layout::

    STUDY/
      dataset_description.json
      participants.tsv, participants.json
      truth.tsv, truth.json          (true thickness and volumes; the generative coefficients,
                                      the acquisition settings, each subject's original-label
                                      bias)
      sub-<id>/anat/sub-<id>_T2w.nii.gz
      sub-<id>/anat/sub-<id>_desc-original_dseg.nii.gz
      sub-<id>/anat/sub-<id>_desc-truth_dseg.nii.gz
      sub-<id>/anat/sub-<id>_desc-regions_dseg.nii.gz
      sub-<id>/anat/sub-<id>_desc-thickness.nii.gz   (true cortical thickness of each voxel of
                                                      the true cortical GM, mm; 0 elsewhere)
      sub-<id>/anat/sub-<id>_desc-touching_mask.nii.gz   (true cortical GM on banks that touch
                                                          the opposite bank: 1, else 0)

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

from harmonstats import __version__
from harmonstats.io import save_nifti, write_json, write_table
from harmonstats.labels import TISSUES
from harmonstats.synth.acquisition import DOMAINS, ORIGINAL_BIAS
from harmonstats.synth.demographics import (
    PARTICIPANT_COLUMNS,
    SOURCE_PRETERM_SHARE,
    draw_participants,
)
from harmonstats.synth.folding import Folding
from harmonstats.synth.model import (
    REGION_NAMES,
    LanguageModel,
    ThicknessModel,
    generative_coefficients,
)
from harmonstats.synth.subject import SubjectSpec, check_grid, synthesize_subject

__all__ = ["TRUTH_COLUMNS", "synthesize_study"]

_TISSUE_NAMES = [name for value, name in sorted(TISSUES.items()) if value]

#: Column -> description/units of ``truth.tsv``.
TRUTH_COLUMNS: dict[str, Any] = {
    "participant_id": {"Description": "participant label (no 'sub-' prefix)"},
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
              "dataset_description.json")


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def _prepare_folder(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"output {out} exists and is not a folder")
    if not out.exists():
        return
    ours = [out / f for f in _OUR_FILES if (out / f).exists()]
    subjects = sorted(p for p in out.glob("sub-*") if p.is_dir())
    if not ours and not subjects:
        return
    if not overwrite:
        raise ValueError(
            f"{out} already holds a study ({len(subjects)} sub-* folders); refusing to write "
            "over it: choose another folder or pass overwrite=True (--overwrite)"
        )
    for path in subjects:
        shutil.rmtree(path)
    for path in ours:
        path.unlink()


def _write_subject(spec: SubjectSpec, seed: np.random.SeedSequence, out: Path,
                   shape: tuple[int, int, int], spacing: float, size: str,
                   folding: Folding | None) -> tuple[dict[str, Any], float]:
    vol = synthesize_subject(spec, shape=shape, spacing=spacing, seed=seed, size=size,
                             folding=folding)
    pid = spec.participant_id
    anat = out / f"sub-{pid}" / "anat"
    save_nifti(vol.t2w, vol.affine, anat / f"sub-{pid}_T2w.nii.gz")
    for desc, arr in (("original", vol.original), ("truth", vol.truth),
                      ("regions", vol.regions)):
        save_nifti(arr, vol.affine, anat / f"sub-{pid}_desc-{desc}_dseg.nii.gz")
    save_nifti(vol.thickness_map, vol.affine, anat / f"sub-{pid}_desc-thickness.nii.gz")
    save_nifti(vol.touching.astype(np.uint8), vol.affine,
               anat / f"sub-{pid}_desc-touching_mask.nii.gz")
    row: dict[str, Any] = {"participant_id": pid, "cohort": spec.cohort,
                           "thickness_mean": round(vol.thickness_mean, 4)}
    row.update({f"thickness_{r}": round(v, 4) for r, v in vol.thickness.items()})
    row.update({f"volume_{t}": round(vol.volumes[t], 3) for t in _TISSUE_NAMES})
    row["icv"] = round(vol.volumes["icv"], 3)
    return row, round(vol.original_bias, 4)


def _run(tasks: list[tuple[SubjectSpec, np.random.SeedSequence]], out: Path,
         shape: tuple[int, int, int], spacing: float, jobs: int, size: str,
         folding: Folding | None) -> Iterator[tuple[dict[str, Any], float]]:
    args = (out, shape, spacing, size, folding)
    if jobs == 1:
        return (_write_subject(spec, ss, *args) for spec, ss in tasks)
    parallel = Parallel(n_jobs=jobs, return_as="generator")
    return parallel(delayed(_write_subject)(spec, ss, *args) for spec, ss in tasks)


def synthesize_study(
    out: str | os.PathLike[str],
    *,
    n_source: int = 40,
    n_target: int = 40,
    shape: int | tuple[int, int, int] = 64,
    spacing: float = 0.5,
    seed: int = 0,
    jobs: int = 1,
    progress: bool = True,
    overwrite: bool = False,
    source_preterm_share: float = SOURCE_PRETERM_SHARE,
    language: LanguageModel | None = None,
    size: str = "fov",
    folding: Folding | None = None,
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
    shape : int or tuple of 3 int
        Voxels per side of a cubic grid, or along x, y, z (each >= 32).
    spacing : float
        Voxel size (mm); the smallest side of the field of view must be >= 28 mm.
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
    size : {"fov", "real"}
        Brains scaled to the field of view (default), or at real neonatal size, e.g. in
        ``shape=(256, 256, 200)`` at 0.5 mm (:func:`~harmonstats.synth.synthesize_subject`).
    folding : Folding, optional
        How the cortex folds, e.g. the share of touching banks (default
        :class:`~harmonstats.synth.folding.Folding`); recorded in ``truth.json``.

    Returns
    -------
    pathlib.Path
        The study folder. Its ``participants.tsv`` has the columns of
        :data:`~harmonstats.synth.demographics.PARTICIPANT_COLUMNS` and ``truth.tsv`` those of
        :data:`TRUTH_COLUMNS`.
    """
    n_source = _check_count("n_source", n_source)
    n_target = _check_count("n_target", n_target)
    shape, spacing = check_grid(shape, spacing)
    jobs = _check_count("jobs", jobs)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if size not in ("fov", "real"):
        raise ValueError(f"size must be 'fov' or 'real', got {size!r}")
    folding = folding or Folding()
    out = Path(out)
    _prepare_folder(out, overwrite)

    demo_seq, subject_seq = np.random.SeedSequence(int(seed)).spawn(2)
    language = language or LanguageModel()
    participants = draw_participants(n_source, n_target, np.random.default_rng(demo_seq),
                                     language=language,
                                     source_preterm_share=source_preterm_share)
    specs = [SubjectSpec(r.participant_id, r.cohort, float(r.ga_birth), float(r.pma_scan), r.sex)
             for r in participants.itertuples(index=False)]
    tasks = list(zip(specs, subject_seq.spawn(len(specs)), strict=True))
    results = list(tqdm(_run(tasks, out, shape, spacing, jobs, size, folding),
                        total=len(tasks),
                        desc="synth", unit="subject", disable=not progress))
    rows = [row for row, _bias in results]

    extra = {
        "seed": int(seed), "shape": list(shape), "spacing_mm": spacing, "size": size,
        "folding": vars(folding),
        "source_preterm_share": float(source_preterm_share),
        "original_bias_mm": {k: {"mean": m, "sd": s} for k, (m, s) in ORIGINAL_BIAS.items()},
        "original_bias_mm_by_subject": {row["participant_id"]: bias for row, bias in results},
        "domains": {name: vars(d) for name, d in DOMAINS.items()},
        "note": "size 'fov': the brain is scaled to the field of view (a 32 mm field holds a "
                "brain 0.229 times a real term brain); size 'real': real neonatal size. "
                "Cortical thickness and CSF gaps keep real mm. desc-thickness maps hold each "
                "cortical voxel's true thickness (mm).",
    }
    write_table(pd.DataFrame(rows, columns=list(TRUTH_COLUMNS)), out / "truth.tsv",
                TRUTH_COLUMNS,
                metadata={"GenerativeModel": generative_coefficients(
                    ThicknessModel(), language, extra)})
    write_table(participants, out / "participants.tsv", PARTICIPANT_COLUMNS)
    write_json({"Name": "harmonstats synthetic neonatal two-cohort study",
                "BIDSVersion": "1.9.0", "DatasetType": "raw",
                "GeneratedBy": [{"Name": "harmonstats.synth", "Version": __version__}]},
               out / "dataset_description.json")
    return out
