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
from harmonstats.analysis.diagnostics import (
    DIAGNOSTIC_COLUMNS,
    MULTIVARIATE_COLUMNS,
    harmonisation_diagnostics,
)
from harmonstats.analysis.effects import EFFECT_COLUMNS, TTEST_COLUMNS, cohort_effect, two_sample_t
from harmonstats.analysis.equivalence import EQUIVALENCE_COLUMNS, equivalence
from harmonstats.analysis.matching import (
    BALANCE_COLUMNS,
    MATCHED_COLUMNS,
    MatchResult,
    match_cohorts,
    split_subsets,
)
from harmonstats.analysis.omnibus import OMNIBUS_COLUMNS, cohort_omnibus
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
    "cohort_omnibus": OMNIBUS_COLUMNS,
    "ttest": TTEST_COLUMNS,
    "equivalence": EQUIVALENCE_COLUMNS,
    "preservation": PRESERVATION_COLUMNS,
    "site_prediction": SITE_COLUMNS,
    "distribution_shift": SHIFT_COLUMNS,
    "diagnostics": DIAGNOSTIC_COLUMNS,
    "multivariate": MULTIVARIATE_COLUMNS,
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
        descriptives, matched, balance, dropped, combat_status, cohort_effect, cohort_omnibus
        (three or more cohorts), ttest, equivalence, preservation, site_prediction,
        distribution_shift, diagnostics, multivariate, preterm_models, preterm_crossing,
        preterm_regional, outcome, segmentation and status (one row per table: done or
        skipped, why, rows, seconds). Columns: :data:`TABLE_COLUMNS`.

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

    def step(name: str, fn: Callable[[], pd.DataFrame | None], skip: str = "",
             hint: str = "") -> None:
        start = time.perf_counter()
        table = None
        if not skip:
            try:
                table = fn()
            except InsufficientDataError as exc:
                # The data cannot support this analysis; the others still run.
                skip = str(exc) + (hint if "at least" in str(exc) else "")
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
    hint = _matching_hint(match, cfg)

    combat_rows, combat_status = [], []
    start = time.perf_counter()
    for variant in cfg.combat:
        rows, st = combat_harmonise(wide, reference=cfg.reference, measures=meas,
                                    method=cfg.combat_method, variant=variant,
                                    covariates=cfg.covariates, fit=cfg.combat_fit.scheme,
                                    folds=cfg.combat_fit.folds,
                                    covariates_from=cfg.combat_fit.covariates_from, seed=cfg.seed)
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
    smooth: dict[str, Any] = {"smooth": cfg.residuals.smooth, "smooth_df": cfg.residuals.df}
    n_cohorts = wide["cohort"].astype(str).nunique()
    step("cohort_effect", lambda: cohort_effect(wide, covariates=cfg.covariates,
                                                robust=cfg.robust, min_group=cfg.min_group,
                                                **common), hint=hint)
    step("cohort_omnibus", lambda: cohort_omnibus(wide, covariates=cfg.covariates, **common),
         "" if n_cohorts > 2 else "two cohorts: the cohort effect is the omnibus test")
    step("ttest", lambda: two_sample_t(wide, min_group=cfg.min_group,
                                       covariates=cfg.covariates, **common), hint=hint)
    step("equivalence", lambda: _equivalence(results["cohort_effect"], wide, cfg),
         "" if len(results["cohort_effect"]) else "no cohort effects to test (see cohort_effect)")
    step("preservation", lambda: biological_effects(
        wide, covariates=[c for c in cfg.covariates if c not in ("pma_scan", "ga_birth")],
        **common))
    step("site_prediction", lambda: site_prediction(
        wide, covariates=cfg.covariates, n_splits=cfg.n_splits,
        n_permutations=cfg.n_permutations, seed=cfg.seed, **smooth, **common))
    step("distribution_shift", lambda: distribution_shift(
        wide, covariates=cfg.covariates, min_group=cfg.min_group, **smooth, **common), hint=hint)
    diagnostics: dict[str, pd.DataFrame] = {}

    def run_diagnostics() -> pd.DataFrame:
        uni, multi = harmonisation_diagnostics(wide, before=cfg.before,
                                               covariates=cfg.covariates, **smooth, **common)
        diagnostics["multivariate"] = multi
        return uni

    step("diagnostics", run_diagnostics)
    step("multivariate", lambda: diagnostics.get("multivariate"),
         "" if "multivariate" in diagnostics else "diagnostics did not run")

    scopes = _preterm_scopes(wide, cfg)
    regions = [m for m in meas if m.startswith("thickness_") and m != "thickness_mean"]
    lacking = [c for c in (cfg.preterm_measure, "ga_birth", "pma_scan", "sex", "birth_weight")
               if c not in wide.columns]
    no_ct = f"the table has no {', '.join(lacking)}" if lacking else ""
    centre = {"pma_scan": cfg.preterm.centre_pma, "ga_birth": cfg.preterm.centre_ga,
              "birth_weight": cfg.preterm.centre_birth_weight}
    step("preterm_models", lambda: pd.concat(
        [preterm_model(r, analysis=a, measures=[cfg.preterm_measure], centre=centre)
         for a, r in scopes], ignore_index=True), no_ct)
    step("preterm_crossing", lambda: pd.concat(
        [crossing_point(r, analysis=a, measure=cfg.preterm_measure, term_ga=cfg.term_ga,
                        covariates=cfg.preterm.crossing_covariates) for a, r in scopes],
        ignore_index=True), no_ct)
    step("preterm_regional", lambda: pd.concat(
        [regional_prematurity(r, analysis=a, measures=regions, term_ga=cfg.term_ga,
                              centre=centre)
         for a, r in scopes], ignore_index=True), no_ct or ("" if regions else
                                                       "no regional thickness"))
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


def _matching_hint(match: MatchResult | None, cfg: BatteryConfig) -> str:
    """What to change when the matched subsets are too small (appended to the skip reason)."""
    if match is None:
        return ""
    kept = match.matched.groupby(["comparison", "cohort"]).size().to_dict()
    counts = ", ".join(f"{c} {n}" for (_, c), n in sorted(kept.items()))
    how = (f"split {cfg.matching[6:]!r}" if cfg.matching.startswith("split:") else
           f"{cfg.matching} matching on {', '.join(cfg.match_on)}"
           + (f" within caliper {cfg.caliper}" if cfg.caliper else ""))
    return (f" (the matched subsets, {how}, hold {counts or 'nobody'}): match on fewer variables"
            " and adjust for the others (e.g. match_on: [pma_scan], covariates: [pma_scan, "
            "ga_birth, sex]), widen the caliper, or set matching: none")


def _matching(participants: pd.DataFrame, cfg: BatteryConfig) -> MatchResult | None:
    if cfg.matching == "none":
        return None
    if cfg.matching.startswith("split:"):
        return split_subsets(participants, reference=cfg.reference, split=cfg.matching[6:],
                             on=cfg.match_on,
                             covariates=[c for c in cfg.covariates if c in participants.columns])
    return match_cohorts(participants, reference=cfg.reference, on=cfg.match_on,
                         exact=cfg.match_exact, method=cfg.matching, ratio=cfg.match_ratio,
                         caliper=cfg.caliper, anchor=cfg.match_anchor,
                         covariates=[c for c in cfg.covariates if c in participants.columns])


def _equivalence(effects: pd.DataFrame, wide: pd.DataFrame, cfg: BatteryConfig
                 ) -> pd.DataFrame:
    """TOST with one margin per measure for every method: a fraction of the reference cohort's
    mean under the declared method (tost.margin_method, default ``before``), or absolute."""
    source = cfg.tost.margin_method or cfg.before
    check_methods(wide, [source])
    ref = wide[(wide["method"] == source) & (wide["cohort"].astype(str) == cfg.reference)]
    measures = sorted(effects["measure"].unique())
    means = {m: float(ref[m].mean()) for m in measures if m in ref.columns}
    n_ref = ref["participant_id"].nunique()
    text = (f"{cfg.margin:g} x mean of {cfg.reference} under {source} ({n_ref} subjects)"
            if cfg.margin_relative else "absolute (margin)")
    return equivalence(effects, margin=cfg.margin, relative=cfg.margin_relative,
                       margin_means=means, margin_source=text, margins=cfg.margins,
                       alpha=cfg.alpha, adjust=cfg.tost.adjust, power=cfg.tost.power)


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
