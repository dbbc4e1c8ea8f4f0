"""From a study YAML (or the built-in demo) to a validated :class:`StudyRun`.

All input problems are found here, before anything is measured or written: a missing file, a
participants table lacking a column, a method whose label maps are absent. Each is raised as one
ValueError/FileNotFoundError naming the file, column or method.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from harmonstats.analysis.config import BatteryConfig
from harmonstats.cohort import Cohort, check_participants
from harmonstats.config import StudyConfig, load_study_config
from harmonstats.io import read_table
from harmonstats.report.pipeline import DemoParameters, StudyRun
from harmonstats.report.segment import SegmentPlan, check_images, demo_models

__all__ = ["demo_run", "read_participants", "study_run"]

_DEMO_SEGMENTATION = (
    "The demo checkpoints (models/demo/*.pt) were not found, so no harmonised segmentations "
    "exist and there is no comparator for the paired Dice tests; the example slices and any "
    "Dice figure show the label maps the study came with."
)


def read_participants(config: StudyConfig, base: str | os.PathLike[str]) -> tuple[pd.DataFrame,
                                                                                   Path]:
    """The participants table of a study, columns renamed to harmonstats' names and validated.

    Raises
    ------
    FileNotFoundError
        If the table does not exist.
    ValueError
        If a column named in ``participants.columns`` or a required column is missing, or the
        table fails :func:`harmonstats.cohort.check_participants`.
    """
    path = config.resolve(config.participants.table, base)
    if not path.is_file():
        raise FileNotFoundError(f"participants table not found: {path}")
    if path.suffix.lower() == ".csv":
        raw = pd.read_csv(path, dtype={"participant_id": str})
    else:
        raw = read_table(path)
    mapping = config.participants.columns
    absent = [c for c in mapping if c not in raw.columns]
    if absent:
        raise ValueError(
            f"{path.name}: column {absent[0]!r} named in participants.columns is not in the "
            f"table; it has {list(raw.columns)}"
        )
    table = raw.rename(columns=mapping)
    if "participant_id" in table.columns:
        table["participant_id"] = table["participant_id"].astype(str)
    table = check_participants(table, source=path.name)
    cohorts = sorted(table["cohort"].unique())
    include = config.cohorts.include
    if include is not None:
        unknown = [c for c in include if c not in cohorts]
        if unknown:
            raise ValueError(f"{path.name}: cohorts.include names cohort(s) {unknown} not in "
                             f"the table; it has {cohorts}")
        table = table[table["cohort"].isin(include)].reset_index(drop=True)
    if config.cohorts.reference not in cohorts:
        raise ValueError(f"{path.name}: reference cohort {config.cohorts.reference!r} not in "
                         f"the table; it has {cohorts}")
    if table["cohort"].nunique() < 2:
        raise ValueError(f"{path.name}: need at least two cohorts to compare, found "
                         f"{sorted(table['cohort'].unique())}")
    return table, path


def _check_method_files(config: StudyConfig, base: Path, subjects: list[str]) -> None:
    for method, source in config.methods.items():
        if source.labels is None:
            continue
        paths = [config.resolve(source.labels.format(participant_id=p, session_id="",
                                                     cohort=""), base) for p in subjects]
        found = sum(p.is_file() for p in paths)
        if found == 0:
            raise FileNotFoundError(
                f"method {method!r}: no label maps found (0 of {len(paths)}) for pattern "
                f"{source.labels!r}, e.g. {paths[0]}"
            )


def study_run(
    source: str | os.PathLike[str] | StudyConfig,
    *,
    base: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
) -> StudyRun:
    """Validate a study YAML and its inputs into a :class:`StudyRun`.

    Parameters
    ----------
    source : path or StudyConfig
        The study YAML, or an already-validated configuration.
    base : path, optional
        Folder relative paths start from (default: the YAML's folder, else the working folder).
    jobs : int, optional
        Worker processes for measuring (default: ``measures.jobs`` of the YAML).

    Returns
    -------
    StudyRun
    """
    if isinstance(source, StudyConfig):
        config = source
        folder = Path(base) if base is not None else Path.cwd()
    else:
        config = load_study_config(source)
        folder = Path(base) if base is not None else Path(source).resolve().parent
    table, table_path = read_participants(config, folder)
    subjects = table["participant_id"].tolist()
    _check_method_files(config, folder, subjects)
    root = config.resolve(".", folder)
    models = {m: config.resolve(s.checkpoint, folder)
              for m, s in config.methods.items() if s.checkpoint is not None}
    seg = config.segmentation
    out = config.resolve(seg.out, folder)
    parcellation = config.resolve(seg.parcellation, folder) if seg.parcellation else None
    for what, path in [*((f"method {m!r}: checkpoint", p) for m, p in models.items()),
                       ("segmentation.parcellation", parcellation)]:
        if path is not None and not path.exists():
            raise FileNotFoundError(f"{what} not found: {path}")
    labels = {m: s.labels for m, s in config.methods.items() if s.labels is not None}
    regions = {m: s.regions for m, s in config.methods.items() if s.regions}
    if config.labels.regions:
        regions[""] = config.labels.regions

    def load_cohort(with_models: bool) -> Cohort:
        labs, regs = dict(labels), dict(regions)
        if with_models:
            for m in models:
                base = out / "derivatives" / m / "sub-{participant_id}" / "anat"
                labs[m] = str(base / "sub-{participant_id}_dseg.nii.gz")
                if parcellation is not None:
                    regs[m] = str(base / "sub-{participant_id}_desc-regions_dseg.nii.gz")
        return Cohort.from_patterns(table, labels=labs, regions=regs, image=config.labels.image,
                                    root=root, scheme=config.labels.scheme,
                                    region_scheme=config.labels.region_scheme)

    plan = None
    if models:
        image_pattern = str(config.labels.image)
        images = {p: config.resolve(image_pattern.format(participant_id=p, session_id="",
                                                         cohort=""), folder) for p in subjects}
        check_images(images)
        plan = SegmentPlan(models=models, images=images, out=out, parcellation=parcellation,
                           device=seg.device, precision=seg.precision,
                           load_cohort=lambda: load_cohort(True))
    return StudyRun(
        title=config.name,
        cohort=load_cohort(False) if labels else None,
        segment=plan,
        battery=config.analysis,
        thickness=config.measures.thickness,
        ground_truth=config.measures.ground_truth,
        jobs=jobs if jobs is not None else config.measures.jobs,
        config=config.model_dump(mode="json"),
        inputs=[table_path, *(p for p in models.values() if p.is_file()),
                *([parcellation] if parcellation is not None and parcellation.is_file() else [])],
    )


def demo_run(root: str | os.PathLike[str], params: DemoParameters, *, jobs: int,
             quick: bool, models_folder: str | os.PathLike[str] | None = None) -> StudyRun:
    """The built-in demo's study: the synthetic study in ``root``, all its methods.

    The synthetic cohorts differ in GA at birth by design (the target cohort is preterm-born, as
    ePrime), so at the demo's size too few subjects match on both GA and PMA; the demo matches
    on PMA at scan (caliper 0.5 pooled SD) and adjusts every model for GA.
    """
    root = Path(root)
    cohort = Cohort.from_bids(root)
    models, parcellation = demo_models(models_folder)
    if quick:
        # The quick demo (for tests) applies the comparator and the paper's harmonised model
        # only, and keeps the study's regions: a third of the network time.
        models = {k: v for k, v in models.items() if k in ("baseline", "image_aug")}
        parcellation = None
    plan = None
    if models:
        images = {p: Path(str(cohort.image_path(p))) for p in cohort.subjects}
        check_images(images)
        plan = SegmentPlan(models=models, images=images, out=root, parcellation=parcellation,
                           device="auto", load_cohort=lambda: Cohort.from_bids(root))
    battery = BatteryConfig.model_validate({
        "reference": "source",
        "seed": params.seed,
        "comparator": "baseline" if "baseline" in models else None,
        # The paper's pooled before/after analyses use its image-level model with augmentation.
        "after": "image_aug" if "image_aug" in models else None,
        "n_permutations": 50 if quick else 200,
        "n_boot": 200 if quick else 2000,
        "min_group": 5 if quick else 10,
        "match_on": ["pma_scan"],
    })
    config = {"demo": "quick" if quick else "full", "synthetic": vars(params).copy(),
              "measures": {"thickness": "laplace", "ground_truth": "truth"},
              "analysis": battery.model_dump(mode="json")}
    return StudyRun(
        title="harmonstats demo: synthetic two-cohort study",
        cohort=cohort,
        battery=battery,
        thickness="laplace",
        ground_truth="truth",
        jobs=jobs,
        config=config,
        inputs=[root / "participants.tsv", *models.values(),
                *([parcellation] if parcellation is not None else [])],
        synthetic=vars(params).copy(),
        skipped={} if models else {"segmentation": _DEMO_SEGMENTATION},
        segment=plan,
        segment_skip=f"no demo checkpoints in {models_folder or 'models/demo'}",
    )
