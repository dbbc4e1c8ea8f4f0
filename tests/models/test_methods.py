"""Training steps: the discriminator options of the adaptation models do what they say."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harmonstats.models.config import load_config
from harmonstats.models.data import normalise_intensity
from harmonstats.models.losses import lsgan_discriminator_loss, lsgan_generator_loss
from harmonstats.models.methods import build_method, normalise_like_inputs
from harmonstats.models.networks import build_discriminator

CPU = torch.device("cpu")
TINY = {"data": {"patch_size": 32}, "network": {"channels": [4, 8, 16, 32]},
        "discriminator": {"channels": [4, 8, 8, 8]}, "warmup_epochs": 0}


def _method(kind: str, **adversary: object):
    torch.manual_seed(0)
    cfg = load_config({"name": "t", "method": kind, "epochs": 10, **TINY,
                       "adversary": adversary})
    return build_method(cfg, CPU)


@pytest.mark.parametrize(
    ("noise", "span", "epoch", "expected"),
    [(0.2, None, 0, 0.2), (0.2, None, 5, 0.1), (0.2, None, 10, 0.0), (0.2, 4, 2, 0.1),
     (0.2, 4, 6, 0.0), (0.0, None, 0, 0.0)],
)
def test_instance_noise_decays_linearly(noise: float, span: int | None, epoch: int,
                                        expected: float) -> None:
    m = _method("image", instance_noise=noise, instance_noise_epochs=span)
    assert m.instance_noise(epoch) == pytest.approx(expected)


def _disc_weights(m) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.modules["discriminator"].parameters()]


@pytest.mark.parametrize("kind", ["image", "latent"])
def test_d_every_skips_discriminator_updates(kind: str) -> None:
    m = _method(kind, d_every=2)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 32, 32, 32, generator=gen)
    batch = {"image": x, "label": torch.randint(0, 7, (1, 32, 32, 32), generator=gen)}
    target = {"image": torch.randn(1, 1, 32, 32, 32, generator=gen)}
    rng = np.random.default_rng(0)
    changed = []
    for _ in range(4):
        before = _disc_weights(m)
        losses = m.train_step(batch, target, 0, rng)
        after = _disc_weights(m)
        changed.append(any(not torch.equal(a, b) for a, b in zip(before, after, strict=True)))
        assert np.isfinite(losses["loss_disc"])
    assert changed == [True, False, True, False]
    assert m.state_dicts()["steps"] == 4


def test_spectral_norm_bounds_every_convolution() -> None:
    cfg = load_config({"name": "t", "method": "image", **TINY,
                       "adversary": {"spectral_norm": True}})
    disc = build_discriminator(cfg)
    convs = [m for m in disc.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(convs) == 5
    disc.train()
    for _ in range(30):  # power iterations run in training-mode forwards
        disc(torch.randn(1, 1, 32, 32, 32))
    disc.eval()
    for conv in convs:
        with torch.no_grad():
            sigma = torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2)
        assert float(sigma) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(("real_label", "expected_d", "expected_g"),
                         [(1.0, 0.25 + 0.25, 0.25), (0.9, 0.16 + 0.25, 0.16)])
def test_lsgan_losses_with_label_smoothing(real_label: float, expected_d: float,
                                           expected_g: float) -> None:
    real = torch.full((1, 1, 2, 2, 2), 0.5)
    fake = torch.full((1, 1, 2, 2, 2), 0.5)
    assert float(lsgan_discriminator_loss(real, fake, real_label=real_label)) == pytest.approx(
        expected_d)
    assert float(lsgan_generator_loss(fake, real_label=real_label)) == pytest.approx(expected_g)


def test_normalised_generator_output_is_normalised_like_an_input() -> None:
    m = _method("image", normalise_generated=True)
    x = torch.full((1, 1, 32, 32, 32), -1.0)
    x[:, :, 8:24, 8:24, 8:24] = torch.rand(1, 1, 16, 16, 16)
    fake = m.translate(x)
    brain = x > -1.0
    assert torch.equal(fake[~brain], x[~brain])  # the background, exactly
    assert float(fake[brain].min()) >= -1.0
    assert float(fake[brain].max()) == pytest.approx(1.0, abs=1e-5)
    plain = _method("image").translate(x)
    assert not torch.equal(plain[~brain], x[~brain])  # tanh's background is not exactly -1


def test_normalise_like_inputs_is_the_input_normalisation() -> None:
    # a Tanh output read as signal (f + 1) / 2 and masked: the same numbers as
    # normalise_intensity gives that signal
    rng = np.random.default_rng(0)
    signal = np.zeros((12, 12, 12), np.float32)
    signal[3:9, 3:9, 3:9] = rng.uniform(0.05, 0.9, (6, 6, 6))
    like = torch.from_numpy(normalise_intensity(signal))[None, None]
    tanh = torch.from_numpy(signal * 2 - 1)[None, None]
    tanh[0, 0][torch.from_numpy(signal == 0)] = 0.3  # whatever it says outside the brain
    got = normalise_like_inputs(tanh, like)[0, 0].numpy()
    np.testing.assert_allclose(got, normalise_intensity(signal), atol=1e-5)


@pytest.mark.parametrize("through", [True, False])
def test_segmentation_loss_reaches_the_generator_only_if_asked(through: bool) -> None:
    # two runs alike but for the labels: the generator's step differs only if the
    # segmentation loss reaches it
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 32, 32, 32, generator=gen)
    target = {"image": torch.randn(1, 1, 32, 32, 32, generator=gen)}
    after = []
    for labels in (torch.zeros(1, 32, 32, 32, dtype=torch.long),
                   torch.randint(0, 7, (1, 32, 32, 32), generator=gen)):
        m = _method("image", seg_through_generator=through)
        m.train_step({"image": x, "label": labels}, target, 1, np.random.default_rng(0))
        after.append([p.detach().clone() for p in m.modules["generator"].parameters()])
    same = all(torch.equal(a, b) for a, b in zip(*after, strict=True))
    assert same != through


@pytest.mark.parametrize(("norm", "n_norms"), [("instance", 3), ("none", 0)])
def test_discriminator_norm_option(norm: str, n_norms: int) -> None:
    cfg = load_config({"name": "t", "method": "image", **TINY,
                       "discriminator": {"channels": [4, 8, 8, 8], "norm": norm}})
    disc = build_discriminator(cfg)
    assert sum(isinstance(m, torch.nn.InstanceNorm3d) for m in disc.modules()) == n_norms
    assert disc(torch.rand(1, 1, 32, 32, 32)).shape == (1, 1, 2, 2, 2)


def test_residual_generator_starts_as_the_identity_and_then_moves() -> None:
    # the paper's Tanh U-Net starts anywhere; the residual generator starts at its input and
    # takes one step from it, and its weights load into the paper's generator's names
    m = _method("image", residual_generator=True, normalise_generated=False)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 1, 32, 32, 32, generator=gen) * 2 - 1
    assert torch.equal(m.translate(x), x)
    target = {"image": torch.rand(1, 1, 32, 32, 32, generator=gen) * 2 - 1}
    labels = torch.randint(0, 7, (1, 32, 32, 32), generator=gen)
    m.train_step({"image": x, "label": labels}, target, 1, np.random.default_rng(0))
    moved = m.translate(x)
    assert not torch.equal(moved, x)
    assert float((moved - x).abs().mean()) < 0.1  # a step from the input, not a new image
    plain = _method("image").modules["generator"]
    plain.load_state_dict(m.modules["generator"].state_dict())
