"""Folding of the synthetic cortex: touching banks, per-voxel true thickness, real size."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from harmonstats.errors import InputError
from harmonstats.labels import REGIONS
from harmonstats.synth import Folding, SubjectSpec, synthesize_subject

SHAPE, SPACING = 48, 0.625
SPEC = SubjectSpec("f1", "source", ga_birth=39.0, pma_scan=41.0, sex="F")


@pytest.fixture(scope="module")
def subject():
    return synthesize_subject(SPEC, shape=SHAPE, spacing=SPACING, seed=4)


def test_truth_map_lies_on_the_cortex_and_gives_the_true_means(subject) -> None:
    cortex = subject.truth == 2
    tmap = subject.thickness_map
    assert tmap.dtype == np.float32
    assert (tmap[cortex] > 0).all() and (tmap[~cortex] == 0).all()
    assert subject.thickness_mean == pytest.approx(float(tmap[cortex].mean()))
    for value, name in REGIONS.items():
        if value:
            assert subject.thickness[name] == pytest.approx(
                float(tmap[subject.regions == value].mean()))
    # Crowns thicker than fundi and a smooth variation: thickness varies within a brain, within
    # the range of neonatal cortex.
    low, high = np.percentile(tmap[cortex], [5, 95])
    assert 1.0 < low < high < 2.8 and high - low > 0.2


def test_truth_map_agrees_with_the_label_geometry(subject) -> None:
    """On free banks, true thickness ~ distance to the WM side + distance to the CSF, both
    measured on the label map itself (an independent, voxel-coarse estimate)."""
    lab = subject.truth
    cortex = lab == 2
    to_wm = ndimage.distance_transform_edt(~np.isin(lab, (3, 4, 5, 6)), sampling=SPACING)
    to_csf = ndimage.distance_transform_edt(~np.isin(lab, (0, 1)), sampling=SPACING)
    free = cortex & ~subject.touching
    coarse = to_wm + to_csf - SPACING
    assert np.median(np.abs(coarse[free] - subject.thickness_map[free])) < 0.2
    # Touching banks hold no CSF where their pial surface lies: the label geometry reads them
    # far thicker than they are.
    touch = subject.touching
    assert touch.any()
    assert np.median(coarse[touch] - subject.thickness_map[touch]) > \
        np.median(coarse[free] - subject.thickness_map[free]) + 0.3


def test_touching_share_follows_its_parameter() -> None:
    shares = [synthesize_subject(SPEC, shape=SHAPE, spacing=SPACING, seed=4,
                                 folding=Folding(touching=t)).touching_share
              for t in (0.0, 0.35, 0.7)]
    assert shares[0] == 0.0
    assert 0.05 <= shares[1] <= 0.3  # the default: a realistic share of the cortex
    assert shares[2] > shares[1] + 0.03


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"touching": 1.0}, "touching must be in"), ({"crown_fundus": -0.1}, "crown_fundus"),
    ({"thickness_sd": 0.5}, "thickness_sd"), ({"gap": (1.0, 0.5)}, "gap must be"),
    ({"core": 0.0}, "core must be"),
])
def test_folding_rejects_bad_values(kwargs, match) -> None:
    with pytest.raises(InputError, match=match):
        Folding(**kwargs)


def test_non_cubic_grid() -> None:
    vol = synthesize_subject(SPEC, shape=(44, 52, 40), spacing=0.8, seed=1)
    for arr in (vol.t2w, vol.truth, vol.original, vol.regions, vol.thickness_map):
        assert arr.shape == (44, 52, 40)
    np.testing.assert_allclose(vol.affine[:3, 3], [-17.2, -20.4, -15.6])
    assert (vol.truth == 2).sum() > 1000


def _extent(labels: np.ndarray, spacing: float) -> np.ndarray:
    """Size (mm) of the box holding the cerebrum's cortex and WM, along x, y, z."""
    where = np.argwhere(np.isin(labels, (2, 3)))
    return (where.max(axis=0) - where.min(axis=0) + 1) * spacing


def test_real_size_brain_is_a_neonate_and_grows_with_age() -> None:
    term = SubjectSpec("r1", "source", ga_birth=40.0, pma_scan=40.0, sex="F")
    older = SubjectSpec("r2", "source", ga_birth=40.0, pma_scan=44.0, sex="F")
    shape, spacing = (86, 86, 67), 1.5  # a 129 x 129 x 100 mm field of view, coarsely
    a = synthesize_subject(term, shape=shape, spacing=spacing, seed=2, size="real")
    b = synthesize_subject(older, shape=shape, spacing=spacing, seed=2, size="real")
    size = _extent(a.truth, spacing)
    # Cerebrum about 90 x 110 x 75 mm at term (the brain is turned a few degrees in the field).
    np.testing.assert_allclose(size, [90, 110, 75], rtol=0.1)
    assert (_extent(b.truth, spacing) > size).all()
    assert 0.05 <= a.touching_share <= 0.3


def test_real_size_brain_must_fit_the_field() -> None:
    with pytest.raises(InputError, match="subject f1: a real-size cerebrum needs a field of view"):
        synthesize_subject(SPEC, shape=64, spacing=0.5, size="real")
    with pytest.raises(InputError, match="size must be 'fov' or 'real'"):
        synthesize_subject(SPEC, shape=SHAPE, spacing=SPACING, size="large")


@pytest.mark.slow
def test_tiles_build_the_same_brain() -> None:
    """Voxelising in tiles (to bound memory on large grids) gives the brain built whole."""
    from harmonstats.synth.anatomy import build_anatomy
    from harmonstats.synth.geometry import draw_geometry

    geom = draw_geometry(41.0, 39.0, np.full(11, 1.7), 100.0, np.random.default_rng(3),
                         size="real")
    shape, spacing = (86, 86, 67), 1.5  # coarse, so that the tiles' margins are few voxels
    whole = build_anatomy(geom, shape, spacing)
    tiled = build_anatomy(geom, shape, spacing, tile_voxels=1_400_000)
    assert (tiled.labels != whole.labels).mean() < 1e-4
    same = (tiled.labels == 2) & (whole.labels == 2)
    np.testing.assert_allclose(tiled.truth[same], whole.truth[same], atol=0.01)
