"""The built-in demo: its synthetic study, its checkpoints, its study run.

The demo's checkpoints are package data: :func:`demo_models_folder` finds them in an installed
harmonstats (``harmonstats/demo_models/``, built from the repository's ``models/demo/``) or in a
source checkout (``models/demo/``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from harmonstats.analysis.config import BatteryConfig
from harmonstats.cohort import Cohort, check_images
from harmonstats.fingerprint import source_fingerprint
from harmonstats.io import write_json
from harmonstats.pipeline.run import StudyRun
from harmonstats.pipeline.segment import SegmentPlan, demo_models, demo_models_folder

__all__ = ["DEMO", "QUICK", "DemoParameters", "demo_run", "demo_study"]

_DEMO_SEGMENTATION = (
    "The demo checkpoints (harmonstats/demo_models/*.pt) were not found, so no harmonised "
    "segmentations exist and there is no comparator for the paired Dice tests; the example "
    "slices and any Dice figure show the label maps the study came with."
)


@dataclass(frozen=True)
class DemoParameters:
    """Size of the built-in demo's synthetic study.

    Attributes
    ----------
    n_source, n_target : int
        Subjects per cohort.
    shape : int
        Volume edge (voxels).
    spacing : float
        Voxel size (mm).
    seed : int
        Seed of the generator and of every random step of the battery.
    """

    n_source: int
    n_target: int
    shape: int
    spacing: float
    seed: int = 0


#: The full demo (about the size of the paper's matched test sets).
DEMO = DemoParameters(n_source=40, n_target=40, shape=64, spacing=0.5)
#: The quick demo, for tests.
QUICK = DemoParameters(n_source=14, n_target=14, shape=32, spacing=1.0)

_DEMO_RECORD = ".harmonstats-demo.json"


def demo_study(
    data: str | os.PathLike[str],
    params: DemoParameters,
    *,
    jobs: int = 1,
    progress: bool = False,
) -> tuple[Path, bool]:
    """The demo's synthetic study in ``data``: reused when made with the same parameters.

    A study is generated in a temporary folder beside ``data`` and renamed into place, so an
    interrupted generation never looks like a finished one.

    Returns
    -------
    path : pathlib.Path
        The study folder.
    reused : bool
        Whether an existing study was reused.
    """
    from harmonstats.synth import synthesize_study

    root = Path(data)
    wanted = {**asdict(params), "generator": source_fingerprint("synth", "labels", "io")}
    record = root / _DEMO_RECORD
    if record.is_file():
        try:
            if json.loads(record.read_text()) == wanted:
                return root, True
        except ValueError:
            pass
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
    tmp.chmod(0o755)
    try:
        synthesize_study(tmp, n_source=params.n_source, n_target=params.n_target,
                         shape=params.shape, spacing=params.spacing, seed=params.seed,
                         jobs=jobs, progress=progress)
        write_json(wanted, tmp / _DEMO_RECORD)
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return root, False


def demo_run(root: str | os.PathLike[str], params: DemoParameters, *, jobs: int,
             quick: bool, models_folder: str | os.PathLike[str] | None = None) -> StudyRun:
    """The built-in demo's study: the synthetic study in ``root``, all its methods.

    The synthetic cohorts differ in GA at birth by design (the target cohort is preterm-born, as
    ePrime), so at the demo's size too few subjects match on both GA and PMA; the demo matches
    on PMA at scan (caliper 0.5 pooled SD) and adjusts every model for GA.
    """
    root = Path(root)
    models, parcellation = demo_models(models_folder)
    if quick:
        # The quick demo (for tests) applies the comparator and the paper's harmonised model
        # only, and keeps the study's regions: a third of the network time.
        models = {k: v for k, v in models.items() if k in ("baseline", "image_aug")}
        parcellation = None
    # The models' outputs of an earlier, interrupted run are the segment stage's to finish:
    # the study is loaded without them, and with them once they are all written.
    given = [m for m in Cohort.from_bids(root, check=False).methods if m not in models]
    cohort = Cohort.from_bids(root, methods=given)
    plan = None
    if models:
        images = {s: Path(str(cohort.image_path(s))) for s in cohort.scans}
        check_images(images)
        plan = SegmentPlan(models=models, images=images, out=root, parcellation=parcellation,
                           device="auto", source_root=root,
                           load_cohort=lambda: Cohort.from_bids(root,
                                                                methods=[*given, *models]))
    battery = BatteryConfig.model_validate({
        "reference": "source",
        "seed": params.seed,
        "comparator": "baseline" if "baseline" in models else None,
        # The paper's pooled before/after analyses use its image-level model with augmentation.
        "after": "image_aug" if "image_aug" in models else None,
        "n_permutations": 50 if quick else 200,
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
        segment_skip=f"no demo checkpoints in {models_folder or demo_models_folder()}",
    )
