"""Term against preterm-born neonates: CT against GA and PMA before and after harmonisation
(paper Fig 10), and the regional term-preterm differences (paper Fig 11).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figures 10 and 11.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harmonstats.figures._data import (
    numeric,
    order,
    p_text,
    require_columns,
    select_measures,
    with_participants,
)
from harmonstats.figures._draw import regression_line
from harmonstats.figures.style import _legend_below, cohort_palette, figure_style, new_figure
from harmonstats.labels import REGIONS

__all__ = ["ANALYSES", "GROUP_STYLE", "plot_regional_preterm", "plot_term_preterm"]

#: Names of the three analyses (columns of Fig 10), as in :mod:`harmonstats.analysis.preterm`.
ANALYSES = ("reference only", "pooled before", "pooled after")

#: Marker, line colour and line style of each birth group.
GROUP_STYLE: dict[str, dict[str, Any]] = {
    "term": {"marker": "o", "color": "#252525", "linestyle": "-"},
    "preterm": {"marker": "^", "color": "#d62728", "linestyle": "--"},
}


def _crossings(table: pd.DataFrame, measure: str) -> dict[str, dict[str, float]]:
    what = "crossing table"
    require_columns(table, ("analysis", "crossing_pma"), what)
    if "measure" in table.columns:
        table = table[table["measure"].astype(str) == measure]
    out: dict[str, dict[str, float]] = {}
    cols = [c for c in ("crossing_pma", "ci_low", "ci_high") if c in table.columns]
    values = {c: numeric(table, c, what).to_numpy() for c in cols}
    # Fieller's set is a band only when it is an interval (not two rays or the whole line).
    bounded = (table["ci_shape"].astype(str) == "interval").to_numpy() \
        if "ci_shape" in table.columns else np.ones(len(table), bool)
    for i, name in enumerate(table["analysis"].astype(str)):
        if name in out:
            raise ValueError(f"{what} has two rows for analysis {name!r}")
        out[name] = {c: float(values[c][i]) if bounded[i] or c == "crossing_pma" else np.nan
                     for c in cols}
    return out


def _mark_crossing(ax: Axes, row: dict[str, float]) -> None:
    x = row["crossing_pma"]
    if not np.isfinite(x):
        return
    lo, hi = row.get("ci_low", np.nan), row.get("ci_high", np.nan)
    if np.isfinite(lo) and np.isfinite(hi):
        ax.axvspan(lo, hi, color="0.5", alpha=0.15, linewidth=0, gid="crossing-ci")
    left, right = ax.get_xlim()
    ax.axvline(x, color="0.3", linestyle=":", linewidth=1.2, gid="crossing")
    # Keep the data's range (plus the crossing); a wide bootstrap band is clipped, not shown whole.
    left, right = min(left, x - 0.5), max(right, x + 0.5)
    ax.set_xlim(left, right)
    to_left = x > (left + right) / 2
    ax.annotate(f"lines cross at {x:.1f} w", (x, 1.0), xycoords=("data", "axes fraction"),
                xytext=(-3 if to_left else 3, -3), textcoords="offset points",
                ha="right" if to_left else "left", va="top", fontsize=7)


def plot_term_preterm(measures: pd.DataFrame, participants: pd.DataFrame, *, after: str,
                      before: str = "original", reference_cohort: str = "source",
                      reference_method: str | None = None, measure: str = "thickness_mean",
                      term_ga: float = 37.0,
                      pma_range: tuple[float, float] | None = (37.0, 45.0),
                      crossings: pd.DataFrame | None = None) -> Figure:
    """CT against GA and PMA with term and preterm regression lines (paper Fig 10).

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``, with rows for ``measure`` (mm) and methods ``before``,
        ``after`` (and ``reference_method``).
    participants : pandas.DataFrame
        Required columns ``participant_id``, ``ga_birth`` and ``pma_scan`` (weeks).
    after : str
        Harmonised method (third column, all cohorts pooled).
    before : str
        Unharmonised method (second column, all cohorts pooled).
    reference_cohort : str
        Cohort of the first column.
    reference_method : str, optional
        Method of the first column (default ``before``).
    measure : str
        Thickness measure (``thickness_mean`` or ``thickness_<region>``).
    term_ga : float
        GA at birth (weeks) from which a subject is term-born (paper: 37).
    pma_range : (float, float) or None
        Keep subjects scanned within this PMA range (weeks, inclusive; paper: 37-45); None keeps
        all. The number kept is written in each column's title.
    crossings : pandas.DataFrame, optional
        PMA where the term and preterm lines cross
        (:func:`harmonstats.analysis.preterm.crossing_point`); required columns ``analysis``
        (``reference only``, ``pooled before``, ``pooled after``: the three columns) and
        ``crossing_pma`` (weeks); optional ``ci_low``/``ci_high`` (weeks, drawn as a band unless
        ``ci_shape`` says the confidence set is not an interval) and ``measure`` (rows of other
        measures are ignored). Drawn in the PMA row.

    Returns
    -------
    matplotlib.figure.Figure
        2 x 3 panels: rows CT against GA at birth and against PMA at scan; columns reference
        cohort only, pooled before, pooled after. Points are coloured by cohort and shaped by
        birth group; one least-squares line per birth group (:data:`GROUP_STYLE`).

    Raises
    ------
    ValueError
        If a required column is missing, a method or the reference cohort has no rows, or the
        PMA range leaves a column empty, or ``crossings`` has two rows for one analysis.
    """
    marks = _crossings(crossings, measure) if crossings is not None else {}
    ref_method = reference_method or before
    rows = select_measures(measures, [measure], methods=list(dict.fromkeys([ref_method, before,
                                                                            after])))
    rows = with_participants(rows, participants, ["ga_birth", "pma_scan"])
    if pma_range is not None:
        lo, hi = pma_range
        rows = rows[(rows["pma_scan"] >= lo) & (rows["pma_scan"] <= hi)]
        if rows.empty:
            raise ValueError(f"no subject was scanned within the PMA range {lo:g}-{hi:g} weeks")
    cohorts = order(rows["cohort"], None, "cohort")
    if reference_cohort not in cohorts:
        raise ValueError(f"reference cohort {reference_cohort!r} has no rows (cohorts: "
                         f"{cohorts})")
    rows = rows.assign(group=np.where(rows["ga_birth"] >= term_ga, "term", "preterm"))
    columns = [
        (f"{reference_cohort} only ({ref_method})",
         rows[(rows["method"] == ref_method) & (rows["cohort"] == reference_cohort)]),
        (f"pooled, before ({before})", rows[rows["method"] == before]),
        (f"pooled, after ({after})", rows[rows["method"] == after]),
    ]
    for name, sub in columns:
        if sub.empty:
            raise ValueError(f"no subjects left for column {name!r}")
    colours = cohort_palette(cohorts)
    span = float(rows["value"].max() - rows["value"].min()) or 1.0
    ylim = (float(rows["value"].min()) - 0.05 * span, float(rows["value"].max()) + 0.05 * span)
    with figure_style("whitegrid"):
        fig, axes = new_figure(2, 3, panel_size=(3.0, 2.7))
        for j, (name, sub) in enumerate(columns):
            for i, (xcol, xlabel) in enumerate((("ga_birth", "GA at birth (weeks)"),
                                               ("pma_scan", "PMA at scan (weeks)"))):
                ax = axes[i, j]
                for cohort in cohorts:
                    for group, style in GROUP_STYLE.items():
                        pts = sub[(sub["cohort"] == cohort) & (sub["group"] == group)]
                        ax.scatter(pts[xcol], pts["value"], s=12, alpha=0.75,
                                   marker=style["marker"], color=colours[cohort],
                                   edgecolor="white", linewidth=0.3)
                for group, style in GROUP_STYLE.items():
                    pts = sub[sub["group"] == group]
                    regression_line(ax, pts[xcol].to_numpy(), pts["value"].to_numpy(),
                                    color=style["color"], linestyle=style["linestyle"],
                                    linewidth=1.8, gid=f"line-{group}")
                ax.set_ylim(ylim)
                ax.set_xlabel(xlabel)
                ax.set_ylabel(f"{measure} (mm)")
                sns.despine(ax=ax)
            axes[0, j].set_title(f"{name}\nn = {sub['participant_id'].nunique()}")
            if ANALYSES[j] in marks:
                _mark_crossing(axes[1, j], marks[ANALYSES[j]])
        handles = [Line2D([], [], marker="s", linestyle="", color=colours[c]) for c in cohorts]
        labels = list(cohorts)
        for group, style in GROUP_STYLE.items():
            handles.append(Line2D([], [], marker=style["marker"], color=style["color"],
                                  linestyle=style["linestyle"], markerfacecolor="0.6",
                                  markeredgecolor="0.6"))
            labels.append(f"{group} ({'≥' if group == 'term' else '<'} {term_ga:g} weeks GA)")
        _legend_below(fig, handles, labels)
    return fig


#: Default row order of Fig 11: the whole cortex, then the regions in label order.
_ROW_ORDER = ["whole cortex", *(name for value, name in sorted(REGIONS.items()) if value)]


def _regional_rows(table: pd.DataFrame, p_column: str, what: str) -> pd.DataFrame:
    region = table["region"].astype(str).str.removeprefix("thickness_")
    df = pd.DataFrame({"region": region.replace({"mean": "whole cortex"}).to_numpy()})
    for col in ("estimate", "ci_low", "ci_high", p_column):
        df[col] = numeric(table, col, what).to_numpy()
    dup = df.loc[df["region"].duplicated(), "region"]
    if len(dup):
        raise ValueError(f"{what} lists region {dup.iloc[0]!r} twice")
    return df


def plot_regional_preterm(table: pd.DataFrame, *, p_column: str | None = None,
                          alpha: float = 0.05, regions: Sequence[str] | None = None,
                          analyses: Sequence[str] | None = None,
                          xlabel: str = "preterm − term difference in thickness (mm)") -> Figure:
    """Regional term-preterm differences with 95% CI; p < ``alpha`` highlighted (paper Fig 11).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per region (``thickness_mean`` or ``mean`` may be one of them, drawn as "whole
        cortex"), e.g. :func:`harmonstats.analysis.preterm.regional_prematurity`; required
        columns ``region`` (or ``measure``; ``thickness_`` prefixes are dropped), ``estimate``,
        ``ci_low``, ``ci_high`` (mm) and the p column. With an ``analysis`` column, one panel
        per analysis (e.g. reference only, pooled before, pooled after).
    p_column : str, optional
        Column with the p value; default ``p_fdr`` if present, else ``p``.
    alpha : float
        Rows with p < ``alpha`` are drawn in red with their label in bold.
    regions : sequence of str, optional
        Rows to draw, top to bottom (default: whole cortex then the regions in the order of
        :data:`harmonstats.labels.REGIONS` when all rows are such, else table order).
    analyses : sequence of str, optional
        Analyses to draw, one panel each, in this order (default: all, in order of appearance).
    xlabel : str
        Label of the difference axis: say its direction and unit (the default matches
        ``regional_prematurity``, whose estimate is preterm - term).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per analysis: per region an estimate and 95% CI, a zero line, and the p value
        at the right.

    Raises
    ------
    ValueError
        If a required column is missing, a region is listed twice within an analysis, or a
        requested region or analysis is absent.
    """
    what = "term-preterm table"
    if isinstance(table, pd.DataFrame) and "region" not in table.columns \
            and "measure" in table.columns:
        table = table.assign(region=table["measure"])
    if p_column is None:
        p_column = "p_fdr" if isinstance(table, pd.DataFrame) and "p_fdr" in table.columns \
            else "p"
    require_columns(table, ("region", "estimate", "ci_low", "ci_high", p_column), what)
    if "analysis" in table.columns:
        names = order(table["analysis"], analyses, "analysis")
        panels = [(name, _regional_rows(table[table["analysis"].astype(str) == name], p_column,
                                        f"{what} ({name})")) for name in names]
    else:
        panels = [("", _regional_rows(table, p_column, what))]
    rows = order(pd.concat([df["region"] for _, df in panels]), regions, "region")
    if regions is None and set(rows) <= set(_ROW_ORDER):
        rows = sorted(rows, key=_ROW_ORDER.index)
    y_of = {r: k for k, r in enumerate(reversed(rows))}
    with figure_style("whitegrid"):
        fig, axes = new_figure(1, len(panels), panel_size=(4.2, 0.9 + 0.34 * len(rows)),
                               sharex=True, sharey=True)
        for ax, (name, df) in zip(axes[0], panels, strict=True):
            df = df[df["region"].isin(rows)]
            significant = (df[p_column] < alpha).to_numpy()
            for row, sig in zip(df.itertuples(index=False), significant, strict=True):
                yi, colour = y_of[row.region], "#d62728" if sig else "0.55"
                ax.hlines(yi, row.ci_low, row.ci_high, color=colour, linewidth=2)
                ax.scatter([row.estimate], [yi], s=36, zorder=3,
                           color=colour if sig else "white", edgecolor=colour, linewidth=1.2,
                           gid="significant" if sig else "not-significant")
                ax.annotate(p_text(getattr(row, p_column)), (1.0, yi),
                            xycoords=("axes fraction", "data"), xytext=(4, 0),
                            textcoords="offset points", va="center", fontsize=7,
                            fontweight="bold" if sig else "normal")
            ax.axvline(0, color="0.3", linewidth=0.8, linestyle=":")
            ax.set_xlabel(xlabel)
            ax.set_title(name)
            ax.grid(axis="y", visible=False)
            sns.despine(ax=ax, left=True)
        first = axes[0, 0]
        first.set_yticks(list(y_of.values()), list(y_of))
        first.set_ylim(-0.6, len(rows) - 0.4)
        if len(panels) == 1:
            bold = set(panels[0][1].loc[panels[0][1][p_column] < alpha, "region"])
            for label in first.get_yticklabels():
                if label.get_text() in bold:
                    label.set_fontweight("bold")
        fig.suptitle(f"red: {p_column} < {alpha:g}", fontsize=9)
    return fig
