"""The Examples blocks of the analysis docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import warnings

import pytest


@pytest.mark.parametrize("module", ["effects", "equivalence", "reference_model"])
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(f"harmonstats.analysis.{module}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
