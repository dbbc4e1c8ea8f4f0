"""The ``pbt`` thickness against closed-form ribbons whose every voxel's thickness is known."""

from __future__ import annotations

import numpy as np
import pytest
from measures_helpers import shell

from harmonstats.measures import pbt_thickness, thickness_measures
from harmonstats.measures.phantoms import PHANTOMS, pressed_banks

TILTS = [(0.25, 0.15, 0.1), (0.05, 0.4, 0.7)]


@pytest.mark.parametrize("tilt", TILTS)
@pytest.mark.parametrize("name", list(PHANTOMS))
def test_closed_form_cases(name: str, tilt: tuple[float, float, float]) -> None:
    ph = PHANTOMS[name](tilt=tilt)
    got = pbt_thickness(ph.gm, ph.inner, ph.spacing)
    err = got[ph.where] - ph.truth[ph.where]
    assert np.isfinite(err).all()
    assert abs(err.mean()) <= 0.05
    assert np.median(np.abs(err)) <= 0.05
    assert np.isnan(got[~ph.gm]).all()


@pytest.mark.parametrize("thickness", [1.2, 1.6, 2.2])
def test_pressed_banks_read_each_bank_not_their_sum(thickness: float) -> None:
    ph = pressed_banks(thickness)
    got = pbt_thickness(ph.gm, ph.inner, ph.spacing)
    assert np.mean(got[ph.where]) == pytest.approx(thickness, abs=0.05)
    # Without the buried sulcus reconstructed, only the array's edge (outer beyond it) ends the
    # ribbon: most of its columns get no thickness at all, or the edge's, carried along the
    # surface and wrong.
    unsplit = pbt_thickness(ph.gm, ph.inner, ph.spacing, split_banks=False)[ph.where]
    assert (np.isnan(unsplit) | (np.abs(unsplit - thickness) > 0.1)).mean() > 0.75


def test_tapered_ribbon_tracks_the_gradient_voxel_by_voxel() -> None:
    ph = PHANTOMS["tapered ribbon"]()
    got = pbt_thickness(ph.gm, ph.inner, ph.spacing)
    w = ph.where
    assert np.corrcoef(got[w], ph.truth[w])[0, 1] > 0.98
    # the smoothing along the surface leaves the slope (mm per mm) as it is
    slope_true = np.polyfit(np.argwhere(w)[:, 0], ph.truth[w], 1)[0]
    slope_got = np.polyfit(np.argwhere(w)[:, 0], got[w], 1)[0]
    assert slope_got == pytest.approx(slope_true, rel=0.1)


@pytest.mark.parametrize(("thickness", "spacing", "tol"), [
    (1.5, (0.5, 0.5, 0.5), 0.05),
    (3.0, (0.5, 0.5, 0.5), 0.05),
    (2.0, (0.5, 0.5, 1.0), 0.1),
])
def test_spherical_shell(thickness: float, spacing: tuple[float, float, float],
                         tol: float) -> None:
    gm, wm = shell(6.0, 6.0 + thickness, spacing, 44)
    got = pbt_thickness(gm, wm, spacing)
    assert abs(np.nanmean(got[gm]) - thickness) <= tol
    assert np.isfinite(got[gm]).all()


@pytest.mark.parametrize(("spacing", "axis", "expected"), [
    ((0.5, 0.5, 1.0), 2, 4 * 1.0),
    ((0.5, 0.5, 1.0), 0, 4 * 0.5),
    ((0.4, 0.9, 0.6), 1, 4 * 0.9),
])
def test_grid_aligned_slab_in_anisotropic_voxels(spacing: tuple[float, float, float], axis: int,
                                                 expected: float) -> None:
    # Four GM voxels on WM along one axis: the boundaries sit half way between voxel centres.
    shape = [36, 36, 36]
    gm = np.zeros(shape, bool)
    wm = np.zeros(shape, bool)
    sl = [slice(None)] * 3
    sl[axis] = slice(4, 8)
    wm[tuple(sl)] = True
    sl[axis] = slice(8, 12)
    gm[tuple(sl)] = True
    got = pbt_thickness(gm, wm, spacing)
    centre = [slice(13, 23)] * 3
    centre[axis] = slice(None)
    assert np.nanmean(got[tuple(centre)]) == pytest.approx(expected, abs=0.02)


def test_gm_without_wm_has_no_thickness() -> None:
    ph = PHANTOMS["tapered ribbon"]()
    gm = ph.gm.copy()
    island = np.zeros_like(gm)
    island[20:23, 20:23, 44:46] = True  # floating in the CSF above the ribbon
    assert not (island & (gm | ph.inner)).any()
    gm |= island
    got = pbt_thickness(gm, ph.inner, ph.spacing)
    assert np.isnan(got[island]).all()
    assert np.isfinite(got[ph.where]).all()
    labels = np.where(gm, 2, np.where(ph.inner, 3, 1)).astype(np.uint8)
    with pytest.warns(RuntimeWarning, match="18 cortical GM voxels in pieces"):
        out = thickness_measures(labels, None, ph.spacing, method="pbt", subject="s1")
    assert out["thickness_mean"] == pytest.approx(np.nanmean(got[gm]))


def test_bad_inputs() -> None:
    ph = pressed_banks(1.6, n=24)
    with pytest.raises(ValueError, match="overlap"):
        pbt_thickness(ph.gm, ph.gm, ph.spacing)
    with pytest.raises(ValueError, match="spacing"):
        pbt_thickness(ph.gm, ph.inner, (0.5, 0.0, 0.5))
    with pytest.raises(ValueError, match="smooth"):
        pbt_thickness(ph.gm, ph.inner, ph.spacing, smooth=-1.0)
    with pytest.raises(ValueError, match="3D masks of one shape"):
        pbt_thickness(ph.gm[0], ph.inner[0], ph.spacing)
