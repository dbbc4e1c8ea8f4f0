"""Segmentation accuracy on the reference test set: Dice per tissue (paper Fig 5) and per cortical
region (paper Table 3).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figure 5 and Table 3.
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
    require_columns,
    select_measures,
    stars,
    subject_filter,
)
from harmonstats.figures._draw import jitter
from harmonstats.figures.style import _legend_below, figure_style, method_palette, new_figure
from harmonstats.labels import REGIONS, TISSUES

__all__ = ["parcellation_dice_table", "plot_dice", "plot_parcellation_dice"]

_TISSUE_NAMES = [name for value, name in sorted(TISSUES.items()) if value]
_REGION_NAMES = [name for value, name in sorted(REGIONS.items()) if value]
#: p columns looked for in a Dice test table, in this order, when none is named.
_P_COLUMNS = ("wilcoxon_p_holm", "p_holm")


def _present(measures: pd.DataFrame, names: Sequence[str], wanted: Sequence[str] | None,
             kind: str) -> list[str]:
    require_columns(measures, ("measure",), "measures table")
    have = set(measures["measure"].astype(str))
    if wanted is not None:
        return list(wanted)
    found = [n for n in names if f"dice_{n}" in have]
    if not found:
        raise ValueError(f"measures table has no dice_<{kind}> rows (expected e.g. "
                         f"dice_{names[0]})")
    return found


def _test_marks(tests: pd.DataFrame, p_column: str | None) -> tuple[dict[tuple[str, str], float],
                                                                    str]:
    """(method, tissue) -> p from a Dice test table, and the p column used."""
    what = "Dice test table"
    require_columns(tests, ("method",), what)
    if p_column is None:
        p_column = next((c for c in _P_COLUMNS if c in tests.columns), _P_COLUMNS[-1])
    if "tissue" not in tests.columns and "measure" not in tests.columns:
        raise ValueError(f"{what} lacks required column 'tissue' (or 'measure'); it has "
                         f"{list(tests.columns)}")
    tissue = "tissue" if "tissue" in tests.columns else "measure"
    require_columns(tests, (p_column,), what)
    p = numeric(tests, p_column, what)
    keys = list(zip(tests["method"].astype(str),
                    tests[tissue].astype(str).str.removeprefix("dice_"), strict=True))
    out: dict[tuple[str, str], float] = {}
    for key, value in zip(keys, p, strict=True):
        if key in out:
            raise ValueError(f"{what} has two rows for method {key[0]!r} and tissue {key[1]!r}")
        out[key] = float(value)
    return out, p_column


def _dice_panel(ax: Axes, rows: pd.DataFrame, methods: list[str], colours: dict[str, str]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Box and points per method; returns each method's mean and upper whisker height."""
    data = [rows.loc[rows["method"] == m].sort_values("participant_id")["value"].to_numpy()
            for m in methods]
    pos = np.arange(len(methods))
    boxes = ax.boxplot(data, positions=pos, widths=0.6, patch_artist=True, showfliers=False,
                       medianprops={"color": "0.1"}, whiskerprops={"color": "0.35"},
                       capprops={"color": "0.35"})
    for patch, m in zip(boxes["boxes"], methods, strict=True):
        patch.set(facecolor=colours[m], alpha=0.55, edgecolor="0.35")
    for i, (m, values) in enumerate(zip(methods, data, strict=True)):
        ax.scatter(i + jitter(len(values), 0.3), values, s=9, color=colours[m], edgecolor="0.2",
                   linewidth=0.3, zorder=3)
    means = np.array([v.mean() if len(v) else np.nan for v in data])
    tops = np.array([v.max() if len(v) else np.nan for v in data])
    ax.set_xticks(pos, methods, rotation=40, ha="right")
    return means, tops


def plot_dice(measures: pd.DataFrame, *, methods: Sequence[str] | None = None,
              tissues: Sequence[str] | None = None, tests: pd.DataFrame | None = None,
              comparator: str | None = None, p_column: str | None = None, alpha: float = 0.05,
              subjects: object = None, ncols: int = 3) -> Figure:
    """Dice per tissue and method on the reference test set (paper Fig 5).

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``. Rows with measure ``dice_<tissue>`` (unitless) are drawn.
    methods : sequence of str, optional
        Methods to draw, in this order (default: all with Dice rows, in order of appearance).
    tissues : sequence of str, optional
        Tissue names (``csf``, ``cgm``, ``wm``, ``dgm``, ``cerebellum``, ``brainstem``); default
        all tissues with Dice rows.
    tests : pandas.DataFrame, optional
        Paired tests of each method against the comparator, e.g.
        :func:`harmonstats.analysis.segmentation.segmentation_quality`; required columns
        ``method``, ``tissue`` or ``measure`` (``csf`` or ``dice_csf``) and the p column.
        Methods with p < ``alpha`` get stars (``*``, ``**`` < .01, ``***`` < .001) above their
        box, others ``n.s.``; a missing (NaN) p gets no mark.
    comparator : str, optional
        Method the tests compare against, labelled ``ref.`` above its box (default: the single
        value of a ``comparator`` column of ``tests``, if there is one).
    p_column : str, optional
        Column of ``tests`` holding the (corrected) p value; default ``wilcoxon_p_holm`` if
        present, else ``p_holm``.
    alpha : float
        Significance level of the marks.
    subjects : iterable of str or pandas.DataFrame, optional
        Participant IDs to draw (e.g. the reference cohort's test split, the subjects the tests
        used); default all subjects with Dice rows.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per tissue: a box per method with one point per subject, and a gold diamond
        at the mean of the method with the highest mean Dice.

    Raises
    ------
    ValueError
        If a required column is missing (in ``measures`` or ``tests``), a tissue or method has no
        rows, or ``tests`` has two rows for one method and tissue.
    """
    names = _present(measures, _TISSUE_NAMES, tissues, "tissue")
    rows = select_measures(measures, [f"dice_{t}" for t in names], methods=methods)
    keep = subject_filter(subjects)
    if keep is not None:
        rows = rows[rows["participant_id"].isin(keep)]
        if rows.empty:
            raise ValueError("none of the given subjects has Dice rows in the measures table")
    methods = order(rows["method"], methods, "method")
    marks, p_column = _test_marks(tests, p_column) if tests is not None else (None, None)
    if comparator is None and tests is not None and "comparator" in tests.columns:
        values = tests["comparator"].dropna().astype(str).unique()
        comparator = str(values[0]) if len(values) == 1 else None
    colours = method_palette(methods)
    nrows = int(np.ceil(len(names) / ncols))
    with figure_style("whitegrid"):
        fig, axes = new_figure(nrows, min(ncols, len(names)), panel_size=(3.0, 3.0))
        for ax in axes.flat[len(names):]:
            ax.set_visible(False)
        for ax, tissue in zip(axes.flat, names, strict=False):
            sub = rows[rows["measure"] == f"dice_{tissue}"]
            means, tops = _dice_panel(ax, sub, methods, colours)
            span = max(float(np.nanmax(tops) - np.nanmin(sub["value"])), 0.02)
            if np.isfinite(means).any():
                best = int(np.nanargmax(means))
                ax.scatter([best], [means[best]], marker="D", s=60, color="gold",
                           edgecolor="0.1", linewidth=0.8, zorder=5, gid="best")
            for i, m in enumerate(methods):
                y = tops[i] + 0.04 * span
                if m == comparator:
                    ax.text(i, y, "ref.", ha="center", va="bottom", fontsize=7, style="italic",
                            gid="comparator")
                elif marks is not None and np.isfinite(marks.get((m, tissue), np.nan)):
                    p = marks[(m, tissue)]
                    mark = stars(p, alpha)
                    ax.text(i, y, mark or "n.s.", ha="center", va="bottom",
                            fontsize=9 if mark else 7, color="0.1" if mark else "0.45",
                            gid="significance" if mark else "not-significant")
            ax.set_ylim(top=float(np.nanmax(tops)) + 0.22 * span)
            ax.set_title(tissue)
            ax.set_xlabel("")
            ax.set_ylabel("Dice")
            ax.grid(axis="x", visible=False)
            sns.despine(ax=ax)
        handles = [Line2D([], [], marker="D", linestyle="", color="gold",
                          markeredgecolor="0.1", markersize=7)]
        labels = ["highest mean Dice"]
        if marks is not None:
            handles.append(Line2D([], [], linestyle=""))
            labels.append(f"{p_column} vs {comparator or 'comparator'}: * < {alpha:g}, "
                          "** < .01, *** < .001, n.s. not significant")
        _legend_below(fig, handles, labels)
    return fig


def parcellation_dice_table(measures: pd.DataFrame, *, method: str | None = None,
                            regions: Sequence[str] | None = None) -> pd.DataFrame:
    """Dice of the cortical parcellation per region: min, max, mean (paper Table 3).

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``, with rows ``dice_<region>`` for the 11 regions of
        :data:`harmonstats.labels.REGIONS` (unitless).
    method : str, optional
        Method whose parcellation is summarised; required when the table holds several.
    regions : sequence of str, optional
        Regions to report, in this order (default: all with Dice rows, in label order).

    Returns
    -------
    pandas.DataFrame
        One row per region: ``region``, ``n`` (subjects), ``min``, ``max``, ``mean``, ``sd``
        (sample SD, ddof 1) of the Dice score (unitless).

    Raises
    ------
    ValueError
        If a required column is missing, no region has Dice rows, or several methods are present
        and ``method`` is not given.
    """
    names = _present(measures, _REGION_NAMES, regions, "region")
    rows = select_measures(measures, [f"dice_{r}" for r in names],
                           methods=[method] if method is not None else None)
    found = sorted(rows["method"].unique())
    if method is None and len(found) > 1:
        raise ValueError(f"measures table holds region Dice for several methods {found}; "
                         "pass method=")
    out = [{"region": r, "n": len(v), "min": v.min(), "max": v.max(), "mean": v.mean(),
            "sd": v.std(ddof=1) if len(v) > 1 else np.nan}
           for r in names for v in [rows.loc[rows["measure"] == f"dice_{r}", "value"]]]
    return pd.DataFrame(out, columns=["region", "n", "min", "max", "mean", "sd"])


def plot_parcellation_dice(measures: pd.DataFrame, *, method: str | None = None,
                           regions: Sequence[str] | None = None) -> Figure:
    """Parcellation Dice per region: mean (bar) and min-max range (paper Table 3 as a figure).

    Parameters
    ----------
    measures, method, regions
        As for :func:`parcellation_dice_table`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel: a horizontal bar per region at the mean Dice, a line from min to max, and the
        mean written at the bar's end.
    """
    table = parcellation_dice_table(measures, method=method, regions=regions)
    y = np.arange(len(table))[::-1]
    with figure_style("whitegrid"):
        fig, axes = new_figure(1, 1, panel_size=(4.6, 0.6 + 0.32 * len(table)))
        ax = axes[0, 0]
        ax.barh(y, table["mean"], color="#9ecae1", edgecolor="#2171b5", height=0.6)
        ax.hlines(y, table["min"], table["max"], color="0.15", linewidth=1.5)
        for yi, (mean, hi) in zip(y, table[["mean", "max"]].to_numpy(), strict=True):
            ax.text(hi + 0.005, yi, f"{mean:.2f}", va="center", fontsize=7)
        ax.set_yticks(y, table["region"].tolist())
        lo = float(table["min"].min())
        ax.set_xlim(max(0.0, lo - 0.05), 1.02)
        ax.set_xlabel("Dice (bar: mean, line: min to max)")
        ax.grid(axis="y", visible=False)
        if method is not None:
            ax.set_title(f"cortical parcellation ({method})")
        sns.despine(ax=ax, left=True)
    return fig
