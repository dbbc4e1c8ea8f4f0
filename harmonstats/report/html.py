"""Rendering a :class:`~harmonstats.report.content.Report` as one self-contained HTML file.

Figures are embedded as base64 PNG, the stylesheet is inline, and the page loads nothing from the
network. Jinja2 autoescaping is on for every value, so participant IDs, column and method names
from a user's files cannot inject markup.
"""

from __future__ import annotations

import base64
import io
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harmonstats.io import write_json, write_table
from harmonstats.report.content import Report, Section, TableItem

__all__ = [
    "VERDICT_CLASSES",
    "figure_png",
    "format_value",
    "measure_order",
    "measure_unit",
    "render_html",
    "table_rows",
    "write_report_folder",
]

#: Verdict -> CSS badge class.
VERDICT_CLASSES: dict[str, str] = {
    "equivalent": "ok",
    "trivial difference": "warn",
    "different": "bad",
    "inconclusive": "warn",
}

#: Units of participant columns, shown in table headers.
_COLUMN_UNITS = {"ga_birth": "weeks", "pma_scan": "weeks", "birth_weight": "g"}
_PROVENANCE_DEFAULTS: dict[str, Any] = {
    "generated": "", "harmonstats_version": "", "stages": [], "software": {}, "config": "",
    "inputs": [],
}
#: Rows a table shows before the rest is folded away (all rows stay in the page).
_ROWS_OPEN = 25
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def measure_unit(measure: str) -> str:
    """Unit of a measure named as in the measures table (``mm3``, ``mm`` or ``1``)."""
    if measure.startswith("volume_") or measure == "icv":
        return "mm3"
    if measure.startswith("thickness_"):
        return "mm"
    return "1"


def format_value(value: Any, column: str = "") -> str:
    """A table cell as text: p-values as ``<0.001``, counts as integers, ``n/a`` when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "n/a"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if column == "p" or column.startswith("p_"):
            return "<0.001" if v < 0.001 else f"{v:.3f}"
        if v.is_integer() and abs(v) < 1e6 and column in {"n", "df"}:
            return str(int(v))
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.1f}"
        if a >= 1 or a == 0:
            return f"{v:.3f}"
        return f"{v:.3g}"
    return str(value)


def _header(column: str, docs: Mapping[str, Any]) -> tuple[str, str, str]:
    doc = docs.get(column)
    unit = _COLUMN_UNITS.get(column, "")
    title = ""
    if isinstance(doc, Mapping):
        unit = str(doc.get("Units", unit))
        title = str(doc.get("Description", ""))
    elif isinstance(doc, str):
        title = doc
    return column, unit, title


def table_rows(item: TableItem) -> dict[str, Any]:
    """Headers (name, unit, description) and formatted rows of a table, ready for the template.

    A table with a ``measure`` column and no ``unit`` column gains one, so every estimate's unit
    (mm, mm3, 1) is on its row.
    """
    df = item.table
    if "measure" in df.columns and "unit" not in df.columns:
        df = df.copy()
        df.insert(
            df.columns.get_loc("measure") + 1,
            "unit",
            [measure_unit(str(m)) for m in df["measure"]],
        )
    headers = [_header(str(c), item.columns) for c in df.columns]
    verdict_col = [i for i, c in enumerate(df.columns) if c == "verdict"]
    rows = []
    for record in df.itertuples(index=False, name=None):
        cells = []
        for i, (column, value) in enumerate(zip(df.columns, record, strict=True)):
            text = format_value(value, str(column))
            badge = VERDICT_CLASSES.get(text, "") if i in verdict_col else ""
            numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
                value, (bool, np.bool_)
            )
            cells.append({"text": text, "badge": badge, "numeric": numeric})
        rows.append(cells)
    return {
        "name": item.name,
        "caption": item.caption,
        "headers": headers,
        "rows_open": rows[:_ROWS_OPEN],
        "rows_folded": rows[_ROWS_OPEN:],
        "n_rows": len(rows),
    }


def figure_png(figure: Figure, *, dpi: int = 100) -> bytes:
    """PNG bytes of a matplotlib figure."""
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _section_context(section: Section, pngs: Mapping[str, bytes]) -> dict[str, Any]:
    return {
        "key": section.key,
        "title": section.title,
        "text": section.text,
        "skipped": section.skipped,
        "tables": [table_rows(t) for t in section.tables],
        "figures": [
            {
                "name": f.name,
                "caption": f.caption,
                "src": "data:image/png;base64," + base64.b64encode(pngs[f.name]).decode("ascii"),
            }
            for f in section.figures
        ],
    }


def measure_order(measure: str) -> tuple[int, str]:
    """Sort key: mean thickness, regional thickness, volumes, ICV, then the rest."""
    groups = ("thickness_mean", "thickness_", "volume_", "icv")
    rank = next((i for i, g in enumerate(groups) if measure.startswith(g)), len(groups))
    return rank, measure


def _verdict_matrix(report: Report) -> dict[str, Any]:
    """Rows: measures; columns: method (and compared cohort); cells: verdict badges."""
    columns: list[tuple[str, str]] = []
    cells: dict[tuple[str, str, str], str] = {}
    for v in report.verdicts:
        key = (v.method, v.comparison)
        if key not in columns:
            columns.append(key)
        cells[(v.method, v.comparison, v.measure)] = v.verdict
    measures = sorted({v.measure for v in report.verdicts}, key=measure_order)
    rows = []
    for measure in measures:
        row = []
        for method, comparison in columns:
            text = cells.get((method, comparison, measure), "n/a")
            row.append({"text": text, "badge": VERDICT_CLASSES.get(text, "")})
        rows.append({"measure": measure, "unit": measure_unit(measure), "cells": row})
    totals = []
    for method, comparison in columns:
        got = [c for (m, k, _), c in cells.items() if (m, k) == (method, comparison)]
        ok = sum(c == "equivalent" for c in got)
        totals.append(f"{ok} / {len(got)}")
    several = len({c for _, c in columns}) > 1
    heads = [f"{m} ({c})" if several else m for m, c in columns]
    return {"columns": heads, "rows": rows, "totals": totals}


def render_html(report: Report, pngs: Mapping[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    report : Report
        What to show.
    pngs : mapping, optional
        Figure name -> PNG bytes, when already rendered (else each figure is rendered here).

    Returns
    -------
    str
        The HTML document.
    """
    if pngs is None:
        pngs = {f.name: figure_png(f.figure) for s in report.sections for f in s.figures}
    template = _ENV.get_template("report.html.j2")
    return template.render(
        title=report.title,
        reference=report.reference,
        summary=report.summary,
        matrix=_verdict_matrix(report),
        sections=[_section_context(s, pngs) for s in report.sections],
        methods_text=report.methods_text,
        references=report.references,
        provenance={**_PROVENANCE_DEFAULTS, **report.provenance},
    )


def write_report_folder(report: Report, out: str | os.PathLike[str]) -> Path:
    """Write ``index.html``, ``tables/*.tsv`` (+ JSON), ``figures/*.png`` and ``provenance.json``.

    Everything is written to a temporary folder beside ``out``, which then replaces ``out``; a
    failure at any point leaves ``out`` as it was (no half report).

    Returns
    -------
    pathlib.Path
        Path of ``index.html``.
    """
    final = Path(out)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the report is meant to be shared
    try:
        pngs: dict[str, bytes] = {}
        for item in report.data_tables:
            write_table(item.table, tmp / "tables" / f"{item.name}.tsv", columns=item.columns)
        write_json(report.provenance, tmp / "provenance.json")
        for section in report.sections:
            for item in section.tables:
                write_table(item.table, tmp / "tables" / f"{item.name}.tsv", columns=item.columns)
            for fig in section.figures:
                pngs[fig.name] = figure_png(fig.figure)
                (tmp / "figures").mkdir(exist_ok=True)
                (tmp / "figures" / f"{fig.name}.png").write_bytes(pngs[fig.name])
        (tmp / "index.html").write_text(render_html(report, pngs), encoding="utf-8")
        old = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
            os.replace(final, old / final.name)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final / "index.html"
