"""Assembling a :class:`~harmonstats.report.content.Report` from a study's results.

The report's sections, methods text and provenance come from the measures, the battery's tables
and the figures of a run; :mod:`harmonstats.pipeline` runs the stages and hands them here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import yaml

from harmonstats.analysis.battery import TABLE_COLUMNS
from harmonstats.analysis.config import BatteryConfig
from harmonstats.cohort import Cohort
from harmonstats.labels import get_scheme
from harmonstats.measures.qc import QC_COLUMNS, QC_TABLE_COLUMNS
from harmonstats.report.content import Report, TableItem
from harmonstats.report.methods import methods_text
from harmonstats.report.provenance import (
    hash_inputs,
    previous_hashes,
    run_record,
    software_versions,
)
from harmonstats.report.sections import build_sections, summary_lines, verdicts

__all__ = ["StudyDescription", "assemble_report"]


class StudyDescription(Protocol):
    """What the report says about a study besides its results (a pipeline ``StudyRun``)."""

    title: str
    battery: BatteryConfig
    thickness: str
    ground_truth: str | None
    config: dict[str, Any]
    inputs: list[Path]
    synthetic: dict[str, Any] | None
    skipped: dict[str, str]


def _label_files(cohort: Cohort) -> list[Path]:
    files = [cohort.label_path(m, scan) for m in cohort.methods for scan in cohort.scans]
    for paths in cohort.regions.values():
        files.extend(Path(p) for p in paths.values())
    return files


def _config_text(config: Mapping[str, Any]) -> str:
    return yaml.safe_dump(json.loads(json.dumps(config, default=str)), sort_keys=False)


def assemble_report(
    study: StudyDescription,
    cohort: Cohort,
    measures: pd.DataFrame,
    results: Mapping[str, pd.DataFrame],
    figures: Mapping[str, Any],
    notes: Mapping[str, Sequence[str]],
    *,
    stages: Sequence[Mapping[str, Any]],
    command: Sequence[str] | None,
    out: str | os.PathLike[str],
    models: Mapping[str, str] | None = None,
) -> Report:
    """The report of a study: verdicts, sections, methods text, provenance, data tables.

    Parameters
    ----------
    study : StudyDescription
        Title, battery options, measuring settings, configuration and inputs of the study.
    cohort : Cohort
        The cohort measured (its label files are hashed into provenance).
    measures, results, figures, notes
        The run's measures table, battery tables, figures by section and figure notes.
    stages : sequence of mapping
        The run's stages (name, seconds, note, warnings), recorded in provenance.
    command : sequence of str, optional
        Command line recorded in provenance (default: this process's).
    out : path
        The report folder (hashes of an earlier report there are reused).
    models : mapping, optional
        Method -> one-line description of the model that made it.
    """
    reference = study.battery.reference
    items = verdicts(results)
    sections = build_sections(results, {**TABLE_COLUMNS, **QC_TABLE_COLUMNS}, figures, notes,
                              study.skipped)
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
        or {"method": study.thickness},
        ground_truth=study.ground_truth,
        battery=study.battery.model_dump(mode="json"),
        ran=ran,
        software=software,
        synthetic=study.synthetic,
        models=models,
    )
    inputs = hash_inputs([*study.inputs, *_label_files(cohort)], previous=previous_hashes(out))
    provenance = {
        **run_record(command),
        "seed": study.battery.seed,
        "stages": list(stages),
        "software": software,
        "config": _config_text(study.config),
        "battery": study.battery.model_dump(mode="json"),
        "measures": measures.attrs.get("provenance", {}),
        "inputs": inputs,
    }
    status = results.get("status")
    data_tables = [TableItem(name="measures", table=measures, caption="Long measures table.")]
    if "qc" in results:
        data_tables.append(TableItem(name="qc", table=results["qc"], columns=QC_COLUMNS,
                                     caption="Segmentation QC checks, every scan and method."))
    if status is not None:
        data_tables.append(TableItem(name="status", table=status, caption="Analyses run.",
                                     columns=dict(TABLE_COLUMNS.get("status", {}))))
    return Report(
        title=study.title,
        reference=reference,
        verdicts=items,
        summary=summary_lines(items, reference, power=study.battery.tost.power),
        sections=sections,
        methods_text=paragraphs,
        references=refs,
        provenance=provenance,
        data_tables=data_tables,
    )
