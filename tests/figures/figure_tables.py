"""Synthetic tables with known structure for the figure tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonstats.labels import REGIONS, TISSUES

TISSUE_NAMES = [n for v, n in sorted(TISSUES.items()) if v]
REGION_NAMES = [n for v, n in sorted(REGIONS.items()) if v]
METHODS = ["original", "baseline_aug", "image_aug"]
N_PER_COHORT = 20
#: Cohort offset of mean thickness (mm) per method: only `original` differs between cohorts.
CT_OFFSET = {"original": 0.2, "baseline_aug": 0.05, "image_aug": 0.0}
#: Mean Dice per method: image_aug best everywhere except wm, where baseline_aug is best.
DICE_MEAN = {"original": 0.80, "baseline_aug": 0.90, "image_aug": 0.93}


def make_participants() -> pd.DataFrame:
    """20 source (GA 24-41 weeks) and 20 target (GA 24-33 weeks) subjects, PMA 36-46 weeks (and
    not before GA)."""
    rng = np.random.default_rng(7)
    rows = []
    for cohort, prefix, ga in (("source", "src", (24.0, 41.0)), ("target", "tgt", (24.0, 33.0))):
        for i in range(N_PER_COHORT):
            birth = round(float(rng.uniform(*ga)), 2)
            rows.append({
                "participant_id": f"{prefix}{i + 1:03d}",
                "cohort": cohort,
                "ga_birth": birth,
                "pma_scan": max(round(float(rng.uniform(36.0, 46.0)), 2), birth),
                "sex": "F" if i % 2 else "M",
                "birth_weight": round(float(rng.uniform(600, 3800))),
                "split": "test" if i < 8 else "train",
                "language_composite": np.nan if i == 0 else round(float(rng.normal(95, 15))),
            })
    return pd.DataFrame(rows)


def make_measures(participants: pd.DataFrame) -> pd.DataFrame:
    """Long measures of 3 methods; CT rises 0.04 mm/week of PMA, plus CT_OFFSET for target."""
    rng = np.random.default_rng(11)
    rows = []
    for p in participants.itertuples(index=False):
        target = p.cohort == "target"
        for method in METHODS:
            ct = 1.7 + 0.04 * (p.pma_scan - 40) + CT_OFFSET[method] * target
            values = {"thickness_mean": ct + rng.normal(0, 0.05)}
            for k, region in enumerate(REGION_NAMES):
                values[f"thickness_{region}"] = ct + 0.02 * k + rng.normal(0, 0.05)
            for k, tissue in enumerate(TISSUE_NAMES):
                scale = 1.3 if (target and method == "original" and tissue == "csf") else 1.0
                values[f"volume_{tissue}"] = scale * (40000 + 10000 * k) * (1 + rng.normal(0, .05))
            values["icv"] = sum(v for m, v in values.items() if m.startswith("volume_"))
            if not target:
                for tissue in TISSUE_NAMES:
                    best_wm = 0.95 if (tissue == "wm" and method == "baseline_aug") else 0.0
                    mean = best_wm or DICE_MEAN[method]
                    values[f"dice_{tissue}"] = min(mean + rng.normal(0, 0.01), 1.0)
            for name, value in values.items():
                unit = "1" if name.startswith("dice") else "mm3" if "volume" in name or \
                    name == "icv" else "mm"
                rows.append({"participant_id": p.participant_id, "session_id": "n/a",
                             "cohort": p.cohort, "method": method, "measure": name,
                             "value": float(value), "unit": unit})
    return pd.DataFrame(rows)
