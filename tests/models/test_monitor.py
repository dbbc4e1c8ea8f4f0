"""Validation monitors of the adaptation models: KS distances and discriminator accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harmonstats.models.data import VolumeDataset, find_volumes
from harmonstats.models.monitor import (
    ValidationCrops,
    discriminator_accuracy,
    intensity_ks,
    translation_ks,
)


def _ks_brute_force(a: np.ndarray, b: np.ndarray) -> float:
    """Largest gap between the two empirical CDFs, evaluated at every sample point."""
    points = np.concatenate([a, b])
    cdf_a = (a[None, :] <= points[:, None]).mean(axis=1)
    cdf_b = (b[None, :] <= points[:, None]).mean(axis=1)
    return float(np.abs(cdf_a - cdf_b).max())


@pytest.mark.parametrize(
    ("a", "b"),
    [([0.0, 1.0, 2.0], [0.5, 1.5, 2.5, 3.5]), ([1.0, 1.0, 2.0], [1.0, 3.0]),
     ([0.0, 0.1], [5.0, 6.0, 7.0])],
)
def test_intensity_ks_matches_the_definition(a: list[float], b: list[float]) -> None:
    assert intensity_ks(np.array(a), np.array(b)) == pytest.approx(
        _ks_brute_force(np.array(a), np.array(b)))


def test_intensity_ks_of_an_empty_sample_is_nan() -> None:
    assert np.isnan(intensity_ks(np.empty(0), np.ones(3)))


@pytest.fixture(scope="module")
def crops(model_study) -> ValidationCrops:
    vols = find_volumes(model_study)
    kw = {"spacing": 0.5, "patch_size": 32}
    src = VolumeDataset([v for v in vols if v.cohort == "source" and v.split == "val"],
                        task="tissue", **kw)
    tgt = VolumeDataset([v for v in vols if v.cohort == "target" and v.split == "val"],
                        task="tissue", **kw)
    return ValidationCrops(src, tgt)


def test_translation_ks_of_the_identity_is_the_source_distance(crops: ValidationCrops) -> None:
    ks = translation_ks(lambda img: img, crops)
    assert ks["ks_gm"] == ks["ks_gm_source"]
    assert ks["ks_csf"] == ks["ks_csf_source"]
    assert 0 < ks["ks_gm_source"] <= 1


def test_translation_ks_falls_when_the_source_takes_the_target_look(
        crops: ValidationCrops) -> None:
    # a generator that matches each tissue's source histogram to the target's (quantile map)
    (t_img, t_lab), = crops.labelled("target")
    (_, s_lab), = crops.labelled("source")

    def translate(img: torch.Tensor) -> torch.Tensor:
        out = img.clone()
        for k in range(1, 7):
            src, ref = img[0, 0][s_lab == k], t_img[0][t_lab == k]
            if src.numel() and ref.numel():
                q = (torch.argsort(torch.argsort(src)).float() + 0.5) / src.numel()
                out[0, 0][s_lab == k] = torch.quantile(ref, q)
        return out

    ks = translation_ks(translate, crops)
    assert ks["ks_gm"] < 0.5 * ks["ks_gm_source"]
    assert ks["ks_csf"] < 0.5 * ks["ks_csf_source"]


@pytest.mark.parametrize(("score", "real", "fake"), [(1.0, 1.0, 0.0), (0.0, 0.0, 1.0),
                                                     (0.4, 0.0, 1.0), (0.5, 1.0, 0.0)])
def test_discriminator_accuracy(crops: ValidationCrops, score: float, real: float,
                                fake: float) -> None:
    # a constant discriminator: right on every real patch or on every generated one
    acc = discriminator_accuracy(lambda img: img, lambda img: torch.full((1, 1, 3, 3, 3), score),
                                 crops)
    assert (acc["d_acc_real"], acc["d_acc_fake"]) == (real, fake)


def test_discriminator_accuracy_uses_the_smoothed_midpoint(crops: ValidationCrops) -> None:
    acc = discriminator_accuracy(lambda img: img, lambda img: torch.full((1, 1, 2, 2, 2), 0.47),
                                 crops, real_label=0.9)
    assert (acc["d_acc_real"], acc["d_acc_fake"]) == (1.0, 0.0)  # 0.47 >= (0.9 + 0) / 2
