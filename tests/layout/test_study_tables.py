"""The one check of the participants table and the one of the measures table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonstats.errors import InputError
from harmonstats.layout import check_measures_table, check_participants, measure_names

PARTICIPANTS = pd.DataFrame({
    "participant_id": ["s00", "s01", "s02", "s03"],
    "cohort": ["source", "source", "target", "target"],
    "ga_birth": [30.0, 31.0, 32.0, 39.5],
    "pma_scan": [40.0, 40.5, 41.0, 41.5],
    "sex": ["F", "male", "f", "M"],
    "birth_weight": [1500.0, 1600.0, 1700.0, 3300.0],
    "split": ["train", "val", "Test", None],
})


def _set(column: str, row: int, value: object):
    def change(d: pd.DataFrame) -> pd.DataFrame:
        d = d.astype({column: object})
        d.loc[row, column] = value
        return d
    return change


def test_clean_table_takes_canonical_forms() -> None:
    df = check_participants(PARTICIPANTS)
    assert list(df["participant_id"]) == ["sub-s00", "sub-s01", "sub-s02", "sub-s03"]
    assert list(df["sex"]) == ["F", "M", "F", "M"]
    assert list(df["split"][:3]) == ["train", "val", "test"] and pd.isna(df["split"][3])
    assert df["ga_birth"].dtype == float


# (change, message): each message names the file, the scan, the column and the value.
PARTICIPANT_CASES = [
    (lambda d: d.drop(columns=["pma_scan"]),
     r"^p\.tsv: missing required column\(s\) \['pma_scan'\]"),
    (lambda d: d.iloc[0:0], r"^p\.tsv: empty table"),
    (_set("participant_id", 1, "s00"), r"^p\.tsv: sub-s00: column 'participant_id' is 'sub-s00': "
     r"listed twice"),
    (_set("participant_id", 0, "../x"), r"^p\.tsv: row 1: column 'participant_id': participant ID "
     r"'\.\./x' is not allowed"),
    (_set("participant_id", 2, "x" * 300), r"^p\.tsv: row 3: .*\(300 characters\)' is not allowed"),
    (_set("participant_id", 3, None), r"^p\.tsv: row 4: column 'participant_id': participant ID "
     r"is missing"),
    (_set("cohort", 1, None), r"^p\.tsv: sub-s01: column 'cohort' is n/a: every participant "
     r"needs a cohort"),
    (_set("ga_birth", 0, "thirty"), r"^p\.tsv: sub-s00: column 'ga_birth' is 'thirty': not a "
     r"number \(GA at birth, weeks\)"),
    (_set("ga_birth", 1, "inf"), r"^p\.tsv: sub-s01: column 'ga_birth' is inf: not a finite"),
    (_set("ga_birth", 2, -30.0), r"^p\.tsv: sub-s02: column 'ga_birth' is -30: outside 20 to 46 "
     r"weeks"),
    (_set("ga_birth", 2, 280.0), r"^p\.tsv: sub-s02: column 'ga_birth' is 280: outside"),
    (_set("pma_scan", 3, 35.0),
     r"^p\.tsv: sub-s03: column 'pma_scan' is 35: before ga_birth 39\.5"),
    (_set("pma_scan", 0, 0.0), r"^p\.tsv: sub-s00: column 'pma_scan' is 0: outside 20 to 150"),
    (_set("birth_weight", 1, -5.0), r"^p\.tsv: sub-s01: column 'birth_weight' is -5: outside 100 "
     r"to 7000 g"),
    (_set("birth_weight", 1, 0.0), r"column 'birth_weight' is 0: outside"),
    (_set("birth_weight", 1, 3.2), r"column 'birth_weight' is 3\.2: outside 100 to 7000 g"),
    (_set("sex", 1, "X"), r"^p\.tsv: sub-s01: column 'sex' is 'X': use F or M"),
    (_set("split", 0, "training"), r"^p\.tsv: sub-s00: column 'split' is 'training': use one of"),
    (lambda d: d.assign(ga_birth=["a", "b", 32.0, 33.0]), r"is 'a': not a number .* \(2 rows in "
     r"all: sub-s00, sub-s01\)"),
]


@pytest.mark.parametrize(("change", "message"), PARTICIPANT_CASES)
def test_participants_errors(change, message) -> None:
    with pytest.raises(InputError, match=message) as info:
        check_participants(change(PARTICIPANTS.copy()), source="p.tsv")
    assert "\n" not in str(info.value)


def test_sessions_of_a_subject_share_its_subject_columns() -> None:
    table = pd.DataFrame({"participant_id": ["a1", "a1"], "session_id": ["1", "2"],
                          "cohort": ["source", "source"], "ga_birth": [30.0, 31.0],
                          "pma_scan": [40.0, 44.0], "sex": ["F", "F"]})
    with pytest.raises(InputError, match=r"^t: sub-a1_ses-1: column 'ga_birth' is 30: differs "
                       r"between the sessions"):
        check_participants(table, source="t")
    same = check_participants(table.assign(ga_birth=30.0), source="t")
    assert list(same["session_id"]) == ["ses-1", "ses-2"]
    with pytest.raises(InputError, match=r"sub-a1_ses-1: column 'participant_id' .* listed twice "
                       r"for one session"):
        check_participants(same.assign(session_id="ses-1"), source="t")


def test_required_columns_are_the_callers() -> None:
    ids = pd.DataFrame({"participant_id": ["a", "b"]})
    assert list(check_participants(ids, required=("participant_id",))["participant_id"]) == [
        "sub-a", "sub-b"]
    with pytest.raises(InputError, match="missing required column"):
        check_participants(ids)
    # columns present are checked even when not required
    with pytest.raises(InputError, match="'ga_birth' is -1"):
        check_participants(ids.assign(ga_birth=[-1.0, 30.0]), required=("participant_id",))


def _measures() -> pd.DataFrame:
    names = measure_names()
    rows = [{"participant_id": p, "session_id": np.nan, "cohort": c, "method": "original",
             "measure": m, "value": 0.5 if m.startswith("dice_") else 100.0 + i, "unit": u}
            for i, (p, c) in enumerate(zip(PARTICIPANTS["participant_id"],
                                           PARTICIPANTS["cohort"], strict=True))
            for m, u in names]
    return pd.DataFrame(rows)


def test_clean_measures_table() -> None:
    df = check_measures_table(_measures(), participants=check_participants(PARTICIPANTS))
    assert df["participant_id"].iloc[0] == "sub-s00"
    assert df["value"].dtype == float


def _row(column: str, value: object, measure: str = "volume_wm"):
    def change(d: pd.DataFrame) -> pd.DataFrame:
        d = d.astype({column: object})
        d.loc[(d["participant_id"] == "s01") & (d["measure"] == measure), column] = value
        return d
    return change


MEASURE_CASES = [
    (lambda d: d.drop(columns=["value"]), r"^m\.tsv: missing required column\(s\) \['value'\]"),
    (lambda d: d.iloc[0:0], r"^m\.tsv: empty table"),
    (_row("value", "big"), r"^m\.tsv: sub-s01: column 'value' is 'big': not a number"),
    (_row("value", np.inf), r"^m\.tsv: sub-s01: column 'value' is inf: not a finite number"),
    (_row("value", -3.0), r"^m\.tsv: sub-s01: column 'value' is -3: negative"),
    (_row("value", 1.5, "dice_wm"), r"^m\.tsv: sub-s01: column 'value' is 1\.5: outside 0 to 1"),
    (_row("method", "Base Line"), r"^m\.tsv: sub-s01: column 'method' is 'Base Line': not a "
     r"method name"),
    (_row("measure", "volume_hippocampus"), r"^m\.tsv: sub-s01: column 'measure' is "
     r"'volume_hippocampus': not a harmonstats measure"),
    (_row("unit", "cm3"), r"^m\.tsv: sub-s01: column 'unit' is 'cm3': not the unit"),
    (_row("participant_id", "s99"), r"^m\.tsv: sub-s99: column 'participant_id' is 'sub-s99': "
     r"not in p\.tsv"),
    (lambda d: d[d["participant_id"] != "s02"], r"^p\.tsv: sub-s02: no measures in m\.tsv"),
    (_row("cohort", "target"), r"^m\.tsv: sub-s01: column 'cohort' is 'target': p\.tsv gives "
     r"cohort 'source'"),
    (lambda d: pd.concat([d, d.iloc[[3]]]), r"^m\.tsv: sub-s00: column 'measure' is "
     r"'volume_dgm': given twice for method original"),
]


@pytest.mark.parametrize(("change", "message"), MEASURE_CASES)
def test_measures_errors(change, message) -> None:
    with pytest.raises(InputError, match=message) as info:
        check_measures_table(change(_measures()), source="m.tsv",
                             participants=check_participants(PARTICIPANTS),
                             participants_source="p.tsv")
    assert "\n" not in str(info.value)


def test_missing_values_are_allowed_in_measures() -> None:
    # a thickness of a region a map lacks is undefined (NaN), not an error
    df = check_measures_table(_row("value", np.nan, "thickness_insula_l")(_measures()))
    assert df["value"].isna().sum() == 1
