"""Drawing pieces shared by several figures: boxes per method and cohort, regression lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from harmonstats.figures._data import effect_rows, order, select_measures, stars, subject_filter
from harmonstats.figures.style import _legend_below, cohort_palette, figure_style, new_figure

__all__ = ["cohort_boxes", "jitter", "measure_panels", "regression_line"]


def jitter(n: int, width: float) -> np.ndarray:
    """Deterministic, evenly spread offsets in (-width/2, width/2) (golden-ratio sequence)."""
    return ((np.arange(n) * 0.6180339887) % 1.0 - 0.5) * width


def regression_line(ax: Axes, x: np.ndarray, y: np.ndarray, **style: object) -> Line2D | None:
    """Least-squares line of ``y`` on ``x`` over the range of ``x`` (None if it is undefined)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    grid = np.array([x.min(), x.max()])
    (line,) = ax.plot(grid, intercept + slope * grid, **style)  # type: ignore[arg-type]
    return line


def cohort_boxes(ax: Axes, rows: pd.DataFrame, methods: Sequence[str], cohorts: Sequence[str],
                 colours: dict[str, str]) -> np.ndarray:
    """A box (and points) per cohort within each method group; returns each group's top value."""
    k = len(cohorts)
    step = 0.8 / k
    tops = np.full(len(methods), np.nan)
    for i, method in enumerate(methods):
        for j, cohort in enumerate(cohorts):
            values = rows.loc[(rows["method"] == method) & (rows["cohort"] == cohort)]
            values = values.sort_values("participant_id")["value"].to_numpy()
            if not len(values):
                continue
            pos = i + (j - (k - 1) / 2) * step
            box = ax.boxplot([values], positions=[pos], widths=step * 0.8, patch_artist=True,
                             showfliers=False, medianprops={"color": "0.1"},
                             whiskerprops={"color": "0.35"}, capprops={"color": "0.35"})
            box["boxes"][0].set(facecolor=colours[cohort], alpha=0.5, edgecolor="0.35")
            ax.scatter(pos + jitter(len(values), step * 0.5), values, s=7,
                       color=colours[cohort], edgecolor="0.2", linewidth=0.3, zorder=3)
            tops[i] = np.nanmax([tops[i], values.max()])
    ax.set_xticks(np.arange(len(methods)), list(methods), rotation=40, ha="right")
    ax.set_xlim(-0.6, len(methods) - 0.4)
    return tops


def measure_panels(measures: pd.DataFrame, names: Sequence[str], titles: Sequence[str],
                   ylabel: str, *, methods: Sequence[str] | None, cohorts: Sequence[str] | None,
                   effects: pd.DataFrame | None, p_column: str, alpha: float,
                   comparison: str | None, subjects: object, ncols: int,
                   estimate_format: str) -> Figure:
    """One panel per measure, boxes by method and cohort, cohort effects marked above groups."""
    rows = select_measures(measures, names, methods=methods)
    keep = subject_filter(subjects)
    if keep is not None:
        rows = rows[rows["participant_id"].isin(keep)]
        if rows.empty:
            raise ValueError("none of the given subjects has rows in the measures table")
    methods = order(rows["method"], methods, "method")
    cohorts = order(rows["cohort"], cohorts, "cohort")
    rows = rows[rows["cohort"].isin(cohorts)]
    marks = (effect_rows(effects, ("estimate", p_column), comparison=comparison)
             if effects is not None else None)
    colours = cohort_palette(cohorts)
    ncols = min(ncols, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    with figure_style("whitegrid"):
        fig, axes = new_figure(nrows, ncols, panel_size=(0.55 * len(methods) + 1.4, 2.9))
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        for ax, name, title in zip(axes.flat, names, titles, strict=False):
            sub = rows[rows["measure"] == name]
            tops = cohort_boxes(ax, sub, methods, cohorts, colours)
            lo, hi = float(sub["value"].min()), float(np.nanmax(tops))
            span = max(hi - lo, abs(hi) * 0.01, 1e-12)
            for i, method in enumerate(methods):
                row = marks.get((method, name)) if marks is not None else None
                mark = stars(row[p_column], alpha) if row is not None else ""
                if row is not None and mark:
                    ax.text(i, tops[i] + 0.04 * span,
                            f"{mark}\n{format(row['estimate'], estimate_format)}",
                            ha="center", va="bottom", fontsize=6.5, linespacing=0.9,
                            gid="significance")
            ax.set_ylim(lo - 0.05 * span, hi + (0.3 if marks is not None else 0.08) * span)
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            ax.grid(axis="x", visible=False)
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4), useMathText=True)
            sns.despine(ax=ax)
        handles: list = [Patch(facecolor=colours[c], alpha=0.6, edgecolor="0.35")
                         for c in cohorts]
        labels = list(cohorts)
        if marks is not None:
            handles.append(Line2D([], [], linestyle=""))
            labels.append(f"* {p_column} < {alpha:g}: cohort effect (estimate below)")
        _legend_below(fig, handles, labels, title="cohort")
    return fig
