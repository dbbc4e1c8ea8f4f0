"""Running a study: segment -> measure -> analyse -> figures -> write the report.

Every stage prints its name and elapsed time. The report folder is written to a temporary folder
beside the target and renamed into place at the end, so a run that fails at any stage leaves no
half report behind (and an earlier report stays as it was). Rendering is
:mod:`harmonstats.report`'s; this module only runs the stages.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from harmonstats.analysis.battery import run_battery
from harmonstats.analysis.config import BatteryConfig
from harmonstats.cohort import Cohort
from harmonstats.errors import InputError
from harmonstats.measures.qc import qc_tables
from harmonstats.pipeline.segment import SegmentPlan, model_summaries, run_segmentation
from harmonstats.report.assemble import assemble_report
from harmonstats.report.figureplan import draw_figures
from harmonstats.report.html import write_report_folder

__all__ = ["Progress", "StudyRun", "run_report"]


class Progress:
    """Prints each stage's name when it starts and its elapsed time when it ends."""

    def __init__(self, stream: TextIO | None = None, *, total: int) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.done = 0
        self.stages: list[dict[str, Any]] = []

    @contextmanager
    def stage(self, name: str, *, announce: bool = True) -> Iterator[dict[str, Any]]:
        """Time a stage; the yielded dict takes a ``note`` shown after the time.

        Warnings raised during the stage are collected (not printed one by one): the stage
        prints their count and the report lists each distinct one. With ``announce`` False
        only the stage's end is printed (a quick stage whose input error should be the only
        line printed).
        """
        self.done += 1
        record: dict[str, Any] = {"stage": name, "seconds": 0.0, "note": "", "warnings": []}
        if announce:
            print(f"[{self.done}/{self.total}] {name} ...", file=self.stream, flush=True)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield record
        record["seconds"] = round(time.perf_counter() - start, 2)
        messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        record["warnings"] = messages
        if messages:
            record["note"] = f"{record['note']}; " if record["note"] else ""
            record["note"] += f"{len(caught)} warning(s), {len(messages)} distinct, in the report"
        note = f" ({record['note']})" if record["note"] else ""
        print(f"[{self.done}/{self.total}] {name} done in {record['seconds']:.1f} s{note}",
              file=self.stream, flush=True)
        self.stages.append(record)

    def skip(self, name: str, reason: str) -> None:
        """Report a stage that does not run."""
        self.done += 1
        print(f"[{self.done}/{self.total}] {name} skipped: {reason}", file=self.stream, flush=True)
        self.stages.append({"stage": name, "seconds": 0.0, "note": f"skipped: {reason}",
                            "warnings": []})


@dataclass
class StudyRun:
    """Everything one report needs to know about its study before measuring.

    Attributes
    ----------
    title : str
        Report title.
    cohort : Cohort
        Participants and label maps (validated).
    battery : BatteryConfig
        Options of the statistics battery.
    thickness : str
        ``laplace`` or ``direct``.
    ground_truth : str or None
        Method Dice is computed against.
    jobs : int
        Worker processes for measuring.
    config : dict
        The configuration as given (shown in provenance).
    inputs : list of path
        Files whose hashes provenance records (participants table; label and region maps are
        added from the cohort).
    synthetic : dict, optional
        Parameters of a generated study.
    skipped : dict
        Section key -> why it cannot run for this study.
    segment : SegmentPlan, optional
        Models to apply before measuring (the cohort is reloaded with their outputs).
    segment_skip : str
        Why there is nothing to segment (shown as the skipped stage).
    """

    title: str
    cohort: Cohort | None
    battery: BatteryConfig
    thickness: str = "laplace"
    ground_truth: str | None = None
    jobs: int = 1
    config: dict[str, Any] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    synthetic: dict[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    segment: SegmentPlan | None = None
    segment_skip: str = "no method applies a model; the label maps given are measured"

    def describe(self) -> str:
        """One line: how many subjects (and scans), which methods are given and to segment."""
        given = self.cohort.methods if self.cohort is not None else []
        models = list(self.segment.models) if self.segment is not None else []
        if self.cohort is not None:
            n, scans = len(self.cohort.subjects), len(self.cohort.scans)
        else:
            images = list(self.segment.images) if self.segment is not None else []
            n, scans = len({s.subject for s in images}), len(images)
        who = f"{n} subjects" + (f" ({scans} scans)" if scans != n else "")
        return f"{who}, methods {[*given, *(m for m in models if m not in given)]}"


def run_report(
    run: StudyRun,
    out: str | os.PathLike[str],
    *,
    progress: Progress,
    command: Sequence[str] | None = None,
    show_bars: bool = False,
) -> Path:
    """Measure, analyse, draw and write the report of a study.

    Parameters
    ----------
    run : StudyRun
        The study.
    out : path
        Report folder (``index.html``, ``tables/``, ``figures/``, ``provenance.json``); replaced
        as a whole at the end.
    progress : Progress
        Stage printer (its earlier stages, e.g. synthesis, are kept in provenance).
    command : sequence of str, optional
        Command line recorded in provenance (default: this process's).
    show_bars : bool
        Show per-subject progress bars while measuring.

    Returns
    -------
    pathlib.Path
        Path of ``index.html``.
    """
    from harmonstats.measures.extract import measure_cohort

    if run.segment is None:
        progress.skip("segment", run.segment_skip)
    else:
        with progress.stage("segment") as st:
            run.cohort = run_segmentation(run.segment, progress=show_bars)
            st["note"] = (f"{len(run.segment.models)} models x {len(run.segment.images)} "
                          f"subjects" + (", parcellated" if run.segment.parcellation else ""))
    cohort = run.cohort
    if cohort is None:
        raise InputError("the study has no label maps to measure")
    with progress.stage("measure") as st:
        measures = measure_cohort(cohort, thickness=run.thickness, reference=run.ground_truth,
                                  jobs=run.jobs, progress=show_bars)
        st["note"] = (f"{len(cohort.scans)} scans x {len(cohort.methods)} methods, "
                      f"thickness {run.thickness}")
    with progress.stage("analyse") as st:
        results = run_battery(measures, cohort.participants, run.battery)
        status = results.get("status", pd.DataFrame())
        st["note"] = f"{int((status['status'] == 'done').sum())} of {len(status)} analyses done"
        results = {**results, **qc_tables(cohort, measures, reference_cohort=run.battery.reference)}
    with progress.stage("figures") as st:
        figures, notes = draw_figures(measures, cohort, results, run.battery)
        st["note"] = f"{sum(len(f) for f in figures.values())} figures"
    with progress.stage("write report") as st:
        report = assemble_report(
            run, cohort, measures, results, figures, notes, stages=progress.stages,
            command=command, out=out,
            models=model_summaries(run.segment) if run.segment is not None else None)
        index = write_report_folder(report, out)
        st["note"] = str(index)
    return index
