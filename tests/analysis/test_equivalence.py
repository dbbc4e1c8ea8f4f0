"""TOST against statsmodels' ttost_ind, and the verdict rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.weightstats import ttost_ind

from harmonstats.analysis import cohort_effect, equivalence


def test_unadjusted_tost_matches_statsmodels(wide: pd.DataFrame) -> None:
    eff = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                        methods=["truth"], covariates=())
    res = equivalence(eff, margin=0.1, relative=False).iloc[0]
    rows = wide[wide["method"] == "truth"]
    a = rows.loc[rows["cohort"] == "source", "thickness_mean"]
    b = rows.loc[rows["cohort"] == "target", "thickness_mean"]
    p, lower, upper = ttost_ind(b, a, -0.1, 0.1, usevar="pooled")
    assert res["p_tost"] == pytest.approx(p, rel=1e-9)
    assert res["t_lower"] == pytest.approx(lower[0], rel=1e-9)
    assert res["t_upper"] == pytest.approx(upper[0], rel=1e-9)


def test_relative_margin_uses_reference_mean(wide: pd.DataFrame) -> None:
    eff = cohort_effect(wide, reference="source", measures=["thickness_mean"])
    res = equivalence(eff, margin=0.05)
    np.testing.assert_allclose(res["margin_abs"], 0.05 * eff["reference_mean"].abs())
    verdict = res.set_index("method")["verdict"]
    assert verdict["original"] == "different"
    assert verdict["truth"] == "equivalent"


def _effect(estimate: float, se: float, df: int = 100) -> dict:
    from scipy import stats

    return {"method": "m", "measure": "x", "reference": "a", "comparison": "b",
            "estimate": estimate, "se": se, "df": df, "reference_mean": 10.0, "n": df + 5,
            "p": 2 * stats.t.sf(abs(estimate / se), df)}


@pytest.mark.parametrize("estimate,se,verdict", [
    (0.0, 0.1, "equivalent"),          # CI90 (-.17, .17) inside +-.5; CI95 holds 0
    (0.3, 0.05, "trivial difference"),  # differs from 0, CI90 (.22, .38) inside +-.5
    (1.0, 0.1, "different"),           # differs, CI beyond the margin
    (0.0, 1.0, "inconclusive"),        # neither
])
def test_verdicts(estimate: float, se: float, verdict: str) -> None:
    res = equivalence(pd.DataFrame([_effect(estimate, se)]), margin=0.05).iloc[0]
    assert res["verdict"] == verdict
    assert res["harmonised"] == (verdict in ("equivalent", "trivial difference"))
    inside = -0.5 < res["ci90_low"] and res["ci90_high"] < 0.5
    assert inside == (res["p_tost"] < 0.05)


@pytest.mark.parametrize("kwargs", [{"margin": 0}, {"alpha": 0.6}])
def test_bad_options(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        equivalence(pd.DataFrame([_effect(0, 1)]), **kwargs)
