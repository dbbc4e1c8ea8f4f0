"""Measures tables with known coefficients, for testing the battery and planning studies.

Unlike :mod:`harmonstats.synth`, which draws images, this draws the *measures* directly from a
linear model, so every coefficient the battery estimates has a known true value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from harmonstats.labels import REGIONS, TISSUES

__all__ = ["TRUE_COEFFICIENTS", "simulate_measures"]

#: Thickness model: mm, mm per week of PMA (centred at 41) and of GA (centred at 35), male shift.
TRUE_COEFFICIENTS = {"intercept": 1.80, "pma_scan": 0.04, "ga_birth": 0.01, "male": 0.02,
                     "noise_sd": 0.08}
_REGIONS = [n for k, n in REGIONS.items() if k]
_TISSUES = [n for k, n in TISSUES.items() if k]


def simulate_measures(
    n: int = 60,
    *,
    cohorts: Sequence[str] = ("source", "target"),
    offsets: Mapping[str, float] | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw a participants table and a long measures table from a known linear model.

    Thickness (mm) = intercept + 0.04 (PMA - 41) + 0.01 (GA - 35) + 0.02 male + N(0, 0.08^2)
    (:data:`TRUE_COEFFICIENTS`); each method adds ``offsets[method]`` mm (volumes: that
    fraction) to every non-reference cohort, plus N(0, 0.01^2) method noise (none for
    ``truth``). The language outcome depends on cohort and GA only, never on thickness, so any
    thickness-language association is spurious. The first cohort is the reference: GA uniform
    26-42 weeks; the others 24-38 weeks; PMA uniform 37-45 weeks, raised to GA where it
    is below it (no scan before birth).

    Parameters
    ----------
    n : int
        Subjects per cohort.
    cohorts : sequence of str
        Cohort names, reference first.
    offsets : mapping, optional
        Method -> cohort offset; default truth 0, original 0.2 mm, harmonised 0.
    seed : int
        Seed of the numpy Generator.

    Returns
    -------
    measures : pandas.DataFrame
        participant_id, session_id, cohort, method, measure, value, unit (19 measures + 6 Dice).
    participants : pandas.DataFrame
        participant_id, cohort, ga_birth, pma_scan, sex, birth_weight, split,
        language_composite.
    """
    rng = np.random.default_rng(seed)
    offsets = dict(offsets) if offsets is not None else {"truth": 0.0, "original": 0.2,
                                                         "harmonised": 0.0}
    parts = []
    for c, cohort in enumerate(cohorts):
        ga = rng.uniform(26, 42, n) if c == 0 else rng.uniform(24, 38, n)
        parts.append(pd.DataFrame({
            "participant_id": [f"{cohort[:3]}{c}x{i:05d}" for i in range(n)], "cohort": cohort,
            # no scan before birth: a term-born infant drawn a PMA below its GA is scanned at birth
            "ga_birth": ga, "pma_scan": np.maximum(rng.uniform(37, 45, n), ga),
            "sex": rng.choice(["F", "M"], n),
            "birth_weight": 3400 + 180 * (ga - 40) + rng.normal(0, 250, n),
            "split": rng.choice(["train", "val", "test"], n, p=[0.6, 0.1, 0.3]),
            "language_composite": 100 - 8 * min(c, 1) + 0.5 * (ga - 35) + rng.normal(0, 10, n),
        }))
    participants = pd.concat(parts, ignore_index=True)
    k = TRUE_COEFFICIENTS
    n_all = len(participants)
    pma, ga = participants["pma_scan"].to_numpy(), participants["ga_birth"].to_numpy()
    ct = (k["intercept"] + k["pma_scan"] * (pma - 41) + k["ga_birth"] * (ga - 35)
          + k["male"] * (participants["sex"] == "M").to_numpy() + rng.normal(0, k["noise_sd"],
                                                                           n_all))
    other = (participants["cohort"] != cohorts[0]).to_numpy(float)
    region_noise = rng.normal(0, 0.05, (n_all, len(_REGIONS)))
    vol_noise = rng.normal(0, 0.05, (n_all, len(_TISSUES) + 1))
    icv = 4e5 * (1 + 0.03 * (pma - 41)) * (1 + vol_noise[:, -1])
    tables = []
    for method, offset in offsets.items():
        noise = rng.normal(0, 0.01, n_all) if method != "truth" else np.zeros(n_all)
        shift = offset * other + noise
        values = {"thickness_mean": ct + shift, "icv": icv}
        for r, name in enumerate(_REGIONS):
            values[f"thickness_{name}"] = ct + 0.05 * r + shift + region_noise[:, r]
        for t, name in enumerate(_TISSUES):
            values[f"volume_{name}"] = icv / 8 * (1 + 0.1 * t) * (1 + offset * other
                                                                 + vol_noise[:, t])
            quality = 1.0 if method == "truth" else 0.9 - 0.02 * t
            values[f"dice_{name}"] = np.clip(quality + rng.normal(0, 0.01, n_all), 0, 1)
        for measure, vals in values.items():
            unit = {"thickness": "mm", "dice": "1"}.get(measure.split("_")[0], "mm3")
            tables.append(pd.DataFrame({
                "participant_id": participants["participant_id"], "session_id": np.nan,
                "cohort": participants["cohort"], "method": method, "measure": measure,
                "value": vals, "unit": unit}))
    return pd.concat(tables, ignore_index=True), participants
