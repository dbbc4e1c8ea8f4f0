"""An outcome against regional thickness before and after harmonisation (paper Fig 12).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figure 12.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harmonstats.figures._data import effect_rows, order, p_text, select_measures, with_participants
from harmonstats.figures._draw import regression_line
from harmonstats.figures.style import _legend_below, cohort_palette, figure_style, new_figure

__all__ = ["plot_outcome_thickness"]


def _effects(effects: pd.DataFrame, outcome: str, p_column: str
             ) -> dict[tuple[str, str], dict[str, float]]:
    """Pooled rows of an outcome-model table, keyed by (method, thickness measure)."""
    if isinstance(effects, pd.DataFrame):
        if "measure" not in effects.columns and "predictor" in effects.columns:
            effects = effects.assign(measure=effects["predictor"])
        if "scope" in effects.columns:
            effects = effects[effects["scope"].astype(str) == "pooled"]
        if "outcome" in effects.columns:
            effects = effects[effects["outcome"].astype(str) == outcome]
    return effect_rows(effects, ("estimate", p_column), what="outcome-model table")


def plot_outcome_thickness(measures: pd.DataFrame, participants: pd.DataFrame, *, after: str,
                           before: str = "original", outcome: str = "language_composite",
                           regions: Sequence[str] = ("frontal_l", "frontal_r"),
                           cohorts: Sequence[str] | None = None,
                           effects: pd.DataFrame | None = None, p_column: str = "p",
                           outcome_label: str | None = None) -> Figure:
    """Outcome score against regional CT, pooled cohorts, before and after (paper Fig 12).

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``, with rows ``thickness_<region>`` (mm) for ``before`` and
        ``after``.
    participants : pandas.DataFrame
        Required columns ``participant_id`` and ``outcome``. Subjects without an outcome are
        left out with a warning that counts them.
    after : str
        Harmonised method (second column).
    before : str
        Unharmonised method (first column).
    outcome : str
        Participants column with the outcome (paper: Bayley language composite).
    regions : sequence of str
        One row of panels per region (default left and right frontal).
    cohorts : sequence of str, optional
        Cohorts to draw, in this order (default all).
    effects : pandas.DataFrame, optional
        Pooled-model results, e.g. :func:`harmonstats.analysis.outcome.outcome_association`;
        required columns ``method``, ``measure`` or ``predictor`` (``thickness_<region>``),
        ``estimate`` (outcome units per mm) and ``p_column``. Only rows with ``scope`` ``pooled``
        and ``outcome`` equal to ``outcome`` are used when those columns exist. Written in each
        panel's corner as "adjusted β": it comes from the covariate-adjusted model, whereas the
        drawn line is the unadjusted least-squares line.
    p_column : str
        Column of ``effects`` with the p value.
    outcome_label : str, optional
        Y-axis label (default the outcome column name).

    Returns
    -------
    matplotlib.figure.Figure
        len(regions) x 2 panels (columns before, after): one point per subject coloured by
        cohort, and the least-squares line of the pooled sample.

    Raises
    ------
    ValueError
        If a required column is missing or a method or region has no rows.
    """
    names = [f"thickness_{r}" for r in regions]
    rows = select_measures(measures, names, methods=list(dict.fromkeys([before, after])))
    rows = with_participants(rows, participants, [outcome])
    cohorts = order(rows["cohort"], cohorts, "cohort")
    rows = rows[rows["cohort"].isin(cohorts)]
    marks = _effects(effects, outcome, p_column) if effects is not None else None
    colours = cohort_palette(cohorts)
    with figure_style("whitegrid"):
        fig, axes = new_figure(len(names), 2, panel_size=(3.2, 2.7), sharey=True)
        for i, name in enumerate(names):
            for j, method in enumerate((before, after)):
                ax = axes[i, j]
                sub = rows[(rows["measure"] == name) & (rows["method"] == method)]
                for cohort in cohorts:
                    pts = sub[sub["cohort"] == cohort]
                    ax.scatter(pts["value"], pts[outcome], s=12, alpha=0.75,
                               color=colours[cohort], edgecolor="white", linewidth=0.3)
                regression_line(ax, sub["value"].to_numpy(), sub[outcome].to_numpy(),
                                color="0.1", linewidth=1.8, gid="pooled-line")
                row = marks.get((method, name)) if marks is not None else None
                if row is not None:
                    label = f"adjusted β = {row['estimate']:.2f}, {p_text(row[p_column])}"
                    ax.text(0.03, 0.04, label, transform=ax.transAxes, fontsize=7, gid="effect",
                            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
                ax.set_title(f"{'before' if j == 0 else 'after'} ({method})" if i == 0 else "")
                ax.set_xlabel(f"{name} (mm)")
                ax.set_ylabel(outcome_label or outcome if j == 0 else "")
                sns.despine(ax=ax)
        handles = [Line2D([], [], marker="o", linestyle="", color=colours[c]) for c in cohorts]
        handles.append(Line2D([], [], color="0.1", linewidth=1.8))
        _legend_below(fig, handles, [*cohorts, "pooled least-squares line"])
    return fig
