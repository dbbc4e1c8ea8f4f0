"""The measures runner: every subject x method of a cohort, in parallel, cached, resumable.

Each (subject, method) is an independent task (:func:`.subject.measure_subject`).
Tasks run in worker processes (joblib/loky) with a progress bar, or on a Dask distributed
cluster given its scheduler address or a ``distributed.Client``. The calling process writes each
result to the on-disk cache as it arrives, so the cache folder need not be shared with a
cluster's workers, and a rerun after a kill recomputes only the tasks that had not finished.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from harmonstats import __version__
from harmonstats.errors import InputError
from harmonstats.io import write_table
from harmonstats.layout.tables import measure_names
from harmonstats.measures.cache import MeasureCache, task_key
from harmonstats.measures.subject import SubjectTask, measure_subject
from harmonstats.measures.thickness import DEFAULT_THICKNESS, thickness_params

__all__ = ["MEASURE_COLUMNS", "measure_cohort", "measure_names", "measure_study",
           "write_measures"]

#: Columns of the measures table and their descriptions.
MEASURE_COLUMNS: dict[str, dict[str, Any]] = {
    "participant_id": {"Description": "participant ID, sub-<label> (BIDS)"},
    "session_id": {"Description": "session ID, ses-<label> (BIDS; n/a if the study has no "
                                  "sessions)"},
    "cohort": {"Description": "cohort of the participant (e.g. source, target)"},
    "method": {"Description": "source of the segmentation (original, truth or a model name)"},
    "measure": {"Description": "volume_<tissue> and icv (mm3; icv = all non-background voxels), "
                "thickness_mean and thickness_<region> (mm; mean over cortical GM voxels, "
                "regions by nearest region voxel), dice_<tissue> (unitless, against the "
                "reference method; n/a when the tissue is absent in both maps)"},
    "value": {"Description": "value of the measure", "Units": "see column unit"},
    "unit": {"Description": "unit of the value", "Levels": {"mm3": "cubic millimetres",
                                                              "mm": "millimetres",
                                                              "1": "unitless"}}, }


def _tasks(cohort: Any, methods: Sequence[str], thickness: str,
           reference: str | None) -> list[SubjectTask]:
    out = []
    for scan in cohort.scans:
        for method in methods:
            ref = (cohort.label_path(reference, scan)
                   if reference is not None and method != reference else None)
            out.append(SubjectTask(
                scan=scan.key, method=method, labels=cohort.label_path(method, scan),
                regions=cohort.region_path(method, scan), reference=ref, thickness=thickness,
                scheme=cohort.scheme, region_scheme=cohort.region_scheme))
    return out


def _run_local(todo: list[SubjectTask], jobs: int) -> Iterator[tuple[int, Any]]:
    if jobs == 1 or len(todo) <= 1:
        for i, task in enumerate(todo):
            yield i, measure_subject(task)
        return
    from joblib import Parallel, delayed

    def indexed(i: int, task: SubjectTask) -> tuple[int, Any]:
        return i, measure_subject(task)

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
    yield from parallel(delayed(indexed)(i, t) for i, t in enumerate(todo))


def _run_dask(todo: list[SubjectTask], scheduler: Any) -> Iterator[tuple[int, Any]]:
    from harmonstats.cluster import connect, map_unordered

    with connect(scheduler) as client:
        yield from map_unordered(client, measure_subject, todo)


def measure_cohort(
    cohort: Any,
    *,
    methods: Sequence[str] | None = None,
    thickness: str = DEFAULT_THICKNESS,
    reference: str | None = "truth",
    jobs: int = 1,
    scheduler: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Measure every subject x method of a cohort into a long, tidy table.

    Parameters
    ----------
    cohort : harmonstats.cohort.Cohort
        Participants and their label maps.
    methods : sequence of str, optional
        Methods to measure (default: all of the cohort's).
    thickness : {"pbt", "laplace", "direct"}
        Thickness method: ``pbt`` (fast, default), ``laplace`` (fast) or ``direct`` (ANTs
        DiReCT, slow).
    reference : str or None
        Method Dice is computed against (default ``truth``); None, or a method the cohort lacks
        (with a warning), gives no Dice rows. The reference method itself gets no Dice rows.
    jobs : int
        Worker processes (``-1``: all cores). Ignored when ``scheduler`` is given.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``tcp://host:port``) or client: run the tasks on that cluster.
    cache_dir : path, optional
        Result cache (default ``<study>/.harmonstats-cache``; no cache if the cohort has no root
        folder and none is given).
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per scan x method x measure: ``participant_id`` (``sub-<label>``),
        ``session_id`` (``ses-<label>``, NaN if none), ``cohort``, ``method``, ``measure``
        (see :data:`MEASURE_COLUMNS`), ``value`` (float; NaN where undefined), ``unit``
        (``mm3``, ``mm`` or ``1``). ``df.attrs["provenance"]`` records the thickness method,
        its parameters and the package version.

    Raises
    ------
    FileNotFoundError, ValueError
        On unreadable or missing input files, naming subject, method and file; results of the
        tasks finished before the error stay in the cache.
    """
    methods = list(cohort.methods if methods is None else methods)
    unknown = [m for m in methods if m not in cohort.methods]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; the cohort has {cohort.methods}")
    thickness_params(thickness)
    if jobs == 0 or jobs < -1:
        raise InputError(f"jobs must be a positive number of processes or -1, got {jobs}")
    if reference is not None and reference not in cohort.methods:
        warnings.warn(f"reference method {reference!r} is not in the cohort "
                      f"({cohort.methods}); Dice is not measured", RuntimeWarning, stacklevel=2)
        reference = None
    if cache_dir is None and cohort.root is not None:
        cache_dir = Path(cohort.root) / ".harmonstats-cache"
    cache = MeasureCache(cache_dir) if cache_dir is not None else None
    tasks = _tasks(cohort, methods, thickness, reference)
    results: list[Any] = [None] * len(tasks)
    keys = [task_key(t) for t in tasks] if cache is not None else [""] * len(tasks)
    todo_idx = []
    for i, key in enumerate(keys):
        hit = cache.get(key) if cache is not None else None
        if hit is None:
            todo_idx.append(i)
        else:
            results[i] = hit
    todo = [tasks[i] for i in todo_idx]
    runner: Callable[[], Iterable[tuple[int, Any]]] = (
        (lambda: _run_dask(todo, scheduler)) if scheduler is not None
        else (lambda: _run_local(todo, jobs)))
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc="measures", unit="task",
              disable=not progress) as bar:
        for j, result in runner():
            i = todo_idx[j]
            results[i] = result
            if cache is not None:
                cache.put(keys[i], tasks[i], *result)
            bar.update(1)
    df = _table(cohort, tasks, results, thickness)
    df.attrs["tasks"] = {"computed": len(todo), "cached": len(tasks) - len(todo)}
    return df


def _warn_grouped(messages: list[str], *, each: int = 3) -> None:
    """Warn once per kind of problem, naming the subjects, rather than once per subject.

    Messages read ``"subject sub-<label>[_ses-<label>] (<method>): <problem>"``; problems
    that differ only in their numbers are one kind. Up to ``each`` messages of a kind are
    shown as they are.
    """
    kinds: dict[str, list[tuple[str, str]]] = {}
    for message in messages:
        who, _, problem = message.partition(": ")
        kinds.setdefault(re.sub(r"\d+(\.\d+)?", "N", problem), []).append((who, message))
    for kind, items in kinds.items():
        if len(items) <= each:
            for _who, message in items:
                warnings.warn(message, RuntimeWarning, stacklevel=4)
            continue
        names = ", ".join(who.removeprefix("subject ") for who, _ in items[:10])
        more = f" and {len(items) - 10} more" if len(items) > 10 else ""
        warnings.warn(f"{len(items)} label maps: {kind} ({names}{more})", RuntimeWarning,
                      stacklevel=4)


def _table(cohort: Any, tasks: list[SubjectTask], results: list[Any],
           thickness: str) -> pd.DataFrame:
    info = {scan.key: scan for scan in cohort.scans}
    cohorts = dict(zip((s.key for s in cohort.scans), cohort.participants["cohort"],
                       strict=True))
    rows = []
    _warn_grouped([m for _values, messages in results for m in messages])
    for task, (values, _messages) in zip(tasks, results, strict=True):
        scan = info[task.scan]
        for measure, unit in measure_names(dice=task.reference is not None):
            rows.append((scan.participant_id, scan.session_id, cohorts[task.scan], task.method,
                         measure, values[measure], unit))
    df = pd.DataFrame(rows, columns=list(MEASURE_COLUMNS))
    df["value"] = df["value"].astype("float64")
    df.attrs["provenance"] = {"thickness": thickness_params(thickness),
                              "harmonstats_version": __version__}
    return df


def write_measures(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a measures table as TSV plus a JSON sidecar (columns, units, provenance), atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        Table from :func:`measure_cohort`.
    path : path-like
        Output ``.tsv``; the sidecar goes beside it as ``.json``.
    """
    missing = [c for c in MEASURE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"measures table lacks columns {missing}")
    provenance = dict(df.attrs.get("provenance", {}))
    provenance.setdefault("harmonstats_version", __version__)
    return write_table(df[list(MEASURE_COLUMNS)], path, MEASURE_COLUMNS,
                       metadata={"Provenance": provenance})


def measure_study(root: str | os.PathLike[str], **kwargs: Any) -> pd.DataFrame:
    """Measure a BIDS study folder: ``measure_cohort(Cohort.from_bids(root), **kwargs)``."""
    from harmonstats.cohort import Cohort

    return measure_cohort(Cohort.from_bids(root), **kwargs)
