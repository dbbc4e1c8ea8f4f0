"""harmonstats: decide, with evidence, whether neonatal brain MRI cohorts can be analysed together.

The public API for notebooks is re-exported here; each name is imported on first use, so
``import harmonstats`` stays fast and the command line does not load torch or statsmodels until a
subcommand needs them::

    import harmonstats as hs
    study = hs.synthesize_study("data/study", n_source=40, n_target=40)
    measures = hs.measure_study(study, methods=["original", "truth"])
    results = hs.run_battery(measures, hs.read_table(study / "participants.tsv"))
    hs.figures.plot_thickness_vs_pma(...)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    # labels, cohorts, files
    "REGIONS": "harmonstats.labels",
    "TISSUES": "harmonstats.labels",
    "LabelScheme": "harmonstats.labels",
    "get_scheme": "harmonstats.labels",
    "Cohort": "harmonstats.cohort",
    "read_table": "harmonstats.io",
    "load_nifti": "harmonstats.io",
    "save_nifti": "harmonstats.io",
    "write_table": "harmonstats.io",
    # synthetic studies
    "synthesize_study": "harmonstats.synth",
    "synthesize_subject": "harmonstats.synth",
    "SubjectSpec": "harmonstats.synth",
    # measures
    "measure_study": "harmonstats.measures",
    "measure_cohort": "harmonstats.measures",
    "write_measures": "harmonstats.measures",
    "tissue_volumes": "harmonstats.measures",
    "laplace_thickness": "harmonstats.measures",
    "direct_thickness": "harmonstats.measures",
    "dice_scores": "harmonstats.measures",
    # statistics
    "BatteryConfig": "harmonstats.analysis",
    "load_battery_config": "harmonstats.analysis",
    "run_battery": "harmonstats.analysis",
    "write_battery": "harmonstats.analysis",
    "wide_table": "harmonstats.analysis",
    "descriptives": "harmonstats.analysis",
    "match_cohorts": "harmonstats.analysis",
    "cohort_effect": "harmonstats.analysis",
    "equivalence": "harmonstats.analysis",
    "biological_effects": "harmonstats.analysis",
    "site_prediction": "harmonstats.analysis",
    "distribution_shift": "harmonstats.analysis",
    "combat_harmonise": "harmonstats.analysis",
    "preterm_model": "harmonstats.analysis",
    "crossing_point": "harmonstats.analysis",
    "regional_prematurity": "harmonstats.analysis",
    "outcome_association": "harmonstats.analysis",
    "segmentation_quality": "harmonstats.analysis",
    # deep-learning models (torch is imported on first use)
    "train": "harmonstats.models",
    "load_segmenter": "harmonstats.models",
    "segment_cohort": "harmonstats.models",
    "parcellate_cohort": "harmonstats.models",
    "preprocess_study": "harmonstats.models",
    "stratified_split": "harmonstats.models",
    # study configuration
    "StudyConfig": "harmonstats.config",
    "load_study_config": "harmonstats.config",
}

#: Subpackages reachable as attributes (``hs.figures.plot_dice``).
_SUBMODULES = ("analysis", "figures", "layout", "measures", "models", "pipeline", "report",
               "synth")

__all__ = ["__version__", *sorted(_EXPORTS), *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"harmonstats.{name}")
    else:
        raise AttributeError(f"module 'harmonstats' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
