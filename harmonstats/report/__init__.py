"""The harmonisation report: one self-contained HTML page plus its tables and figures.

This package renders: it assembles a :class:`Report` from a run's results
(:func:`assemble_report`) and writes it (:func:`write_report_folder`). Running a study is
:mod:`harmonstats.pipeline`'s; ``python -m harmonstats.report`` runs the built-in demo and
``python -m harmonstats.report STUDY.yaml`` a user's study (see :mod:`harmonstats.config`).
"""

from __future__ import annotations

from harmonstats.report.assemble import assemble_report
from harmonstats.report.content import FigureItem, Report, Section, TableItem, Verdict
from harmonstats.report.html import render_html, write_report_folder

__all__ = [
    "FigureItem",
    "Report",
    "Section",
    "TableItem",
    "Verdict",
    "assemble_report",
    "render_html",
    "write_report_folder",
]
