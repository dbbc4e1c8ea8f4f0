"""Term vs preterm: the crossing point in an analytic case, the paper's model vs statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from harmonstats.analysis import crossing_point, preterm_model, preterm_subset, regional_prematurity
from harmonstats.analysis.ols import bh_fdr


def _lines_table(noise: float, seed: int = 0) -> pd.DataFrame:
    # term: CT = 1.0 + 0.02 PMA; preterm: CT = -0.925 + 0.07 PMA; equal at PMA = 1.925/0.05
    rng = np.random.default_rng(seed)
    pma = np.tile(np.linspace(37, 45, 40), 2)
    ga = np.repeat([39.0, 30.0], 40)
    ct = np.where(ga >= 37, 1.0 + 0.02 * pma, -0.925 + 0.07 * pma) + rng.normal(0, noise, 80)
    return pd.DataFrame({"participant_id": [f"s{i}" for i in range(80)], "cohort": "source",
                         "method": "truth", "pma_scan": pma, "ga_birth": ga,
                         "thickness_mean": ct})


def test_crossing_point_analytic() -> None:
    res = crossing_point(_lines_table(0.0), analysis="exact").iloc[0]
    assert res["crossing_pma"] == pytest.approx(38.5)
    assert res["slope_difference"] == pytest.approx(0.05)
    assert res["ci_shape"] == "interval"
    assert res["ci_low"] == pytest.approx(38.5) and res["ci_high"] == pytest.approx(38.5)
    assert (res["n_term"], res["n_preterm"]) == (40, 40)


def test_fieller_ci_covers_truth_and_flags_extrapolation() -> None:
    res = crossing_point(_lines_table(0.02, seed=4), analysis="noisy").iloc[0]
    assert res["ci_shape"] == "interval"
    assert res["ci_low"] < 38.5 < res["ci_high"] and res["in_window"]
    # Keep only PMA above 40: the lines still cross at 38.5, outside the data.
    table = _lines_table(0.02, seed=4)
    late = crossing_point(table[table["pma_scan"] > 40], analysis="late").iloc[0]
    assert late["crossing_pma"] < late["pma_min"] and not late["in_window"]


def test_preterm_model_matches_statsmodels(wide: pd.DataFrame) -> None:
    rows = preterm_subset(wide, method="truth", cohorts=None)
    assert rows["pma_scan"].between(37, 45).all()
    res = preterm_model(rows, analysis="pooled").set_index("term")
    centred = rows.assign(pma_scan=rows["pma_scan"] - 40, ga_birth=rows["ga_birth"] - 40)
    ref = smf.ols("thickness_mean ~ pma_scan * ga_birth + C(sex) + birth_weight", centred).fit()
    for term in ("pma_scan", "ga_birth", "pma_scan:ga_birth"):
        assert res.loc[term, "estimate"] == pytest.approx(ref.params[term], rel=1e-8)
    assert res.loc["birth_weight", "p"] == pytest.approx(ref.pvalues["birth_weight"], rel=1e-6)


def test_regional_prematurity_fdr_across_regions(wide: pd.DataFrame) -> None:
    regions = [c for c in wide.columns if c.startswith("thickness_") and c != "thickness_mean"]
    rows = preterm_subset(wide, method="truth", cohorts=None)
    res = regional_prematurity(rows, analysis="pooled", measures=regions)
    assert len(res) == 11 and (res["term"] == "preterm").all()
    np.testing.assert_allclose(res["p_fdr"], bh_fdr(res["p"].to_numpy()))
    rows = rows.assign(preterm=(rows["ga_birth"] < 37).astype(float))
    ref = smf.ols("thickness_frontal_l ~ pma_scan + ga_birth + C(sex) + birth_weight + preterm",
                  rows).fit()
    got = res.set_index("measure").loc["thickness_frontal_l", "estimate"]
    assert got == pytest.approx(ref.params["preterm"], rel=1e-8)


def test_crossing_needs_both_groups() -> None:
    table = _lines_table(0.0)
    with pytest.raises(ValueError, match="preterm group has 0"):
        crossing_point(table[table["ga_birth"] >= 37], analysis="term only")
