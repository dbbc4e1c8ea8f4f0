"""From a study YAML to a validated :class:`~harmonstats.pipeline.run.StudyRun`.

All input problems are found here, before anything is measured or written: a missing file, a
participants table lacking a column, a method whose label maps are absent. Each is raised as one
ValueError/FileNotFoundError naming the file, column or method.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from harmonstats.cohort import Cohort, check_images
from harmonstats.config import StudyConfig, load_study_config
from harmonstats.errors import InputError
from harmonstats.layout import (
    REGIONS_DESC,
    Scan,
    check_participants,
    derivative_path,
    expand_paths,
    read_scans,
    scans_of,
)
from harmonstats.pipeline.run import StudyRun
from harmonstats.pipeline.segment import SegmentPlan

__all__ = ["read_participants", "study_run"]


def read_participants(config: StudyConfig, base: str | os.PathLike[str]) -> tuple[pd.DataFrame,
                                                                                   Path]:
    """The participants of a study, one row per scan, in harmonstats' names and validated.

    The table named by ``participants.table`` is joined with each subject's sessions table
    (``participants.sessions``, by default the BIDS ``sub-<label>/sub-<label>_sessions.tsv``
    where present); ``participants.columns`` renames the columns of both.

    Raises
    ------
    FileNotFoundError
        If the table does not exist.
    ValueError
        If a column named in ``participants.columns`` is in neither table (see
        :func:`harmonstats.layout.read_scans`), a required column is missing, or the table
        fails :func:`harmonstats.layout.check_participants`.
    """
    path = config.resolve(config.participants.table, base)
    root = config.resolve(".", base)
    mapping = config.participants.columns
    raw, source = read_scans(root, participants=path, sessions=config.participants.sessions,
                             columns=mapping)
    table = check_participants(raw, source=source)
    cohorts = sorted(table["cohort"].unique())
    include = config.cohorts.include
    if include is not None:
        unknown = [c for c in include if c not in cohorts]
        if unknown:
            raise InputError(f"{path.name}: cohorts.include names cohort(s) {unknown} not in "
                             f"the table; it has {cohorts}")
        table = table[table["cohort"].isin(include)].reset_index(drop=True)
    if config.cohorts.reference not in cohorts:
        raise InputError(f"{path.name}: reference cohort {config.cohorts.reference!r} not in "
                         f"the table; it has {cohorts}")
    if table["cohort"].nunique() < 2:
        raise InputError(f"{path.name}: need at least two cohorts to compare, found "
                         f"{sorted(table['cohort'].unique())}")
    return table, path


def _check_method_files(labels: Mapping[str, Mapping[Scan, Path]],
                        patterns: Mapping[str, str]) -> None:
    for method, paths in labels.items():
        found = sum(p.is_file() for p in paths.values())
        if found == 0:
            first = next(iter(paths.values()))
            raise FileNotFoundError(
                f"method {method!r}: no label maps found (0 of {len(paths)}) for pattern "
                f"{patterns[method]!r}, e.g. {first}"
            )


def study_run(
    source: str | os.PathLike[str] | StudyConfig,
    *,
    base: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
) -> StudyRun:
    """Validate a study YAML and its inputs into a :class:`StudyRun`.

    Parameters
    ----------
    source : path or StudyConfig
        The study YAML, or an already-validated configuration.
    base : path, optional
        Folder relative paths start from (default: the YAML's folder, else the working folder).
    jobs : int, optional
        Worker processes for measuring (default: ``measures.jobs`` of the YAML).

    Returns
    -------
    StudyRun
    """
    if isinstance(source, StudyConfig):
        config = source
        folder = Path(base) if base is not None else Path.cwd()
    else:
        config = load_study_config(source)
        folder = Path(base) if base is not None else Path(source).resolve().parent
    table, table_path = read_participants(config, folder)
    root = config.resolve(".", folder)
    models = {m: config.resolve(s.checkpoint, folder)
              for m, s in config.methods.items() if s.checkpoint is not None}
    seg = config.segmentation
    out = config.resolve(seg.out, folder)
    parcellation = config.resolve(seg.parcellation, folder) if seg.parcellation else None
    for what, path in [*((f"method {m!r}: checkpoint", p) for m, p in models.items()),
                       ("segmentation.parcellation", parcellation)]:
        if path is not None and not path.exists():
            raise FileNotFoundError(f"{what} not found: {path}")
    scans = scans_of(table)
    labels = {m: expand_paths(s.labels, table, root)
              for m, s in config.methods.items() if s.labels is not None}
    _check_method_files(labels, {m: str(s.labels) for m, s in config.methods.items()})
    regions = {m: expand_paths(s.regions, table, root)
               for m, s in config.methods.items() if s.regions}
    if config.labels.regions:
        regions[""] = expand_paths(config.labels.regions, table, root)
    images = expand_paths(config.labels.image, table, root) if config.labels.image else {}

    def load_cohort(with_models: bool) -> Cohort:
        labs, regs = dict(labels), dict(regions)
        if with_models:
            for m in models:
                labs[m] = {s: out / derivative_path(m, s) for s in scans}
                if parcellation is not None:
                    regs[m] = {s: out / derivative_path(m, s, desc=REGIONS_DESC)
                               for s in scans}
        return Cohort(participants=table, labels=labs, regions=regs, images=images,
                      scheme=config.labels.scheme, region_scheme=config.labels.region_scheme,
                      root=root)

    plan = None
    if models:
        check_images(images)
        plan = SegmentPlan(models=models, images=images, out=out, parcellation=parcellation,
                           device=seg.device, precision=seg.precision, scheduler=seg.scheduler,
                           load_cohort=lambda: load_cohort(True), source_root=root)
    return StudyRun(
        title=config.name,
        cohort=load_cohort(False) if labels else None,
        segment=plan,
        battery=config.analysis,
        thickness=config.measures.thickness,
        ground_truth=config.measures.ground_truth,
        jobs=jobs if jobs is not None else config.measures.jobs,
        config=config.model_dump(mode="json"),
        inputs=[table_path, *(p for p in models.values() if p.is_file()),
                *([parcellation] if parcellation is not None and parcellation.is_file() else [])],
    )
