"""The application layer: a study (or the built-in demo) run end to end.

Load and validate the study (:mod:`~harmonstats.pipeline.study`, :mod:`~harmonstats.pipeline.demo`),
segment it with trained models (:mod:`~harmonstats.pipeline.segment`), measure, analyse, draw and
write the report (:mod:`~harmonstats.pipeline.run`); ``harmonstats report`` is
:mod:`~harmonstats.pipeline.cli`. :mod:`harmonstats.report` only renders. From Python::

    from harmonstats.pipeline import Progress, run_report, study_run
    index = run_report(study_run("study.yaml"), "reports/mystudy", progress=Progress(total=5))
"""

from __future__ import annotations

from harmonstats.pipeline.demo import DEMO, QUICK, DemoParameters, demo_run, demo_study
from harmonstats.pipeline.run import Progress, StudyRun, run_report
from harmonstats.pipeline.segment import SegmentPlan, demo_models, demo_models_folder
from harmonstats.pipeline.study import read_participants, study_run

__all__ = [
    "DEMO",
    "QUICK",
    "DemoParameters",
    "Progress",
    "SegmentPlan",
    "StudyRun",
    "demo_models",
    "demo_models_folder",
    "demo_run",
    "demo_study",
    "read_participants",
    "run_report",
    "study_run",
]
