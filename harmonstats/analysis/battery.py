"""The whole battery: every analysis of the paper (sections 3.1-3.3) and the checks beyond it."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harmonstats.analysis.combat import COMBAT_STATUS_COLUMNS, combat_harmonise
from harmonstats.analysis.config import BatteryConfig
from harmonstats.analysis.descriptives import DESCRIPTIVE_COLUMNS, descriptives
from harmonstats.analysis.effects import EFFECT_COLUMNS, TTEST_COLUMNS, cohort_effect, two_sample_t
from harmonstats.analysis.equivalence import EQUIVALENCE_COLUMNS, equivalence
from harmonstats.analysis.matching import (
    BALANCE_COLUMNS,
    MATCHED_COLUMNS,
    MatchResult,
    match_cohorts,
    split_subsets,
)
from harmonstats.analysis.outcome import OUTCOME_COLUMNS, outcome_association
from harmonstats.analysis.preservation import PRESERVATION_COLUMNS, biological_effects
from harmonstats.analysis.preterm import (
    CROSSING_COLUMNS,
    MODEL_COLUMNS,
    crossing_point,
    preterm_model,
    preterm_subset,
    regional_prematurity,
)
from harmonstats.analysis.segmentation import SEGMENTATION_COLUMNS, segmentation_quality
from harmonstats.analysis.shift import SHIFT_COLUMNS, distribution_shift
from harmonstats.analysis.site import SITE_COLUMNS, site_prediction
from harmonstats.analysis.tables import (
    InsufficientDataError,
    check_measures,
    check_methods,
    wide_table,
)
from harmonstats.io import write_table
from harmonstats.layout.tables import check_measures_table, check_participants

__all__ = ["STATUS_COLUMNS", "TABLE_COLUMNS", "run_battery", "write_battery"]

STATUS_COLUMNS = {
    "analysis": "Result table, or a step without one (input checks, matching).",
    "status": "done or skipped.",
    "reason": "Why the analysis was skipped (empty when done).",
    "rows": "Rows in the result table.",
    "seconds": {"Description": "Wall time of the analysis.", "Units": "s"},
}
DROPPED_COLUMNS = {
    "participant_id": "Subject left out of a comparison's matched subset.",
    "cohort": "Its cohort.",
    "comparison": "The comparison (non-reference cohort) it was left out of.",
    "reason": "Why.",
}

#: Result table name -> column descriptions (written to each table's JSON sidecar).
TABLE_COLUMNS: dict[str, dict] = {
    "descriptives": DESCRIPTIVE_COLUMNS,
    "matched": MATCHED_COLUMNS,
    "balance": BALANCE_COLUMNS,
    "dropped": DROPPED_COLUMNS,
    "combat_status": COMBAT_STATUS_COLUMNS,
    "cohort_effect": EFFECT_COLUMNS,
    "ttest": TTEST_COLUMNS,
    "equivalence": EQUIVALENCE_COLUMNS,
    "preservation": PRESERVATION_COLUMNS,
    "site_prediction": SITE_COLUMNS,
    "distribution_shift": SHIFT_COLUMNS,
    "preterm_models": MODEL_COLUMNS,
    "preterm_crossing": CROSSING_COLUMNS,
    "preterm_regional": MODEL_COLUMNS,
    "outcome": OUTCOME_COLUMNS,
    "segmentation": SEGMENTATION_COLUMNS,
    "status": STATUS_COLUMNS,
}


def run_battery(measures: pd.DataFrame, participants: pd.DataFrame,
                config: BatteryConfig | None = None) -> dict[str, pd.DataFrame]:
    """Run every analysis on a study; return its result tables by name.

    Parameters
    ----------
    measures : pandas.DataFrame
        Long measures table (participant_id, cohort, method, measure, value, unit).
    participants : pandas.DataFrame
        Participants table (participant_id, cohort, ga_birth, pma_scan, sex, birth_weight,
        split, outcome columns).
    config : BatteryConfig, optional
        Options (defaults follow the paper).

    Returns
    -------
    dict of str to pandas.DataFrame
        descriptives, matched, balance, dropped, combat_status, cohort_effect, ttest,
        equivalence, preservation, site_prediction, distribution_shift, preterm_models,
        preterm_crossing, preterm_regional, outcome, segmentation and status (one row per
        table: done or skipped, why, rows, seconds). Columns: :data:`TABLE_COLUMNS`.

    Raises
    ------
    InputError
        If a table fails its check (:func:`~harmonstats.layout.check_participants`,
        :func:`~harmonstats.layout.check_measures_table`) or names no method or measure the
        configuration asks for.
    """
    cfg = config or BatteryConfig()
    start = time.perf_counter()
    # Checked, with one form of the IDs (BIDS: sub-<label>, ses-<label>) whichever each used.
    participants = check_participants(participants)
    measures = check_measures_table(measures, participants=participants)
    wide = wide_table(measures, participants)
    all_measures = sorted(measures["measure"].unique())
    meas = list(cfg.measures) if cfg.measures else [m for m in all_measures
                                                    if not m.startswith("dice_")]
    check_measures(wide, meas)
    methods = list(cfg.methods) if cfg.methods else sorted(wide["method"].unique())
    check_methods(wide, methods + [cfg.before] + ([cfg.after] if cfg.after else []))
    if cfg.comparator is not None and cfg.comparator not in set(wide["method"]):
        warnings.warn(f"comparator method {cfg.comparator!r} is not in the measures table; "
                      "the segmentation tests are skipped", stacklevel=2)
    results: dict[str, pd.DataFrame] = {}
    status: list[dict] = []

    def step(name: str, fn: Callable[[], pd.DataFrame | None], skip: str = "") -> None:
        start = time.perf_counter()
        table = None
        if not skip:
            try:
                table = fn()
            except InsufficientDataError as exc:
                # The data cannot support this analysis; the others still run.
                skip = str(exc)
                warnings.warn(f"{name} skipped: {skip}", stacklevel=3)
        if table is None:
            results[name] = pd.DataFrame(columns=list(TABLE_COLUMNS[name]))
            status.append({"analysis": name, "status": "skipped", "reason": skip, "rows": 0,
                           "seconds": 0.0})
            return
        results[name] = table.reset_index(drop=True)
        status.append({"analysis": name, "status": "done", "reason": "", "rows": len(table),
                       "seconds": time.perf_counter() - start})

    status.append({"analysis": "input checks", "status": "done", "reason": "", "rows": len(wide),
                   "seconds": time.perf_counter() - start})
    step("descriptives", lambda: descriptives(participants))
    start = time.perf_counter()
    match = _matching(participants, cfg)
    status.append({"analysis": "matching", "status": "done" if match else "skipped",
                   "reason": "" if match else "matching: none", "rows": 0 if match is None
                   else len(match.matched), "seconds": time.perf_counter() - start})
    results.update(matched=match.matched if match else pd.DataFrame(columns=list(MATCHED_COLUMNS)),
                   balance=match.balance if match else pd.DataFrame(columns=list(BALANCE_COLUMNS)),
                   dropped=match.dropped if match else pd.DataFrame(columns=list(DROPPED_COLUMNS)))
    subsets = match.subsets() if match else None

    combat_rows, combat_status = [], []
    start = time.perf_counter()
    for variant in cfg.combat:
        rows, st = combat_harmonise(wide, reference=cfg.reference, measures=meas,
                                    method=cfg.combat_method, variant=variant,
                                    covariates=cfg.covariates, fit_split=cfg.combat_fit_split)
        combat_rows.append(rows)
        combat_status.append(st)
        if st["status"].iloc[0] == "done":
            methods.append(st["method"].iloc[0])
    step("combat_status", lambda: pd.concat(combat_status, ignore_index=True),
         "" if cfg.combat else "no ComBat variant requested")
    status[-1]["seconds"] = time.perf_counter() - start
    wide = pd.concat([wide, *combat_rows], ignore_index=True) if combat_rows else wide

    common: dict[str, Any] = {"reference": cfg.reference, "measures": meas, "methods": methods,
              "subsets": subsets}
    step("cohort_effect", lambda: cohort_effect(wide, covariates=cfg.covariates,
                                                robust=cfg.robust, min_group=cfg.min_group,
                                                **common))
    step("ttest", lambda: two_sample_t(wide, min_group=cfg.min_group, **common))
    step("equivalence", lambda: _equivalence(results["cohort_effect"], cfg),
         "" if len(results["cohort_effect"]) else "no cohort effects to test (see cohort_effect)")
    step("preservation", lambda: biological_effects(
        wide, covariates=[c for c in cfg.covariates if c not in ("pma_scan", "ga_birth")],
        **common))
    step("site_prediction", lambda: site_prediction(
        wide, covariates=cfg.covariates, n_splits=cfg.n_splits,
        n_permutations=cfg.n_permutations, seed=cfg.seed, **common))
    step("distribution_shift", lambda: distribution_shift(
        wide, covariates=cfg.covariates, min_group=cfg.min_group, **common))

    scopes = _preterm_scopes(wide, cfg)
    regions = [m for m in meas if m.startswith("thickness_") and m != "thickness_mean"]
    no_ct = "" if cfg.preterm_measure in wide.columns else f"no {cfg.preterm_measure} measure"
    step("preterm_models", lambda: pd.concat(
        [preterm_model(r, analysis=a, measures=[cfg.preterm_measure]) for a, r in scopes],
        ignore_index=True), no_ct)
    step("preterm_crossing", lambda: pd.concat(
        [crossing_point(r, analysis=a, measure=cfg.preterm_measure, term_ga=cfg.term_ga,
                        n_boot=cfg.n_boot, seed=cfg.seed) for a, r in scopes],
        ignore_index=True), no_ct)
    step("preterm_regional", lambda: pd.concat(
        [regional_prematurity(r, analysis=a, measures=regions, term_ga=cfg.term_ga)
         for a, r in scopes], ignore_index=True), "" if regions else "no regional thickness")
    outcome_skip = ""
    if cfg.outcome not in wide.columns:
        outcome_skip = f"participants table has no outcome column {cfg.outcome!r}"
    elif any(p not in wide.columns for p in cfg.outcome_predictors):
        outcome_skip = f"predictor(s) {list(cfg.outcome_predictors)} not all measured"
    step("outcome", lambda: outcome_association(
        wide, methods=[cfg.before] + ([cfg.after] if cfg.after else []), outcome=cfg.outcome,
        predictors=cfg.outcome_predictors, covariates=cfg.outcome_covariates,
        min_n=cfg.min_group), outcome_skip)
    seg_skip = ""
    if cfg.comparator is None or cfg.comparator not in set(wide["method"]):
        seg_skip = f"comparator method {cfg.comparator!r} not in the measures table"
    elif not any(m.startswith("dice_") for m in all_measures):
        seg_skip = "no dice_* measures"
    step("segmentation", lambda: segmentation_quality(
        wide, comparator=str(cfg.comparator), cohort=cfg.reference), seg_skip)
    results["status"] = pd.DataFrame(status, columns=list(STATUS_COLUMNS))
    return results


def _matching(participants: pd.DataFrame, cfg: BatteryConfig) -> MatchResult | None:
    if cfg.matching == "none":
        return None
    if cfg.matching.startswith("split:"):
        return split_subsets(participants, reference=cfg.reference, split=cfg.matching[6:],
                             on=cfg.match_on)
    return match_cohorts(participants, reference=cfg.reference, on=cfg.match_on,
                         exact=cfg.match_exact, method=cfg.matching, ratio=cfg.match_ratio,
                         caliper=cfg.caliper, anchor=cfg.match_anchor)


def _equivalence(effects: pd.DataFrame, cfg: BatteryConfig) -> pd.DataFrame:
    override = effects["measure"].isin(list(cfg.margins))
    parts = [equivalence(effects[~override], margin=cfg.margin, relative=cfg.margin_relative,
                         alpha=cfg.alpha)]
    for measure, margin in cfg.margins.items():
        rows = effects[effects["measure"] == measure]
        if len(rows):
            parts.append(equivalence(rows, margin=margin, relative=False, alpha=cfg.alpha))
    return pd.concat(parts, ignore_index=True)


def _preterm_scopes(wide: pd.DataFrame, cfg: BatteryConfig) -> list[tuple[str, pd.DataFrame]]:
    scopes = [("reference only", preterm_subset(wide, method=cfg.before, cohorts=[cfg.reference],
                                                pma_range=cfg.pma_range)),
              ("pooled before", preterm_subset(wide, method=cfg.before, cohorts=None,
                                               pma_range=cfg.pma_range))]
    if cfg.after:
        scopes.append(("pooled after", preterm_subset(wide, method=cfg.after, cohorts=None,
                                                      pma_range=cfg.pma_range)))
    return scopes


def write_battery(results: dict[str, pd.DataFrame], out: str | Path,
                  config: BatteryConfig | None = None) -> list[Path]:
    """Write every result table as ``<out>/<name>.tsv`` with a JSON sidecar documenting columns.

    Returns
    -------
    list of pathlib.Path
        The TSV files written.
    """
    out = Path(out)
    meta = {"BatteryConfig": (config or BatteryConfig()).model_dump(mode="json")}
    paths = []
    for name, table in results.items():
        columns = TABLE_COLUMNS.get(name, {})
        undocumented = [c for c in table.columns if c not in columns]
        if undocumented:
            raise ValueError(f"result table {name!r} has undocumented column(s) {undocumented}")
        clean = table.replace([np.inf, -np.inf], np.nan)
        paths.append(write_table(clean, out / f"{name}.tsv", columns=columns, metadata=meta))
    return paths
