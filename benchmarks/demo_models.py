"""Known-truth evaluation of the demo models (``models/demo/*.pt``) on a study none of them saw.

The demo models were trained on a synthetic study of seed 1 (``scripts/train_demo_models.sh``);
this script segments the built-in demo study (seed 0: 40 + 40 subjects at 64^3 / 0.5 mm, made if
missing) with each of them and prints, against the ``truth`` label maps that no model saw:

* Dice per tissue on the source cohort and on the target cohort, for every model;
* the mean cortical thickness (laplace) on each model's target predictions minus the
  generator's true thickness (``truth.tsv``), and the same for the target's original labels;
* Dice per region of the parcellation net, applied to the true cortical GM of every subject
  (paper Table 3: mean 0.97).

    python benchmarks/demo_models.py [--study data/demo] [--models models/demo] [--jobs 2]
        [--also NAME=CHECKPOINT ...]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.cohort import Cohort
from harmonstats.io import load_nifti, read_table
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout import find_images
from harmonstats.measures.extract import measure_cohort
from harmonstats.models.apply import load_segmenter, parcellate, segment_images
from harmonstats.pipeline.demo import DEMO, demo_study
from harmonstats.pipeline.segment import demo_models


def region_dice(cohort: Cohort, parcellation: Path) -> pd.DataFrame:
    """Per subject and region: Dice of the parcellation of the true GM against the true regions."""
    model = load_segmenter(parcellation, label_scheme="regions11", in_channels=1)
    rows = []
    for scan in cohort.scans:
        truth_map = cohort.label_path("truth", scan)
        pred = parcellate(model, truth_map)
        ref = np.asarray(load_nifti(cohort.region_path("truth", scan)).dataobj)
        for value, name in REGIONS.items():
            if not value:
                continue
            a, b = pred == value, ref == value
            denom = a.sum() + b.sum()
            rows.append({"participant_id": scan.key, "region": name,
                         "dice": 2.0 * (a & b).sum() / denom if denom else np.nan})
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", type=Path, default=Path("data/demo"))
    p.add_argument("--models", type=Path, default=None, help="default: models/demo")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--also", nargs="+", default=[], metavar="NAME=CHECKPOINT",
                   help="evaluate further checkpoints beside the demo models, e.g. a model "
                        "trained on the target cohort's truth (the ceiling of target Dice); "
                        "their label maps are removed at the end")
    a = p.parse_args()
    root, _ = demo_study(a.study, DEMO, jobs=a.jobs)
    models, parcellation = demo_models(a.models)
    for item in a.also:
        name, sep, path = item.partition("=")
        if not sep or not name or not Path(path).exists():
            raise SystemExit(f"--also {item!r}: expected NAME=CHECKPOINT, an existing file "
                             "or run folder")
        models[name] = Path(path)
    if not models:
        raise SystemExit("no demo checkpoints found; run scripts/train_demo_models.sh")
    images = find_images(root)
    t0 = time.perf_counter()
    for name, path in models.items():
        segment_images(path, images, root, method=name, parcellation=parcellation,
                       progress=False, source_root=root)
    print(f"segmented {len(images)} subjects x {len(models)} models in "
          f"{time.perf_counter() - t0:.0f} s")
    # only the methods evaluated here: other derivatives (e.g. an interrupted earlier run) are
    # left alone
    cohort = Cohort.from_bids(root, methods=["original", "truth", *models])
    df = measure_cohort(cohort, thickness="laplace", reference="truth", jobs=a.jobs,
                        progress=False)
    tissues = [n for v, n in TISSUES.items() if v]
    dice = df[df["measure"].str.startswith("dice_")].copy()
    dice["tissue"] = dice["measure"].str.removeprefix("dice_")
    methods = ["original", *models]
    for cohort_name in ("source", "target"):
        sub = dice[dice["cohort"] == cohort_name]
        table = sub.pivot_table(index="method", columns="tissue", values="value", aggfunc="mean")
        table = table.reindex(index=methods, columns=tissues)
        table["mean"] = table.mean(axis=1)
        print(f"\n== Dice against truth, {cohort_name} cohort "
              f"({sub['participant_id'].nunique()} subjects)")
        print(table.round(3).to_string())
    truth = read_table(root / "truth.tsv").set_index("participant_id")["thickness_mean"]
    ct = df[(df["measure"] == "thickness_mean")].copy()
    ct["error"] = ct["value"].to_numpy() - truth.reindex(ct["participant_id"]).to_numpy()
    summary = ct.groupby(["method", "cohort"])["error"].agg(["mean", "std"]).unstack("cohort")
    print("\n== mean cortical thickness (laplace) minus the true thickness, mm")
    print(summary.reindex([*methods, "truth"]).round(3).to_string())
    if "baseline" in models and "image_aug" in models:
        tgt = dice[dice["cohort"] == "target"].groupby("method")["value"].mean()
        print(f"\nimage_aug - baseline, target mean Dice: "
              f"{tgt['image_aug'] - tgt['baseline']:+.3f}")
    if parcellation is not None:
        rd = region_dice(cohort, parcellation)
        per_region = rd.groupby("region")["dice"].mean().reindex(
            [n for v, n in REGIONS.items() if v])
        print("\n== parcellation net on the true cortical GM: Dice per region (all subjects)")
        print(per_region.round(3).to_string())
        print(f"min {per_region.min():.3f}  max {per_region.max():.3f}  "
              f"mean {per_region.mean():.3f}")
    for item in a.also:  # the demo report would otherwise take them for methods of the study
        shutil.rmtree(root / "derivatives" / item.partition("=")[0], ignore_errors=True)


if __name__ == "__main__":
    main()
