from __future__ import annotations

import numpy as np
import pytest

from harmonstats.synth.model import REGION_NAMES, LanguageModel, ThicknessModel


def _closed_form(pma, ga, male):
    return -5.69 + 0.19 * pma + 0.154 * ga - 0.004 * pma * ga + 0.02 * male


@pytest.mark.parametrize(
    ("pma", "ga", "sex"),
    [(41.0, 40.0, "F"), (37.0, 23.0, "M"), (46.0, 23.0, "F"), (37.0, 42.0, "M"), (44.0, 30.0, "F")],
)
def test_thickness_mean_matches_the_closed_form(pma, ga, sex):
    assert ThicknessModel().mean(pma, ga, sex) == pytest.approx(_closed_form(pma, ga, sex == "M"))


def test_paper_anchor_points():
    model = ThicknessModel()
    assert model.mean(41.0, 40.0, "F") == pytest.approx(1.70, abs=0.005)
    assert model.crossing_pma() == pytest.approx(38.5)
    # At the crossing PMA the GA slope vanishes: term and preterm lines meet.
    assert model.mean(38.5, 25.0, "F") == pytest.approx(model.mean(38.5, 40.0, "F"))
    grid = [model.mean(p, g, s) for p in np.linspace(37, 46, 10) for g in np.linspace(23, 42, 10)
            for s in "FM"]
    assert 1.2 <= min(grid) and max(grid) <= 2.4
    # PMA slope 0.19 - 0.004 GA is positive for every GA in range.
    for ga in (23.0, 42.0):
        assert model.mean(42.0, ga, "F") > model.mean(41.0, ga, "F")


def test_regional_draw_is_centred_on_the_model():
    model = ThicknessModel()
    rng = np.random.default_rng(0)
    w = np.full(len(REGION_NAMES), 1.0 / len(REGION_NAMES))
    draws = np.array([model.draw_regional(41.0, 40.0, "F", w, rng) for _ in range(4000)])
    assert draws.shape == (4000, 11)
    assert (draws @ w).mean() == pytest.approx(1.70, abs=0.005)
    assert (draws @ w).std() == pytest.approx(np.hypot(0.06, 0.04 / np.sqrt(11)), rel=0.1)
    offsets = draws.mean(axis=0) - (draws @ w).mean()
    assert offsets[REGION_NAMES.index("insula_l")] > offsets[REGION_NAMES.index("occipital_l")]


def test_language_model_follows_ga_and_cohort():
    rng = np.random.default_rng(3)
    model = LanguageModel()
    ga = np.repeat([26.0, 40.0], 20000)
    sex = np.tile(["F", "M"], 20000)
    source = model.draw(ga, sex, np.zeros(ga.size, bool), rng)
    target = model.draw(ga, sex, np.ones(ga.size, bool), rng)
    term, preterm = source[ga == 40.0], source[ga == 26.0]
    assert term.mean() - preterm.mean() == pytest.approx(model.b_ga * 14, abs=0.6)
    assert source.mean() - target.mean() == pytest.approx(-model.b_target, abs=0.6)
    assert preterm.std() > term.std()
    assert source.min() >= 45 and source.max() <= 155
