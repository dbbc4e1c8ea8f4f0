"""Who is in the study: ages per cohort (paper Fig 1) and the balance of the matched subsets.

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figure 1.
Austin (2009), Balance diagnostics for comparing the distribution of baseline covariates between
treatment groups in propensity-score matched samples, Statistics in Medicine 28(25).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harmonstats.figures._data import numeric, order, require_columns
from harmonstats.figures.style import _legend_below, cohort_palette, figure_style, new_figure

__all__ = ["plot_age_distribution", "plot_balance"]


def plot_age_distribution(participants: pd.DataFrame, *, cohorts: Sequence[str] | None = None,
                          bin_width: float = 1.0) -> Figure:
    """GA at birth and PMA at scan per cohort (paper Fig 1), and GA against PMA.

    Parameters
    ----------
    participants : pandas.DataFrame
        Required columns: ``participant_id``, ``cohort``, ``ga_birth`` (weeks), ``pma_scan``
        (weeks). Subjects with a missing age are left out of the panel that needs it.
    cohorts : sequence of str, optional
        Cohorts to draw, in this order (default: all, in order of appearance).
    bin_width : float
        Histogram bin width (weeks).

    Returns
    -------
    matplotlib.figure.Figure
        Three panels: histogram of GA at birth, histogram of PMA at scan (one step-filled
        histogram per cohort, shared bins), and a scatter of PMA at scan against GA at birth
        (one point per subject).

    Raises
    ------
    ValueError
        If a required column is missing, an age is not numeric, a requested cohort is absent,
        or ``bin_width`` is not positive.
    """
    what = "participants table"
    require_columns(participants, ("participant_id", "cohort", "ga_birth", "pma_scan"), what)
    if not bin_width > 0:
        raise ValueError(f"bin_width must be positive, got {bin_width!r}")
    df = participants.assign(cohort=participants["cohort"].astype(str),
                             ga_birth=numeric(participants, "ga_birth", what),
                             pma_scan=numeric(participants, "pma_scan", what))
    names = order(df["cohort"], cohorts, "cohort")
    df = df[df["cohort"].isin(names)]
    colours = cohort_palette(names)
    labels = {"ga_birth": "GA at birth (weeks)", "pma_scan": "PMA at scan (weeks)"}
    with figure_style():
        fig, axes = new_figure(1, 3, panel_size=(3.0, 2.7))
        for ax, col in zip(axes[0, :2], ("ga_birth", "pma_scan"), strict=True):
            values = df[col].dropna()
            lo = np.floor(values.min() / bin_width) * bin_width if len(values) else 0.0
            hi = np.floor(values.max() / bin_width) * bin_width + bin_width if len(values) else 1.0
            bins = np.arange(lo, hi + bin_width / 2, bin_width)
            for name in names:
                x = df.loc[df["cohort"] == name, col].dropna().to_numpy()
                ax.hist(x, bins=bins, histtype="stepfilled", alpha=0.45, color=colours[name],
                        edgecolor=colours[name], linewidth=1.2, label=name)
            ax.set_xlabel(labels[col])
            ax.set_ylabel("subjects")
        ax = axes[0, 2]
        for name in names:
            sub = df[(df["cohort"] == name)].dropna(subset=["ga_birth", "pma_scan"])
            ax.scatter(sub["ga_birth"], sub["pma_scan"], s=14, alpha=0.8, color=colours[name],
                       edgecolor="white", linewidth=0.4, label=name)
        ax.set_xlabel(labels["ga_birth"])
        ax.set_ylabel(labels["pma_scan"])
        for ax in axes.flat:
            sns.despine(ax=ax)
        handles = [Line2D([], [], marker="s", linestyle="", markersize=8, color=colours[n])
                   for n in names]
        _legend_below(fig, handles, names, title="cohort")
    return fig


def _balance_rows(balance: pd.DataFrame) -> pd.DataFrame:
    """Wide rows label, before, after from either accepted balance table layout."""
    what = "balance table"
    if isinstance(balance, pd.DataFrame) and "stage" in balance.columns:
        require_columns(balance, ("variable", "stage", "smd"), what)
        df = balance.assign(smd=numeric(balance, "smd", what))
        stages = set(df["stage"].astype(str))
        for stage in ("before", "after"):
            if stage not in stages:
                raise ValueError(f"{what}: column 'stage' has no {stage!r} rows")
        keys = ["comparison", "variable"] if "comparison" in df.columns else ["variable"]
        # dropna=False keeps a stage whose SMDs are all missing (nobody matched), named below
        wide = df.pivot_table(index=keys, columns="stage", values="smd", aggfunc="first",
                              sort=False, dropna=False).reset_index()
        if wide["after"].isna().all():
            raise ValueError(f"{what}: no SMD after matching (no subject was matched)")
        many = "comparison" in keys and wide["comparison"].nunique() > 1
        wide["label"] = (wide["variable"].astype(str) + " (" + wide["comparison"].astype(str)
                         + ")") if many else wide["variable"].astype(str)
        return wide[["label", "before", "after"]]
    require_columns(balance, ("covariate", "smd_before", "smd_after"), what)
    return pd.DataFrame({"label": balance["covariate"].astype(str),
                         "before": numeric(balance, "smd_before", what),
                         "after": numeric(balance, "smd_after", what)})


def plot_balance(balance: pd.DataFrame, *, threshold: float = 0.1) -> Figure:
    """Love plot: absolute standardised mean difference per covariate before and after matching.

    Parameters
    ----------
    balance : pandas.DataFrame
        Either the long table of :func:`harmonstats.analysis.matching.match_cohorts`
        (``MatchResult.balance``) with required columns ``variable``, ``stage`` (``before`` /
        ``after``), ``smd`` and optional ``comparison`` (rows are labelled ``variable
        (comparison)`` when there are several comparisons); or a wide table with required
        columns ``covariate``, ``smd_before``, ``smd_after``. SMDs are unitless.
    threshold : float
        |SMD| under which a covariate is called balanced; drawn as a dashed vertical line.

    Returns
    -------
    matplotlib.figure.Figure
        One panel: per covariate an open marker at |SMD| before and a filled marker after,
        joined by a line, and the threshold line.

    Raises
    ------
    ValueError
        If a required column is missing, a stage is absent, or ``threshold`` is not positive.
    """
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold!r}")
    rows = _balance_rows(balance)
    y = np.arange(len(rows))[::-1]
    before, after = rows["before"].abs().to_numpy(), rows["after"].abs().to_numpy()
    with figure_style("whitegrid"):
        fig, axes = new_figure(1, 1, panel_size=(4.6, 1.2 + 0.38 * max(len(rows), 3)))
        ax = axes[0, 0]
        ax.hlines(y, np.fmin(before, after), np.fmax(before, after), color="0.6", linewidth=1)
        ax.scatter(before, y, s=36, facecolor="white", edgecolor="0.25", linewidth=1.2,
                   zorder=3, label="before matching")
        ax.scatter(after, y, s=36, color="0.15", zorder=3, label="after matching")
        ax.axvline(threshold, color="#d73027", linestyle="--", linewidth=1,
                   label=f"|SMD| = {threshold:g}")
        ax.set_yticks(y, rows["label"].tolist())
        ax.set_ylim(-0.6, len(rows) - 0.4)
        finite = np.concatenate([before, after])
        finite = finite[np.isfinite(finite)]
        ax.set_xlim(0, max(float(finite.max()) if len(finite) else 0.0, threshold) * 1.12)
        ax.set_xlabel("|standardised mean difference|")
        ax.grid(axis="y", visible=False)
        sns.despine(ax=ax, left=True)
        handles, labels = ax.get_legend_handles_labels()
        _legend_below(fig, handles, labels)
    return fig
