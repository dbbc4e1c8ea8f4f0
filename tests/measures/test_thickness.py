from __future__ import annotations

import numpy as np
import pytest
from measures_helpers import shell
from scipy.spatial import cKDTree

from harmonstats.labels import REGIONS
from harmonstats.measures import laplace_thickness, nearest_region, thickness_measures


def slab(n_gm: int, axis: int = 2, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """GM slab of n_gm voxels on top of 4 voxels of WM, normal along ``axis``."""
    gm = np.zeros((n, n, n), bool)
    wm = np.zeros_like(gm)
    sl = [slice(None)] * 3
    sl[axis] = slice(4, 8)
    wm[tuple(sl)] = True
    sl[axis] = slice(8, 8 + n_gm)
    gm[tuple(sl)] = True
    return np.moveaxis(gm, axis, 2), np.moveaxis(wm, axis, 2)


def interior(mask: np.ndarray, margin: int = 6) -> np.ndarray:
    """The mask away from the array's side edges (where the slab ends and the field bends)."""
    out = np.zeros_like(mask)
    out[margin:-margin, margin:-margin] = mask[margin:-margin, margin:-margin]
    return out


@pytest.mark.parametrize("thickness", [1.5, 2.0, 2.5, 3.0])
def test_flat_slab(thickness: float) -> None:
    gm, wm = slab(round(thickness / 0.5))
    th = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    assert abs(np.mean(th[interior(gm)]) - thickness) <= 0.05
    assert np.all(np.isnan(th[~gm]))


@pytest.mark.parametrize(("spacing", "axis", "expected"), [
    ((0.5, 0.5, 1.0), 2, 4 * 1.0),
    ((0.5, 0.5, 1.0), 0, 4 * 0.5),
    ((0.4, 0.9, 0.6), 1, 4 * 0.9),
])
def test_anisotropic_slab(spacing: tuple[float, float, float], axis: int, expected: float) -> None:
    gm, wm = slab(4)
    gm, wm = np.moveaxis(gm, 2, axis), np.moveaxis(wm, 2, axis)
    th = laplace_thickness(gm, wm, spacing)
    centre = [slice(8, 16)] * 3
    centre[axis] = slice(None)
    assert np.nanmean(th[tuple(centre)]) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize(("thickness", "spacing", "n", "tol"), [
    (2.0, (0.5, 0.5, 0.5), 40, 0.05),
    (3.0, (0.5, 0.5, 0.5), 40, 0.05),
    (3.0, (0.5, 0.5, 1.0), 40, 0.1),
])
def test_spherical_shell(thickness: float, spacing: tuple[float, float, float], n: int,
                         tol: float) -> None:
    gm, wm = shell(5.0, 5.0 + thickness, spacing, n)
    th = laplace_thickness(gm, wm, spacing)
    assert abs(np.mean(th[gm]) - thickness) <= tol


def test_no_cortical_gm_gives_nan_and_warning() -> None:
    labels = np.zeros((10, 10, 10), np.uint8)
    labels[3:7, 3:7, 3:7] = 3
    with pytest.warns(RuntimeWarning, match="sub-x01.*no cortical GM"):
        out = thickness_measures(labels, None, (1, 1, 1), subject="sub-x01")
    assert len(out) == 12
    assert all(np.isnan(v) for v in out.values())


def test_gm_island_without_wm_is_left_out() -> None:
    gm, wm = slab(4)
    gm[1:3, 1:3, 20:22] = True  # floating GM, touches no WM
    labels = np.where(gm, 2, np.where(wm, 3, 0)).astype(np.uint8)
    with pytest.warns(RuntimeWarning, match="8 cortical GM voxels"):
        out = thickness_measures(labels, None, (0.5, 0.5, 0.5), method="laplace", subject="s1")
    th = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    assert np.isnan(th[1:3, 1:3, 20:22]).all()
    assert out["thickness_mean"] == pytest.approx(np.nanmean(th))


def test_nearest_region_matches_kdtree() -> None:
    rng = np.random.default_rng(3)
    regions = np.zeros((12, 14, 10), np.uint8)
    pts = rng.integers(0, [12, 14, 10], size=(15, 3))
    regions[tuple(pts.T)] = rng.integers(1, 12, 15)
    gm = rng.random(regions.shape) < 0.3
    spacing = (0.5, 1.0, 2.0)
    got = nearest_region(gm, regions, spacing)
    coords = np.argwhere(regions > 0) * spacing
    dist, idx = cKDTree(coords).query(np.argwhere(gm) * spacing)
    expected = regions[tuple(np.argwhere(regions > 0)[idx].T)]
    same = got[gm] == expected
    assert same.mean() > 0.9
    # ties between equidistant region voxels may be broken either way
    for k in np.flatnonzero(~same):
        cands = np.argwhere(regions == got[gm][k]) * spacing
        assert np.min(np.linalg.norm(cands - np.argwhere(gm)[k] * spacing, axis=1)) == \
            pytest.approx(dist[k])
    assert (got[~gm] == 0).all()


def test_regional_means_by_nearest_region() -> None:
    gm, wm = slab(4)
    labels = np.where(gm, 2, np.where(wm, 3, 0)).astype(np.uint8)
    regions = np.zeros(gm.shape, np.uint8)
    inner_gm = gm & (np.arange(24)[None, None, :] < 10)  # region map covers half the ribbon
    regions[:12][inner_gm[:12]] = 1
    regions[12:][inner_gm[12:]] = 9
    out = thickness_measures(labels, regions, (0.5, 0.5, 0.5), method="laplace")
    th = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    assert out["thickness_frontal_l"] == pytest.approx(np.mean(th[:12][gm[:12]]))
    assert out["thickness_parietal_r"] == pytest.approx(np.mean(th[12:][gm[12:]]))
    assert out["thickness_mean"] == pytest.approx(np.mean(th[gm]))
    absent = [n for v, n in REGIONS.items() if v not in (0, 1, 9)]
    assert all(np.isnan(out[f"thickness_{n}"]) for n in absent)


def test_bad_inputs() -> None:
    gm, wm = slab(4)
    with pytest.raises(ValueError, match="overlap"):
        laplace_thickness(gm, gm, (1, 1, 1))
    with pytest.raises(ValueError, match="spacing"):
        laplace_thickness(gm, wm, (1, -1, 1))
    with pytest.raises(ValueError, match="unknown thickness method 'fast'"):
        thickness_measures(np.where(gm, 2, 3), None, (1, 1, 1), method="fast")


def test_touching_banks_are_split() -> None:
    # two WM sheets 6 mm apart, filled with GM and no CSF between: two 3 mm banks touching
    wm = np.zeros((24, 24, 20), bool)
    wm[:, :, :4] = True
    wm[:, :, 16:] = True
    gm = ~wm
    th = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    assert np.mean(th[8:16, 8:16, 4:16]) == pytest.approx(3.0, abs=0.01)
    # unsplit, the field runs along the sheet to the array's edges: no thickness of either bank
    unsplit = laplace_thickness(gm, wm, (0.5, 0.5, 0.5), split_banks=False)
    assert np.mean(unsplit[8:16, 8:16, 4:16]) > 4.5


def test_sulcus_with_csf_is_left_alone() -> None:
    # two 3 mm banks with one CSF voxel layer between them: nothing to split
    wm = np.zeros((24, 24, 21), bool)
    wm[:, :, :4] = True
    wm[:, :, 17:] = True
    gm = ~wm
    gm[:, :, 10] = False
    on = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    off = laplace_thickness(gm, wm, (0.5, 0.5, 0.5), split_banks=False)
    np.testing.assert_array_equal(on, off)
    assert np.nanmean(on[8:16, 8:16, 4:17]) == pytest.approx(3.0, abs=0.01)


def test_gm_pocket_inside_wm_is_measured_only_with_split() -> None:
    wm = np.ones((20, 20, 20), bool)
    wm[4:16, 4:16, 6:14] = False
    gm = ~wm  # GM enclosed by WM, no CSF anywhere: only the meeting of the banks bounds it
    split = laplace_thickness(gm, wm, (0.5, 0.5, 0.5))
    assert np.isfinite(split[gm]).all()
    assert np.median(split[8:12, 8:12, 6:14]) == pytest.approx(2.0, abs=0.1)
    assert np.isnan(laplace_thickness(gm, wm, (0.5, 0.5, 0.5), split_banks=False)).all()


@pytest.mark.parametrize("seed", range(6))
def test_laplace_bounded_on_folded_synthetic_cortex(seed):
    """Voxels whose upwind neighbours are mostly unusable once gave path lengths of 1e3-1e14 mm."""
    from harmonstats.synth import SubjectSpec, synthesize_subject

    spec = SubjectSpec(f"t{seed}", "target", ga_birth=28.0 + seed, pma_scan=42.0, sex="F")
    vol = synthesize_subject(spec, shape=48, spacing=0.6, seed=seed)
    for labels in (vol.truth, vol.original):
        gm = labels == 2
        thick = laplace_thickness(gm, np.isin(labels, [3, 4, 5, 6]), (0.6, 0.6, 0.6))
        values = thick[gm][np.isfinite(thick[gm])]
        assert values.max() < 4 * vol.thickness_mean
    assert abs(values.mean() - vol.original_bias - vol.thickness_mean) < 0.25
