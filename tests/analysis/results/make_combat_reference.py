"""Reference numbers of neuroCombat 0.2.12 and neuroHarmonize 2.5.2 on a fixed dataset.

Neither package installs beside numpy 2 (neuroCombat's ``ref_batch`` path calls ``np.int``,
removed in numpy 1.24), so this script runs once, in an environment of its own, and its output
is committed beside it (as statsmodels keeps its R results in ``tests/results/``)::

    python3 -m venv /tmp/nc-env
    /tmp/nc-env/bin/pip install numpy==1.23.5 scipy==1.10.1 statsmodels==0.14.1 \\
        nibabel==5.1.0 pandas==2.0.3 neuroCombat==0.2.12 neuroHarmonize==2.5.2
    /tmp/nc-env/bin/python tests/analysis/results/make_combat_reference.py

It writes ``combat_input.csv`` (the data: 3 cohorts, 75 subjects, 8 features) and
``combat_reference.csv`` (long: run, participant_id, feature, value). neuroCombat reads
continuous covariates as float32, so PMA and GA are drawn on float32 values here; features are
passed as float64 arrays. Runs:

- ``neurocombat``: ``neuroCombat(dat, covars, "cohort", ["sex"], ["pma_scan", "ga_birth"])``;
- ``neurocombat_ref``: the same with ``ref_batch="source"``;
- ``neuroharmonize_apply``: ``harmonizationLearn`` (sex coded 0/1, ``ref_batch="source"``) on
  the subjects with ``fold != 0``, then ``harmonizationApply`` of that frozen model to the
  ``fold == 0`` subjects (their own covariates; neuroCombat's ``neuroCombatFromTraining``
  replaces them by the training mean, so it is not the reference for a frozen apply).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
FEATURES = [f"f{j}" for j in range(8)]


def make_input() -> pd.DataFrame:
    rng = np.random.RandomState(20070101)
    sizes = {"source": 30, "target": 25, "third": 20}
    rows = []
    for cohort, n in sizes.items():
        for i in range(n):
            rows.append({"participant_id": f"sub-{cohort[:3]}{i:02d}", "cohort": cohort})
    data = pd.DataFrame(rows)
    n = len(data)
    data["pma_scan"] = rng.uniform(37, 45, n).astype(np.float32).astype(float)
    data["ga_birth"] = rng.uniform(26, 42, n).astype(np.float32).astype(float)
    data["sex"] = rng.choice(["F", "M"], n)
    data["fold"] = np.arange(n) % 5
    shift = {"source": 0.0, "target": 0.6, "third": -0.4}
    scale = {"source": 1.0, "target": 1.5, "third": 0.7}
    for j, name in enumerate(FEATURES):
        base = 2.0 + j + 0.08 * (data["pma_scan"] - 41) + 0.02 * (data["ga_birth"] - 35)
        base += 0.1 * (data["sex"] == "M")
        noise = rng.normal(0, 0.2 + 0.05 * j, n)
        loc = data["cohort"].map(shift) * (1 + 0.1 * j)
        data[name] = base + loc + noise * data["cohort"].map(scale)
    return data


def main() -> None:
    from neuroCombat import neuroCombat
    from neuroHarmonize import harmonizationApply, harmonizationLearn

    data = make_input()
    data.to_csv(HERE / "combat_input.csv", index=False, float_format="%.17g")
    dat = data[FEATURES].to_numpy(float).T
    covars = data[["cohort", "sex", "pma_scan", "ga_birth"]]
    out = []

    def keep(run: str, ids: pd.Series, values: np.ndarray) -> None:
        for j, name in enumerate(FEATURES):
            out.append(pd.DataFrame({"run": run, "participant_id": ids.to_numpy(),
                                     "feature": name, "value": values[:, j]}))

    plain = neuroCombat(dat, covars, "cohort", categorical_cols=["sex"],
                        continuous_cols=["pma_scan", "ga_birth"])["data"]
    keep("neurocombat", data["participant_id"], plain.T)
    with_ref = neuroCombat(dat, covars, "cohort", categorical_cols=["sex"],
                           continuous_cols=["pma_scan", "ga_birth"], ref_batch="source")["data"]
    keep("neurocombat_ref", data["participant_id"], with_ref.T)

    nh = pd.DataFrame({"SITE": data["cohort"], "pma_scan": data["pma_scan"],
                       "ga_birth": data["ga_birth"], "male": (data["sex"] == "M").astype(float)})
    train, test = data["fold"] != 0, data["fold"] == 0
    model, _ = harmonizationLearn(data.loc[train, FEATURES].to_numpy(float),
                                  nh[train].reset_index(drop=True), ref_batch="source")
    applied = harmonizationApply(data.loc[test, FEATURES].to_numpy(float),
                                 nh[test].reset_index(drop=True), model)
    keep("neuroharmonize_apply", data.loc[test, "participant_id"], applied)
    pd.concat(out, ignore_index=True).to_csv(HERE / "combat_reference.csv", index=False,
                                             float_format="%.17g")


if __name__ == "__main__":
    main()
