"""The battery's options: one small, typed, frozen object, readable from YAML.

Every option carries its description, so that ``harmonstats validate --help`` and
:func:`battery_options` list the whole schema from one place.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harmonstats.errors import InputError
from harmonstats.io import read_yaml

__all__ = ["BatteryConfig", "ComBatFitOptions", "PretermOptions", "ResidualOptions",
           "TostOptions", "battery_options", "load_battery_config"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TostOptions(BaseModel):
    """How equivalence verdicts are reached (the ``tost`` group)."""

    model_config = _FROZEN
    adjust: Literal["holm", "bh", "none"] = Field(
        default="holm", description="Multiplicity adjustment of the TOST and difference p-values "
        "across the measures and comparisons of a method: holm (family-wise), bh (false "
        "discovery rate) or none.")
    margin_method: str | None = Field(
        default=None, description="Method whose reference-cohort mean sets every relative "
        "margin, one margin per measure for all methods (default: the 'before' method).")
    power: float = Field(default=0.8, gt=0, lt=1, description="Power the sample size per "
                         "cohort of inconclusive rows is computed for.")


class ComBatFitOptions(BaseModel):
    """Which subjects fit the ComBat comparator (the ``combat_fit`` group)."""

    model_config = _FROZEN
    scheme: str = Field(default="crossfit", description="crossfit (each subject harmonised by "
                        "a model fitted on the other folds) or split:<name> (fit on that split, "
                        "evaluate the others).")
    folds: int = Field(default=5, ge=2, description="Cross-fitting folds.")
    covariates_from: Literal["all", "reference"] = Field(
        default="all", description="Subjects the covariate effects and standardisation are "
        "fitted on: all (neuroCombat) or the reference cohort alone.")

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if value == "crossfit" or (value.startswith("split:") and value[6:]):
            return value
        raise ValueError(f"scheme must be crossfit or split:<name>, got {value!r}")


class ResidualOptions(BaseModel):
    """Covariate adjustment of site prediction and distribution shift (``residuals`` group)."""

    model_config = _FROZEN
    smooth: tuple[str, ...] = Field(
        default=("pma_scan",), description="Covariates entered as natural cubic splines "
        "(brain growth with PMA is not linear).")
    df: int = Field(default=3, ge=1, le=8, description="Degrees of freedom of each spline.")


class PretermOptions(BaseModel):
    """Term vs preterm models (the ``preterm`` group)."""

    model_config = _FROZEN
    centre_pma: float = Field(default=40.0, description="PMA (weeks) the models centre PMA at: "
                              "main effects are read at this PMA.")
    centre_ga: float = Field(default=40.0, description="GA at birth (weeks) the models centre "
                             "GA at.")
    centre_birth_weight: float = Field(default=3000.0, description="Birth weight (g) the "
                                       "models centre birth weight at.")
    crossing_covariates: tuple[str, ...] = Field(
        default=(), description="Covariates of the joint crossing model CT ~ preterm * PMA.")


class BatteryConfig(BaseModel):
    """Options of :func:`harmonstats.analysis.battery.run_battery` (defaults follow the paper).

    Every field is described in :func:`battery_options` (and ``harmonstats validate --help``).
    ``n_boot`` and ``combat_fit_split`` of earlier versions are still read: the first is
    ignored (the crossing point's CI is Fieller's), the second becomes
    ``combat_fit.scheme = split:<name>``.
    """

    model_config = _FROZEN

    reference: str = Field(default="source", description="Reference cohort; every other "
                           "cohort is compared with it.")
    covariates: tuple[str, ...] = Field(
        default=("pma_scan", "ga_birth", "sex"), description="Adjustment of the cohort-effect, "
        "shift and site models (PMA, GA in weeks; sex).")
    measures: tuple[str, ...] | None = Field(
        default=None, description="Measures analysed (default every measure except dice_*).")
    methods: tuple[str, ...] | None = Field(
        default=None, description="Methods analysed (default all, plus the ComBat comparators).")
    matching: str = Field(default="nearest", description="nearest or optimal matching, "
                          "split:<name> (the study's own matched subsets) or none.")
    match_on: tuple[str, ...] = Field(
        default=("pma_scan",), description="Matching variables; covariates not matched on are "
        "adjusted for in the models.")
    match_exact: tuple[str, ...] = Field(default=(), description="Variables matched exactly.")
    match_ratio: int = Field(default=1, ge=1, description="Partners per anchor subject (1:k).")
    match_anchor: Literal["comparison", "reference"] = Field(
        default="comparison", description="Which side's subjects each get match_ratio partners.")
    caliper: float | None = Field(default=0.5, gt=0, description="Largest matching distance, "
                                  "in SDs of both cohorts together; null for none.")
    robust: bool = Field(default=False, description="HC3 standard errors for the cohort effect.")
    margin: float = Field(default=0.05, gt=0, description="Equivalence margin: a fraction of "
                          "the reference mean (margin_relative) or absolute (measure unit).")
    margin_relative: bool = Field(default=True, description="Whether margin is relative.")
    margins: dict[str, float] = Field(default_factory=dict, description="Per-measure absolute "
                                      "margins (mm, mm3) overriding margin.")
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="Significance level.")
    min_group: int = Field(default=10, ge=2, description="Fewest subjects per cohort in a "
                           "comparison, counted after dropping missing values.")
    n_splits: int = Field(default=5, ge=2, description="Site-prediction folds.")
    n_permutations: int = Field(default=100, ge=0, description="Site-prediction permutations.")
    comparator: str | None = Field(default="baseline_aug", description="Method the Dice tests "
                                   "compare against (paper: baseline_aug).")
    combat: tuple[Literal["combat", "combat_gam", "covbat"], ...] = Field(
        default=("combat",), description="ComBat variants added as methods; empty for none.")
    combat_method: str = Field(default="original", description="Method whose measures ComBat "
                               "harmonises.")
    combat_fit: ComBatFitOptions = Field(default_factory=ComBatFitOptions,
                                         description="Which subjects fit ComBat.")
    before: str = Field(default="original", description="Method of the pooled analyses before "
                        "harmonisation.")
    after: str | None = Field(default=None, description="Method of the pooled analyses after "
                              "harmonisation.")
    outcome: str = Field(default="language_composite", description="Outcome column.")
    outcome_predictors: tuple[str, ...] = Field(
        default=("thickness_frontal_l", "thickness_frontal_r"),
        description="Thickness predictors of the outcome, one model each.")
    outcome_covariates: tuple[str, ...] = Field(
        default=("pma_scan", "ga_birth", "sex", "icv"), description="Adjustment of the outcome "
        "models.")
    preterm_measure: str = Field(default="thickness_mean", description="Measure of the term vs "
                                 "preterm models.")
    pma_range: tuple[float, float] = Field(default=(37.0, 45.0), description="PMA window "
                                           "(weeks) of the term vs preterm models.")
    term_ga: float = Field(default=37.0, description="Term cut-off: GA at birth >= term_ga "
                           "weeks.")
    preterm: PretermOptions = Field(default_factory=PretermOptions,
                                    description="Centring and crossing model.")
    tost: TostOptions = Field(default_factory=TostOptions,
                              description="Multiplicity, margin source and power.")
    residuals: ResidualOptions = Field(default_factory=ResidualOptions,
                                       description="Smooth covariates of site and shift models.")
    seed: int = Field(default=0, description="Seeds every random step (folds, permutations).")

    @field_validator("matching")
    @classmethod
    def _matching(cls, value: str) -> str:
        if value in ("nearest", "optimal", "none") or (value.startswith("split:") and value[6:]):
            return value
        raise ValueError(f"matching must be nearest, optimal, none or split:<name>, got {value!r}")

    @model_validator(mode="before")
    @classmethod
    def _earlier_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "n_boot" in data:
            data.pop("n_boot")
            warnings.warn("battery option n_boot is no longer used: the crossing point's CI is "
                          "Fieller's, not a bootstrap", DeprecationWarning, stacklevel=2)
        if "combat_fit_split" in data:
            split = data.pop("combat_fit_split")
            warnings.warn("battery option combat_fit_split is now combat_fit.scheme "
                          "(split:<name> or crossfit)", DeprecationWarning, stacklevel=2)
            fit = dict(data.get("combat_fit") or {})
            fit.setdefault("scheme", f"split:{split}" if split else "crossfit")
            data["combat_fit"] = fit
        return data


_GROUPS: dict[str, type[BaseModel]] = {
    "combat_fit": ComBatFitOptions, "preterm": PretermOptions, "tost": TostOptions,
    "residuals": ResidualOptions}


def battery_options() -> list[tuple[str, str, str]]:
    """Every battery option as (key, default, description); groups as ``group.key``."""
    rows = []
    for name, info in BatteryConfig.model_fields.items():
        if name in _GROUPS:
            for sub, sub_info in _GROUPS[name].model_fields.items():
                default = sub_info.get_default(call_default_factory=True)
                rows.append((f"{name}.{sub}", _show(default), sub_info.description or ""))
            continue
        rows.append((name, _show(info.get_default(call_default_factory=True)),
                     info.description or ""))
    return rows


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return "null" if value is None else str(value)


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
    known = set(BatteryConfig.model_fields) | {"n_boot", "combat_fit_split"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown battery option(s) {unknown} in {path or 'overrides'}; "
                         f"known: {sorted(BatteryConfig.model_fields)}")
    try:
        return BatteryConfig(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        where = path or "overrides"
        raise InputError(f"invalid battery option(s) in {where}: {problems}") from None
