"""The statistics battery: does a new cohort agree with the reference, method by method?

Takes the tidy measures table and the participants table and returns tidy result tables; every
analysis of Grigorescu et al. (2021, sections 3.1-3.3) plus equivalence tests, preservation of
biological effects, site prediction, distribution shift and a ComBat comparator.
"""

from __future__ import annotations

from harmonstats.analysis.battery import TABLE_COLUMNS, run_battery, write_battery
from harmonstats.analysis.combat import combat_harmonise
from harmonstats.analysis.config import BatteryConfig, load_battery_config
from harmonstats.analysis.descriptives import descriptives
from harmonstats.analysis.effects import cohort_effect, two_sample_t
from harmonstats.analysis.equivalence import equivalence
from harmonstats.analysis.matching import MatchResult, match_cohorts, split_subsets
from harmonstats.analysis.outcome import outcome_association
from harmonstats.analysis.preservation import biological_effects
from harmonstats.analysis.preterm import (
    crossing_point,
    preterm_model,
    preterm_subset,
    regional_prematurity,
)
from harmonstats.analysis.segmentation import segmentation_quality
from harmonstats.analysis.shift import distribution_shift
from harmonstats.analysis.simulate import simulate_measures
from harmonstats.analysis.site import site_prediction
from harmonstats.analysis.tables import wide_table

__all__ = [
    "TABLE_COLUMNS",
    "BatteryConfig",
    "MatchResult",
    "biological_effects",
    "cohort_effect",
    "combat_harmonise",
    "crossing_point",
    "descriptives",
    "distribution_shift",
    "equivalence",
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
    "two_sample_t",
    "wide_table",
    "write_battery",
]
