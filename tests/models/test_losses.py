"""Losses against hand-worked cases and MONAI."""

from __future__ import annotations

import pytest
import torch
from monai.losses import GeneralizedDiceLoss as MonaiGDL

from harmonstats.models.losses import (
    GeneralisedDiceLoss,
    dice_per_class,
    domain_cross_entropy,
    generalised_dice_loss,
    global_ncc_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)

P1 = torch.tensor([0.9, 0.2, 0.6, 0.1])


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # Both classes have 2 voxels: w = 1/4 each; inter 1.5 and 1.7; p + t sums 3.8 and 4.2.
        ([1, 0, 1, 0], 1 - 2 * (0.25 * 1.5 + 0.25 * 1.7) / (0.25 * 3.8 + 0.25 * 4.2)),
        # Class 1 has 1 voxel (w = 1), class 0 has 3 (w = 1/9).
        ([1, 0, 0, 0], 1 - 2 * (0.9 + 2.1 / 9) / (2.8 + 5.2 / 9)),
    ],
)
def test_gdl_hand_computed(target: list[int], expected: float) -> None:
    probs = torch.stack([1 - P1, P1])[None]  # (1, 2, 4)
    got = generalised_dice_loss(probs, torch.tensor([target]), smooth_nr=0.0, smooth_dr=0.0)
    assert float(got) == pytest.approx(expected, rel=1e-6)


def test_gdl_is_not_mean_soft_dice() -> None:
    probs = torch.stack([1 - P1, P1])[None]
    t = torch.tensor([[1, 0, 0, 0]])
    mean_dice = 1 - 0.5 * (2 * 0.9 / 2.8 + 2 * 2.1 / 5.2)
    got = float(generalised_dice_loss(probs, t, smooth_nr=0.0, smooth_dr=0.0))
    assert abs(got - mean_dice) > 0.01


@pytest.mark.parametrize("absent_class", [False, True])
def test_gdl_matches_monai(absent_class: bool) -> None:
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 5, 6, 6, 6, generator=g)
    labels = torch.randint(0, 5, (2, 1, 6, 6, 6), generator=g)
    if absent_class:
        labels[labels == 3] = 0
    ref = MonaiGDL(softmax=True, to_onehot_y=True, w_type="square", batch=True)(logits, labels)
    got = generalised_dice_loss(torch.softmax(logits, 1), labels)
    assert float(got) == pytest.approx(float(ref), rel=1e-5)


def test_gdl_rejects_labels_outside_classes() -> None:
    with pytest.raises(ValueError, match="outside the 2 classes"):
        generalised_dice_loss(torch.full((1, 2, 4), 0.5), torch.tensor([[0, 1, 2, 0]]))


def test_ncc_zero_for_identical_and_affine_copies() -> None:
    x = torch.randn(2, 1, 8, 8, 8, generator=torch.Generator().manual_seed(0))
    assert float(global_ncc_loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(global_ncc_loss(x, 3 * x + 2)) == pytest.approx(0.0, abs=1e-6)


def test_ncc_is_sign_sensitive() -> None:
    x = torch.randn(1, 1, 8, 8, 8, generator=torch.Generator().manual_seed(1))
    assert float(global_ncc_loss(x, -x)) == pytest.approx(2.0, abs=1e-6)


def test_ncc_against_numpy_correlation() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 1, 6, 6, 6, generator=g)
    y = x + torch.randn(1, 1, 6, 6, 6, generator=g)
    r = torch.corrcoef(torch.stack([x.flatten(), y.flatten()]))[0, 1]
    assert float(global_ncc_loss(x, y)) == pytest.approx(1 - float(r), abs=1e-5)


def test_lsgan_losses() -> None:
    real = torch.tensor([1.0, 0.5])
    fake = torch.tensor([0.0, 0.25])
    # ((0)^2 + (0.5)^2) / 2 + ((0)^2 + (0.25)^2) / 2
    assert float(lsgan_discriminator_loss(real, fake)) == pytest.approx(0.125 + 0.03125)
    assert float(lsgan_generator_loss(fake)) == pytest.approx((1 + 0.75**2) / 2)


def test_domain_cross_entropy() -> None:
    logits = torch.zeros(1, 2, 2, 2, 2)
    logits[:, 1] = 2.0
    p1 = torch.softmax(torch.tensor([0.0, 2.0]), 0)
    assert float(domain_cross_entropy(logits, 1)) == pytest.approx(-float(torch.log(p1[1])))
    assert float(domain_cross_entropy(logits, 0)) == pytest.approx(-float(torch.log(p1[0])))


def test_dice_per_class_hand_case() -> None:
    pred = torch.tensor([0, 1, 1, 2, 2, 2])
    true = torch.tensor([0, 1, 2, 2, 2, 0])
    # class 0: 2*1/(1+2); class 1: 2*1/(2+1); class 2: 2*2/(3+3); class 3: absent -> NaN
    got = dice_per_class(pred, true, 4)
    torch.testing.assert_close(got[:3], torch.tensor([2 / 3, 2 / 3, 2 / 3]))
    assert torch.isnan(got[3])


def test_cross_entropy_term_adds_torch_cross_entropy() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 5, 6, 3)
    target = torch.randint(0, 4, (2, 5, 6, 3))
    gdl_only = GeneralisedDiceLoss()(logits, target)
    np_probs = torch.softmax(logits, dim=1)
    assert torch.allclose(gdl_only, generalised_dice_loss(np_probs, target))
    combined = GeneralisedDiceLoss(ce_weight=0.5)(logits, target[:, None])  # (N, 1, ...) too
    expected = gdl_only + 0.5 * torch.nn.functional.cross_entropy(logits, target)
    assert torch.allclose(combined, expected)
