"""Calibration of every verdict of the battery by simulation: does each mean what it says?

Each scenario draws >= 1,000 studies with a known truth and runs them through the public
functions the battery uses (``cohort_effect``, ``equivalence``, ``site_prediction``,
``distribution_shift``, ``cohort_omnibus``, ``crossing_point``); the studies of a scenario are
stacked as the *methods* of one wide table (each with its own subjects), so that one call
analyses them all. Printed per verdict: its rate, a 95% Monte Carlo interval (Wilson) and the
bound it must meet; ``ok`` where the interval reaches the bound's side (a rate <= 5% whose
interval starts at or below 5%).

The design is the paper's matched comparison (30 + 30 subjects, residual SD 0.125 mm, mean
cortical thickness 1.73 mm, margin 5% of it; PMA 37-45 weeks, GA 28-41 weeks, sex), four
correlated measures per study (r = 0.5), verdicts Holm-adjusted across them as in the battery.

Run: ``nice -n 10 python benchmarks/calibration.py [--studies 1000] [--jobs 2]``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from harmonstats.analysis import (
    cohort_effect,
    cohort_omnibus,
    crossing_point,
    distribution_shift,
    equivalence,
    site_prediction,
)

MEAN, SD, N = 1.73, 0.125, 30
MARGIN = 0.05 * MEAN
MEASURES = ["m0", "m1", "m2", "m3"]
COVARIATES = ("pma_scan", "ga_birth", "sex")


def _studies(rng: np.random.Generator, studies: int, *, delta: float = 0.0, cohorts: int = 2,
             sd_ratio: float = 1.0, noise: str = "normal", pma_other: tuple = (37, 45),
             curve: float = 0.0, sessions: int = 1) -> pd.DataFrame:
    """Wide table of ``studies`` simulated studies, one method each (own subjects)."""
    frames = []
    n = N * cohorts
    corr = 0.5 * np.ones((4, 4)) + 0.5 * np.eye(4)
    chol = np.linalg.cholesky(corr)
    for s in range(studies):
        cohort = np.repeat([f"c{c}" for c in range(cohorts)], N)
        other = cohort != "c0"
        pma = np.where(other, rng.uniform(*pma_other, n), rng.uniform(37, 45, n))
        ga = rng.uniform(28, 41, n)
        male = rng.random(n) < 0.5
        base = MEAN + 0.04 * (pma - 41) + curve * (pma - 41) ** 2 + 0.01 * (ga - 35) \
            + 0.02 * male + delta * other
        ids = np.array([f"s{s:04d}x{i:03d}" for i in range(n)])
        shape = (n * sessions, 4)
        if noise == "t3":
            e = rng.standard_t(3, shape) / np.sqrt(3.0)
        else:
            e = rng.normal(size=shape)
        e = (e @ chol.T) * SD
        if sessions > 1:
            # Half the variance between subjects (random intercept), half within.
            e = e / np.sqrt(2) + np.repeat(rng.normal(0, SD / np.sqrt(2), (n, 1)), sessions, 0)
        scale = np.where(np.repeat(other, sessions), sd_ratio, 1.0)[:, None]
        frame = pd.DataFrame({
            "participant_id": np.repeat(ids, sessions), "method": f"study{s:04d}",
            "cohort": np.repeat(cohort, sessions), "ga_birth": np.repeat(ga, sessions),
            "pma_scan": np.repeat(pma, sessions) + np.tile(np.arange(sessions), n) * 1.5,
            "sex": np.repeat(np.where(male, "M", "F"), sessions)})
        values = np.repeat(base, sessions)[:, None] + e * scale
        frames.append(frame.assign(**{m: values[:, j] for j, m in enumerate(MEASURES)}))
    return pd.concat(frames, ignore_index=True)


def _verdicts(wide: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = cohort_effect(wide, reference="c0", measures=MEASURES, covariates=COVARIATES)
        return equivalence(eff, margin=0.05, margin_means=dict.fromkeys(MEASURES, MEAN),
                           margin_source="5% of the declared 1.73 mm")


def _any(eq: pd.DataFrame, verdict: str) -> np.ndarray:
    return eq.groupby("method")["verdict"].apply(lambda v: (v == verdict).any()).to_numpy()


def _site(wide: pd.DataFrame, measures: list[str] | None = None) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = site_prediction(wide, reference="c0", measures=measures or MEASURES,
                              covariates=COVARIATES, n_permutations=99, seed=1)
    return res["p_permutation"].to_numpy() < 0.05


def _shift(wide: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return distribution_shift(wide, reference="c0", measures=MEASURES[:1],
                                  covariates=COVARIATES)


# Each scenario: name -> function(rng, studies) -> list of (verdict, hits, bound, side).
Row = tuple[str, np.ndarray, float, str]


def no_effect(rng: np.random.Generator, studies: int) -> list[Row]:
    wide = _studies(rng, studies)
    eq = _verdicts(wide)
    shift = _shift(wide)
    return [
        ("false 'different', any of 4 measures", _any(eq, "different"), 0.05, "<="),
        ("false 'different', per measure", (eq["verdict"] == "different").to_numpy(), 0.05, "<="),
        ("site prediction p < .05", _site(wide), 0.05, "<="),
        ("Brown-Forsythe p < .05", shift["brown_forsythe_p"].to_numpy() < .05, 0.05, "<="),
        ("Fligner-Killeen p < .05", shift["fligner_p"].to_numpy() < .05, 0.05, "<="),
        ("Kolmogorov-Smirnov p < .05", shift["ks_p"].to_numpy() < .05, 0.05, "<="),
        ("Anderson-Darling p < .05", shift["ad_p"].to_numpy() < .05, 0.05, "<="),
        ("'equivalent' per measure (power; predicted "
         f"{eq['power_tost'].mean():.2f} unadjusted)",
         (eq["verdict"] == "equivalent").to_numpy(), np.nan, "info"),
        # power_tost_adj is the power at alpha / m, a level sufficient for the adjusted TOST:
        # the simulated rate of passing it must not fall below its mean
        ("adjusted TOST p < .05 per measure (power; power_tost_adj a lower bound)",
         (eq["p_tost_adj"] < 0.05).to_numpy(), float(eq["power_tost_adj"].mean()), ">="),
    ]


def at_margin(rng: np.random.Generator, studies: int) -> list[Row]:
    eq = _verdicts(_studies(rng, studies, delta=MARGIN))
    return [("false 'equivalent', per measure", (eq["verdict"] == "equivalent").to_numpy(),
             0.05, "<="),
            ("false 'equivalent', any of 4 measures", _any(eq, "equivalent"), 0.05, "<=")]


def twice_margin(rng: np.random.Generator, studies: int) -> list[Row]:
    eq = _verdicts(_studies(rng, studies, delta=2 * MARGIN))
    return [("'different' per measure (power)", (eq["verdict"] == "different").to_numpy(),
             0.80, ">="),
            ("false 'equivalent', per measure", (eq["verdict"] == "equivalent").to_numpy(),
             0.05, "<=")]


def curved_growth(rng: np.random.Generator, studies: int) -> list[Row]:
    wide = _studies(rng, studies, curve=-0.01, pma_other=(40, 45))
    eq = _verdicts(wide)
    return [("site prediction p < .05 (PMA spline)", _site(wide), 0.05, "<="),
            ("false 'different', per measure (linear PMA in the cohort model)",
             (eq["verdict"] == "different").to_numpy(), np.nan, "info")]


def unequal_variances(rng: np.random.Generator, studies: int) -> list[Row]:
    wide = _studies(rng, studies, sd_ratio=2.0)
    eq = _verdicts(wide)
    shift = _shift(wide)
    return [("false 'different', per measure", (eq["verdict"] == "different").to_numpy(),
             0.05, "<="),
            ("Brown-Forsythe p < .05 (power, SD ratio 2)",
             shift["brown_forsythe_p"].to_numpy() < .05, 0.80, ">=")]


def heavy_tails(rng: np.random.Generator, studies: int) -> list[Row]:
    wide = _studies(rng, studies, noise="t3")
    eq = _verdicts(wide)
    shift = _shift(wide)
    return [("false 'different', per measure", (eq["verdict"] == "different").to_numpy(),
             0.05, "<="),
            ("Brown-Forsythe p < .05", shift["brown_forsythe_p"].to_numpy() < .05, 0.05, "<="),
            ("Fligner-Killeen p < .05", shift["fligner_p"].to_numpy() < .05, 0.05, "<="),
            ("Anderson-Darling p < .05", shift["ad_p"].to_numpy() < .05, 0.05, "<=")]


def three_cohorts(rng: np.random.Generator, studies: int) -> list[Row]:
    wide = _studies(rng, studies, cohorts=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        omni = cohort_omnibus(wide, reference="c0", measures=MEASURES, covariates=COVARIATES)
    eq = _verdicts(wide)
    return [("omnibus F p < .05, per measure", omni["p"].to_numpy() < 0.05, 0.05, "<="),
            ("false 'different', any pair or measure", _any(eq, "different"), 0.05, "<=")]


def sessions(rng: np.random.Generator, studies: int) -> list[Row]:
    wide = _studies(rng, studies, sessions=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = cohort_effect(wide, reference="c0", measures=MEASURES[:1], covariates=COVARIATES)
    return [("false p < .05, mixed model (2 sessions)", eff["p"].to_numpy() < 0.05, 0.05,
             "<=")]


def crossing(rng: np.random.Generator, studies: int) -> list[Row]:
    covered = np.zeros(studies, dtype=bool)
    for s in range(studies):
        pma = rng.uniform(37, 45, 80)
        ga = np.repeat([39.0, 30.0], 40)
        slope = np.where(ga >= 37, 0.03, 0.07)
        ct = 1.6 + slope * (pma - 38.5) + rng.normal(0, SD, 80)
        table = pd.DataFrame({"participant_id": [f"p{i}" for i in range(80)], "cohort": "c",
                              "method": "m", "pma_scan": pma, "ga_birth": ga,
                              "thickness_mean": ct})
        row = crossing_point(table, analysis="sim").iloc[0]
        inside = row["ci_low"] <= 38.5 <= row["ci_high"]
        covered[s] = {"interval": inside, "two rays": not inside or 38.5 in
                      (row["ci_low"], row["ci_high"]), "whole line": True}[row["ci_shape"]]
    return [("Fieller 95% set covers the true crossing", covered, 0.93, ">=")]


SCENARIOS: dict[str, Callable[[np.random.Generator, int], list[Row]]] = {
    "no cohort effect": no_effect,
    "true effect = margin": at_margin,
    "true effect = 2 x margin": twice_margin,
    "curved PMA, PMA 37-45 vs 40-45": curved_growth,
    "unequal variances (SD x2)": unequal_variances,
    "heavy tails (t3)": heavy_tails,
    "k = 3 cohorts": three_cohorts,
    "two sessions per subject": sessions,
    "crossing of term/preterm lines": crossing,
}


def wilson(hits: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson interval of a binomial proportion."""
    p = hits / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def _run(name: str, studies: int, seed: int) -> tuple[str, list[Row], float]:
    start = time.perf_counter()
    rows = SCENARIOS[name](np.random.default_rng([seed, list(SCENARIOS).index(name)]), studies)
    return name, rows, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=1000, help="studies per scenario")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run in parallel")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    done = Parallel(n_jobs=args.jobs)(delayed(_run)(name, args.studies, args.seed)
                                      for name in SCENARIOS)
    print(f"{args.studies} studies per scenario; 30 + 30 subjects, SD {SD} mm, margin "
          f"{MARGIN:.4f} mm (5% of {MEAN} mm); Holm across 4 measures")
    print("| scenario | verdict | rate | 95% MC interval | bound | ok |")
    print("| --- | --- | --- | --- | --- | --- |")
    failures = 0
    for name, rows, _ in done:
        for verdict, hits, bound, side in rows:
            n, k = len(hits), int(np.sum(hits))
            low, high = wilson(k, n)
            if side == "info":
                ok, shown = "", "(reported)"
            else:
                ok = "yes" if (low <= bound if side == "<=" else high >= bound) else "NO"
                shown = f"{side} {bound:.2f}"
                failures += ok == "NO"
            print(f"| {name} | {verdict} | {k / n:.3f} ({k}/{n}) | {low:.3f}-{high:.3f} | "
                  f"{shown} | {ok} |")
    seconds = {name: t for name, _, t in done}
    print(f"time: {time.perf_counter() - start:.0f} s in all on {args.jobs} process(es); "
          + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
    print("every rate within its bound" if not failures else f"{failures} rate(s) off bound")


if __name__ == "__main__":
    main()
