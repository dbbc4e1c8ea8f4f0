"""Sub-voxel distances against the exact distances of closed-form surfaces."""

from __future__ import annotations

import numpy as np
import pytest

from harmonstats.measures.distance import (
    boundary_depth,
    check_ribbon,
    mask_normals,
    signed_distance,
)


def _centres(n: int, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = (np.arange(n) - (n - 1) / 2) * h
    return np.meshgrid(c, c, c, indexing="ij")


@pytest.mark.parametrize("radius", [4.0, 7.0])
@pytest.mark.parametrize("squash", [1.0, 0.6])
def test_signed_distance_to_a_sphere(radius: float, squash: float) -> None:
    """Within 0.01 mm on average (0.1 mm at most); the level needs the direction, not the scale."""
    h = 0.25
    x, y, z = _centres(72, h)
    r = np.sqrt((x - 0.07) ** 2 + (y + 0.11) ** 2 + (z - 0.03) ** 2)
    got = signed_distance((squash * (r - radius)).astype(np.float32), h)
    near = np.abs(r - radius) < 3.0
    err = got[near] - (r - radius)[near]
    assert abs(err.mean()) < 0.01
    assert np.abs(err).max() < 0.1
    assert (np.sign(got[near]) == np.sign((r - radius)[near])).mean() > 0.99


def test_boundary_depth_of_planes_sampled_at_voxel_centres() -> None:
    """The depth of a boundary voxel's centre below a plane, unbiased at any orientation."""
    rng = np.random.default_rng(0)
    h = 0.5
    x, y, z = _centres(24, h)
    errors = []
    for _ in range(8):
        n = rng.normal(size=3)
        n /= np.linalg.norm(n)
        s = x * n[0] + y * n[1] + z * n[2] + rng.uniform(0.0, h)
        mask = s < 0.0  # the surface's outward normal is +n
        core = (np.abs(x) < 4) & (np.abs(y) < 4) & (np.abs(z) < 4)
        boundary = core & mask & (s > -0.5 * h)  # within half a voxel of the surface
        depth = boundary_depth(mask, boundary, np.tile(n, (int(boundary.sum()), 1)), h)
        errors.append(depth - (-s[boundary]))
        # the smoothed mask's normals point out of it, along n
        normals = mask_normals(mask, h)[:, boundary]
        assert np.mean(normals.T @ n) > 0.99
    err = np.concatenate(errors)
    assert abs(err.mean()) < 0.02
    assert np.median(np.abs(err)) < 0.1


def test_check_ribbon_names_the_problem() -> None:
    gm = np.zeros((4, 4, 4), bool)
    with pytest.raises(ValueError, match="3D masks of one shape"):
        check_ribbon(gm, gm[0], (1, 1, 1))
    with pytest.raises(ValueError, match=r"spacing must be 3 positive numbers \(mm\), got"):
        check_ribbon(gm, gm, (1, 1))
    gm[1, 1, 1] = True
    with pytest.raises(ValueError, match="overlap"):
        check_ribbon(gm, gm, (1, 1, 1))
