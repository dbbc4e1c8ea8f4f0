"""Domain randomisation: images drawn from label maps alone, replayable, within their ranges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchio as tio

from harmonstats.models.augment import seeded_apply
from harmonstats.models.config import AugmentConfig, RandomiseConfig, load_config
from harmonstats.models.randomise import (
    RandomRendering,
    RenderParameters,
    build_randomisation,
    render_labels,
)

FLAT = (0.5, 0.5, 0.5)


def _labels(size: int = 24) -> np.ndarray:
    lab = np.zeros((size,) * 3, np.int64)
    lab[4:-4, 4:-4, 4:-4] = 1
    lab[6:-6, 6:-6, 6:-6] = 2
    lab[8:size // 2, 8:-8, 8:-8] = 3
    return lab


def test_render_without_resampling_paints_each_label_with_its_mean() -> None:
    lab = _labels()
    params = RenderParameters((0.0, 0.9, 0.2, 0.6, 0.0, 0.0, 0.0), (0.0,) * 7, FLAT, FLAT, 0)
    img = render_labels(lab, params, 0.5)
    expected = np.array([0.0, 0.9, 0.2, 0.6, 0, 0, 0], np.float32)[lab]
    np.testing.assert_array_equal(img, expected)


def test_thick_slices_blur_only_their_axis() -> None:
    lab = np.zeros((32, 32, 32), np.int64)
    lab[:, :, :] = 1
    lab[:16, :16] = 2  # an edge across axis 0 and one across axis 1
    params = RenderParameters((0.0, 1.0, 0.0) + (0.0,) * 4, (0.0,) * 7, (2.0, 0.5, 0.5),
                              (2.0, 0.5, 0.5), 0)
    img = render_labels(lab, params, 0.5)
    along0 = img[12:20, 8, 16]   # crosses the edge along axis 0: smeared over the 2 mm slabs
    along1 = img[8, 12:20, 16]   # crosses it along axis 1: still sharp
    assert np.unique(np.round(along1, 6)).tolist() == [0.0, 1.0]
    assert ((along0 > 0.01) & (along0 < 0.99)).sum() >= 2


def test_labels_out_of_range_are_refused() -> None:
    params = RenderParameters((0.0, 1.0), (0.0, 0.0), FLAT, FLAT, 0)
    with pytest.raises(ValueError, match=r"label values must be in \[0, 2\)"):
        render_labels(np.full((4, 4, 4), 3), params, 0.5)


@pytest.mark.parametrize("seed", range(8))
def test_draws_stay_within_their_ranges(seed: int) -> None:
    cfg = RandomiseConfig(mean_range=(0.2, 0.4), std_range=(0.0, 0.05), max_inplane_mm=1.0,
                          max_slice_mm=2.5)
    torch.manual_seed(seed)
    p = RandomRendering(cfg, 0.5).draw()
    assert p.means[0] == 0.0 and all(0.2 <= m <= 0.4 for m in p.means[1:])
    assert all(0.0 <= s <= 0.05 for s in p.stds)
    assert all(0.5 <= t <= 2.5 for t in p.thickness_mm)
    assert sum(t > 1.0 for t in p.thickness_mm) <= 1  # at most one thick-slice axis
    assert all(0.5 <= s <= t + 1e-9 for s, t in zip(p.step_mm, p.thickness_mm, strict=True))


def _subject(image: np.ndarray, lab: np.ndarray) -> tio.Subject:
    affine = np.diag([0.5, 0.5, 0.5, 1.0])
    return tio.Subject(image=tio.ScalarImage(tensor=torch.from_numpy(image)[None].float(),
                                             affine=affine),
                       label=tio.LabelMap(tensor=torch.from_numpy(lab)[None], affine=affine))


def test_pipeline_uses_the_label_map_alone_and_replays() -> None:
    lab = _labels(32)
    transform = build_randomisation(RandomiseConfig(), AugmentConfig(enabled=True), 0.5)
    rng = np.random.default_rng(0)
    a = seeded_apply(transform, _subject(rng.normal(size=lab.shape), lab), 5)
    b = seeded_apply(transform, _subject(np.zeros(lab.shape), lab), 5)  # another image, same seed
    c = seeded_apply(transform, _subject(np.zeros(lab.shape), lab), 6)
    img_a, img_b, img_c = (s["image"].data for s in (a, b, c))
    torch.testing.assert_close(img_a, img_b)  # nothing of the input image survives
    assert not torch.equal(img_a, img_c)
    # normalised as real images are: [-1, 1], background at the minimum
    out_lab = a["label"].data[0]
    assert float(img_a.min()) == -1.0 and float(img_a.max()) == pytest.approx(1.0)
    assert torch.all(img_a[0][out_lab == 0] == img_a.min())


def test_randomise_ranges_are_checked() -> None:
    with pytest.raises(ValueError, match=r"randomise\.mean_range"):
        load_config({"name": "r", "method": "randomised",
                     "randomise": {"mean_range": [0.8, 0.2]}})
