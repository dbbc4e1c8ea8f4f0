from __future__ import annotations

import numpy as np
import pytest

from harmonstats.labels import (
    DRAWEM_9_TO_TISSUES,
    DRAWEM_87_TO_REGIONS,
    REGIONS,
    TISSUES,
    LabelScheme,
    get_scheme,
)


def test_paper_classes_and_regions():
    assert [TISSUES[i] for i in range(7)] == [
        "background",
        "csf",
        "cgm",
        "wm",
        "dgm",
        "cerebellum",
        "brainstem",
    ]
    assert len(REGIONS) == 12 and REGIONS[0] == "background"


@pytest.mark.parametrize(
    ("drawem", "expected"),
    [(0, 0), (4, 0), (1, 1), (5, 1), (2, 2), (3, 3), (7, 4), (9, 4), (6, 5), (8, 6)],
)
def test_drawem9_map(drawem, expected):
    assert DRAWEM_9_TO_TISSUES[drawem] == expected
    assert get_scheme("drawem9").to_target(np.array([drawem]))[0] == expected


@pytest.mark.parametrize(
    ("drawem", "region"),
    [
        (5, "temporal_l"),
        (31, "temporal_l"),
        (6, "temporal_r"),
        (24, "temporal_r"),
        (20, "insula_r"),
        (21, "insula_l"),
        (22, "occipital_r"),
        (23, "occipital_l"),
        (32, "cingulate"),
        (35, "cingulate"),
        (36, "frontal_r"),
        (37, "frontal_l"),
        (38, "parietal_r"),
        (39, "parietal_l"),
        (1, "background"),
        (87, "background"),
    ],
)
def test_drawem87_map(drawem, region):
    assert REGIONS[DRAWEM_87_TO_REGIONS[drawem]] == region


def test_every_region_reached_from_drawem87():
    assert set(DRAWEM_87_TO_REGIONS.values()) == set(REGIONS)


def test_unknown_labels_named():
    with pytest.raises(ValueError, match=r"labels \[7, 9\] are not in label scheme 'tissues7'"):
        get_scheme("tissues7").to_target(np.array([0, 1, 7, 9]))


def test_custom_mapping_and_bad_target():
    scheme = get_scheme({10: 2, 20: 3, 0: 0})
    assert scheme.to_target(np.array([10, 20, 0])).tolist() == [2, 3, 0]
    with pytest.raises(ValueError, match="maps to 9"):
        LabelScheme.from_mapping({1: 9})
    with pytest.raises(ValueError, match="unknown label scheme 'nope'"):
        get_scheme("nope")


def test_non_integer_labels_refused():
    with pytest.raises(ValueError, match="non-integer"):
        get_scheme("tissues7").to_target(np.array([0.5, 1.0]))
