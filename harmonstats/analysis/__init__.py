"""The statistics battery: does a new cohort agree with the reference, method by method?

Takes the tidy measures table and the participants table and returns tidy result tables; every
analysis of Grigorescu et al. (2021, sections 3.1-3.3) plus equivalence tests with power,
preservation of biological effects, site prediction, distribution shift, harmonisation
diagnostics, a ComBat comparator judged out of sample, and a reference model fitted once and
applied frozen to new cohorts. The error rate of every verdict is measured by simulation in
``benchmarks/calibration.py``.
"""

from __future__ import annotations

from harmonstats.analysis.battery import TABLE_COLUMNS, run_battery, write_battery
from harmonstats.analysis.combat import combat_harmonise
from harmonstats.analysis.combat_model import ComBatFit, fit_combat
from harmonstats.analysis.config import BatteryConfig, battery_options, load_battery_config
from harmonstats.analysis.descriptives import descriptives
from harmonstats.analysis.diagnostics import harmonisation_diagnostics
from harmonstats.analysis.effects import cohort_effect, two_sample_t
from harmonstats.analysis.equivalence import equivalence, tost_power, tost_sample_size
from harmonstats.analysis.matching import MatchResult, match_cohorts, split_subsets
from harmonstats.analysis.omnibus import cohort_omnibus
from harmonstats.analysis.outcome import outcome_association
from harmonstats.analysis.preservation import biological_effects
from harmonstats.analysis.preterm import (
    crossing_point,
    preterm_model,
    preterm_subset,
    regional_prematurity,
)
from harmonstats.analysis.reference_model import ReferenceModel, fit_reference_model
from harmonstats.analysis.segmentation import segmentation_quality
from harmonstats.analysis.shift import distribution_shift
from harmonstats.analysis.simulate import simulate_measures
from harmonstats.analysis.site import site_prediction
from harmonstats.analysis.tables import wide_table

__all__ = [
    "TABLE_COLUMNS",
    "BatteryConfig",
    "ComBatFit",
    "MatchResult",
    "ReferenceModel",
    "battery_options",
    "biological_effects",
    "cohort_effect",
    "cohort_omnibus",
    "combat_harmonise",
    "crossing_point",
    "descriptives",
    "distribution_shift",
    "equivalence",
    "fit_combat",
    "fit_reference_model",
    "harmonisation_diagnostics",
    "load_battery_config",
    "match_cohorts",
    "outcome_association",
    "preterm_model",
    "preterm_subset",
    "regional_prematurity",
    "run_battery",
    "segmentation_quality",
    "simulate_measures",
    "site_prediction",
    "split_subsets",
    "tost_power",
    "tost_sample_size",
    "two_sample_t",
    "wide_table",
    "write_battery",
]
