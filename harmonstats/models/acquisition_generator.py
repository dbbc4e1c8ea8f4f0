"""An image-space generator that can only re-acquire its input: contrast, resolution and noise.

The paper's generator is a U-Net free to draw any image; in a short run its adversary has to
teach it, from scratch, what a scanner does to an image. What two scanners of the same brains
differ by is mostly the acquisition: the tissue contrast, the point-spread function (in-plane
pixel size, slice thickness and profile) and the noise. :class:`AcquisitionGenerator` learns
exactly those, from the discriminator alone (no paired images, no knowledge of the target's
protocol), with a few dozen parameters:

1. contrast: a monotone piecewise-linear intensity curve over the input's signal, ``knots``
   values at evenly spaced signal levels (starting as the identity; monotone, because a free
   curve lets the adversary draw spikes that no scanner makes, and tissues that swap order
   between protocols are rare and close in signal);
2. resolution: one 1-D blur kernel per axis (``2 * radius + 1`` taps), applied separably, so the
   network can learn a slice profile along any axis it finds the target blurred along. Each
   kernel is symmetric and falls off from its centre (every tap a learned fraction, in (0, 1),
   of the one inside it), as a point-spread function or a slice profile does; a free kernel lets
   the adversary draw ghosts instead. It starts as a near-delta (taps at 0.7% of the centre);
3. noise: Rician noise of a learned SD (``sqrt((s + n1)^2 + n2^2)``, starting near zero), drawn
   anew on every call.

Input and output are in the model's input range ([-1, 1], background -1); the output is meant to
go through :func:`~harmonstats.models.methods.normalise_like_inputs`, which masks it to the
input's brain and normalises it as every real image is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["AcquisitionGenerator"]


class AcquisitionGenerator(nn.Module):
    """Learned contrast curve, per-axis blur and noise (see the module docstring).

    Parameters
    ----------
    knots : int
        Points of the intensity curve (signal levels 0, 1/(knots-1), ..., 1).
    radius : int
        Half-width of each axis' blur kernel, voxels (4 at 0.5 mm: a 2 mm slice and its
        interpolation fit).
    """

    def __init__(self, knots: int = 9, radius: int = 4) -> None:
        super().__init__()
        if knots < 2 or radius < 0:
            raise ValueError(f"knots must be >= 2 and radius >= 0 (got {knots}, {radius})")
        self.radius = radius
        # the curve's rises between knots (softplus of these), each 1 / (knots - 1) at the start
        rise = torch.tensor(1.0 / (knots - 1))
        self.curve_rises = nn.Parameter(torch.full((knots - 1,), float(rise.expm1().log())))
        # each tap's fraction of the one inside it (a sigmoid of these)
        self.blur_falloff = nn.Parameter(torch.full((3, radius), -5.0))
        self.noise_logit = nn.Parameter(torch.tensor(-6.0))

    def curve(self) -> torch.Tensor:
        """The intensity curve's values at its knots (signal 0 stays 0)."""
        rises = F.softplus(self.curve_rises)
        return torch.cat([rises.new_zeros(1), torch.cumsum(rises, 0)])

    def kernels(self) -> torch.Tensor:
        """The three blur kernels (axis, tap), each symmetric and summing to 1."""
        half = torch.cumprod(torch.sigmoid(self.blur_falloff), dim=1)
        ones = half.new_ones(3, 1)
        full = torch.cat([half.flip(1), ones, half], dim=1)
        return full / full.sum(dim=1, keepdim=True)

    def noise_sd(self) -> torch.Tensor:
        """SD of the noise, in signal units (the input's signal spans [0, 1])."""
        return F.softplus(self.noise_logit)

    def contrast(self, signal: torch.Tensor) -> torch.Tensor:
        """The intensity curve at ``signal`` (linear between knots, flat outside [0, 1]; 0 at
        and below signal 0, the background).

        A sum of ramps, one per segment (its rise times how far ``signal`` has crossed it),
        rather than a look-up of the knots: a look-up's gradient is a scatter-add, whose order
        varies between runs on a multi-threaded CPU, and a training run would not repeat.
        """
        rises = F.softplus(self.curve_rises)
        n = rises.numel()
        starts = torch.arange(n, device=signal.device, dtype=signal.dtype)
        shape = (n,) + (1,) * signal.dim()
        crossed = (signal.unsqueeze(0) * n - starts.reshape(shape)).clamp(0.0, 1.0)
        return (rises.to(signal.dtype).reshape(shape) * crossed).sum(0)

    def blur(self, image: torch.Tensor) -> torch.Tensor:
        """Separable convolution of a ``(N, 1, X, Y, Z)`` batch with the three kernels (zero
        outside the volume, as outside the head)."""
        k = self.kernels().to(image.dtype)
        r = self.radius
        out = image
        for axis in range(3):
            shape = [1, 1, 1, 1, 1]
            shape[2 + axis] = 2 * r + 1
            pad = [0, 0, 0, 0, 0, 0]
            pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = r
            out = F.conv3d(F.pad(out, pad), k[axis].reshape(shape))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Re-acquire a batch ``(N, 1, X, Y, Z)`` of prepared images (range [-1, 1])."""
        signal = self.blur(self.contrast((x.float() + 1.0) / 2.0))  # the background stays 0
        sd = self.noise_sd()
        real = signal + sd * torch.randn_like(signal)
        imag = sd * torch.randn_like(signal)
        signal = torch.sqrt(real * real + imag * imag + 1e-12)
        return (2.0 * signal - 1.0).to(x.dtype)
