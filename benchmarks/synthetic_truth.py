"""Measured thickness against the synthetic generator's known truth, on a whole study.

Synthesises a study (or reads one given with ``--study``), measures its ``truth`` and ``original``
label maps with a thickness method (``--thickness``, default the package's default), and prints,
per cohort: the correlation of the measured mean thickness on ``truth`` labels with the
generator's true thickness, the mean bias, and how much thicker the ``original`` labels read
than the ``truth`` labels (the built-in bias of the target cohort's original labels moves the
cortex/CSF boundary out by about 0.2 mm; where two banks touch there is no CSF to move into, so
the thickness it adds is about 0.2 mm times the share of cortex on free banks; none in the
source cohort). Then the battery's verdicts on ``thickness_mean``, as in
``tests/analysis/test_known_truth.py``: cohorts matched on GA and PMA (optimal, caliper 0.5,
up to 3 source subjects per target one), the covariate-adjusted cohort effect per method with
its 95% CI beside the generator's built-in bias, and the TOST verdict at a 5% margin: the
target's ``original`` labels should come out "different" and ``truth`` "equivalent".

Usage::

    python benchmarks/synthetic_truth.py                      # 40 + 40 subjects, 64^3 at 0.5 mm
    python benchmarks/synthetic_truth.py --study data/demo    # an existing synthetic study
    python benchmarks/synthetic_truth.py --thickness laplace
    python benchmarks/synthetic_truth.py --n 150 --shape 48 --spacing 0.6 --seed 3 \
        --source-preterm-share 0.5                            # the known-truth test's study
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.analysis import cohort_effect, equivalence, match_cohorts, wide_table
from harmonstats.io import read_table
from harmonstats.measures import measure_study
from harmonstats.measures.methods import DEFAULT_THICKNESS, THICKNESS_METHODS
from harmonstats.synth import synthesize_study


def _summary(measured: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    wide = measured.query("measure == 'thickness_mean'").pivot_table(
        index=["participant_id", "cohort"], columns="method", values="value").reset_index()
    wide = wide.merge(truth[["participant_id", "thickness_mean"]], on="participant_id")
    rows = []
    for cohort, sub in [("all", wide), *wide.groupby("cohort")]:
        rows.append({
            "cohort": cohort,
            "n": len(sub),
            "r_truth_labels": np.corrcoef(sub["truth"], sub["thickness_mean"])[0, 1],
            "bias_truth_labels_mm": (sub["truth"] - sub["thickness_mean"]).mean(),
            "original_minus_truth_mm": (sub["original"] - sub["truth"]).mean(),
            "original_minus_truth_sd": (sub["original"] - sub["truth"]).std(),
        })
    return pd.DataFrame(rows)


def _verdicts(measured: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """The battery's cohort effect and TOST verdict on ``thickness_mean`` per method."""
    wide = wide_table(measured, participants)
    match = match_cohorts(participants, reference="source", method="optimal", caliper=0.5,
                          anchor="reference", ratio=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects = cohort_effect(wide, reference="source", measures=["thickness_mean"],
                                subsets=match.subsets(), min_group=5)
    source = wide.query("method == 'original' and cohort == 'source'")
    verdict = equivalence(effects, margin=0.05, margin_means={
        "thickness_mean": float(source["thickness_mean"].mean())}).set_index("method")["verdict"]
    out = effects.set_index("method")[["estimate", "ci_low", "ci_high", "p"]]
    return out.assign(verdict=verdict).reset_index()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, help="existing synthetic study folder")
    parser.add_argument("--n", type=int, default=40, help="subjects per cohort (default 40)")
    parser.add_argument("--shape", type=int, default=64)
    parser.add_argument("--spacing", type=float, default=0.5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source-preterm-share", type=float, default=None,
                        help="share of preterm-born source subjects (default: the generator's)")
    parser.add_argument("--thickness", choices=THICKNESS_METHODS, default=DEFAULT_THICKNESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        study = args.study
        if study is None:
            extra = ({} if args.source_preterm_share is None
                     else {"source_preterm_share": args.source_preterm_share})
            start = time.perf_counter()
            study = synthesize_study(Path(tmp) / "study", n_source=args.n, n_target=args.n,
                                     shape=args.shape, spacing=args.spacing, seed=args.seed,
                                     jobs=args.jobs, progress=False, **extra)
            print(f"synthesised {2 * args.n} subjects at {args.shape}^3, {args.spacing} mm in "
                  f"{time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            measured = measure_study(study, methods=["original", "truth"], jobs=args.jobs,
                                     thickness=args.thickness, progress=False,
                                     cache_dir=Path(tmp) / "cache")
        print(f"measured in {time.perf_counter() - start:.1f} s ({args.thickness})")
        table = _summary(measured, read_table(Path(study) / "truth.tsv"))
        verdicts = _verdicts(measured, read_table(Path(study) / "participants.tsv"))
        bias = json.loads((Path(study) / "truth.json").read_text())["GenerativeModel"][
            "original_bias_mm"]["target"]["mean"]
    with pd.option_context("display.width", 120, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        print(f"\nbattery on thickness_mean (matched; target - source, mm; the generator's "
              f"built-in bias of the target's original labels: {bias:+.3f} mm)")
        print(verdicts.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
