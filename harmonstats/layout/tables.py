"""The study's tables checked: one function for the participants (and sessions) table, one for
the measures table.

Every entry point calls these before it writes anything: ``harmonstats measure``, ``validate``,
``segment``, ``train`` and ``report``, and in Python :class:`~harmonstats.cohort.Cohort`,
:func:`~harmonstats.measures.measure_cohort`, :func:`~harmonstats.analysis.run_battery` and the
segment functions. Each problem is raised as one :class:`~harmonstats.errors.InputError` line
naming the file, the scan (``sub-<label>[_ses-<label>]``), the column and the value, e.g.::

    participants.tsv: sub-src001: column 'ga_birth' is -30: outside 20 to 46 weeks (GA at birth)

with the number of rows that share the problem when there are more.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from harmonstats.errors import InputError
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout.names import Scan, canonical_ids, method_name, scan_columns

__all__ = [
    "MEASURE_TABLE_COLUMNS",
    "PLAUSIBLE",
    "REQUIRED_COLUMNS",
    "SPLITS",
    "check_measures_table",
    "check_participants",
    "measure_names",
    "scan_keys",
]

#: Columns every participants table must have (DESIGN.md).
REQUIRED_COLUMNS: tuple[str, ...] = ("participant_id", "cohort", "ga_birth", "pma_scan", "sex")
#: Columns the long measures table must have (``session_id`` and ``unit`` are optional).
MEASURE_TABLE_COLUMNS: tuple[str, ...] = ("participant_id", "cohort", "method", "measure",
                                          "value")
#: Numeric participants columns: (lowest, highest, unit, what). Values outside are impossible for
#: a neonatal study or a unit mistake: GA in days, birth weight in kg.
PLAUSIBLE: dict[str, tuple[float, float, str, str]] = {
    "ga_birth": (20.0, 46.0, "weeks", "GA at birth"),
    "pma_scan": (20.0, 150.0, "weeks", "PMA at scan"),
    "birth_weight": (100.0, 7000.0, "g", "birth weight"),
}
#: Values of the optional ``split`` column (model development splits).
SPLITS: tuple[str, ...] = ("train", "val", "test")

# Columns that describe the subject, not the scan: the same in every session of a subject.
_SUBJECT_COLUMNS = ("cohort", "ga_birth", "sex", "birth_weight")
_SEX = {"F": "F", "M": "M", "FEMALE": "F", "MALE": "M"}
_SHOWN = 5


def measure_names(*, dice: bool = True) -> list[tuple[str, str]]:
    """``(measure, unit)`` pairs of the measures table, in table order.

    ``volume_<tissue>`` and ``icv`` (mm3), ``thickness_mean`` and ``thickness_<region>`` (mm),
    and with ``dice`` ``dice_<tissue>`` (unitless).
    """
    tissues = [n for v, n in TISSUES.items() if v]
    out = [(f"volume_{t}", "mm3") for t in tissues] + [("icv", "mm3"), ("thickness_mean", "mm")]
    out += [(f"thickness_{r}", "mm") for v, r in REGIONS.items() if v]
    if dice:
        out += [(f"dice_{t}", "1") for t in tissues]
    return out


def scan_keys(table: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """``sub-X`` or ``sub-X_ses-Y`` of each row, from ``columns`` (see
    :func:`~harmonstats.layout.scan_columns`) of a table whose IDs are canonical."""
    if "session_id" not in columns:
        return table["participant_id"].astype(str)
    return pd.Series([Scan.of(p, s).key for p, s in zip(table["participant_id"],
                                                         table["session_id"], strict=True)],
                     index=table.index, dtype=object)


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return f"{float(value):g}"
    text = str(value)
    return repr(text if len(text) <= 40 else f"{text[:37]}...")


def _raise(source: str, keys: pd.Series, mask: pd.Series | np.ndarray, column: str,
           values: pd.Series, problem: str) -> None:
    """Raise one line for the first row of ``mask``, counting the rows that share it."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    names = list(dict.fromkeys(keys[mask]))
    more = ""
    if int(mask.sum()) > 1:
        shown = ", ".join(names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")
        more = f" ({int(mask.sum())} rows in all: {shown})"
    raise InputError(f"{source}: {names[0]}: column {column!r} is "
                     f"{_show(values[mask].iloc[0])}: {problem}{more}")


def _numbers(source: str, df: pd.DataFrame, keys: pd.Series, column: str,
             what: str) -> pd.Series:
    """A column as floats; missing values stay NaN; text or infinite values raise."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    _raise(source, keys, values.isna() & raw.notna(), column, raw, f"not a number ({what})")
    _raise(source, keys, np.isinf(values), column, values, f"not a finite number ({what})")
    return values


def _canonical(table: pd.DataFrame, source: str, required: Sequence[str],
               rows: str) -> pd.DataFrame:
    """A copy of a table with its required columns, some rows, and BIDS forms of the IDs."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{source} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise InputError(f"{source}: missing required column(s) {missing}; has "
                         f"{list(table.columns)}")
    if len(table) == 0:
        raise InputError(f"{source}: empty table (no {rows})")
    return canonical_ids(table, source=source).reset_index(drop=True)


def check_participants(
    table: pd.DataFrame,
    *,
    source: str = "participants table",
    required: Sequence[str] = REQUIRED_COLUMNS,
) -> pd.DataFrame:
    """Check a participants (or sessions) table and return a clean copy, one row per scan.

    IDs take their BIDS forms (``sub-<label>``, ``ses-<label>``; given with or without prefix),
    ``sex`` becomes F/M (``female``/``male`` accepted, any case), ``cohort`` a string and the
    numeric columns floats. This is the one place a participants table is checked.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per subject, or per subject-session (with ``session_id``).
    source : str
        The table's file name, for messages.
    required : sequence of str
        Columns the caller needs (default :data:`REQUIRED_COLUMNS`; segmenting needs only
        ``participant_id``, training also ``cohort`` and ``split``, a sessions table
        ``session_id``). Every known column present is checked, required or not.

    Raises
    ------
    InputError
        On a missing required column, an empty table, a missing, unsafe or over-long ID
        (:func:`~harmonstats.layout.subject_label`), a scan listed twice, a missing cohort,
        non-numeric, infinite or implausible ages and birth weights (:data:`PLAUSIBLE`: negative
        values, GA in days, weight in kg), PMA at scan before GA at birth, a sex other than F/M,
        a split other than :data:`SPLITS`, or subject columns (cohort, GA, sex, birth weight)
        that differ between a subject's sessions. One line naming the file, scan, column and
        value.
    """
    df = _canonical(table, source, required, "participants")
    keys = scan_keys(df, ["participant_id", *(["session_id"] if "session_id" in df else [])])
    _raise(source, keys, keys.duplicated(), "participant_id", df["participant_id"],
           "listed twice" + (" for one session" if "session_id" in df else ""))
    if "cohort" in df.columns:
        cohort = df["cohort"].astype(str).str.strip()
        _raise(source, keys, df["cohort"].isna() | (cohort == ""), "cohort", df["cohort"],
               "every participant needs a cohort")
        df["cohort"] = cohort
    for column, (low, high, unit, what) in PLAUSIBLE.items():
        if column not in df.columns:
            continue
        values = _numbers(source, df, keys, column, f"{what}, {unit}")
        _raise(source, keys, (values < low) | (values > high), column, values,
               f"outside {low:g} to {high:g} {unit} ({what})")
        df[column] = values
    if "ga_birth" in df.columns and "pma_scan" in df.columns:
        before = df["pma_scan"] < df["ga_birth"]
        if before.any():
            first = df[before].iloc[0]
            _raise(source, keys, before, "pma_scan", df["pma_scan"],
                   f"before ga_birth {first['ga_birth']:g} (PMA at scan cannot precede GA "
                   "at birth)")
    if "sex" in df.columns:
        sex = df["sex"].astype(str).str.strip().str.upper().map(_SEX)
        _raise(source, keys, sex.isna() & df["sex"].notna(), "sex", df["sex"], "use F or M")
        df["sex"] = sex.where(df["sex"].notna())
    if "split" in df.columns:
        split = df["split"].astype(str).str.strip().str.lower()
        _raise(source, keys, ~split.isin(SPLITS) & df["split"].notna(), "split", df["split"],
               f"use one of {list(SPLITS)} (or n/a)")
        df["split"] = split.where(df["split"].notna())
    for column in [c for c in _SUBJECT_COLUMNS if c in df.columns]:
        varies = df.groupby("participant_id")[column].transform("nunique", dropna=False) > 1
        _raise(source, keys, varies, column, df[column],
               "differs between the sessions of one subject (a subject column)")
    return df


def check_measures_table(
    measures: pd.DataFrame,
    *,
    source: str = "measures table",
    participants: pd.DataFrame | None = None,
    participants_source: str = "participants table",
) -> pd.DataFrame:
    """Check a long measures table and return a clean copy (canonical IDs, float values).

    Parameters
    ----------
    measures : pandas.DataFrame
        ``participant_id``, ``cohort``, ``method``, ``measure``, ``value``; ``session_id`` and
        ``unit`` optional (as :func:`~harmonstats.measures.measure_cohort` writes it).
    source : str
        The table's file name, for messages.
    participants : pandas.DataFrame, optional
        The participants table the measures belong to (already checked by
        :func:`check_participants`): every scan must be in both, with the same cohort.
    participants_source : str
        Its file name, for messages.

    Raises
    ------
    InputError
        On a missing column, an empty table, an unsafe ID, a missing cohort, a method name that
        is not one (:func:`~harmonstats.layout.method_name`), a measure that is not one of
        :func:`measure_names` or has another unit, a value that is text, infinite, negative
        (volumes, thickness) or outside 0 to 1 (Dice; missing values are allowed: a thickness
        of an absent region), a measure given twice for one scan and method, or a scan or
        cohort that differs from the participants table. One line naming the file, scan,
        column and value.
    """
    df = _canonical(measures, source, MEASURE_TABLE_COLUMNS, "measures")
    own = ["participant_id", *(["session_id"] if "session_id" in df.columns
                               and df["session_id"].notna().any() else [])]
    keys = scan_keys(df, own)
    _raise(source, keys, df["cohort"].isna(), "cohort", df["cohort"], "every row needs a cohort")
    df["cohort"] = df["cohort"].astype(str).str.strip()
    for column in ("method", "measure"):
        _raise(source, keys, df[column].isna(), column, df[column], f"every row needs a {column}")
    bad_method = pd.Series(False, index=df.index)
    for name in df["method"].unique():
        try:
            method_name(name)
        except ValueError:
            bad_method |= df["method"] == name
    _raise(source, keys, bad_method, "method", df["method"],
           "not a method name (lowercase letters, digits and '_', starting with a letter)")
    units = dict(measure_names(dice=True))
    _raise(source, keys, ~df["measure"].isin(list(units)), "measure", df["measure"],
           "not a harmonstats measure (volume_<tissue>, icv, thickness_mean, "
           "thickness_<region>, dice_<tissue>)")
    expected = df["measure"].map(units)
    if "unit" in df.columns:
        _raise(source, keys, df["unit"].notna() & (df["unit"].astype(str) != expected), "unit",
               df["unit"], "not the unit of its measure (mm3 volumes, mm thickness, 1 Dice)")
    values = _numbers(source, df, keys, "value", "the measure's value")
    is_dice = df["measure"].str.startswith("dice_")
    _raise(source, keys, ~is_dice & (values < 0), "value", values,
           "negative (volumes and thickness are at least 0)")
    _raise(source, keys, is_dice & ((values < 0) | (values > 1)), "value", values,
           "outside 0 to 1 (Dice)")
    df["value"] = values
    twice = df.duplicated([*own, "method", "measure"])
    if twice.any():
        first = df[twice].iloc[0]
        hint = ("" if "session_id" in own else " (several sessions need a session_id column "
                "in the participants table, one row per session, and in the measures table)")
        _raise(source, keys, twice, "measure", df["measure"],
               f"given twice for method {first['method']}{hint}")
    if participants is not None:
        _match(df, source, canonical_ids(participants, source=participants_source),
               participants_source)
    return df


def _match(measures: pd.DataFrame, source: str, participants: pd.DataFrame,
           participants_source: str) -> None:
    """Raise unless the two tables have the same scans, each with the same cohort."""
    columns = scan_columns(participants, measures)
    part_keys, meas_keys = (scan_keys(t, columns) for t in (participants, measures))
    known = set(part_keys)
    _raise(source, meas_keys, ~meas_keys.isin(known), "participant_id",
           measures["participant_id"], f"not in {participants_source}")
    absent = ~part_keys.isin(set(meas_keys))
    if absent.any():
        raise InputError(f"{participants_source}: {part_keys[absent].iloc[0]}: no measures in "
                         f"{source} ({int(absent.sum())} scan(s) without measures)")
    if "session_id" not in columns:
        # sessions the participants table does not have: one value per subject, or a clash
        twice = measures.assign(_scan=meas_keys).duplicated(["_scan", "method", "measure"])
        if twice.any():
            _raise(source, meas_keys, twice, "measure", measures["measure"],
                   f"given twice for method {measures.loc[twice, 'method'].iloc[0]} (several "
                   "sessions need a session_id column in the participants table, one row per "
                   "session, and in the measures table)")
    cohort_of = dict(zip(part_keys, participants["cohort"].astype(str), strict=True))
    clash = measures["cohort"].astype(str).to_numpy() != meas_keys.map(cohort_of).to_numpy()
    if clash.any():
        first = meas_keys[clash].iloc[0]
        _raise(source, meas_keys, clash, "cohort", measures["cohort"],
               f"{participants_source} gives cohort {cohort_of[first]!r}")
