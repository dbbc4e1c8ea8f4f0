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
    got = wide.query("participant_id == 'tar1x00007' and method == 'original'")["volume_wm"]
    assert got.iloc[0] == one


@pytest.mark.parametrize("edit,match", [
    (lambda m, p: (m, p[p["participant_id"] != "sou0x00003"]),
     "in the measures table but not in the participants table: sou0x00003"),
    (lambda m, p: (m[m["participant_id"] != "tar1x00004"], p),
     "in the participants table but not in the measures table: tar1x00004"),
    (lambda m, p: (m.assign(value=m["value"].astype(object).where(m.index != 5, "thick")), p),
     "non-numeric value 'thick'"),
    (lambda m, p: (pd.concat([m, m.iloc[:1]]), p), "has measure .* twice"),
    (lambda m, p: (m.drop(columns="method"), p), "lacks required column"),
    (lambda m, p: (m, p.assign(cohort=np.where(p["participant_id"] == "sou0x00001", "target",
                                               p["cohort"]))),
     "cohort differs .* sou0x00001"),
    (lambda m, p: (m, pd.concat([p, p.iloc[:1]])), "lists subject"),
])
def test_bad_tables_are_refused(study, edit, match: str) -> None:
    measures, participants = edit(*study)
    with pytest.raises(ValueError, match=match):
        wide_table(measures, participants)


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
