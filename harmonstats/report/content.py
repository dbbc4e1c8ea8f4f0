"""What a report holds, independent of how it is rendered: sections of tables and figures.

The pipeline fills these plain containers from the measures, the battery's tables and the figures;
:mod:`harmonstats.report.html` renders them. Keeping them apart lets tests render a report from
small hand-made tables without running a study.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["FigureItem", "Report", "Section", "TableItem", "Verdict"]


@dataclass
class TableItem:
    """A table shown in a section (and written to ``tables/<name>.tsv``).

    Parameters
    ----------
    name : str
        File stem, letters, digits and ``_``.
    table : pandas.DataFrame
        The data, written in full.
    caption : str
        One sentence saying what the table shows.
    columns : dict, optional
        Column -> description string or ``{"Description": .., "Units": ..}`` (BIDS sidecar).
    """

    name: str
    table: pd.DataFrame
    caption: str = ""
    columns: dict[str, Any] = field(default_factory=dict)


@dataclass
class FigureItem:
    """A figure shown in a section (and written to ``figures/<name>.png``)."""

    name: str
    figure: Figure
    caption: str = ""


@dataclass
class Section:
    """One section of the report.

    Parameters
    ----------
    key : str
        Anchor id (letters, digits, ``-``).
    title : str
        Heading.
    text : list of str
        Paragraphs, plain text (escaped on rendering).
    tables, figures : list
        Content.
    skipped : str, optional
        Why the section's analysis did not run; the section then says so instead of vanishing.
    """

    key: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[TableItem] = field(default_factory=list)
    figures: list[FigureItem] = field(default_factory=list)
    skipped: str | None = None


@dataclass
class Verdict:
    """The harmonisation verdict of one method for one measure (and one compared cohort)."""

    method: str
    comparison: str
    measure: str
    verdict: str
    estimate: float
    margin: float
    n_needed: float = float("nan")


@dataclass
class Report:
    """A whole report: title, summary verdicts, sections, methods text and provenance.

    ``data_tables`` are written to ``tables/`` but not shown in the page (e.g. the long
    measures table).
    """

    title: str
    reference: str
    verdicts: list[Verdict]
    summary: list[str]
    sections: list[Section]
    methods_text: list[str]
    references: list[str]
    provenance: dict[str, Any]
    data_tables: list[TableItem] = field(default_factory=list)
