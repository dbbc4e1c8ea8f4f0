"""Input checks: every bad table is a clear error naming what is wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonstats.analysis import descriptives, wide_table


def test_wide_table_layout(study) -> None:
    measures, participants = study
    wide = wide_table(measures, participants)
    assert len(wide) == 120 * 3
    assert wide[["participant_id", "method"]].duplicated().sum() == 0
    one = measures.query("participant_id == 'tar1x00007' and method == 'original' and "
                         "measure == 'volume_wm'")["value"].iloc[0]
    # IDs come out in their BIDS form, whichever form the tables used
    got = wide.query("participant_id == 'sub-tar1x00007' and method == 'original'")["volume_wm"]
    assert got.iloc[0] == one


@pytest.mark.parametrize("edit,match", [
    (lambda m, p: (m, p[p["participant_id"] != "sou0x00003"]),
     r"^measures table: sub-sou0x00003: column 'participant_id' is 'sub-sou0x00003': not in "
     r"participants table"),
    (lambda m, p: (m[m["participant_id"] != "tar1x00004"], p),
     r"^participants table: sub-tar1x00004: no measures in measures table"),
    (lambda m, p: (m.assign(value=m["value"].astype(object).where(m.index != 5, "thick")), p),
     r"^measures table: sub-sou0x00005: column 'value' is 'thick': not a number"),
    (lambda m, p: (pd.concat([m, m.iloc[:1]]), p),
     r"^measures table: sub-sou0x00000: column 'measure' is 'thickness_mean': given twice "),
    (lambda m, p: (m.drop(columns="method"), p), "lacks required column"),
    (lambda m, p: (m, p.assign(cohort=np.where(p["participant_id"] == "sou0x00001", "target",
                                               p["cohort"]))),
     r"^measures table: sub-sou0x00001: column 'cohort' is 'source': participants table "
     r"gives cohort 'target'"),
    (lambda m, p: (m, pd.concat([p, p.iloc[:1]])),
     r"^participants table: sub-sou0x00000: column 'participant_id' .* listed twice"),
])
def test_bad_tables_are_refused(study, edit, match: str) -> None:
    measures, participants = edit(*study)
    with pytest.raises(ValueError, match=match):
        wide_table(measures, participants)


def test_ids_with_or_without_prefix_and_sessions_join(study) -> None:
    measures, participants = study
    bare = wide_table(measures, participants)
    prefixed = wide_table(measures.assign(participant_id="sub-" + measures["participant_id"]),
                          participants)
    pd.testing.assert_frame_equal(bare, prefixed)
    # two sessions of one subject: one row per subject-session and method
    one = participants["participant_id"].iloc[0]
    parts = pd.concat([participants.assign(session_id="ses-1"),
                       participants[participants["participant_id"] == one].assign(
                           session_id="2", pma_scan=lambda d: d["pma_scan"] + 3)])
    meas = pd.concat([measures.assign(session_id="1"),
                      measures[measures["participant_id"] == one].assign(
                          session_id="ses-2",
                          value=lambda d: d["value"] + d["measure"].str.startswith("volume_"))])
    wide = wide_table(meas, parts)
    assert len(wide) == len(bare) + 3
    rows = wide[wide["participant_id"] == f"sub-{one}"].set_index(["session_id", "method"])
    assert rows.loc[("ses-2", "original"), "pma_scan"] == rows.loc[
        ("ses-1", "original"), "pma_scan"] + 3
    assert rows.loc[("ses-2", "original"), "volume_wm"] == rows.loc[
        ("ses-1", "original"), "volume_wm"] + 1


def test_not_a_dataframe() -> None:
    with pytest.raises(TypeError, match="pandas DataFrame"):
        wide_table([1, 2], pd.DataFrame())


def test_descriptives_by_cohort_and_split(study) -> None:
    _, participants = study
    res = descriptives(participants).set_index(["cohort", "split"])
    src = participants[participants["cohort"] == "source"]
    row = res.loc[("source", "all")]
    assert row["n"] == 60
    assert row["n_female"] + row["n_male"] == 60
    assert row["ga_mean"] == pytest.approx(src["ga_birth"].mean())
    assert row["pma_sd"] == pytest.approx(src["pma_scan"].std())
    test = src[src["split"] == "test"]
    assert res.loc[("source", "test"), "n"] == len(test)
