from __future__ import annotations

import numpy as np
import pytest

from harmonstats.measures import direct_thickness, laplace_thickness


@pytest.mark.slow  # DiReCT: 5 s alone, up to 15 s on a loaded machine
def test_direct_on_a_slab_agrees_with_laplace() -> None:
    gm = np.zeros((16, 16, 20), bool)
    wm = np.zeros_like(gm)
    wm[:, :, 4:8] = True
    gm[:, :, 8:14] = True  # 6 voxels of 0.5 mm: 3 mm
    th = direct_thickness(gm, wm, (0.5, 0.5, 0.5), subject="s1")
    centre = (slice(5, 11), slice(5, 11), slice(8, 14))
    assert np.isnan(th[~gm]).all()
    # in mm, not voxels (6); DiReCT under-estimates sharply voxelised sheets (2.71 here)
    assert 2.5 <= np.median(th[centre]) <= 3.0
    lap = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    assert np.median(lap[centre]) == pytest.approx(3.0, abs=0.01)


def test_direct_failure_names_the_subject() -> None:
    gm = np.zeros((12, 12, 12), bool)
    gm[2:4, 2:4, 2:4] = True
    wm = np.zeros_like(gm)
    wm[8:10, 8:10, 8:10] = True  # WM far from GM: DiReCT finds no thickness
    with pytest.raises(ValueError, match=r"subject s42.*DiReCT"):
        direct_thickness(gm, wm, (1.0, 1.0, 1.0), subject="s42")
