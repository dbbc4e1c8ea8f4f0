from __future__ import annotations

import numpy as np
import pytest

from harmonstats.measures import dice_scores, tissue_volumes


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.5, 0.8, 1.2), (0.3, 0.3, 2.0)])
def test_cube_volume_anisotropic(spacing: tuple[float, float, float]) -> None:
    labels = np.zeros((12, 12, 12), dtype=np.uint8)
    labels[2:7, 2:7, 2:7] = 3  # 5^3 WM cube
    labels[8:10, 1:4, 0:5] = 1  # 2*3*5 CSF box
    vol = tissue_volumes(labels, spacing)
    vox = spacing[0] * spacing[1] * spacing[2]
    assert vol["volume_wm"] == pytest.approx(125 * vox)
    assert vol["volume_csf"] == pytest.approx(30 * vox)
    assert vol["volume_cgm"] == 0.0
    assert vol["icv"] == pytest.approx(155 * vox)
    assert set(vol) == {"volume_csf", "volume_cgm", "volume_wm", "volume_dgm",
                        "volume_cerebellum", "volume_brainstem", "icv"}


def test_volume_rejects_unknown_labels_and_bad_spacing() -> None:
    with pytest.raises(ValueError, match=r"\[9\]"):
        tissue_volumes(np.full((2, 2, 2), 9), (1, 1, 1))
    with pytest.raises(ValueError, match="spacing"):
        tissue_volumes(np.zeros((2, 2, 2), int), (1, 0, 1))


#: (labels, reference, expected Dice per tissue; None = NaN); worked by hand.
DICE_CASES = [
    ([1, 1, 2, 2, 0, 0], [1, 2, 2, 2, 0, 0],
     {"csf": 2 * 1 / (2 + 1), "cgm": 2 * 2 / (2 + 3), "wm": None}),
    ([3, 3, 3, 3, 0, 0], [3, 3, 0, 0, 0, 0], {"wm": 2 * 2 / (4 + 2), "csf": None}),
    ([4, 4, 0, 0, 0, 0], [0, 0, 4, 4, 0, 0], {"dgm": 0.0}),
    ([5, 6, 5, 6, 0, 0], [5, 6, 5, 6, 1, 0], {"cerebellum": 1.0, "brainstem": 1.0, "csf": 0.0}),
]


@pytest.mark.parametrize(("a", "b", "expected"), DICE_CASES)
def test_dice_hand_computed(a: list[int], b: list[int], expected: dict[str, float | None]) -> None:
    got = dice_scores(np.reshape(a, (1, 2, 3)), np.reshape(b, (1, 2, 3)))
    assert len(got) == 6
    for tissue, value in expected.items():
        if value is None:
            assert np.isnan(got[f"dice_{tissue}"])
        else:
            assert got[f"dice_{tissue}"] == pytest.approx(value)


def test_dice_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shape"):
        dice_scores(np.zeros((2, 2, 2), int), np.zeros((2, 2, 3), int))
