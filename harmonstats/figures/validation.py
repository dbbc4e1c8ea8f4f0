"""Did harmonisation work: equivalence of cohort effects against a margin, and how well the
cohort can still be predicted from the measures.

References
----------
Lakens (2017), Equivalence tests: a practical primer for t tests, correlations, and
meta-analyses, Social Psychological and Personality Science 8(4).
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
    numeric,
    order,
    p_text,
    require_columns,
    select_comparison,
)
from harmonstats.figures.style import (
    _EXTRA,
    _legend_below,
    figure_style,
    method_palette,
    new_figure,
)

__all__ = ["VERDICT_COLORS", "plot_equivalence", "plot_site_prediction"]

#: Colour of each verdict of :func:`harmonstats.analysis.equivalence.equivalence`.
VERDICT_COLORS: dict[str, str] = {
    "equivalent": "#1a9850",
    "trivial difference": "#a6d96a",
    "different": "#d73027",
    "inconclusive": "#969696",
}


def _unit(measure: str) -> str:
    if measure.startswith("volume_") or measure == "icv":
        return "mm³"
    if measure.startswith("thickness_"):
        return "mm"
    return "measure unit"


def plot_equivalence(table: pd.DataFrame, *, methods: Sequence[str] | None = None,
                     measures: Sequence[str] | None = None, comparison: str | None = None,
                     scale: str = "measure", ncols: int = 3) -> Figure:
    """Forest plot of cohort effects with their 90% CI against the equivalence margin.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`harmonstats.analysis.equivalence.equivalence`; required columns
        ``method``, ``measure``, ``estimate``, ``ci90_low``, ``ci90_high`` (measure units),
        ``verdict``, and the bound: ``margin_abs`` if present, else ``margin`` (measure units).
        A ``comparison`` column with several values needs ``comparison``.
    methods, measures : sequence of str, optional
        What to draw, in this order (default: all, in order of appearance).
    comparison : str, optional
        Which comparison to draw when the table holds several.
    scale : {"measure", "margin"}
        ``measure``: one panel per measure, rows are methods, x in the measure's unit (mm,
        mm3). ``margin``: one panel per method, rows are measures, x divided by each row's margin
        (unitless, margins at -1 and +1), so every measure of a method reads on one axis.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        Per row the estimate and its 90% CI coloured by verdict (:data:`VERDICT_COLORS`),
        dashed lines at -margin and +margin (per row when the rows' margins differ), a dotted
        line at 0.

    Raises
    ------
    ValueError
        If a required column is missing, a method, measure or comparison is absent, a method
        and measure have two rows, or ``scale`` is unknown.
    """
    what = "equivalence table"
    bound = "margin_abs" if isinstance(table, pd.DataFrame) and "margin_abs" in table.columns \
        else "margin"
    require_columns(table, ("method", "measure", "estimate", "ci90_low", "ci90_high", "verdict",
                            bound), what)
    df = select_comparison(table, comparison, what)
    df = df.assign(method=df["method"].astype(str), measure=df["measure"].astype(str),
                   verdict=df["verdict"].astype(str),
                   **{c: numeric(df, c, what) for c in ("estimate", "ci90_low", "ci90_high",
                                                        bound)})
    if df.duplicated(["method", "measure"]).any():
        key = df.loc[df.duplicated(["method", "measure"]), ["method", "measure"]].iloc[0]
        raise ValueError(f"{what} has two rows for method {key['method']!r} and measure "
                         f"{key['measure']!r}")
    methods = order(df["method"], methods, "method")
    names = order(df["measure"], measures, "measure")
    df = df[df["method"].isin(methods) & df["measure"].isin(names)]
    verdicts = list(dict.fromkeys([*VERDICT_COLORS, *df["verdict"]]))
    extra = iter(_EXTRA)
    colours = {v: VERDICT_COLORS.get(v) or next(extra) for v in verdicts}
    if scale == "margin":
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = df[bound].abs().to_numpy()
            df = df.assign(**{c: df[c] / unit for c in ("estimate", "ci90_low", "ci90_high")},
                           **{bound: 1.0})
        panel_col, row_col, panels, rows = "method", "measure", methods, names
    elif scale == "measure":
        panel_col, row_col, panels, rows = "measure", "method", names, methods
    else:
        raise ValueError(f"scale must be 'measure' or 'margin', got {scale!r}")
    ncols = min(ncols, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    y_of = {r: k for k, r in enumerate(reversed(rows))}
    with figure_style("whitegrid"):
        fig, axes = new_figure(nrows, ncols, panel_size=(3.1, 0.9 + 0.3 * len(rows)),
                               sharey=scale == "margin")
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax, name in zip(axes.flat, panels, strict=False):
            sub = df[df[panel_col] == name]
            _forest_panel(ax, sub, y_of, row_col, bound, colours)
            ax.set_ylim(-0.6, len(rows) - 0.4)
            ax.set_yticks(list(y_of.values()), list(y_of))
            ax.set_title(name)
            ax.set_xlabel("cohort effect / margin" if scale == "margin"
                          else f"cohort effect ({_unit(name)})")
        shown = [v for v in verdicts if v in set(df["verdict"])]
        handles = [Line2D([], [], color=colours[v], marker="o", linewidth=2.2,
                          markeredgecolor="0.1") for v in shown]
        handles.append(Line2D([], [], color="0.25", linestyle="--"))
        _legend_below(fig, handles, [*shown, "± equivalence margin"],
                      title="estimate and 90% CI, by verdict")
    return fig


def _forest_panel(ax: Axes, sub: pd.DataFrame, y_of: dict[str, int], row_col: str, bound: str,
                  colours: dict[str, str]) -> None:
    """Estimates and 90% CIs of one panel, the margin lines and the zero line."""
    for row in sub.itertuples(index=False):
        y, c = y_of[getattr(row, row_col)], colours[row.verdict]
        ax.hlines(y, row.ci90_low, row.ci90_high, color=c, linewidth=2.2)
        ax.scatter([row.estimate], [y], s=30, color=c, edgecolor="0.1", linewidth=0.6,
                   zorder=3, gid="estimate")
    margins = sub[bound].abs().unique()
    if len(margins) == 1:
        for sign in (-1, 1):
            ax.axvline(sign * margins[0], color="0.25", linestyle="--", linewidth=1,
                       gid="margin")
    else:
        for row in sub.itertuples(index=False):
            m, y = abs(getattr(row, bound)), y_of[getattr(row, row_col)]
            ax.vlines([-m, m], y - 0.4, y + 0.4, color="0.25", linestyle="--", linewidth=1,
                      gid="margin")
    ax.axvline(0, color="0.5", linestyle=":", linewidth=0.8)
    values = np.abs(np.concatenate([sub["ci90_low"], sub["ci90_high"], sub[bound]]))
    values = values[np.isfinite(values)]
    reach = float(values.max()) * 1.1 if len(values) else 1.0
    ax.set_xlim(-reach, reach)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useMathText=True)
    ax.grid(axis="y", visible=False)
    sns.despine(ax=ax, left=True)


def plot_site_prediction(table: pd.DataFrame, *, p_column: str | None = None,
                         chance: float | None = None, methods: Sequence[str] | None = None
                         ) -> Figure:
    """Balanced accuracy of predicting the cohort from the measures, per method.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`harmonstats.analysis.site.site_prediction`; required columns
        ``method``, ``balanced_accuracy`` (0-1) and the p column; optional ``chance`` (used
        when ``chance`` is not given) and ``ci_low``/``ci_high`` (drawn as error bars).
    p_column : str, optional
        Column with the permutation p value; default ``p_permutation`` if present, else ``p``.
    chance : float, optional
        Chance level (default: the table's ``chance`` column if it has one value, else 0.5).
    methods : sequence of str, optional
        Methods to draw, in this order (default: table order).

    Returns
    -------
    matplotlib.figure.Figure
        One panel: a bar per method (method colours), a dashed line at chance, the p value above
        each bar. Lower accuracy (nearer chance) means the cohorts are harder to tell apart.

    Raises
    ------
    ValueError
        If a required column is missing, a method is listed twice or absent, or the chance level
        is ambiguous or outside (0, 1).
    """
    what = "site-prediction table"
    if p_column is None:
        p_column = "p_permutation" if isinstance(table, pd.DataFrame) \
            and "p_permutation" in table.columns else "p"
    require_columns(table, ("method", "balanced_accuracy", p_column), what)
    df = table.assign(method=table["method"].astype(str),
                      balanced_accuracy=numeric(table, "balanced_accuracy", what),
                      _p=numeric(table, p_column, what))
    dup = df.loc[df["method"].duplicated(), "method"]
    if len(dup):
        raise ValueError(f"{what} lists method {dup.iloc[0]!r} twice")
    if chance is None:
        levels = numeric(df, "chance", what).unique() if "chance" in df.columns else [0.5]
        if len(levels) != 1:
            raise ValueError(f"{what}: column 'chance' has several values {list(levels)}; pass "
                             "chance=")
        chance = float(levels[0])
    if not 0 < chance < 1:
        raise ValueError(f"chance level must be in (0, 1), got {chance!r}")
    methods = order(df["method"], methods, "method")
    df = df.set_index("method").loc[methods].reset_index()
    colours = method_palette(methods)
    x = np.arange(len(methods))
    with figure_style("whitegrid"):
        fig, axes = new_figure(1, 1, panel_size=(max(0.6 * len(methods) + 1.6, 3.6), 3.0))
        ax = axes[0, 0]
        ax.bar(x, df["balanced_accuracy"], color=[colours[m] for m in methods],
               edgecolor="0.3", width=0.7)
        tops = df["balanced_accuracy"].to_numpy(float)
        if {"ci_low", "ci_high"} <= set(df.columns):
            lo, hi = numeric(df, "ci_low", what), numeric(df, "ci_high", what)
            ax.errorbar(x, tops, yerr=[tops - lo, hi - tops], fmt="none", ecolor="0.2",
                        capsize=3)
            tops = np.fmax(tops, hi.to_numpy())
        for xi, top, p in zip(x, tops, df["_p"], strict=True):
            ax.text(xi, top + 0.02, p_text(p), ha="center", va="bottom", fontsize=7,
                    rotation=90 if len(methods) > 6 else 0, gid="p-value")
        ax.axhline(chance, color="#d73027", linestyle="--", linewidth=1, gid="chance")
        ax.set_ylim(0, 1.12)
        ax.set_xticks(x, methods, rotation=40, ha="right")
        ax.set_ylabel("balanced accuracy")
        ax.set_title("cohort predicted from the measures")
        ax.grid(axis="x", visible=False)
        sns.despine(ax=ax)
        _legend_below(fig, [Line2D([], [], color="#d73027", linestyle="--")],
                      [f"chance ({chance:.2g})"])
    return fig
