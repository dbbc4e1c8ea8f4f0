"""Fixtures: one tiny synthetic study written once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmonstats.synth import synthesize_study

#: A 32^3 grid at 1 mm: the smallest field of view the generator accepts, fast to write.
TINY = {"n_source": 3, "n_target": 3, "shape": 32, "spacing": 1.0, "seed": 7}


@pytest.fixture
def tiny() -> dict:
    return dict(TINY)


@pytest.fixture(scope="module")
def tiny_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_study(tmp_path_factory.mktemp("synth") / "study", progress=False, **TINY)
