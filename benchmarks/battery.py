"""Time the whole statistics battery on 5,000 subjects x 7 methods x 19 measures.

Goal: under 60 s on 2 CPU cores. Prints the total, the time per fitted model, and the breakdown
per analysis. Run with ``nice -n 10 python benchmarks/battery.py [--subjects 5000]``.
The reference for the per-model cost is statsmodels' formula OLS, timed on the same data.
"""

from __future__ import annotations

import argparse
import time
import warnings

import statsmodels.formula.api as smf

from harmonstats.analysis import BatteryConfig, run_battery, wide_table
from harmonstats.analysis.simulate import simulate_measures

METHODS = ("original", "baseline", "baseline_aug", "latent", "latent_aug", "image", "image_aug")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=5000, help="subjects in all (2 cohorts)")
    args = parser.parse_args()
    offsets = dict(zip(METHODS, (0.2, 0.15, 0.05, 0.1, 0.03, 0.05, 0.0), strict=True))
    measures, participants = simulate_measures(args.subjects // 2, offsets=offsets, seed=0)
    n_measures = measures.loc[~measures["measure"].str.startswith("dice_"), "measure"].nunique()
    print(f"{len(participants)} subjects x {len(METHODS)} methods x {n_measures} measures "
          f"({len(measures)} rows in the long table)")
    config = BatteryConfig(after="image_aug", comparator="baseline_aug")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_battery(measures, participants, config)
    total = time.perf_counter() - start
    status = results["status"]
    n_site = len(results["site_prediction"])
    classifier_fits = n_site * config.n_splits * (1 + config.n_permutations)
    # Models fitted: preservation fits a pooled and a reference-only model per row pair (2 terms).
    ols_models = (len(results["cohort_effect"]) + len(results["preservation"])
                  + len(results["distribution_shift"]) + len(results["preterm_regional"])
                  + len(results["preterm_models"]) // 5 + len(results["outcome"]))
    ols_tables = ["cohort_effect", "preservation", "distribution_shift", "preterm_models",
                  "preterm_regional", "outcome"]
    ols_seconds = float(status.set_index("analysis").loc[ols_tables, "seconds"].sum())
    print(f"battery: {total:.1f} s in all (goal <= 60 s)")
    print(f"  {ols_models} OLS models + {classifier_fits} logistic-regression fits "
          f"({config.n_splits} folds x (1 + {config.n_permutations} permutations) x {n_site} "
          f"methods incl. ComBat)")
    site = float(status.loc[status["analysis"] == "site_prediction", "seconds"].iloc[0])
    print(f"  {1000 * ols_seconds / ols_models:.2f} ms per OLS model ({', '.join(ols_tables)}: "
          f"{ols_seconds:.1f} s, checks and table building included); "
          f"{1000 * site / classifier_fits:.2f} ms per classifier fit")
    print("breakdown (s):")
    for row in status.itertuples():
        print(f"  {row.analysis:<20s} {row.seconds:8.2f}  {row.status} {row.reason}")
    wide = wide_table(measures, participants)
    rows = wide[wide["method"] == "original"]
    start = time.perf_counter()
    for measure in sorted(c for c in rows.columns if c.startswith(("thickness", "volume"))):
        smf.ols(f"{measure} ~ C(cohort) + pma_scan + ga_birth + C(sex)", data=rows).fit()
    ref = (time.perf_counter() - start) / 18
    print(f"statsmodels formula OLS, same data: {1000 * ref:.2f} ms per model "
          f"(ratio statsmodels / battery per model: {ref * ols_models / ols_seconds:.1f})")


if __name__ == "__main__":
    main()
