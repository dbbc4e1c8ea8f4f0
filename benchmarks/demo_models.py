"""Known-truth evaluation of the demo models (``models/demo/*.pt``) on a study none of them saw.

The demo models were trained on a synthetic study of seed 1 (``scripts/train_demo_models.sh``);
this script segments the built-in demo study (seed 0: 40 + 40 subjects at 64^3 / 0.5 mm, made if
missing) with each of them and prints, against the ``truth`` label maps that no model saw:

* Dice per tissue on the source cohort and on the target cohort, for every model;
* the mean cortical thickness (``pbt``, the default) on each model's target predictions minus the
  generator's true thickness (``truth.tsv``), and the same for the target's original labels;
* Dice per region of the parcellation net, applied to the true cortical GM of every subject
  (paper Table 3: mean 0.97);
* the demo battery's verdict on the mean-thickness cohort effect (TOST at the 5% margin) and
  the pooled PMA coefficient of thickness with its 95% CI, against the truth's;
* the headline goals per model: thickness within 0.05 mm of the truth in each cohort, the
  cohort effect "equivalent", the PMA effect's CI covering the truth's, target Dice at least
  the baseline's;
* segmentation QC without ground truth (:mod:`harmonstats.measures.qc`): maps flagged per
  method, and how each check tracks the true Dice (Spearman).

    python benchmarks/demo_models.py [--study data/demo] [--models models/demo] [--jobs 2]
        [--n-per-cohort 40] [--seed 0] [--also NAME=CHECKPOINT ...] [--only NAME ...]
        [--no-parcellation] [--out benchmarks/results/demo_models]

``--n-per-cohort`` and ``--seed`` make (or reuse) a study of another size in ``--study``. At
the demo's 40 + 40 (PMA-matched subsets of them) the battery's TOST, Holm-adjusted over each
method's 19 measures, has a power of 0.12 (a lower bound) for the truth itself, and the
inconclusive rows print the subjects per cohort they would need (column 'n needed'); a study
sized for the verdict is e.g. ``--study data/eval --n-per-cohort 100 --seed 2``.

The QC tables (``qc.tsv``, ``qc_summary.tsv``, ``qc_dice.tsv``) and a QC mosaic per model
(``qc_mosaic_<model>.png``) are written to ``--out``.

``--only`` and ``--no-parcellation`` trade completeness for time on a busy CPU: the predicted
cortical GM then keeps the study's regions (regional thickness is approximate; the mean
thickness, the Dice and the headline do not use regions).
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.analysis.battery import run_battery
from harmonstats.cohort import Cohort
from harmonstats.io import load_nifti, read_table, write_table
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.layout import find_images
from harmonstats.measures.extract import measure_cohort
from harmonstats.measures.methods import DEFAULT_THICKNESS
from harmonstats.measures.qc import QC_TABLE_COLUMNS, qc_tables
from harmonstats.models.apply import load_segmenter, parcellate, segment_images
from harmonstats.pipeline.demo import DEMO, DemoParameters, demo_run, demo_study
from harmonstats.pipeline.segment import demo_models

GOAL_MM = 0.05


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


def headline(df: pd.DataFrame, cohort: Cohort, errors: pd.DataFrame, dice: pd.DataFrame,
             methods: list[str], jobs: int, params: DemoParameters) -> None:
    """The battery's thickness verdict and PMA effect per method, and the headline goals."""
    battery = demo_run(cohort.root or Path("."), params, jobs=jobs, quick=False).battery
    if battery.after is not None and battery.after not in methods:
        battery = battery.model_copy(update={"after": None})  # a subset evaluated (--only)
    results = run_battery(df, cohort.participants, battery)
    eq = results["equivalence"]
    eq = eq[(eq["measure"] == "thickness_mean")].set_index("method")
    pres = results["preservation"]
    pres = pres[(pres["measure"] == "thickness_mean") & (pres["term"] == "pma_scan")]
    pres = pres.set_index("method")
    truth_pma = float(pres.loc["truth", "estimate"]) if "truth" in pres.index else np.nan
    mean_dice = dice.groupby(["method", "cohort"])["value"].mean().unstack("cohort")
    base = mean_dice["target"].get("baseline", np.nan)
    print(f"\n== headline: thickness ({DEFAULT_THICKNESS}) minus truth per cohort, the battery's "
          f"cohort effect on mean thickness (TOST, margin {eq['margin_abs'].iloc[0]:.3f} mm), "
          f"pooled PMA coefficient (truth {truth_pma:.4f} mm/week)")
    print(f"{'method':<14}{'Dice src':>9}{'Dice tgt':>9}{'err src':>9}{'err tgt':>9}"
          f"{'effect (90% CI)':>27}{'p TOST':>8}{'Holm':>8}{'verdict':>14}"
          f"{'power':>7}{'n needed':>9}{'PMA (95% CI)':>26}{'goals met':>11}")
    for m in [*methods, "truth"]:
        if m not in eq.index:
            continue
        err = errors.loc[m, "mean"] if m in errors.index else pd.Series(np.nan, ["source",
                                                                                "target"])
        lo, hi = pres.loc[m, "ci_low"], pres.loc[m, "ci_high"]
        goals = [abs(err["source"]) <= GOAL_MM, abs(err["target"]) <= GOAL_MM,
                 eq.loc[m, "verdict"] == "equivalent", lo <= truth_pma <= hi]
        if m not in ("original", "truth", "baseline"):
            goals.append(mean_dice.loc[m, "target"] >= base if m in mean_dice.index else False)
        d_src = mean_dice.loc[m, "source"] if m in mean_dice.index else np.nan
        d_tgt = mean_dice.loc[m, "target"] if m in mean_dice.index else np.nan
        print(f"{m:<14}{d_src:>9.3f}{d_tgt:>9.3f}{err['source']:>+9.3f}{err['target']:>+9.3f}"
              f"{eq.loc[m, 'estimate']:>+9.3f}"
              f" ({eq.loc[m, 'ci90_low']:+.3f}, {eq.loc[m, 'ci90_high']:+.3f})"
              f"{eq.loc[m, 'p_tost']:>8.3f}{eq.loc[m, 'p_tost_adj']:>8.3f}"
              f"{eq.loc[m, 'verdict']:>14}{eq.loc[m, 'power_tost_adj']:>7.2f}"
              f"{eq.loc[m, 'n_per_cohort_needed']:>9.0f}"
              f"{pres.loc[m, 'estimate']:>9.4f} ({lo:.4f}, {hi:.4f})"
              f"{f'{sum(goals)}/{len(goals)}':>11}")
    print("goals: |err| <= 0.05 mm in each cohort, verdict 'equivalent', PMA CI covering the "
          "truth's; DA models also target Dice >= baseline's. The verdict takes the TOST p "
          "Holm-adjusted over each method's measures (column 'Holm'), so a 90% CI inside the "
          "margin can still be inconclusive; 'power' is the TOST's at alpha / m (m measures; "
          f"here {battery.alpha / eq['alpha_family'].iloc[0]:.0f}), a lower bound on the chance of "
          "'equivalent' for a true difference of 0 at this SE, and 'n needed' the subjects per "
          f"cohort an inconclusive row would need for power {battery.tost.power:g} at that level")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", type=Path, default=Path("data/demo"))
    p.add_argument("--n-per-cohort", type=int, default=DEMO.n_source,
                   help="subjects per cohort of the study (made in --study if missing; default "
                        "the demo's)")
    p.add_argument("--seed", type=int, default=DEMO.seed,
                   help="seed of the study and of the battery (default the demo's, 0; the "
                        "models were trained on seed 1)")
    p.add_argument("--models", type=Path, default=None, help="default: models/demo")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--also", nargs="+", default=[], metavar="NAME=CHECKPOINT",
                   help="evaluate further checkpoints beside the demo models, e.g. a model "
                        "trained on the target cohort's truth (the ceiling of target Dice); "
                        "their label maps are removed at the end")
    p.add_argument("--only", nargs="+", default=None, metavar="NAME",
                   help="evaluate only these demo models (default: every one shipped)")
    p.add_argument("--no-parcellation", action="store_true",
                   help="do not parcellate the predicted cortical GM (nor report the "
                        "parcellation net's Dice per region)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/demo_models"),
                   help="folder for the QC tables and mosaics")
    a = p.parse_args()
    if a.seed == 1:
        raise SystemExit("--seed 1 is the models' training study; pick another")
    params = replace(DEMO, n_source=a.n_per_cohort, n_target=a.n_per_cohort, seed=a.seed)
    if params != DEMO and a.study.resolve() == Path("data/demo").resolve():
        # demo_study would regenerate the demo's own study (and drop the report's segmentations)
        raise SystemExit("--n-per-cohort / --seed other than the demo's need a --study folder "
                         "of their own (e.g. --study data/eval)")
    root, _ = demo_study(a.study, params, jobs=a.jobs)
    models, parcellation = demo_models(a.models)
    if a.only is not None:
        unknown = sorted(set(a.only) - set(models))
        if unknown:
            raise SystemExit(f"--only {unknown}: not among the demo models {sorted(models)}")
        models = {name: path for name, path in models.items() if name in a.only}
    if a.no_parcellation:
        parcellation = None
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
    df = measure_cohort(cohort, thickness=DEFAULT_THICKNESS, reference="truth", jobs=a.jobs,
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
    print(f"\n== mean cortical thickness ({DEFAULT_THICKNESS}) minus the true thickness, mm")
    print(summary.reindex([*methods, "truth"]).round(3).to_string())
    if "baseline" in models and "image_aug" in models:
        tgt = dice[dice["cohort"] == "target"].groupby("method")["value"].mean()
        print(f"\nimage_aug - baseline, target mean Dice: "
              f"{tgt['image_aug'] - tgt['baseline']:+.3f}")
    headline(df, cohort, summary, dice, methods, a.jobs, params)
    qc = qc_tables(cohort, df, reference_cohort="source")
    if qc:
        print("\n== segmentation QC (no ground truth used): maps flagged per method and cohort")
        print(qc["qc_summary"].round(3).to_string(index=False))
        corr = qc["qc_dice"]
        print("\n== QC checks against the true mean Dice: Spearman rho, all methods pooled "
              "(negative: the check rises as quality falls)")
        print(corr[corr["method"] == "all"].sort_values("spearman_rho").round(3)
              .to_string(index=False))
        from harmonstats.figures.qc import plot_qc_mosaic

        a.out.mkdir(parents=True, exist_ok=True)
        for name, table in qc.items():
            write_table(table, a.out / f"{name}.tsv", QC_TABLE_COLUMNS[name])
        for name in models:
            plot_qc_mosaic(cohort, name, qc=qc["qc"]).savefig(a.out / f"qc_mosaic_{name}.png",
                                                              dpi=80)
        print(f"QC tables and mosaics: {a.out}")
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
