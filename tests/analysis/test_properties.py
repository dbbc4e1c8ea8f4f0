"""Properties on random valid tables: no crash, row order does not matter, relabelling flips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmonstats.analysis import cohort_effect, distribution_shift, equivalence, wide_table

MEASURES = ["thickness_mean", "volume_wm"]


@st.composite
def tables(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_a = draw(st.integers(10, 25))
    n_b = draw(st.integers(10, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    effect = draw(st.floats(-2, 2))
    rng = np.random.default_rng(seed)
    n = n_a + n_b
    cohort = np.array(["a"] * n_a + ["b"] * n_b)
    ga = rng.uniform(24, 42, n)
    parts = pd.DataFrame({
        "participant_id": [f"p{i:03d}" for i in range(n)], "cohort": cohort,
        "ga_birth": ga, "pma_scan": np.maximum(rng.uniform(37, 45, n), ga),
        "sex": np.where(np.arange(n) % 2 == 0, "F", "M"),
    })
    rows = []
    for method in ("x", "y"):
        for j, measure in enumerate(MEASURES):
            # measures are volumes and thickness: positive
            value = (20 + j + 0.1 * parts["pma_scan"] + effect * (cohort == "b")
                     + rng.normal(0, draw(st.floats(0.05, 3)), n))
            rows.append(pd.DataFrame({"participant_id": parts["participant_id"],
                                      "cohort": cohort, "method": method, "measure": measure,
                                      "value": value}))
    return pd.concat(rows, ignore_index=True), parts


def _effects(measures: pd.DataFrame, participants: pd.DataFrame, reference: str) -> pd.DataFrame:
    wide = wide_table(measures, participants)
    eff = cohort_effect(wide, reference=reference, measures=MEASURES)
    eq = equivalence(eff, margin=0.5, relative=False)
    shift = distribution_shift(wide, reference=reference, measures=MEASURES)
    assert len(eq) == len(shift) == 4
    return eff.sort_values(["method", "measure"]).reset_index(drop=True)


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tables(), st.integers(0, 1000))
def test_row_order_does_not_matter(table, seed: int) -> None:
    measures, participants = table
    base = _effects(measures, participants, "a")
    shuffled = _effects(measures.sample(frac=1, random_state=seed),
                        participants.sample(frac=1, random_state=seed + 1), "a")
    pd.testing.assert_frame_equal(base, shuffled, rtol=1e-9)
    assert np.isfinite(base[["estimate", "se", "p", "p_fdr"]].to_numpy()).all()


@SETTINGS
@given(tables())
def test_swapping_the_reference_flips_the_sign(table) -> None:
    measures, participants = table
    ab = _effects(measures, participants, "a")
    ba = _effects(measures, participants, "b")
    np.testing.assert_allclose(ab["estimate"], -ba["estimate"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ab["se"], ba["se"], rtol=1e-9)
    np.testing.assert_allclose(ab["p"], ba["p"], rtol=1e-7)


@pytest.mark.parametrize("new_names", [("zz", "aa"), ("b2", "b1")])
def test_renaming_cohorts_changes_nothing_but_names(study, new_names) -> None:
    measures, participants = study
    rename = dict(zip(("source", "target"), new_names, strict=True))
    base = cohort_effect(wide_table(measures, participants), reference="source",
                         measures=["thickness_mean"])
    other = cohort_effect(wide_table(measures.replace({"cohort": rename}),
                                     participants.replace({"cohort": rename})),
                          reference=new_names[0], measures=["thickness_mean"])
    np.testing.assert_allclose(base["estimate"], other["estimate"], rtol=1e-10)
