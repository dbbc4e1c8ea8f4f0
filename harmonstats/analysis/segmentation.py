"""Segmentation quality on the reference cohort's test split (paper 3.1, Figure 5).

Dice of each method per tissue, and paired tests of every method against a comparator (the
paper: baseline with augmentation), Holm-corrected across methods within each tissue.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from harmonstats.analysis.ols import holm
from harmonstats.analysis.tables import check_methods
from harmonstats.errors import InputError

__all__ = ["SEGMENTATION_COLUMNS", "segmentation_quality"]

#: Fewest pairs with which the exact two-sided Wilcoxon test can give p < 0.05 (2 / 2^6).
_MIN_WILCOXON_PAIRS = 6

SEGMENTATION_COLUMNS = {
    "measure": "Dice measure (dice_<tissue>).",
    "method": "Segmentation method.",
    "comparator": "Method every other is tested against.",
    "mean": {"Description": "Mean Dice of the method.", "Units": "1"},
    "sd": {"Description": "SD of Dice.", "Units": "1"},
    "median": {"Description": "Median Dice.", "Units": "1"},
    "mean_difference": {"Description": "Mean paired difference, method - comparator.",
                        "Units": "1"},
    "wilcoxon_w": "Wilcoxon signed-rank statistic (scipy: smaller rank sum; zero differences "
                  "dropped, 'wilcox' zero method).",
    "wilcoxon_p": "Two-sided Wilcoxon signed-rank p-value.",
    "wilcoxon_p_holm": "Holm-adjusted wilcoxon_p across methods within the measure.",
    "t": "Paired t statistic, method - comparator.",
    "t_p": "Two-sided paired t-test p-value.",
    "t_p_holm": "Holm-adjusted t_p across methods within the measure.",
    "best": "True for the method with the highest mean Dice for this measure.",
    "n": "Subjects with Dice for both the method and the comparator.",
}


def segmentation_quality(
    wide: pd.DataFrame,
    *,
    comparator: str,
    cohort: str | None = None,
    split: str | None = "test",
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Dice per tissue and method, paired tests against ``comparator``.

    Parameters
    ----------
    wide : pandas.DataFrame
        From ``wide_table``; Dice columns are those named ``dice_*``.
    comparator : str
        Method tested against (paper: ``baseline_aug``).
    cohort : str, optional
        Cohort with ground truth (the reference); default all rows.
    split : str, optional
        Split to evaluate (default ``test``; None or no split column: all).
    methods : sequence of str, optional
        Methods compared (default every method with Dice values).

    Returns
    -------
    pandas.DataFrame
        One row per (measure, method): measure, method, comparator, mean, sd, median,
        mean_difference, wilcoxon_w, wilcoxon_p, wilcoxon_p_holm, t, t_p, t_p_holm, best, n
        (see :data:`SEGMENTATION_COLUMNS`); the comparator's own test columns are NaN.
    """
    dice = [c for c in wide.columns if c.startswith("dice_")]
    if not dice:
        raise InputError("segmentation quality: the measures table has no dice_* measures")
    rows = wide
    if cohort is not None:
        rows = rows[rows["cohort"].astype(str) == cohort]
    if split is not None and "split" in rows.columns:
        rows = rows[rows["split"] == split]
    with_dice = sorted(rows.loc[rows[dice].notna().any(axis=1), "method"].unique())
    methods = list(methods) if methods is not None else with_dice
    check_methods(rows, [*methods, comparator])
    out = []
    for measure in dice:
        table = rows.pivot(index="participant_id", columns="method", values=measure)
        block = []
        for method in methods:
            pair = table[[method, comparator]].dropna()
            a, b = pair[method].to_numpy(float), pair[comparator].to_numpy(float)
            if not len(table[method].dropna()):
                continue
            row = {"measure": measure, "method": method, "comparator": comparator,
                   "mean": table[method].mean(), "sd": table[method].std(ddof=1),
                   "median": table[method].median(), "mean_difference": np.nan,
                   "wilcoxon_w": np.nan, "wilcoxon_p": np.nan, "t": np.nan, "t_p": np.nan,
                   "n": len(pair)}
            if method != comparator and len(pair) >= 2 and np.any(a != b):
                w = stats.wilcoxon(a, b)
                t = stats.ttest_rel(a, b)
                row.update(mean_difference=float((a - b).mean()), wilcoxon_w=float(w.statistic),
                           wilcoxon_p=float(w.pvalue), t=float(t.statistic), t_p=float(t.pvalue))
            block.append(row)
        if not block:
            continue
        frame = pd.DataFrame(block)
        frame["wilcoxon_p_holm"] = holm(frame["wilcoxon_p"].to_numpy())
        frame["t_p_holm"] = holm(frame["t_p"].to_numpy())
        frame["best"] = frame["mean"] == frame["mean"].max()
        out.append(frame)
    if not out:
        return pd.DataFrame(columns=list(SEGMENTATION_COLUMNS))
    result = pd.concat(out, ignore_index=True)[list(SEGMENTATION_COLUMNS)]
    tested = result.loc[result["wilcoxon_p"].notna(), "n"]
    if len(tested) and tested.min() < _MIN_WILCOXON_PAIRS:
        n = int(tested.min())
        warnings.warn(f"segmentation quality: only {n} paired subject(s); the two-sided Wilcoxon "
                      f"signed-rank test cannot reach p < 0.05 below {_MIN_WILCOXON_PAIRS} pairs "
                      f"(its smallest p with {n} is {min(1.0, 2 / 2**n):.3g})", stacklevel=2)
    return result
