from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from harmonstats.measures import direct_thickness, laplace_thickness
from harmonstats.measures.direct import DIRECT_PARAMS, PROBABILITY_SIGMA, _probability


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


@pytest.mark.parametrize("sigma", [-0.5, float("nan"), float("inf")])
def test_direct_rejects_a_bad_probability_sigma(sigma: float) -> None:
    gm = np.zeros((8, 8, 8), bool)
    with pytest.raises(ValueError, match="prob_sigma"):
        direct_thickness(gm, gm, (1.0, 1.0, 1.0), prob_sigma=sigma)


def test_default_probability_maps_are_the_binary_masks() -> None:
    assert PROBABILITY_SIGMA == 0.0
    assert DIRECT_PARAMS["probability_sigma_mm"] == PROBABILITY_SIGMA
    mask = np.zeros((10, 10, 10), bool)
    mask[3:6, 2:8, 4:5] = True
    assert np.array_equal(_probability(mask, (0.5, 0.5, 0.5), 0.0).numpy(), mask)


# sigma >= 2 voxels: there ITK's discrete (Bessel) kernel and a sampled Gaussian agree to 0.03
@pytest.mark.parametrize(("spacing", "sigma"), [((0.5, 0.5, 0.5), 1.0), ((1.0, 0.5, 0.5), 2.0),
                                                ((0.5, 0.5, 0.5), 1.5)])
def test_smoothed_probability_is_a_gaussian_in_mm(spacing: tuple[float, ...],
                                                  sigma: float) -> None:
    mask = np.zeros((32, 32, 32), bool)
    mask[12:19, 10:22, 15:17] = True  # far enough from the edges to keep its mass
    got = _probability(mask, spacing, sigma).numpy()
    # independent: scipy's sampled Gaussian with sigma converted to voxels per axis
    want = ndimage.gaussian_filter(mask.astype(float), [sigma / h for h in spacing])
    assert got.sum() == pytest.approx(mask.sum(), rel=0.01)
    np.testing.assert_allclose(got, want, atol=0.03)
