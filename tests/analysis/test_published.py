"""Numbers printed by R for its own example data (R documentation, ``?t.test``, ``sleep`` data).

Student's ``sleep`` data (Cushny & Peebles 1905): extra hours of sleep under two drugs, the same
10 patients. R 4.x prints, for ``t.test(extra ~ group, data = sleep, var.equal = TRUE)``,
``t = -1.8608, df = 18, p-value = 0.07919``, and for the paired test
``with(sleep, t.test(extra[group == 1], extra[group == 2], paired = TRUE))``,
``t = -4.0621, df = 9, p-value = 0.002833``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from harmonstats.analysis import cohort_effect, segmentation_quality, two_sample_t

DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def _two_groups() -> pd.DataFrame:
    return pd.DataFrame({
        "participant_id": [f"p{i}" for i in range(20)], "method": "m",
        "cohort": ["g1"] * 10 + ["g2"] * 10, "extra": DRUG1 + DRUG2,
    })


def test_student_t_matches_r() -> None:
    wide = _two_groups()
    res = cohort_effect(wide, reference="g2", measures=["extra"], covariates=())
    assert res["t"].iloc[0] == pytest.approx(-1.8608, abs=5e-5)
    assert res["df"].iloc[0] == 18
    assert res["p"].iloc[0] == pytest.approx(0.07919, abs=5e-6)
    assert res["estimate"].iloc[0] == pytest.approx(0.75 - 2.33)
    t = two_sample_t(wide, reference="g2", measures=["extra"]).iloc[0]
    assert t["t"] == pytest.approx(-1.8608, abs=5e-5)


def test_paired_t_matches_r() -> None:
    rows = [{"participant_id": f"p{i}", "method": method, "cohort": "c", "split": "test",
             "dice_x": value}
            for method, values in (("drug1", DRUG1), ("drug2", DRUG2))
            for i, value in enumerate(values)]
    res = segmentation_quality(pd.DataFrame(rows), comparator="drug2")
    row = res.set_index("method").loc["drug1"]
    assert row["t"] == pytest.approx(-4.0621, abs=5e-5)
    assert row["t_p"] == pytest.approx(0.002833, abs=5e-7)
