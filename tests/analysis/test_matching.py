"""Matching: determinism, caliper, optimal vs greedy, balance numbers, the study's own splits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonstats.analysis import match_cohorts, split_subsets


def _distance_sum(result, participants: pd.DataFrame) -> float:
    return float(result.matched["distance"].sum())


@pytest.mark.parametrize("method", ["nearest", "optimal"])
@pytest.mark.parametrize("ratio", [1, 2])
@pytest.mark.parametrize("anchor", ["comparison", "reference"])
def test_matching_respects_caliper_and_ratio(study, method: str, ratio: int, anchor: str
                                             ) -> None:
    _, participants = study
    kwargs = {"reference": "source", "method": method, "ratio": ratio, "caliper": 0.5,
              "anchor": anchor}
    res = match_cohorts(participants, **kwargs)
    again = match_cohorts(participants.sample(frac=1, random_state=2), **kwargs)
    pd.testing.assert_frame_equal(res.matched, again.matched)
    side = "target" if anchor == "comparison" else "source"
    partners = res.matched[res.matched["cohort"] != side]
    assert (partners["distance"] <= 0.5).all()
    assert partners["participant_id"].is_unique
    assert (partners.groupby("set_id").size() == ratio).all()
    n_anchor = (res.matched["cohort"] == side).sum()
    assert n_anchor == partners["set_id"].nunique()
    assert n_anchor + (res.dropped["cohort"] == side).sum() == 60


def test_optimal_total_distance_not_worse_than_greedy(study) -> None:
    _, participants = study
    greedy = match_cohorts(participants, reference="source", method="nearest", caliper=None)
    optimal = match_cohorts(participants, reference="source", method="optimal", caliper=None)
    assert _distance_sum(optimal, participants) <= _distance_sum(greedy, participants) + 1e-9


def test_balance_table_is_hand_computable(study) -> None:
    _, participants = study
    res = match_cohorts(participants, reference="source")
    row = res.balance.query("variable == 'ga_birth' and stage == 'before'").iloc[0]
    a = participants.loc[participants["cohort"] == "source", "ga_birth"]
    b = participants.loc[participants["cohort"] == "target", "ga_birth"]
    pooled = np.sqrt((a.var() + b.var()) / 2)
    assert row["smd"] == pytest.approx((b.mean() - a.mean()) / pooled)
    assert row["variance_ratio"] == pytest.approx(b.var() / a.var())
    after = res.balance.query("stage == 'after'")
    assert (after["smd"].abs() < 0.25).all()
    before = res.balance.query("stage == 'before'")
    assert after["smd"].abs().to_numpy()[0] < before["smd"].abs().to_numpy()[0]


def test_exact_sex_matching(study) -> None:
    _, participants = study
    res = match_cohorts(participants, reference="source", exact=("sex",))
    sex = participants.set_index("participant_id")["sex"]
    m = res.matched.assign(sex=res.matched["participant_id"].map(sex))
    assert (m.groupby("set_id")["sex"].nunique() == 1).all()


def test_split_subsets_use_the_test_split(study) -> None:
    _, participants = study
    res = split_subsets(participants, reference="source", split="test")
    ids = set(participants.loc[participants["split"] == "test", "participant_id"])
    assert res.subsets()["target"] == ids
    with pytest.raises(ValueError, match="no participant is in split"):
        split_subsets(participants, reference="source", split="holdout")


@pytest.mark.parametrize("kwargs,match", [
    ({"method": "best"}, "nearest' or 'optimal"), ({"ratio": 0}, "ratio"),
    ({"caliper": -1.0}, "caliper"), ({"reference": "dhcp"}, "reference cohort"),
    ({"anchor": "both"}, "anchor"),
])
def test_bad_options(study, kwargs: dict, match: str) -> None:
    _, participants = study
    with pytest.raises(ValueError, match=match):
        match_cohorts(participants, **{"reference": "source", **kwargs})
