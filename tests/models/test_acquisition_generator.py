"""The re-acquiring generator: near its input at first, blurs as scipy does, learns a profile."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from harmonstats.errors import InputError
from harmonstats.models.acquisition_generator import AcquisitionGenerator
from harmonstats.models.config import load_config
from harmonstats.models.methods import build_method
from harmonstats.models.networks import build_generator


def _phantom(n: int = 20) -> torch.Tensor:
    """A smooth blob on a -1 background, in the model's input range."""
    g = np.mgrid[:n, :n, :n].astype(np.float64) - (n - 1) / 2
    r = np.sqrt((g**2).sum(0))
    img = np.where(r < n / 3, 0.2 + 0.6 * np.cos(r / 2.0) ** 2, -1.0)
    return torch.tensor(img, dtype=torch.float32)[None, None]


def _blurred_along_z(x: torch.Tensor, width: int) -> torch.Tensor:
    """``x``'s signal box-blurred over ``width`` voxels along z (scipy), in the input range."""
    signal = ((x + 1) / 2).numpy()[0, 0]
    blurred = ndimage.uniform_filter1d(signal, width, axis=2, mode="constant")
    return torch.tensor(2 * blurred - 1, dtype=torch.float32)[None, None]


def test_starts_near_its_input() -> None:
    gen = AcquisitionGenerator()
    x = _phantom()
    assert float(gen.kernels().detach()[:, gen.radius].min()) > 0.9  # 95% on the centre tap
    assert float(gen.noise_sd().detach()) < 0.01
    brain = x > -1
    assert float((gen(x) - x).detach()[brain].abs().mean()) < 0.02


def test_blur_is_the_separable_convolution_with_its_kernels() -> None:
    # independent computation: scipy's 1-D convolutions with the same kernels, zero outside
    gen = AcquisitionGenerator(radius=3)
    with torch.no_grad():
        gen.blur_falloff.copy_(torch.randn(3, 3, generator=torch.Generator().manual_seed(1)))
    k = gen.kernels().detach().numpy()
    np.testing.assert_allclose(k, k[:, ::-1])  # symmetric
    assert (np.diff(k[:, 3:], axis=1) < 0).all()  # falling off from the centre
    img = np.random.default_rng(0).random((9, 11, 13))
    ours = gen.blur(torch.tensor(img)[None, None]).detach().numpy()[0, 0]
    ref = img
    for axis, k in enumerate(gen.kernels().detach().numpy().astype(np.float64)):
        ref = ndimage.convolve1d(ref, k[::-1], axis=axis, mode="constant", cval=0.0)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_contrast_curve_is_monotone_and_interpolates_its_knots() -> None:
    gen = AcquisitionGenerator(knots=5)
    np.testing.assert_allclose(gen.curve().detach().numpy(), np.linspace(0, 1, 5), atol=1e-6)
    with torch.no_grad():
        gen.curve_rises.copy_(torch.tensor([2.0, -3.0, 0.5, -1.0]))
    knots = gen.curve().detach().numpy()
    assert (np.diff(knots) > 0).all()
    s = np.array([0.0, 0.1, 0.3, 0.55, 0.8, 1.0, 1.5])
    np.testing.assert_allclose(gen.contrast(torch.tensor(s)).detach().numpy(),
                               np.interp(s, np.linspace(0, 1, 5), knots), rtol=1e-5, atol=1e-6)


def test_learns_a_slice_profile_along_the_blurred_axis_only() -> None:
    # target: the input box-blurred over 5 voxels along z; fitted by gradient descent, the z
    # kernel widens and the x and y kernels stay near a delta
    torch.manual_seed(0)
    x = torch.rand(1, 1, 16, 16, 16) * 1.6 - 0.8
    target_t = _blurred_along_z(x, 5)
    gen = AcquisitionGenerator()
    opt = torch.optim.Adam(gen.parameters(), lr=5e-2)
    for _ in range(200):
        opt.zero_grad()
        loss = ((gen(x) - target_t) ** 2).mean()
        loss.backward()
        opt.step()
    taps = torch.arange(-gen.radius, gen.radius + 1, dtype=torch.float32)
    var = (gen.kernels().detach() * taps**2).sum(1)
    assert float(var[2]) == pytest.approx(2.0, abs=0.5)  # a 5-voxel box: variance 2
    assert float(var[:2].max()) < 0.2


def test_configuration_builds_it_and_refuses_two_generators() -> None:
    cfg = load_config({"name": "t", "method": "image",
                       "adversary": {"acquisition_generator": True}})
    assert isinstance(build_generator(cfg), AcquisitionGenerator)
    with pytest.raises(InputError, match="residual_generator and acquisition_generator"):
        load_config({"name": "t", "method": "image",
                     "adversary": {"acquisition_generator": True, "residual_generator": True}})


def test_image_model_trains_it_from_the_discriminator() -> None:
    torch.manual_seed(0)
    cfg = load_config({"name": "t", "method": "image", "epochs": 2, "warmup_epochs": 0,
                       "ncc_weight": 0.0, "gen_lr": 1e-2,
                       "data": {"patch_size": 32}, "network": {"channels": [4, 8, 16, 32]},
                       "discriminator": {"channels": [4, 8, 8, 8]},
                       "adversary": {"acquisition_generator": True,
                                     "normalise_generated": True}})
    m = build_method(cfg, torch.device("cpu"))
    gen = m.modules["generator"]
    before = [p.detach().clone() for p in gen.parameters()]
    x = _phantom(32)
    target = {"image": _blurred_along_z(x, 4)}  # 2 mm slices at 0.5 mm
    labels = (x[:, 0] > -1).long() * 2
    m.train_step({"image": x, "label": labels}, target, 1, np.random.default_rng(0))
    moved = [not torch.equal(a, b) for a, b in zip(before, gen.parameters(), strict=True)]
    assert all(moved)  # curve, blur and noise all learn from D's loss
    out = m.translate(x)
    assert out.shape == x.shape
    assert float(out[x == -1].max()) == -1.0  # the background stays the background


def test_gradients_repeat_exactly() -> None:
    # a training run must repeat (and resume) exactly: no scatter-add in the backward pass,
    # whose summation order varies between runs on a multi-threaded CPU
    x = torch.rand(1, 1, 64, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    grads = []
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the tests run on one thread, where any order repeats
    try:
        for _ in range(3):
            gen = AcquisitionGenerator()
            torch.manual_seed(1)
            (gen(x) ** 2).mean().backward()
            grads.append(torch.cat([p.grad.flatten() for p in gen.parameters()]))
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(grads[0], g) for g in grads[1:])
