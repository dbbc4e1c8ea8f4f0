"""Cortical thickness on the matched subsets: mean CT against PMA per method with the cohort
effects (paper Fig 7), and regional CT by cohort (paper Fig 8).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figures 7 and 8.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harmonstats.figures._data import (
    effect_rows,
    order,
    select_measures,
    subject_filter,
    with_participants,
)
from harmonstats.figures._draw import measure_panels, regression_line
from harmonstats.figures.style import (
    _legend_below,
    cohort_palette,
    figure_style,
    method_palette,
    new_figure,
)
from harmonstats.labels import REGIONS

__all__ = ["plot_regional_thickness", "plot_thickness_vs_pma"]

_REGIONS = [name for value, name in sorted(REGIONS.items()) if value]


def _effect_panel(ax: Axes, methods: Sequence[str], rows: dict[tuple[str, str], dict[str, float]],
                  measure: str, p_column: str, alpha: float, unit: str) -> None:
    """Estimate and 95% CI of the cohort effect per method; harmonised methods in bold."""
    colours = method_palette(methods)
    y = np.arange(len(methods))[::-1]
    for yi, method in zip(y, methods, strict=True):
        row = rows.get((method, measure))
        if row is None:
            continue
        significant = row[p_column] < alpha
        ax.hlines(yi, row["ci_low"], row["ci_high"], color=colours[method], linewidth=2)
        ax.scatter([row["estimate"]], [yi], s=40, zorder=3, color=colours[method],
                   edgecolor="0.1", marker="o" if significant else "D",
                   gid="effect-significant" if significant else "effect")
    ax.axvline(0, color="0.3", linewidth=0.8, linestyle=":")
    ax.set_yticks(y, list(methods))
    for label, method in zip(ax.get_yticklabels(), methods, strict=True):
        row = rows.get((method, measure))
        if row is not None and not row[p_column] < alpha:
            label.set_fontweight("bold")
    ax.set_xlabel(f"cohort effect ({unit})")
    ax.set_title(f"cohort effect, 95% CI\n(bold: {p_column} ≥ {alpha:g})")
    ax.grid(axis="y", visible=False)


def plot_thickness_vs_pma(measures: pd.DataFrame, participants: pd.DataFrame, *,
                          methods: Sequence[str] | None = None,
                          cohorts: Sequence[str] | None = None, subjects: object = None,
                          effects: pd.DataFrame | None = None, measure: str = "thickness_mean",
                          p_column: str = "p_fdr", alpha: float = 0.05,
                          comparison: str | None = None, ncols: int = 4) -> Figure:
    """Mean cortical thickness against PMA per method, regression line per cohort (paper Fig 7).

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``, with rows for ``measure`` (mm).
    participants : pandas.DataFrame
        Required columns ``participant_id``, ``pma_scan`` (weeks).
    methods, cohorts : sequence of str, optional
        What to draw, in this order (default: all, in order of appearance).
    subjects : iterable of str or pandas.DataFrame, optional
        Participant IDs to keep, e.g. the matched subsets (``MatchResult.matched``).
    effects : pandas.DataFrame, optional
        Cohort effects (:func:`harmonstats.analysis.effects.cohort_effect`); required columns
        ``method``, ``measure``, ``estimate``, ``ci_low``, ``ci_high`` (95%, mm) and
        ``p_column``. Adds a last panel with the estimate and CI per method; methods whose
        effect is not significant (p >= ``alpha``) are written in bold, as in the paper.
    measure : str
        Thickness measure to draw (``thickness_mean`` or ``thickness_<region>``).
    p_column : str
        Column of ``effects`` with the p value.
    alpha : float
        Significance level.
    comparison : str, optional
        Which comparison of ``effects`` to draw, when it holds several.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per method (one point per subject, coloured by cohort; one least-squares line
        per cohort; shared y range), then the cohort-effect panel when ``effects`` is given.

    Raises
    ------
    ValueError
        If a required column is missing, a subject lacks a participants row, or a method, cohort
        or measure has no rows.
    """
    rows = select_measures(measures, [measure], methods=methods)
    keep = subject_filter(subjects)
    if keep is not None:
        rows = rows[rows["participant_id"].isin(keep)]
        if rows.empty:
            raise ValueError("none of the given subjects has rows in the measures table")
    rows = with_participants(rows, participants, ["pma_scan"])
    methods = order(rows["method"], methods, "method")
    cohorts = order(rows["cohort"], cohorts, "cohort")
    rows = rows[rows["cohort"].isin(cohorts)]
    marks = (effect_rows(effects, ("estimate", "ci_low", "ci_high", p_column),
                         comparison=comparison) if effects is not None else None)
    colours = cohort_palette(cohorts)
    n_panels = len(methods) + (marks is not None)
    ncols = min(ncols, n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    span = float(rows["value"].max() - rows["value"].min()) or 1.0
    ylim = (float(rows["value"].min()) - 0.05 * span, float(rows["value"].max()) + 0.05 * span)
    with figure_style("whitegrid"):
        fig, axes = new_figure(nrows, ncols, panel_size=(2.8, 2.6))
        for ax in axes.flat[n_panels:]:
            ax.set_visible(False)
        for ax, method in zip(axes.flat, methods, strict=False):
            for cohort in cohorts:
                sub = rows[(rows["method"] == method) & (rows["cohort"] == cohort)]
                ax.scatter(sub["pma_scan"], sub["value"], s=12, alpha=0.8,
                           color=colours[cohort], edgecolor="white", linewidth=0.3)
                regression_line(ax, sub["pma_scan"].to_numpy(), sub["value"].to_numpy(),
                                color=colours[cohort], linewidth=1.6)
            ax.set_ylim(ylim)
            ax.set_title(method)
            ax.set_xlabel("PMA at scan (weeks)")
            ax.set_ylabel(f"{measure} (mm)")
            sns.despine(ax=ax)
        if marks is not None:
            _effect_panel(axes.flat[len(methods)], methods, marks, measure, p_column, alpha, "mm")
            sns.despine(ax=axes.flat[len(methods)])
        handles = [Line2D([], [], marker="o", color=colours[c], linewidth=1.6) for c in cohorts]
        _legend_below(fig, handles, cohorts, title="cohort (points and least-squares line)")
    return fig


def plot_regional_thickness(measures: pd.DataFrame, *, methods: Sequence[str] | None = None,
                            regions: Sequence[str] | None = None,
                            cohorts: Sequence[str] | None = None,
                            effects: pd.DataFrame | None = None, p_column: str = "p_fdr",
                            alpha: float = 0.05, comparison: str | None = None,
                            subjects: object = None, ncols: int = 3) -> Figure:
    """Regional cortical thickness per method and cohort (paper Fig 8).

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``, with rows ``thickness_<region>`` (mm).
    methods, cohorts : sequence of str, optional
        What to draw, in this order (default: all, in order of appearance).
    regions : sequence of str, optional
        Regions to draw (default the 11 of :data:`harmonstats.labels.REGIONS`).
    effects : pandas.DataFrame, optional
        Cohort effects; required columns ``method``, ``measure`` (``thickness_<region>``),
        ``estimate`` (mm) and ``p_column``. Groups with p < ``alpha`` get stars and the estimate.
    p_column, alpha, comparison, subjects, ncols
        As for :func:`harmonstats.figures.volumes.plot_volumes`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per region: per method a box and points for each cohort.

    Raises
    ------
    ValueError
        If a required column is missing or a region, method or cohort has no rows.
    """
    names = [f"thickness_{r}" for r in (regions if regions is not None else _REGIONS)]
    return measure_panels(measures, names, [n.removeprefix("thickness_") for n in names],
                          "thickness (mm)", methods=methods, cohorts=cohorts, effects=effects,
                          p_column=p_column, alpha=alpha, comparison=comparison,
                          subjects=subjects, ncols=ncols, estimate_format="+.2f")
