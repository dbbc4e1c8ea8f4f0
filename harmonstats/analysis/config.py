"""The battery's options: one small, typed, frozen object, readable from YAML."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harmonstats.errors import InputError
from harmonstats.io import read_yaml

__all__ = ["BatteryConfig", "load_battery_config"]


class BatteryConfig(BaseModel):
    """Options of :func:`harmonstats.analysis.battery.run_battery` (defaults follow the paper).

    Attributes
    ----------
    reference : str
        Reference cohort (dHCP-like ``source``); every other cohort is compared with it.
    covariates : tuple of str
        Adjustment of the cohort-effect, shift and site models (PMA, GA in weeks; sex).
    measures : tuple of str or None
        Measures analysed (default every measure except ``dice_*``).
    methods : tuple of str or None
        Methods analysed (default all in the table, plus the ComBat comparators).
    matching : str
        ``nearest`` or ``optimal`` (:func:`match_cohorts`), ``split:<name>`` (the study's own
        matched subsets, paper: ``split:test``) or ``none`` (all subjects).
    match_on, match_exact, match_ratio, match_anchor, caliper
        Matching variables, exact-match variables, partners per anchor subject, which side
        anchors (``comparison`` or ``reference``), caliper (pooled SD).
    robust : bool
        HC3 standard errors for the cohort effect.
    margin, margin_relative, margins
        Equivalence margin (fraction of the reference mean, or absolute when
        ``margin_relative`` is false) and per-measure absolute margins (mm, mm3) that override it.
    alpha : float
        Significance level.
    min_group : int
        Fewest subjects per cohort in a comparison.
    n_splits, n_permutations
        Site-prediction folds and permutations.
    comparator : str or None
        Method the Dice tests compare against (paper: ``baseline_aug``).
    combat : tuple of str
        ComBat variants added as methods (``combat``, ``combat_gam``, ``covbat``); empty: none.
    combat_method, combat_fit_split
        Method whose measures ComBat harmonises, and the split it is fitted on.
    before, after : str, str or None
        Methods of the pooled analyses before / after harmonisation.
    outcome, outcome_predictors, outcome_covariates
        Outcome column, thickness predictors (one model each) and adjustment.
    preterm_measure, pma_range, term_ga, n_boot
        Term vs preterm outcome measure, PMA window (weeks), term cut-off (GA >= 37 weeks),
        bootstrap resamples of the crossing point.
    seed : int
        Seeds every random step (site-prediction folds and permutations, bootstrap).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = "source"
    covariates: tuple[str, ...] = ("pma_scan", "ga_birth", "sex")
    measures: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    matching: str = "nearest"
    match_on: tuple[str, ...] = ("ga_birth", "pma_scan")
    match_exact: tuple[str, ...] = ()
    match_ratio: int = Field(default=1, ge=1)
    match_anchor: str = "comparison"
    caliper: float | None = Field(default=0.5, gt=0)
    robust: bool = False
    margin: float = Field(default=0.05, gt=0)
    margin_relative: bool = True
    margins: dict[str, float] = Field(default_factory=dict)
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    min_group: int = Field(default=10, ge=2)
    n_splits: int = Field(default=5, ge=2)
    n_permutations: int = Field(default=100, ge=0)
    comparator: str | None = "baseline_aug"
    combat: tuple[str, ...] = ("combat",)
    combat_method: str = "original"
    combat_fit_split: str | None = "train"
    before: str = "original"
    after: str | None = None
    outcome: str = "language_composite"
    outcome_predictors: tuple[str, ...] = ("thickness_frontal_l", "thickness_frontal_r")
    outcome_covariates: tuple[str, ...] = ("pma_scan", "ga_birth", "sex", "icv")
    preterm_measure: str = "thickness_mean"
    pma_range: tuple[float, float] = (37.0, 45.0)
    term_ga: float = 37.0
    n_boot: int = Field(default=2000, ge=100)
    seed: int = 0

    @field_validator("matching")
    @classmethod
    def _matching(cls, value: str) -> str:
        if value in ("nearest", "optimal", "none") or (value.startswith("split:") and value[6:]):
            return value
        raise InputError(f"matching must be nearest, optimal, none or split:<name>, got {value!r}")


def load_battery_config(path: str | os.PathLike[str] | None = None, **overrides: Any
                        ) -> BatteryConfig:
    """Read a YAML file of battery options (keys of :class:`BatteryConfig`) into a config.

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ValueError
        If the YAML is not a mapping, names unknown keys (listed) or holds invalid values.
    """
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        loaded = read_yaml(p, what="battery config") or {}
        if not isinstance(loaded, dict):
            raise InputError(f"{p}: expected a mapping of battery options, got "
                             f"{type(loaded).__name__}")
        data = loaded
    data = {**data, **overrides}
    unknown = sorted(set(data) - set(BatteryConfig.model_fields))
    if unknown:
        raise InputError(f"unknown battery option(s) {unknown} in {path or 'overrides'}; "
                         f"known: {sorted(BatteryConfig.model_fields)}")
    try:
        return BatteryConfig(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        where = path or "overrides"
        raise InputError(f"invalid battery option(s) in {where}: {problems}") from None
