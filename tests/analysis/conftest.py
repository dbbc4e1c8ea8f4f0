"""Shared fixtures: a simulated study whose coefficients are known."""

from __future__ import annotations

import pandas as pd
import pytest

from harmonstats.analysis.simulate import simulate_measures


@pytest.fixture(scope="session")
def study() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(measures, participants): 60 subjects a cohort; original +0.2 mm in the target cohort."""
    return simulate_measures(60, seed=1)


@pytest.fixture(scope="session")
def wide(study: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    from harmonstats.analysis import wide_table

    return wide_table(*study)
