"""Demographics per cohort and split (paper Table 1)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from harmonstats.analysis.tables import PARTICIPANT_COLUMNS, require_columns

__all__ = ["DESCRIPTIVE_COLUMNS", "descriptives"]

DESCRIPTIVE_COLUMNS = {
    "cohort": "Cohort.",
    "split": "Split (train/val/test), or 'all'.",
    "n": "Subjects.",
    "n_female": "Female subjects (sex F).",
    "n_male": "Male subjects (sex M).",
    "ga_mean": {"Description": "Mean GA at birth.", "Units": "weeks"},
    "ga_sd": {"Description": "SD of GA at birth.", "Units": "weeks"},
    "pma_mean": {"Description": "Mean PMA at scan.", "Units": "weeks"},
    "pma_sd": {"Description": "SD of PMA at scan.", "Units": "weeks"},
    "birth_weight_mean": {"Description": "Mean birth weight.", "Units": "g"},
    "birth_weight_sd": {"Description": "SD of birth weight.", "Units": "g"},
    "n_missing": "Subjects missing GA, PMA or birth weight (left out of those means).",
}


def descriptives(participants: pd.DataFrame, *, by: Sequence[str] = ("cohort", "split")
                 ) -> pd.DataFrame:
    """Table 1 of the paper: N, sex counts, GA, PMA and birth weight mean (SD) per group.

    Parameters
    ----------
    participants : pandas.DataFrame
        participant_id, cohort, ga_birth (weeks), pma_scan (weeks), sex (F/M), birth_weight (g),
        optionally split.
    by : sequence of str
        Grouping; ``split`` is ignored when the table has none. Each cohort also gets an
        ``all`` row.

    Returns
    -------
    pandas.DataFrame
        cohort, split, n, n_female, n_male, ga_mean, ga_sd, pma_mean, pma_sd,
        birth_weight_mean, birth_weight_sd, n_missing (see :data:`DESCRIPTIVE_COLUMNS`).
    """
    require_columns(participants, [*PARTICIPANT_COLUMNS, "ga_birth", "pma_scan", "sex"],
             "participants table")
    parts = participants.copy()
    if "birth_weight" not in parts.columns:
        parts["birth_weight"] = float("nan")
    has_split = "split" in by and "split" in parts.columns
    groups: list[tuple[str, str, pd.DataFrame]] = []
    for cohort, g in parts.groupby(parts["cohort"].astype(str)):
        if has_split:
            groups += [(cohort, str(s), gs) for s, gs in g.groupby(g["split"].astype(str))]
        groups.append((cohort, "all", g))
    rows = []
    for cohort, split, g in groups:
        sex = g["sex"].astype(str)
        rows.append({
            "cohort": cohort, "split": split, "n": len(g), "n_female": int((sex == "F").sum()),
            "n_male": int((sex == "M").sum()), "ga_mean": g["ga_birth"].mean(),
            "ga_sd": g["ga_birth"].std(ddof=1), "pma_mean": g["pma_scan"].mean(),
            "pma_sd": g["pma_scan"].std(ddof=1), "birth_weight_mean": g["birth_weight"].mean(),
            "birth_weight_sd": g["birth_weight"].std(ddof=1),
            "n_missing": int(g[["ga_birth", "pma_scan", "birth_weight"]].isna().any(axis=1).sum()),
        })
    return pd.DataFrame(rows, columns=list(DESCRIPTIVE_COLUMNS))
