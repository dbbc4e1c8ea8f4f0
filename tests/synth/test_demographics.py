from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harmonstats.synth.demographics import (
    PARTICIPANT_COLUMNS,
    draw_participants,
    median_birth_weight,
    split_sizes,
)


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return draw_participants(400, 400, np.random.default_rng(2021))


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(1, (1, 0, 0)), (2, (1, 0, 1)), (3, (1, 1, 1)), (10, (8, 1, 1)), (40, (32, 4, 4)),
     (402, (322, 40, 40))],
)
def test_split_sizes(n, sizes):
    assert split_sizes(n) == sizes
    assert sum(sizes) == n


def test_columns_and_ids(big):
    assert list(big.columns) == list(PARTICIPANT_COLUMNS)
    assert big["participant_id"].is_unique
    assert big["participant_id"].str.fullmatch(r"(src|tgt)\d{3}").all()


@pytest.mark.parametrize(
    ("cohort", "ga", "pma"),
    [("source", (23.0, 42.3), (37.0, 45.0)), ("target", (23.0, 33.0), (37.0, 46.0))],
)
def test_age_ranges(big, cohort, ga, pma):
    sub = big[big["cohort"] == cohort]
    assert sub["ga_birth"].between(*ga).all()
    assert sub["pma_scan"].between(*pma).all()
    assert (sub["pma_scan"] >= sub["ga_birth"]).all()


def test_cohort_age_distributions_follow_table_1(big):
    src = big[(big["cohort"] == "source") & (big["split"] == "train")]
    tgt = big[(big["cohort"] == "target") & (big["split"] == "train")]
    # Paper Table 1: train dHCP GA 39.1 (2.7), PMA 40.7 (1.7); train ePrime GA 29.6 (2.3),
    # PMA 42.9 (2.6).
    assert src["ga_birth"].mean() == pytest.approx(39.1, abs=0.8)
    assert src["pma_scan"].mean() == pytest.approx(40.7, abs=0.6)
    assert (src["ga_birth"] >= 37).mean() > 0.8
    assert tgt["ga_birth"].mean() == pytest.approx(29.6, abs=0.6)
    assert tgt["pma_scan"].mean() == pytest.approx(42.9, abs=0.8)


def test_test_splits_are_matched_on_age(big):
    test = big[big["split"] == "test"]
    assert test["cohort"].value_counts().to_dict() == {"source": 40, "target": 40}
    src, tgt = (test[test["cohort"] == c] for c in ("source", "target"))
    # Paper Table 1: both test splits GA 30 (2.4), PMA 41.4 (1.7).
    for sub in (src, tgt):
        assert sub["ga_birth"].mean() == pytest.approx(30.0, abs=0.9)
        assert sub["pma_scan"].mean() == pytest.approx(41.4, abs=0.7)
    assert (src["ga_birth"] < 37).all(), "the source test split is its preterm-born subjects"
    assert stats.ttest_ind(src["ga_birth"], tgt["ga_birth"]).pvalue > 0.01


def test_sex_balanced_and_birth_weight_follows_ga(big):
    for _, sub in big.groupby("cohort"):
        counts = sub["sex"].value_counts()
        assert abs(counts["F"] - counts["M"]) <= 1
    rho = stats.spearmanr(big["ga_birth"], big["birth_weight"]).statistic
    assert rho > 0.85
    ratio = big["birth_weight"] / median_birth_weight(big["ga_birth"])
    assert ratio.median() == pytest.approx(1.0, abs=0.05)


def test_median_birth_weight_is_monotone():
    ga = np.linspace(22, 43, 50)
    assert np.all(np.diff(median_birth_weight(ga)) > 0)
    assert median_birth_weight(np.array([40.0]))[0] == pytest.approx(3450.0)


def test_language_composite_subset_and_cohort_means(big):
    for cohort, mean, sd in (("source", 96.4, 14.9), ("target", 91.3, 17.4)):
        sub = big[big["cohort"] == cohort]
        scores = sub["language_composite"]
        assert scores.notna().sum() == 240  # 60% of 400
        assert scores.mean() == pytest.approx(mean, abs=3.0)
        assert scores.std() == pytest.approx(sd, abs=2.5)
        assert (scores.dropna() == scores.dropna().round()).all()


def test_same_rng_same_table():
    a = draw_participants(7, 5, np.random.default_rng(1))
    b = draw_participants(7, 5, np.random.default_rng(1))
    pd.testing.assert_frame_equal(a, b)
