"""The harmonisation report: one self-contained HTML page plus its tables and figures.

``python -m harmonstats.report`` runs the built-in demo; ``python -m harmonstats.report
STUDY.yaml`` runs a user's study (see :mod:`harmonstats.config`). From Python::

    from harmonstats.report import run_report, study_run, Progress
    index = run_report(study_run("study.yaml"), "reports/mystudy", progress=Progress(total=5))
"""

from __future__ import annotations

from harmonstats.report.content import FigureItem, Report, Section, TableItem, Verdict
from harmonstats.report.html import render_html, write_report_folder
from harmonstats.report.pipeline import DEMO, QUICK, DemoParameters, Progress, StudyRun, run_report
from harmonstats.report.study import demo_run, study_run

__all__ = [
    "DEMO",
    "QUICK",
    "DemoParameters",
    "FigureItem",
    "Progress",
    "Report",
    "Section",
    "StudyRun",
    "TableItem",
    "Verdict",
    "demo_run",
    "render_html",
    "run_report",
    "study_run",
    "write_report_folder",
]
