"""The whole battery, its config, its files and the ``harmonstats validate`` command."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from harmonstats import cli
from harmonstats.analysis import BatteryConfig, load_battery_config, run_battery
from harmonstats.analysis import cli as validate
from harmonstats.analysis.battery import TABLE_COLUMNS
from harmonstats.io import read_table, write_table


@pytest.fixture(scope="module")
def results(study) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_battery(*study, BatteryConfig(after="harmonised", comparator="original",
                                                 n_permutations=19))


def test_every_table_is_filled_and_documented(results: dict[str, pd.DataFrame]) -> None:
    assert set(results) == set(TABLE_COLUMNS)
    status = results["status"].set_index("analysis")
    # Two cohorts: the pairwise cohort effect is the omnibus test.
    assert status.loc["cohort_omnibus", "status"] == "skipped"
    assert (status.drop("cohort_omnibus")["status"] == "done").all(), status
    assert {"input checks", "matching"} <= set(status.index)
    for name, table in results.items():
        assert len(table) or name == "cohort_omnibus", name
        assert list(table.columns) == list(TABLE_COLUMNS[name]), name
    assert "original+combat" in set(results["cohort_effect"]["method"])
    assert set(results["preterm_crossing"]["analysis"]) == {
        "reference only", "pooled before", "pooled after"}


def test_battery_verdicts(results: dict[str, pd.DataFrame]) -> None:
    eq = results["equivalence"].query("measure == 'thickness_mean'").set_index("method")
    assert eq.loc["original", "verdict"] == "different"
    assert eq.loc["truth", "verdict"] == "equivalent"
    assert eq.loc["original+combat", "within_margin"]
    diag = results["diagnostics"].query("measure == 'thickness_mean'").set_index("method")
    assert diag.loc["original", "stage"] == "before" and diag.loc["truth", "stage"] == "after"
    assert diag.loc["original", "anova_p"] < 0.001 < diag.loc["truth", "anova_p"]
    multi = results["multivariate"].set_index("method")
    assert multi.loc["original", "mahalanobis"] > 2 * multi.loc["truth", "mahalanobis"]


def test_diagnostics_match_scipy_and_hotelling(results, wide) -> None:
    from harmonstats.analysis import harmonisation_diagnostics

    uni, multi = harmonisation_diagnostics(
        wide, reference="source", measures=["thickness_mean", "volume_wm"], before="original",
        methods=["original"], smooth=())
    rows = wide[wide["method"] == "original"]
    import statsmodels.formula.api as smf
    from scipy import stats
    from statsmodels.multivariate.manova import MANOVA

    resid = {m: smf.ols(f"{m} ~ pma_scan + ga_birth + C(sex)", rows).fit().resid
             for m in ("thickness_mean", "volume_wm")}
    groups = [resid["thickness_mean"][rows["cohort"] == c] for c in ("source", "target")]
    row = uni.set_index("measure").loc["thickness_mean"]
    assert row["anova_p"] == pytest.approx(stats.f_oneway(*groups).pvalue, rel=1e-9)
    assert row["kruskal_p"] == pytest.approx(stats.kruskal(*groups).pvalue, rel=1e-9)
    frame = pd.DataFrame(resid).assign(cohort=rows["cohort"].to_numpy())
    manova = MANOVA.from_formula("thickness_mean + volume_wm ~ cohort", frame).mv_test()
    hotelling = manova.results["cohort"]["stat"].loc["Hotelling-Lawley trace"]
    assert multi["p"].iloc[0] == pytest.approx(float(hotelling["Pr > F"]), rel=1e-7)


def test_missing_outcome_is_skipped(study) -> None:
    measures, participants = study
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(measures, participants.drop(columns="language_composite"),
                          BatteryConfig(n_permutations=0, comparator=None))
    status = res["status"].set_index("analysis")
    assert status.loc["outcome", "status"] == "skipped"
    assert "language_composite" in status.loc["outcome", "reason"]


def test_earlier_options_are_still_read() -> None:
    with pytest.warns(DeprecationWarning, match="n_boot is no longer used"):
        cfg = BatteryConfig(n_boot=200)
    assert "n_boot" not in cfg.model_dump()
    with pytest.warns(DeprecationWarning, match="combat_fit.scheme"):
        cfg = BatteryConfig(combat_fit_split="train")
    assert cfg.combat_fit.scheme == "split:train"


def test_config_yaml_unknown_keys_are_named(tmp_path) -> None:
    path = tmp_path / "battery.yaml"
    path.write_text("reference: source\nmargn: 0.1\ncalipr: 1\n")
    with pytest.raises(ValueError, match=r"\['calipr', 'margn'\]"):
        load_battery_config(path)
    path.write_text("margin: -1\n")
    with pytest.raises(ValueError, match="margin"):
        load_battery_config(path)
    path.write_text("matching: split:test\nmargins: {thickness_mean: 0.1}\n")
    cfg = load_battery_config(path)
    assert cfg.matching == "split:test" and cfg.margins == {"thickness_mean": 0.1}
    with pytest.raises(ValueError):
        cfg.__setattr__("margin", 0.2)


def _write_inputs(study, tmp_path):
    measures, participants = study
    write_table(measures, tmp_path / "measures.tsv")
    write_table(participants, tmp_path / "participants.tsv")
    config = tmp_path / "battery.yaml"
    config.write_text("after: harmonised\ncomparator: original\nn_permutations: 9\n"
                      "combat: []\ntost: {adjust: bh}\n")
    return config


def test_validate_command_writes_every_table(study, tmp_path, monkeypatch, capsys) -> None:
    config = _write_inputs(study, tmp_path)
    monkeypatch.setitem(cli.COMMANDS, "validate", (
        "harmonstats.analysis.cli", "run the statistics battery"))
    code = cli.main(["validate", str(tmp_path / "measures.tsv"), "--participants",
                     str(tmp_path / "participants.tsv"), "--config", str(config),
                     "--out", str(tmp_path / "out")])
    assert code == 0
    assert f"wrote {len(TABLE_COLUMNS)} tables" in capsys.readouterr().out
    effect = read_table(tmp_path / "out" / "cohort_effect.tsv")
    sidecar = json.loads((tmp_path / "out" / "cohort_effect.json").read_text())
    assert all(c in sidecar for c in effect.columns)
    assert sidecar["estimate"]["Units"]
    assert sidecar["BatteryConfig"]["after"] == "harmonised"
    assert sidecar["BatteryConfig"]["tost"]["adjust"] == "bh"
    for name in TABLE_COLUMNS:
        table = read_table(tmp_path / "out" / f"{name}.tsv")
        documented = json.loads((tmp_path / "out" / f"{name}.json").read_text())
        assert all(c in documented for c in table.columns), name
    (tmp_path / "bad.yaml").write_text("nope: 1\n")
    code = cli.main(["validate", str(tmp_path / "measures.tsv"), "--participants",
                     str(tmp_path / "participants.tsv"), "--config", str(tmp_path / "bad.yaml"),
                     "--out", str(tmp_path / "out2")])
    assert code == 2
    assert "unknown battery option(s) ['nope']" in capsys.readouterr().err


def test_validate_help_names_every_battery_option(capsys) -> None:
    from harmonstats.analysis.config import _GROUPS

    with pytest.raises(SystemExit):
        cli.main(["validate", "--help"])
    text = capsys.readouterr().out
    keys = [f"{g}.{k}" if g in _GROUPS else g for g in BatteryConfig.model_fields
            for k in (_GROUPS[g].model_fields if g in _GROUPS else [None])]
    assert len(keys) > 40
    for key in keys:
        assert f"  {key} [" in text, key


def test_validate_run_directly(study, tmp_path) -> None:
    import argparse

    _write_inputs(study, tmp_path)
    parser = argparse.ArgumentParser()
    validate.add_arguments(parser)
    args = parser.parse_args([str(tmp_path / "measures.tsv"), "--participants",
                              str(tmp_path / "participants.tsv"), "--out", str(tmp_path / "o")])
    assert validate.run(args) == 0
    assert (tmp_path / "o" / "equivalence.tsv").is_file()


@pytest.mark.parametrize("matching", ["split:test", "optimal", "none"])
def test_matching_options_set_the_subjects(study, matching: str) -> None:
    measures, participants = study
    cfg = BatteryConfig(matching=matching, n_permutations=0, combat=(), comparator=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(measures, participants, cfg)
    n = res["cohort_effect"].query("measure == 'thickness_mean'")["n"]
    expected = {"split:test": (participants["split"] == "test").sum(), "none": 120,
                "optimal": len(res["matched"])}[matching]
    assert (n == expected).all()


def test_analysis_the_data_cannot_support_is_skipped_not_fatal(study) -> None:
    measures, participants = study
    with pytest.warns(UserWarning, match="cohort_effect skipped: .*at least 10000 are needed"):
        res = run_battery(measures, participants,
                          BatteryConfig(min_group=10000, n_permutations=0))
    status = res["status"].set_index("analysis")
    for name in ("cohort_effect", "ttest", "distribution_shift", "outcome"):
        assert status.loc[name, "status"] == "skipped", name
        assert "at least 10000" in status.loc[name, "reason"], name
    # analyses that do not depend on group sizes still ran
    assert status.loc["preservation", "status"] == "done"
    assert len(res["preservation"]) > 0
    assert status.loc["equivalence", "status"] == "skipped"
    assert "no cohort effects" in status.loc["equivalence", "reason"]


def test_three_cohorts_each_compared_with_the_reference() -> None:
    from harmonstats.analysis.simulate import simulate_measures

    measures, participants = simulate_measures(60, cohorts=("source", "target", "third"), seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_battery(measures, participants,
                          BatteryConfig(n_permutations=19, comparator=None))
    status = res["status"].set_index("analysis")["status"]
    assert status.drop("segmentation").eq("done").all(), status
    omnibus = res["cohort_omnibus"].query("measure == 'thickness_mean'").set_index("method")
    assert omnibus.loc["original", "p"] < 0.001 and omnibus.loc["original", "df1"] == 2
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    from harmonstats.analysis import wide_table

    rows = wide_table(measures, participants).query("method == 'truth'")
    rows = rows[rows["participant_id"].isin(set(res["matched"]["participant_id"]))]
    full = smf.ols("thickness_mean ~ C(cohort) + pma_scan + ga_birth + C(sex)", rows).fit()
    reduced = smf.ols("thickness_mean ~ pma_scan + ga_birth + C(sex)", rows).fit()
    expected = anova_lm(reduced, full)["Pr(>F)"].iloc[1]
    assert omnibus.loc["truth", "p"] == pytest.approx(expected, rel=1e-8)
    eq = res["equivalence"].query("measure == 'thickness_mean'")
    assert set(eq["comparison"]) == {"target", "third"}
    verdict = eq.set_index(["method", "comparison"])["verdict"]
    for other in ("target", "third"):
        assert verdict[("original", other)] == "different"
        assert verdict[("truth", other)] in ("equivalent", "inconclusive")
    site = res["site_prediction"].set_index("method")
    assert site.loc["original", "balanced_accuracy"] > site.loc["truth", "balanced_accuracy"]
