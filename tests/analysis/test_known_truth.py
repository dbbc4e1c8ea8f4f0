"""Known truth: the battery recovers what the generators built in.

Two sources: :func:`simulate_measures` (measures drawn from a linear model) and, end to end,
images from ``harmonstats.synth`` measured by ``harmonstats.measures`` (150 source and 150 target
subjects, 48^3 voxels at 0.6 mm; generated once per session, about a minute on 2 cores).

The study is designed so that every effect tested for can be seen at this size: half the
source cohort is preterm-born (the default dHCP-like cohort is mostly term-born, and only its
preterm-born subjects overlap the target in GA), every subject has a language score, and the
target cohort's language scores are 20 points (about 1.3 SD) lower than its GA explains: a
strong difference, so that the spurious association shows at this sample size (the paper's
pooled outcome sample had 339 toddlers; at 300 and 10 points it shows in about a third of
studies). Language never
depends on cortical thickness, so an association with thickness is spurious: it can only come
from the target's original labels over-estimating thickness while its scores are lower.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from harmonstats.analysis import (
    biological_effects,
    cohort_effect,
    crossing_point,
    equivalence,
    match_cohorts,
    outcome_association,
    preterm_model,
    preterm_subset,
    wide_table,
)
from harmonstats.analysis.simulate import TRUE_COEFFICIENTS, simulate_measures
from harmonstats.io import read_table


def test_simulated_pma_effect_is_preserved() -> None:
    measures, participants = simulate_measures(100, seed=11)
    res = biological_effects(wide_table(measures, participants), reference="source",
                             measures=["thickness_mean"])
    for row in res[res["term"] == "pma_scan"].itertuples():
        assert row.ci_low < TRUE_COEFFICIENTS["pma_scan"] < row.ci_high, row.method
        assert row.interaction_p > 0.01  # no cohort x PMA interaction was simulated
        assert 0.7 < row.ratio < 1.3


@pytest.fixture(scope="session")
def synth_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                    dict]:
    synth = pytest.importorskip("harmonstats.synth")
    measures_mod = pytest.importorskip("harmonstats.measures")
    root = synth.synthesize_study(tmp_path_factory.mktemp("study"), n_source=150, n_target=150,
                                  shape=48, spacing=0.6, seed=3, jobs=2, progress=False,
                                  overwrite=True, source_preterm_share=0.5,
                                  language=synth.LanguageModel(b_target=-20.0, fraction=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        measures = measures_mod.measure_study(root, methods=["original", "truth"], jobs=2,
                                              progress=False)
    participants = read_table(Path(root) / "participants.tsv")
    truth = json.loads((Path(root) / "truth.json").read_text())["GenerativeModel"]
    return measures, participants, truth


@pytest.fixture(scope="session")
def synth_matched(synth_study):
    measures, participants, _ = synth_study
    wide = wide_table(measures, participants)
    # The generator's source cohort holds few preterm-born subjects: they anchor the sets.
    match = match_cohorts(participants, reference="source", method="optimal", caliper=0.5,
                          anchor="reference", ratio=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                                subsets=match.subsets(), min_group=5)
    return wide, match, effects


def test_synth_original_differs_by_the_built_in_bias(synth_study, synth_matched) -> None:
    _, _, truth = synth_study
    _, match, effects = synth_matched
    row = effects.set_index("method").loc["original"]
    bias = truth["original_bias_mm"]["target"]["mean"]
    assert row["p"] < 0.001
    assert row["ci_low"] < bias < row["ci_high"]
    assert (match.balance.query("stage == 'after'")["smd"].abs() < 0.25).all()


def test_synth_truth_is_equivalent(synth_matched) -> None:
    wide, _, effects = synth_matched
    source = wide.query("method == 'original' and cohort == 'source'")
    verdict = equivalence(effects, margin=0.05, margin_means={
        "thickness_mean": float(source["thickness_mean"].mean())}).set_index("method")["verdict"]
    assert verdict["truth"] == "equivalent"
    assert verdict["original"] == "different"


def test_synth_pma_effect_recovered(synth_study, synth_matched) -> None:
    """The PMA effect measured on truth labels matches the generator's.

    With the PMA:GA interaction in the model, an uncentred PMA coefficient would be the slope
    at GA 0 weeks, far outside the data; preterm_model centres GA at 40 weeks, so its PMA
    coefficient is the slope of a term-born infant, and the effect the data pin down best is
    the slope at the sample's mean GA, b_pma + b_pma_ga * GA. Its CI comes from statsmodels on
    the same rows, whose coefficients must equal ours.
    """
    _, _, truth = synth_study
    rows = preterm_subset(synth_matched[0], method="truth", cohorts=None)
    terms = ("pma_scan", "ga_birth", "sex", "pma_scan:ga_birth")
    ours = preterm_model(rows, analysis="pooled truth", terms=terms).set_index("term")
    data = rows.assign(male=(rows["sex"] == "M").astype(float))
    fit = smf.ols("thickness_mean ~ pma_scan * ga_birth + male", data).fit()
    assert ours.loc["pma_scan", "estimate"] == pytest.approx(
        fit.params["pma_scan"] + 40 * fit.params["pma_scan:ga_birth"], rel=1e-8)
    assert ours.loc["pma_scan:ga_birth", "estimate"] == pytest.approx(
        fit.params["pma_scan:ga_birth"], rel=1e-8)
    ga = float(data["ga_birth"].mean())
    slope = fit.t_test(f"pma_scan + {ga} * pma_scan:ga_birth = 0")
    low, high = np.ravel(slope.conf_int())
    model = truth["thickness"]
    expected = model["b_pma"] + model["b_pma_ga"] * ga
    assert low < expected < high
    assert low > 0  # thickness grows with PMA


def test_synth_crossing_point_recovered(synth_study, synth_matched) -> None:
    _, _, truth = synth_study
    rows = preterm_subset(synth_matched[0], method="truth", cohorts=None)
    res = crossing_point(rows, analysis="pooled truth").iloc[0]
    assert res["ci_shape"] == "interval"
    assert res["ci_low"] < truth["thickness"]["crossing_pma"] < res["ci_high"]


def test_synth_pooled_original_shows_spurious_outcome_effect(synth_matched) -> None:
    res = outcome_association(synth_matched[0], methods=["original", "truth"], min_n=8)
    pooled = res[res["scope"] == "pooled"].set_index(["method", "predictor"])["p"]
    assert pooled["original"].min() < 0.05
    assert pooled["truth"].min() > 0.05
