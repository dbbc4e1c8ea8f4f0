"""Tissue volumes by cohort for each method, with the cohort effects marked (paper Fig 6).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figure 6.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from harmonstats.figures._draw import measure_panels
from harmonstats.labels import TISSUES

__all__ = ["plot_volumes"]

_TISSUES = [name for value, name in sorted(TISSUES.items()) if value]


def plot_volumes(measures: pd.DataFrame, *, methods: Sequence[str] | None = None,
                 tissues: Sequence[str] | None = None, cohorts: Sequence[str] | None = None,
                 effects: pd.DataFrame | None = None, p_column: str = "p_fdr",
                 alpha: float = 0.05, comparison: str | None = None, subjects: object = None,
                 include_icv: bool = False, ncols: int = 3) -> Figure:
    """Tissue volumes per method and cohort (paper Fig 6), cohort effects marked when given.

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table; required columns ``participant_id``, ``cohort``, ``method``,
        ``measure``, ``value``, with rows ``volume_<tissue>`` (mm3) (and ``icv`` when
        ``include_icv``).
    methods : sequence of str, optional
        Methods to draw, in this order (default: all, in order of appearance).
    tissues : sequence of str, optional
        Tissues to draw (default the 6 of :data:`harmonstats.labels.TISSUES`).
    cohorts : sequence of str, optional
        Cohorts to draw, in this order (default: all, in order of appearance).
    effects : pandas.DataFrame, optional
        Cohort effects (e.g. :func:`harmonstats.analysis.effects.cohort_effect`); required
        columns ``method``, ``measure``, ``estimate`` (mm3) and ``p_column``; a ``comparison``
        column with several values needs ``comparison``. Groups with p < ``alpha`` get stars
        and the estimate above their boxes; others get nothing.
    p_column : str
        Column of ``effects`` holding the p value (``p_fdr`` or ``p``).
    alpha : float
        Significance level of the marks.
    comparison : str, optional
        Which comparison of ``effects`` to mark, when it holds several.
    subjects : iterable of str or pandas.DataFrame, optional
        Participant IDs to keep (e.g. the matched subsets' ``matched`` table); default all.
    include_icv : bool
        Add a panel for the intracranial volume.
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per tissue: per method a box and points for each cohort (cohort colours of
        :func:`harmonstats.figures.style.cohort_palette`).

    Raises
    ------
    ValueError
        If a required column is missing, a measure, method or cohort has no rows, or ``effects``
        has two rows for one method and measure.
    """
    names = [f"volume_{t}" for t in (tissues if tissues is not None else _TISSUES)]
    titles = [n.removeprefix("volume_") for n in names]
    if include_icv:
        names.append("icv")
        titles.append("intracranial volume")
    return measure_panels(measures, names, titles, "volume (mm³)", methods=methods,
                          cohorts=cohorts, effects=effects, p_column=p_column, alpha=alpha,
                          comparison=comparison, subjects=subjects, ncols=ncols,
                          estimate_format="+.3g")
