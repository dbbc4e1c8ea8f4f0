"""Rendering: cell formatting, escaping of user strings, atomic writing of the report folder."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from harmonstats.io import read_table
from harmonstats.report import (
    FigureItem,
    Report,
    Section,
    TableItem,
    Verdict,
    render_html,
    write_report_folder,
)
from harmonstats.report.html import format_value, measure_unit, table_rows
from harmonstats.report.sections import summary_lines

EVIL = "<script>alert('x')</script>"


@pytest.mark.parametrize(
    ("value", "column", "expected"),
    [
        (0.0004, "p", "<0.001"),
        (0.0312, "p_fdr", "0.031"),
        (0.5, "p_tost", "0.500"),
        (np.nan, "estimate", "n/a"),
        (None, "x", "n/a"),
        (True, "harmonised", "yes"),
        (np.bool_(False), "harmonised", "no"),
        (np.int64(12), "n", "12"),
        (58.0, "df", "58"),
        (123456.78, "estimate", "123,457"),
        (123.456, "estimate", "123.5"),
        (1.7312, "estimate", "1.731"),
        (0.012345, "estimate", "0.0123"),
        (-0.2, "estimate", "-0.2"),
        (math.inf, "t", "inf"),
        ("source", "cohort", "source"),
    ],
)
def test_format_value(value: object, column: str, expected: str) -> None:
    assert format_value(value, column) == expected


@pytest.mark.parametrize(
    ("measure", "unit"),
    [("volume_wm", "mm3"), ("icv", "mm3"), ("thickness_mean", "mm"),
     ("thickness_frontal_l", "mm"), ("dice_cgm", "1")],
)
def test_measure_unit(measure: str, unit: str) -> None:
    assert measure_unit(measure) == unit


def test_table_rows_add_units_and_badges() -> None:
    table = pd.DataFrame({"method": ["a", "b"], "measure": ["volume_wm", "thickness_mean"],
                          "estimate": [1500.0, 0.2], "verdict": ["different", "equivalent"]})
    view = table_rows(TableItem("t", table, columns={"estimate": {"Units": "measure unit"}}))
    names = [h[0] for h in view["headers"]]
    assert names == ["method", "measure", "unit", "estimate", "verdict"]
    assert [r[2]["text"] for r in view["rows_open"]] == ["mm3", "mm"]
    assert [r[4]["badge"] for r in view["rows_open"]] == ["bad", "ok"]
    assert view["headers"][3][1] == "measure unit"


def _figure() -> Figure:
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def _report(method: str = "original", pid: str = "src001") -> Report:
    verdict = [Verdict(method, "target", "thickness_mean", "different", 0.2, 0.08),
               Verdict(method, "target", "volume_wm", "equivalent", 10.0, 500.0)]
    table = pd.DataFrame({"participant_id": [pid], "method": [method], "value": [1.0]})
    return Report(
        title=f"study {method}",
        reference="source",
        verdicts=verdict,
        summary=summary_lines(verdict, "source"),
        sections=[
            Section("cohorts", "Cohorts", text=[f"participant {pid}"],
                    tables=[TableItem("people", table, caption=f"rows for {method}")],
                    figures=[FigureItem("line", _figure(), caption=method)]),
            Section("outcome", "Outcome", skipped=f"no outcome column {method!r}"),
        ],
        methods_text=[f"methods {method}"],
        references=["ref"],
        provenance={"generated": "now", "harmonstats_version": "0", "config": f"m: {method}",
                    "inputs": [{"path": f"/x/sub-{pid}.nii.gz", "size": 1, "sha256": "ab"}],
                    "stages": []},
    )


def test_user_strings_are_escaped() -> None:
    page = render_html(_report(method=EVIL, pid=EVIL))
    assert EVIL not in page
    assert "<script" not in page.lower()
    assert html.escape(EVIL, quote=False) in page or "&lt;script&gt;" in page
    assert page.count("&lt;script&gt;") >= 8


def test_summary_says_plainly_when_not_harmonised() -> None:
    lines = summary_lines(
        [Verdict("original", "target", "thickness_mean", "different", 0.2, 0.08),
         Verdict("latent", "target", "thickness_mean", "equivalent", 0.01, 0.08),
         Verdict("image", "target", "thickness_mean", "inconclusive", 0.05, 0.08)],
        "source",
    )
    assert lines[0] == "Harmonised on every measure: latent."
    assert "original (target vs source): harmonised on 0 of 1 measures; NOT harmonised" in lines[1]
    assert "inconclusive on 1 (thickness_mean)" in lines[3]
    assert lines[4] == (
        "Mean cortical thickness, adjusted cohort effect (compared cohort - source): original "
        "+0.200 mm (different, margin ±0.080 mm); latent +0.010 mm (equivalent, margin ±0.080 mm);"
        " image +0.050 mm (inconclusive, margin ±0.080 mm)."
    )


def test_summary_says_what_would_settle_inconclusive_rows() -> None:
    rows = [Verdict("image", "target", "thickness_mean", "inconclusive", 0.02, 0.08, 142.0),
            Verdict("image", "target", "volume_wm", "inconclusive", 5.0, 500.0, 97.0),
            Verdict("latent", "target", "volume_wm", "inconclusive", 5.0, 500.0, 61.0)]
    lines = summary_lines(rows, "source")
    assert ("inconclusive on 2 (thickness_mean, volume_wm): the data can show neither a "
            "difference nor equivalence (with identical cohorts, 97 to 142 subjects per cohort "
            "would give each of these TOSTs 80% power after the adjustment)") in lines[1]
    assert "61 subjects per cohort would give this TOST 80% power" in lines[2]
    assert "61 subjects per cohort would give this TOST 90% power" in summary_lines(
        rows, "source", power=0.9)[2]


def test_skipped_section_says_why() -> None:
    page = render_html(_report())
    section = re.search(r'<section id="outcome">(.*?)</section>', page, re.S)
    assert section is not None
    assert "Not run." in section.group(1)
    assert "no outcome column &#39;original&#39;" in section.group(1)


def test_page_is_self_contained() -> None:
    page = render_html(_report())
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "@import" not in page


def test_write_report_folder(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    index = write_report_folder(_report(), out)
    assert index == out / "index.html"
    assert (out / "figures" / "line.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = read_table(out / "tables" / "people.tsv")
    assert table["participant_id"].tolist() == ["src001"]
    assert (out / "provenance.json").is_file()


def test_failed_write_leaves_previous_report(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    write_report_folder(_report(), out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = _report(method="second")
    broken.sections[0].figures.append(FigureItem("bad", object(), caption=""))  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        write_report_folder(broken, out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    broken = _report()
    broken.sections[0].figures.append(FigureItem("bad", object(), caption=""))  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        write_report_folder(broken, tmp_path / "rep")
    assert list(tmp_path.iterdir()) == []
