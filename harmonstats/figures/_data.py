"""Input checks shared by the figure functions: required columns, measure selection, p labels."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from harmonstats.layout.names import canonical_ids, participant_id, scan_columns

__all__ = [
    "effect_rows",
    "numeric",
    "order",
    "p_text",
    "require_columns",
    "select_comparison",
    "select_measures",
    "stars",
    "subject_filter",
    "with_participants",
]


def require_columns(df: object, columns: Sequence[str], what: str) -> pd.DataFrame:
    """Return ``df`` if it is a DataFrame holding ``columns``, else raise naming the first gap."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    for col in columns:
        if col not in df.columns:
            raise ValueError(f"{what} lacks required column {col!r}; it has {list(df.columns)}")
    return df


def numeric(df: pd.DataFrame, column: str, what: str) -> pd.Series:
    """Column as float; text that is not a number (other than empty/``n/a``) raises."""
    raw = df[column]
    values = pd.to_numeric(raw.replace({"n/a": np.nan, "": np.nan}), errors="coerce")
    bad = values.isna() & raw.notna() & ~raw.isin(["n/a", ""])
    if bad.any():
        first = raw[bad].iloc[0]
        raise ValueError(f"{what}: column {column!r} holds a non-numeric value {first!r}")
    return values.astype(float)


def order(values: Iterable[object], wanted: Sequence[str] | None, what: str) -> list[str]:
    """``wanted`` (checked against ``values``) or the values in order of first appearance."""
    present = [str(v) for v in pd.unique(pd.Series(list(values), dtype=object).astype(str))]
    if wanted is None:
        return present
    missing = [w for w in wanted if w not in present]
    if missing:
        raise ValueError(f"{what} {missing[0]!r} is not in the table; it has {present}")
    return list(wanted)


def select_measures(measures: pd.DataFrame, names: Sequence[str], *,
                    methods: Sequence[str] | None = None,
                    what: str = "measures table") -> pd.DataFrame:
    """Rows of the long measures table for ``names`` (and ``methods``), with a float ``value``.

    Rows whose value is missing are dropped with a warning that counts them. A measure or method
    with no row at all raises ``ValueError`` naming it.
    """
    require_columns(measures, ("participant_id", "cohort", "method", "measure", "value"), what)
    present = set(measures["measure"].astype(str))
    for name in names:
        if name not in present:
            raise ValueError(f"{what} has no rows for measure {name!r}")
    out = measures[measures["measure"].astype(str).isin(list(names))].copy()
    for col in ("participant_id", "cohort", "method", "measure"):
        out[col] = out[col].astype(str)
    out = canonical_ids(out, source=what)
    if methods is not None:
        order(out["method"], methods, f"{what}: method")
        out = out[out["method"].isin(list(methods))]
    out["value"] = numeric(out, "value", what)
    missing = out["value"].isna()
    if missing.any():
        warnings.warn(f"{what}: dropped {int(missing.sum())} row(s) with a missing value",
                      UserWarning, stacklevel=3)
        out = out[~missing]
    return out


def with_participants(rows: pd.DataFrame, participants: pd.DataFrame, columns: Sequence[str],
                      what: str = "participants table") -> pd.DataFrame:
    """Add ``columns`` of the participants table to ``rows`` (joined on the scan).

    Subjects absent from the participants table raise ``ValueError`` naming one; rows whose
    added columns are missing are dropped with a warning that counts them.
    """
    require_columns(participants, ("participant_id", *columns), what)
    # Joined on the scan (subject, and session when both tables have sessions), IDs in one form.
    key = scan_columns(rows, participants)
    parts = canonical_ids(participants[[*key, *(c for c in columns if c not in key)]],
                          source=what)
    rows = canonical_ids(rows, source="measures table")
    if parts.duplicated(key).any():
        dup = parts.loc[parts.duplicated(key), "participant_id"].iloc[0]
        raise ValueError(f"{what} lists subject {dup!r} twice")
    unknown = sorted(set(rows["participant_id"]) - set(parts["participant_id"]))
    if unknown:
        raise ValueError(f"subject {unknown[0]!r} of the measures table is not in the {what}"
                         f" ({len(unknown)} such subject(s))")
    for col in columns:
        if col not in ("participant_id", "cohort", "sex"):
            parts[col] = numeric(parts, col, what)
    drop = [c for c in columns if c in rows.columns and c not in key]
    out = rows.drop(columns=drop).merge(parts, on=key, how="left")
    missing = out[list(columns)].isna().any(axis=1)
    if missing.any():
        warnings.warn(f"dropped {int(missing.sum())} row(s) with a missing {'/'.join(columns)}",
                      UserWarning, stacklevel=3)
        out = out[~missing]
    return out


def stars(p: float, alpha: float = 0.05) -> str:
    """``***`` (p < .001), ``**`` (p < .01), ``*`` (p < alpha), else an empty string."""
    if not np.isfinite(p) or p >= alpha:
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*"


def p_text(p: float) -> str:
    """APA-style p value: ``p < .001`` or ``p = .034``."""
    if not np.isfinite(p):
        return "p = n/a"
    if p < 0.001:
        return "p < .001"
    return f"p = {p:.3f}".replace("0.", ".", 1)


def select_comparison(table: pd.DataFrame, comparison: str | None, what: str) -> pd.DataFrame:
    """Rows of one comparison (non-reference cohort) of a result table.

    With ``comparison=None`` the table must hold a single comparison (or no such column).
    """
    if comparison is not None:
        require_columns(table, ("comparison",), what)
        rows = table[table["comparison"].astype(str) == comparison]
        if rows.empty:
            raise ValueError(f"{what} has no rows for comparison {comparison!r}")
        return rows
    if "comparison" in table.columns and table["comparison"].nunique() > 1:
        raise ValueError(f"{what} holds several comparisons "
                         f"{sorted(table['comparison'].unique())}; pass comparison=")
    return table


def effect_rows(effects: pd.DataFrame, columns: Sequence[str], *, comparison: str | None = None,
                what: str = "cohort-effect table") -> dict[tuple[str, str], dict[str, float]]:
    """(method, measure) -> {column: float} for the rows of a cohort-effect table.

    A table with several ``comparison`` values (more than two cohorts) needs ``comparison``.
    Two rows for one method and measure raise ``ValueError``.
    """
    require_columns(effects, ("method", "measure", *columns), what)
    df = select_comparison(effects, comparison, what)
    values = {c: numeric(df, c, what).to_numpy() for c in columns}
    out: dict[tuple[str, str], dict[str, float]] = {}
    for i, key in enumerate(zip(df["method"].astype(str), df["measure"].astype(str),
                                strict=True)):
        if key in out:
            raise ValueError(f"{what} has two rows for method {key[0]!r} and measure {key[1]!r}")
        out[key] = {c: float(values[c][i]) for c in columns}
    return out


def subject_filter(subjects: object) -> set[str] | None:
    """Participant IDs (``sub-<label>``) from None, an iterable of IDs (with or without
    prefix), or a table with a participant_id column."""
    if subjects is None:
        return None
    if isinstance(subjects, pd.DataFrame):
        require_columns(subjects, ("participant_id",), "subjects table")
        return {participant_id(s) for s in subjects["participant_id"]}
    if isinstance(subjects, str) or not isinstance(subjects, Iterable):
        raise TypeError("subjects must be an iterable of participant IDs or a DataFrame with "
                        f"a participant_id column, got {type(subjects).__name__}")
    return {participant_id(s) for s in subjects}
