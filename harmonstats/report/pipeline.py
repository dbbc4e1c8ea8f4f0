"""The report pipeline: synthesise (demo) -> load -> measure -> analyse -> figures -> write.

Every stage prints its name and elapsed time. The report folder is written to a temporary folder
beside the target and renamed into place at the end, so a run that fails at any stage leaves no
half report behind (and an earlier report stays as it was).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd
import yaml

from harmonstats.analysis.battery import TABLE_COLUMNS, run_battery
from harmonstats.analysis.config import BatteryConfig
from harmonstats.cohort import Cohort
from harmonstats.fingerprint import source_fingerprint
from harmonstats.io import write_json
from harmonstats.labels import get_scheme
from harmonstats.measures.qc import QC_COLUMNS, QC_TABLE_COLUMNS, qc_tables
from harmonstats.report.content import Report, TableItem
from harmonstats.report.figureplan import draw_figures
from harmonstats.report.html import write_report_folder
from harmonstats.report.methods import methods_text
from harmonstats.report.provenance import (
    hash_inputs,
    previous_hashes,
    run_record,
    software_versions,
)
from harmonstats.report.sections import build_sections, summary_lines, verdicts
from harmonstats.report.segment import SegmentPlan, model_summaries, run_segmentation

__all__ = ["DEMO", "QUICK", "DemoParameters", "Progress", "StudyRun", "demo_study", "run_report"]


@dataclass(frozen=True)
class DemoParameters:
    """Size of the built-in demo's synthetic study.

    Attributes
    ----------
    n_source, n_target : int
        Subjects per cohort.
    shape : int
        Volume edge (voxels).
    spacing : float
        Voxel size (mm).
    seed : int
        Seed of the generator and of every random step of the battery.
    """

    n_source: int
    n_target: int
    shape: int
    spacing: float
    seed: int = 0


#: The full demo (about the size of the paper's matched test sets).
DEMO = DemoParameters(n_source=40, n_target=40, shape=64, spacing=0.5)
#: The quick demo, for tests.
QUICK = DemoParameters(n_source=14, n_target=14, shape=32, spacing=1.0)

_DEMO_RECORD = ".harmonstats-demo.json"


class Progress:
    """Prints each stage's name when it starts and its elapsed time when it ends."""

    def __init__(self, stream: TextIO | None = None, *, total: int) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.done = 0
        self.stages: list[dict[str, Any]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[dict[str, Any]]:
        """Time a stage; the yielded dict takes a ``note`` shown after the time.

        Warnings raised during the stage are collected (not printed one by one): the stage
        prints their count and the report lists each distinct one.
        """
        self.done += 1
        record: dict[str, Any] = {"stage": name, "seconds": 0.0, "note": "", "warnings": []}
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


def demo_study(
    data: str | os.PathLike[str],
    params: DemoParameters,
    *,
    jobs: int = 1,
    progress: bool = False,
) -> tuple[Path, bool]:
    """The demo's synthetic study in ``data``: reused when made with the same parameters.

    A study is generated in a temporary folder beside ``data`` and renamed into place, so an
    interrupted generation never looks like a finished one.

    Returns
    -------
    path : pathlib.Path
        The study folder.
    reused : bool
        Whether an existing study was reused.
    """
    from harmonstats.synth import synthesize_study

    root = Path(data)
    wanted = {**asdict(params), "generator": source_fingerprint("synth", "labels", "io")}
    record = root / _DEMO_RECORD
    if record.is_file():
        try:
            if json.loads(record.read_text()) == wanted:
                return root, True
        except ValueError:
            pass
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    tmp.chmod(0o755)
    try:
        synthesize_study(tmp, n_source=params.n_source, n_target=params.n_target,
                         shape=params.shape, spacing=params.spacing, seed=params.seed,
                         jobs=jobs, progress=progress)
        write_json(wanted, tmp / _DEMO_RECORD)
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return root, False


def _label_files(cohort: Cohort) -> list[Path]:
    files = [cohort.label_path(m, pid) for m in cohort.methods for pid in cohort.subjects]
    for paths in cohort.regions.values():
        files.extend(Path(p) for p in paths.values())
    return files


def _config_text(config: Mapping[str, Any]) -> str:
    return yaml.safe_dump(json.loads(json.dumps(config, default=str)), sort_keys=False)


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
        raise ValueError("the study has no label maps to measure")
    with progress.stage("measure") as st:
        measures = measure_cohort(cohort, thickness=run.thickness, reference=run.ground_truth,
                                  jobs=run.jobs, progress=show_bars)
        st["note"] = (f"{len(cohort.subjects)} subjects x {len(cohort.methods)} methods, "
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
        report = _assemble(run, cohort, measures, results, figures, notes, progress, command, out)
        index = write_report_folder(report, out)
        st["note"] = str(index)
    return index


def _assemble(run: StudyRun, cohort: Cohort, measures: pd.DataFrame,
              results: Mapping[str, pd.DataFrame], figures: Mapping[str, Any],
              notes: Mapping[str, Sequence[str]],
              progress: Progress, command: Sequence[str] | None,
              out: str | os.PathLike[str]) -> Report:
    reference = run.battery.reference
    items = verdicts(results)
    sections = build_sections(results, {**TABLE_COLUMNS, **QC_TABLE_COLUMNS}, figures, notes,
                              run.skipped)
    ran = [str(r) for r in results["status"].query("status == 'done'")["analysis"]]
    software = software_versions()
    counts = cohort.participants["cohort"].value_counts(sort=False)
    paragraphs, refs = methods_text(
        cohorts={str(k): int(v) for k, v in counts.items()},
        reference=reference,
        methods=cohort.methods,
        schemes={"tissue": get_scheme(cohort.scheme).name,
                 "region": get_scheme(cohort.region_scheme, kind="region").name},
        thickness=dict(measures.attrs.get("provenance", {}).get("thickness", {}))
        or {"method": run.thickness},
        ground_truth=run.ground_truth,
        battery=run.battery.model_dump(mode="json"),
        ran=ran,
        software=software,
        synthetic=run.synthetic,
        models=model_summaries(run.segment) if run.segment is not None else None,
    )
    inputs = hash_inputs([*run.inputs, *_label_files(cohort)], previous=previous_hashes(out))
    provenance = {
        **run_record(command),
        "seed": run.battery.seed,
        "stages": list(progress.stages),
        "software": software,
        "config": _config_text(run.config),
        "battery": run.battery.model_dump(mode="json"),
        "measures": measures.attrs.get("provenance", {}),
        "inputs": inputs,
    }
    status = results.get("status")
    data_tables = [TableItem(name="measures", table=measures, caption="Long measures table.")]
    if "qc" in results:
        data_tables.append(TableItem(name="qc", table=results["qc"], columns=QC_COLUMNS,
                                     caption="Segmentation QC checks, every subject and method."))
    if status is not None:
        data_tables.append(TableItem(name="status", table=status, caption="Analyses run.",
                                     columns=dict(TABLE_COLUMNS.get("status", {}))))
    return Report(
        title=run.title,
        reference=reference,
        verdicts=items,
        summary=summary_lines(items, reference),
        sections=sections,
        methods_text=paragraphs,
        references=refs,
        provenance=provenance,
        data_tables=data_tables,
    )
