"""Input checks and the wide analysis table: one row per subject and method, one column per measure.

Every analysis of the battery starts from :func:`wide_table`, which joins the long measures table
(DESIGN.md "Tables") to the participants table and refuses input that would give a silently wrong
number: IDs in one table and not the other, non-numeric values, duplicated measurements.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from harmonstats.errors import InputError
from harmonstats.layout.names import scan_columns
from harmonstats.layout.tables import (
    MEASURE_TABLE_COLUMNS,
    check_measures_table,
    check_participants,
    scan_keys,
)

__all__ = [
    "MEASURE_COLUMNS",
    "PARTICIPANT_COLUMNS",
    "InsufficientDataError",
    "check_covariates",
    "check_measures",
    "check_methods",
    "drop_missing",
    "numeric_column",
    "require_columns",
    "rows_analysed",
    "wide_table",
]

class InsufficientDataError(InputError):
    """The data cannot support an analysis: too few subjects, no overlap, not identifiable.

    Raised by a single analysis, it says nothing is wrong with the input as such; the battery
    records that analysis as skipped, with this message as the reason, and runs the others.
    Called on its own (outside the battery), the analysis reports it as an input error.
    """


#: Columns the long measures table must have.
MEASURE_COLUMNS = MEASURE_TABLE_COLUMNS
#: Columns the participants table must have.
PARTICIPANT_COLUMNS = ("participant_id", "cohort")


def require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what} lacks required column(s) {missing}; it has {list(df.columns)}")


def _names(ids: Iterable[str], limit: int = 10) -> str:
    ids = sorted(ids)
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def wide_table(measures: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Join the long measures table to the participants table, one row per subject and method.

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table: participant_id, cohort, method, measure, value (unit, session_id
        optional). Values must be numeric (mm, mm3 or 1 as the measure's unit says).
    participants : pandas.DataFrame
        participant_id, cohort and the covariates (ga_birth and pma_scan in weeks, sex F/M,
        birth_weight in g, split, outcome columns). With a ``session_id`` column it has one row
        per (participant_id, session_id), with that session's ``pma_scan``, and the measures
        table's ``session_id`` says which session each value comes from.

    Returns
    -------
    pandas.DataFrame
        One row per (participant_id, method), or per (participant_id, session_id, method) when
        both tables give sessions (the participants table then has one row per subject-session):
        those columns, every participants column (cohort included), then one column per measure
        (sorted by name). IDs take their BIDS forms (``sub-<label>``, ``ses-<label>``) whichever
        form each table used. Rows are sorted by method then subject (and session), so the result
        does not depend on input row order.

    Raises
    ------
    InputError
        If either table fails its check (:func:`~harmonstats.layout.check_participants`,
        :func:`~harmonstats.layout.check_measures_table`: a required column missing, an ID in
        one table and not the other, a cohort that differs between them, a value that is not a
        finite number, a measure twice for one scan and method), or a measure is named like a
        participants column.
    """
    require_columns(measures, MEASURE_COLUMNS, "measures table")
    require_columns(participants, PARTICIPANT_COLUMNS, "participants table")
    # IDs with or without sub-/ses-; subject-sessions are the unit when both tables have them.
    parts = check_participants(participants, required=PARTICIPANT_COLUMNS)
    meas = check_measures_table(measures, participants=parts)
    scan = scan_columns(parts, meas)
    parts["_scan"] = scan_keys(parts, scan)
    meas["_scan"] = scan_keys(meas, scan)
    wide = meas.pivot(index=["_scan", "method"], columns="measure", values="value")
    wide = wide.reindex(columns=sorted(wide.columns))
    wide.columns.name = None
    wide = wide.reset_index()
    clash_cols = set(wide.columns) & (set(parts.columns) - {"_scan"})
    if clash_cols:
        raise InputError(f"measure name(s) {sorted(clash_cols)} clash with participants columns")
    out = parts.merge(wide, on="_scan", how="right").drop(columns="_scan")
    lead = [*scan, "method"]
    out = out[lead + [c for c in out.columns if c not in lead]]
    return out.sort_values(["method", *scan], kind="mergesort").reset_index(drop=True)


def check_methods(wide: pd.DataFrame, methods: Sequence[str]) -> None:
    """Raise ``ValueError`` naming any method that is not in the table."""
    known = set(wide["method"].unique())
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; the table has {sorted(known)}")


def rows_analysed(wide: pd.DataFrame, methods: Sequence[str] | None,
                  subsets: Mapping[str, set[str]] | None) -> tuple[list[str], pd.DataFrame]:
    """Methods to analyse (default all, checked) and the rows of the subsets' subjects (their
    union; all rows when ``subsets`` is None)."""
    methods = list(methods) if methods is not None else sorted(wide["method"].unique())
    check_methods(wide, methods)
    if subsets is None:
        return methods, wide
    return methods, wide[wide["participant_id"].isin(set().union(*subsets.values()))]


def check_measures(wide: pd.DataFrame, measures: Sequence[str]) -> None:
    """Raise ``ValueError`` naming any measure that is not a column of the table."""
    unknown = [m for m in measures if m not in wide.columns]
    if unknown:
        raise InputError(f"unknown measure(s) {unknown}")


def check_covariates(df: pd.DataFrame, covariates: Sequence[str], context: str) -> None:
    """Raise if a covariate is absent, non-numeric (other than sex-like text) or constant."""
    for cov in covariates:
        if cov not in df.columns:
            raise InputError(f"{context}: covariate {cov!r} is not a column of the table")
        col = df[cov].dropna()
        if col.nunique() < 2:
            raise InsufficientDataError(
                f"{context}: covariate {cov!r} has no variance in the {len(col)} subjects "
                f"analysed (every value is {col.iloc[0] if len(col) else 'missing'!r}); "
                "drop it from the model"
            )
        if not pd.api.types.is_numeric_dtype(col) and col.nunique() > 2:
            raise InputError(
                f"{context}: covariate {cov!r} is not numeric and has {col.nunique()} levels; "
                "only two-level text covariates (e.g. sex F/M) are coded automatically"
            )


def drop_missing(df: pd.DataFrame, columns: Sequence[str], context: str) -> pd.DataFrame:
    """Drop rows with a missing value in ``columns``, warning with the count."""
    mask = df[list(columns)].isna().any(axis=1).to_numpy()
    if mask.any():
        warnings.warn(
            f"{context}: dropped {int(mask.sum())} of {len(df)} row(s) with missing values in "
            f"{[c for c in columns if df[c].isna().any()]}",
            stacklevel=3,
        )
    return df.loc[~mask]


def numeric_column(df: pd.DataFrame, column: str) -> np.ndarray:
    """Column as floats; a two-level text column (e.g. sex F/M) becomes 0/1 (sorted levels)."""
    col = df[column]
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float)
    levels = sorted(col.astype(str).unique())
    return (col.astype(str).to_numpy() == levels[-1]).astype(float)
