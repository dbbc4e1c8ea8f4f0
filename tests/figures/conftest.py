"""Fixtures for the figure tests (Agg backend, no display)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from figure_tables import METHODS, REGION_NAMES, TISSUE_NAMES, make_measures, make_participants


@pytest.fixture
def participants() -> pd.DataFrame:
    return make_participants()


@pytest.fixture
def measures(participants: pd.DataFrame) -> pd.DataFrame:
    return make_measures(participants)


@pytest.fixture
def region_dice() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [{"participant_id": f"src{i:03d}", "session_id": "n/a", "cohort": "source",
             "method": "parcellation", "measure": f"dice_{r}",
             "value": float(0.9 + 0.005 * k + rng.normal(0, 0.01)), "unit": "1"}
            for i in range(10) for k, r in enumerate(REGION_NAMES)]
    return pd.DataFrame(rows)


@pytest.fixture
def effects() -> pd.DataFrame:
    """Cohort effects: original significant for thickness_mean and volume_csf only."""
    rows = []
    measures_ = ["thickness_mean", *(f"volume_{t}" for t in TISSUE_NAMES),
                 *(f"thickness_{r}" for r in REGION_NAMES)]
    for method in METHODS:
        for measure in measures_:
            significant = method == "original" and measure in ("thickness_mean", "volume_csf")
            est = 0.2 if measure.startswith("thickness") else 12000.0
            est = est if significant else est / 20
            half = 0.5 * est if significant else 1.5 * est
            rows.append({"method": method, "measure": measure, "reference": "source",
                         "comparison": "target", "estimate": est, "ci_low": est - half,
                         "ci_high": est + half, "ci90_low": est - 0.8 * half,
                         "ci90_high": est + 0.8 * half,
                         "p": 0.0001 if significant else 0.4,
                         "p_fdr": 0.0004 if significant else 0.6})
    return pd.DataFrame(rows)
