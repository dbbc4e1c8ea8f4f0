"""ComBat against neuroCombat 0.2.12 and neuroHarmonize 2.5.2, and out-of-sample evaluation.

The reference numbers were made once by ``results/make_combat_reference.py`` in an environment
of their own (neither package installs beside numpy 2); see that script for how.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonstats.analysis import (
    BatteryConfig,
    combat_harmonise,
    fit_combat,
    fit_reference_model,
    run_battery,
)

RESULTS = Path(__file__).parent / "results"
FEATURES = [f"f{j}" for j in range(8)]
TERMS = ("sex", "pma_scan", "ga_birth")


@pytest.fixture(scope="module")
def reference() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.read_csv(RESULTS / "combat_input.csv"),
            pd.read_csv(RESULTS / "combat_reference.csv"))


def _expected(ref: pd.DataFrame, run: str, ids: pd.Series) -> np.ndarray:
    table = ref[ref["run"] == run].pivot(index="participant_id", columns="feature",
                                         values="value")
    return table.loc[ids.to_numpy(), FEATURES].to_numpy()


def _max_rel(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(got - expected) / np.abs(expected)))


@pytest.mark.parametrize(("run", "ref_batch"), [("neurocombat", None),
                                                ("neurocombat_ref", "source")])
def test_combat_equals_neurocombat(reference, run: str, ref_batch: str | None) -> None:
    data, ref = reference
    y = data[FEATURES].to_numpy()
    fit = fit_combat(y, data["cohort"], data, TERMS, reference=ref_batch)
    got = fit.apply(y, data["cohort"], data)
    assert _max_rel(got, _expected(ref, run, data["participant_id"])) <= 1e-6
    if ref_batch is not None:
        keep = data["cohort"] == ref_batch
        np.testing.assert_array_equal(got[keep.to_numpy()], y[keep.to_numpy()])


def test_frozen_apply_equals_neuroharmonize(reference) -> None:
    """A model fitted on four folds, applied with their own covariates to the fifth."""
    data, ref = reference
    train, test = data[data["fold"] != 0], data[data["fold"] == 0]
    fit = fit_combat(train[FEATURES].to_numpy(), train["cohort"], train, TERMS,
                     reference="source")
    got = fit.apply(test[FEATURES].to_numpy(), test["cohort"], test)
    assert _max_rel(got, _expected(ref, "neuroharmonize_apply", test["participant_id"])) <= 1e-6


def test_priors_pool_features_within_a_batch(reference) -> None:
    """Johnson et al.: one prior per batch, pooled across that batch's features (combatlearn
    2.3 pools across batches per feature, 0.3-1% off neuroCombat). The posterior location is
    a weighted mean of the batch's raw location and the mean of its raw locations over
    features, so it lies between the two."""
    data, _ = reference
    y = data[FEATURES].to_numpy()
    fit = fit_combat(y, data["cohort"], data, TERMS)
    assert fit.gamma_star.shape == (3, len(FEATURES))
    s, _ = fit.standardise(y, data)
    for b, batch in enumerate(fit.batches):
        raw = s[data["cohort"].to_numpy() == batch].mean(axis=0)
        centre = raw.mean()
        assert np.all(np.abs(fit.gamma_star[b] - centre) <= np.abs(raw - centre) + 1e-12)


def test_crossfit_never_evaluates_a_subject_on_its_own_fit(wide: pd.DataFrame) -> None:
    measures = ["thickness_mean", "volume_cgm", "volume_wm", "icv"]
    rows, _ = combat_harmonise(wide, reference="source", measures=measures, seed=3)
    changed = wide.copy()
    target = changed.index[(changed["method"] == "original")
                           & (changed["cohort"] == "target")][0]
    pid = changed.loc[target, "participant_id"]
    changed.loc[target, "thickness_mean"] += 5.0
    rows2, _ = combat_harmonise(changed, reference="source", measures=measures, seed=3)
    from harmonstats.analysis.combat import crossfit_folds

    original = wide[wide["method"] == "original"].reset_index(drop=True)
    fold = dict(zip(original["participant_id"], crossfit_folds(original, 5, 3), strict=True))
    a = rows.set_index("participant_id")["thickness_mean"]
    b = rows2.set_index("participant_id")["thickness_mean"]
    same_fold = [p for p, k in fold.items() if k == fold[pid] and p != pid]
    other_fold = [p for p, k in fold.items() if k != fold[pid]]
    # Its fold-mates were harmonised by a model that never saw it: unchanged.
    np.testing.assert_allclose(a[same_fold], b[same_fold], rtol=0, atol=0)
    # The subject's own value moved by exactly 5 / sqrt(delta*): its own model ignored it.
    assert not np.allclose(a[other_fold], b[other_fold])
    fit_rows = original[original["participant_id"].map(fold) != fold[pid]]
    model = fit_combat(fit_rows[measures].to_numpy(), fit_rows["cohort"], fit_rows,
                       ("pma_scan", "ga_birth", "sex"), reference="source")
    delta = model.delta_star[model.batches.index("target"), 0]
    assert b[pid] - a[pid] == pytest.approx(5.0 / np.sqrt(delta), rel=1e-9)


def test_split_fit_leaves_its_subjects_out_of_the_battery(study) -> None:
    measures, participants = study
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(measures, participants, BatteryConfig(
            matching="none", combat_fit={"scheme": "split:train"}, n_permutations=0,
            comparator=None))
    train = set(participants.loc[participants["split"] == "train", "participant_id"])
    status = res["combat_status"].iloc[0]
    assert status["fit"] == "split:train" and status["n_fit"] == len(train)
    assert status["n_evaluated"] == len(participants) - len(train)
    effect = res["cohort_effect"].query("method == 'original+combat'")
    assert (effect["n"] == len(participants) - len(train)).all()


def test_reference_model_is_fitted_on_the_reference_only(wide: pd.DataFrame) -> None:
    rows = wide[wide["method"] == "original"]
    measures = ["thickness_mean", "volume_cgm", "volume_wm", "icv"]
    model = fit_reference_model(rows, reference="source", measures=measures)
    shifted = rows.copy()
    shifted.loc[shifted["cohort"] == "target", "thickness_mean"] += 1.0
    again = fit_reference_model(shifted, reference="source", measures=measures)
    np.testing.assert_array_equal(model.coef, again.coef)
    z = model.deviations(rows)
    ref = z[z["cohort"] == "source"]
    assert ref["thickness_mean"].mean() == pytest.approx(0.0, abs=1e-9)
    assert (ref["thickness_mean"] ** 2).mean() == pytest.approx(1.0, rel=1e-9)
    harmonised = model.harmonise(rows)
    target = harmonised["cohort"] == "target"
    np.testing.assert_array_equal(harmonised.loc[~target, measures], rows.loc[~target, measures])
    moved = (harmonised.loc[target, "thickness_mean"] - rows.loc[target, "thickness_mean"]).mean()
    assert moved == pytest.approx(-0.2, abs=0.04)


def test_reference_model_without_covariates_equals_combat_with_reference(wide) -> None:
    """No covariates: fitting the reference alone is ComBat's ref_batch mode exactly."""
    rows = wide[wide["method"] == "original"].reset_index(drop=True)
    measures = ["thickness_mean", "volume_cgm", "volume_wm", "icv"]
    model = fit_reference_model(rows, reference="source", measures=measures, covariates=())
    ours = model.harmonise(rows, folds=None)[measures].to_numpy()
    y = rows[measures].to_numpy()
    combat = fit_combat(y, rows["cohort"], rows, (), reference="source")
    np.testing.assert_allclose(ours, combat.apply(y, rows["cohort"], rows), rtol=1e-10)


def test_combat_gam_is_combat_with_the_spline_basis(reference) -> None:
    """No package computes our ComBat-GAM (neuroHarmonize selects a penalised B-spline by
    random k-fold CV): it is ComBat with the natural-spline columns as covariates, whose
    ComBat part is neuroCombat's (above) and whose basis spans patsy's (test_site_shift)."""
    from harmonstats.analysis.combat import combat_terms
    from harmonstats.analysis.design import Design

    data, _ = reference
    y = data[FEATURES].to_numpy()
    terms = combat_terms("combat_gam", ("pma_scan", "ga_birth", "sex"))
    gam = fit_combat(y, data["cohort"], data, terms, reference="source")
    basis = Design.learn(data, terms, "test").matrix(data, "test")[:, 1:]
    columns = {f"b{j}": basis[:, j] for j in range(basis.shape[1])}
    plain = fit_combat(y, data["cohort"], data.assign(**columns), list(columns),
                       reference="source")
    np.testing.assert_allclose(gam.apply(y, data["cohort"], data),
                               plain.apply(y, data["cohort"], data.assign(**columns)),
                               rtol=1e-10)


def test_covbat_aligns_covariances_and_keeps_the_reference() -> None:
    """No CovBat package is on PyPI (its authors ship R and a script): checked by what it is
    for. A site adds a shared factor to every feature of its subjects (a covariance, not a
    mean or variance effect); CovBat removes far more of it than ComBat."""
    rng = np.random.default_rng(4)
    n, p = 150, 8
    batch = np.repeat(["source", "target"], n)
    data = pd.DataFrame({"pma_scan": rng.uniform(37, 45, 2 * n)})
    y = 2 + 0.05 * data["pma_scan"].to_numpy()[:, None] + rng.normal(0, 1, (2 * n, p))
    factor = rng.normal(0, 1, (n, 1)) * rng.uniform(0.8, 1.2, (1, p))
    y[n:] = y[n:] / np.sqrt(2) + factor / np.sqrt(2) * 1.0
    combat = fit_combat(y, batch, data, ("pma_scan",), reference="source")
    covbat = fit_combat(y, batch, data, ("pma_scan",), reference="source", covbat_variance=0.95)
    keep = batch == "source"
    out_v = covbat.apply(y, batch, data)
    np.testing.assert_array_equal(out_v[keep], y[keep])

    def gap(values: np.ndarray) -> float:
        resid, _ = combat.standardise(values, data)
        return float(np.linalg.norm(np.cov(resid[~keep], rowvar=False)
                                    - np.cov(resid[keep], rowvar=False)))

    assert gap(out_v) < 0.5 * gap(combat.apply(y, batch, data))
