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


def test_relative_margin_uses_one_reference_mean_per_measure(wide: pd.DataFrame) -> None:
    eff = cohort_effect(wide, reference="source", measures=["thickness_mean"])
    with pytest.raises(ValueError, match="margin_means"):
        equivalence(eff, margin=0.05)
    res = equivalence(eff, margin=0.05, margin_means={"thickness_mean": 1.8})
    np.testing.assert_allclose(res["margin_abs"], 0.05 * 1.8)
    one = equivalence(eff[eff["method"] == "truth"], margin=0.05)
    np.testing.assert_allclose(one["margin_abs"], 0.05 * eff.loc[eff["method"] == "truth",
                                                                 "reference_mean"])
    verdict = res.set_index("method")["verdict"]
    assert verdict["original"] == "different"
    assert verdict["truth"] == "equivalent"


def _effect(estimate: float, se: float, df: int = 100) -> dict:
    from scipy import stats

    return {"method": "m", "measure": "x", "reference": "a", "comparison": "b",
            "estimate": estimate, "se": se, "df": df, "reference_mean": 10.0, "n": df + 5,
            "n_reference": 52, "n_other": 53, "p": 2 * stats.t.sf(abs(estimate / se), df)}


@pytest.mark.parametrize("estimate,se,verdict", [
    (0.0, 0.1, "equivalent"),          # CI90 (-.17, .17) inside +-.5; CI95 holds 0
    (0.3, 0.05, "trivial difference"),  # differs from 0, CI90 (.22, .38) inside +-.5
    (1.0, 0.1, "different"),           # differs, CI beyond the margin
    (0.0, 1.0, "inconclusive"),        # neither
])
def test_verdicts(estimate: float, se: float, verdict: str) -> None:
    res = equivalence(pd.DataFrame([_effect(estimate, se)]), margin=0.05).iloc[0]
    assert res["verdict"] == verdict
    assert res["harmonised"] == (verdict == "equivalent")
    assert res["within_margin"] == (verdict in ("equivalent", "trivial difference"))
    inside = -0.5 < res["ci90_low"] and res["ci90_high"] < 0.5
    assert inside == (res["p_tost"] < 0.05)


def test_power_matches_statsmodels_and_the_paper_design() -> None:
    """30 + 30, SD 0.125 mm, margin 5% of 1.73 mm: TOST power 0.68 at a true difference of 0.
    statsmodels' one-sided noncentral-t power P gives the TOST's as 2 P - 1."""
    from statsmodels.stats.power import TTestIndPower

    from harmonstats.analysis import tost_power, tost_sample_size

    bound, sd = 0.05 * 1.73, 0.125
    ours = tost_power(bound, sd * np.sqrt(2 / 30), 58)
    one_sided = TTestIndPower().power(effect_size=bound / sd, nobs1=30, alpha=0.05,
                                      alternative="larger")
    assert ours == pytest.approx(2 * one_sided - 1, rel=1e-10)
    assert round(float(ours), 2) == 0.68
    n = tost_sample_size(bound, sd, 2)
    assert tost_power(bound, sd * np.sqrt(2 / n), 2 * n - 2) >= 0.8
    assert tost_power(bound, sd * np.sqrt(2 / (n - 1)), 2 * n - 4) < 0.8


def test_inconclusive_rows_say_what_would_settle_them() -> None:
    res = equivalence(pd.DataFrame([_effect(0.0, 1.0), _effect(0.0, 0.1)]), margin=0.05,
                      adjust="none")
    inconclusive, equivalent = res.iloc[0], res.iloc[1]
    assert inconclusive["verdict"] == "inconclusive" and equivalent["verdict"] == "equivalent"
    assert inconclusive["n_per_cohort_needed"] > 52          # 52 + 53 subjects now
    assert np.isnan(equivalent["n_per_cohort_needed"])
    assert equivalent["certified_margin"] == pytest.approx(
        max(abs(equivalent["ci90_low"]), abs(equivalent["ci90_high"])))
    assert equivalent["certified_margin"] < equivalent["margin_abs"]


def test_power_and_sample_size_are_at_the_level_the_adjusted_verdict_needs() -> None:
    """A row that passes the raw TOST (p .011) but not Holm's over 19 measures (as the demo's
    thickness did) is inconclusive: the subjects it asks for are sized at alpha / 19, and its
    power is statsmodels' at that level. The first row's SE is half the others', so it is the
    family's smallest p and gets Holm's full factor 19."""
    from statsmodels.stats.power import TTestIndPower

    from harmonstats.analysis import tost_power, tost_sample_size

    se, bound = 0.2, 0.5   # margin 5% of the reference mean 10
    est = bound - se * float(__import__("scipy").stats.t.ppf(1 - 0.011, 100))
    rows = [_effect(est, se)] + [_effect(0.0, 2 * se) for _ in range(18)]
    for i, row in enumerate(rows):
        row["measure"] = f"x{i}"
    res = equivalence(pd.DataFrame(rows), margin=0.05).iloc[0]
    assert res["p_tost"] == pytest.approx(0.011, rel=1e-6)
    assert res["p_tost_adj"] == pytest.approx(19 * 0.011, rel=1e-6)
    assert res["verdict"] == "inconclusive"
    assert res["alpha_family"] == pytest.approx(0.05 / 19)
    unit_sd = se / np.sqrt(1 / 52 + 1 / 53)
    assert res["n_per_cohort_needed"] == tost_sample_size(bound, unit_sd, 5, alpha=0.05 / 19)
    # sized at the unadjusted level it would ask for 73, and 73 + 73 would leave this row's
    # adjusted TOST below the target power
    unadjusted = tost_sample_size(bound, unit_sd, 5)
    assert res["n_per_cohort_needed"] > unadjusted + 30
    at_unadjusted = unit_sd * np.sqrt(2 / unadjusted)
    assert tost_power(bound, at_unadjusted, 2 * unadjusted - 5, 0.05 / 19) < 0.8
    # power at alpha / m: statsmodels' one-sided power P (z-free: noncentral t) as 2 P - 1,
    # here at the design 30 + 30, SD 0.125, margin 5% of 1.73 mm and m = 4
    one_sided = TTestIndPower().power(effect_size=0.05 * 1.73 / 0.125, nobs1=30,
                                      alpha=0.05 / 4, alternative="larger")
    ours = tost_power(0.05 * 1.73, 0.125 * np.sqrt(2 / 30), 58, 0.05 / 4)
    assert ours == pytest.approx(2 * one_sided - 1, rel=1e-10)
    none = equivalence(pd.DataFrame(rows), margin=0.05, adjust="none").iloc[0]
    assert none["alpha_family"] == 0.05
    assert none["power_tost_adj"] == pytest.approx(none["power_tost"])
    assert res["power_tost_adj"] < res["power_tost"]


@pytest.mark.parametrize("kwargs", [{"margin": 0}, {"alpha": 0.6}, {"adjust": "sidak"}])
def test_bad_options(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        equivalence(pd.DataFrame([_effect(0, 1)]), **kwargs)
