"""Closed-form cortical ribbons whose thickness is known at every voxel: thickness test cases.

Each phantom is sampled at voxel centres (a voxel is GM when its centre lies in the ribbon) and
turned a little against the grid, so no surface is axis-aligned (along a grid axis a plane's
offset within a voxel cannot be read from a mask, and no method can do better than half a
voxel). ``where`` marks the voxels where the closed form holds and the grid can show it: away
from the array's edges, and away from the one place in some phantoms where a ribbon's
thickness is not defined (where a closed sulcus meets the outer surface, the cortex folds round
a sharp WM edge).

- :func:`pressed_banks`: two banks pressed together with no CSF between their WM walls, each
  ``thickness`` mm: a method must find each bank's thickness, not their sum.
- :func:`closed_fold`: a sulcus closed along its whole length and depth under a flat outer
  surface: the banks touch from its mouth down to its floor, where the ribbon wraps round the
  end of the contact (half a cylinder of cortex).
- :func:`slit_shell`: a spherical shell of cortex on a WM ball, cut by a closed slit: a plane
  sheet from the outer surface to the ball's middle, each bank drawn from its own side of it.
- :func:`tapered_ribbon`: a flat ribbon whose thickness grows linearly along it.

The shapes are built outer-surface first, as :mod:`harmonstats.synth` builds its brains: the WM
is what lies farther than the thickness from the outer (pial) surface, a closed sheet counting
as pial on both of its sides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["PHANTOMS", "Phantom", "closed_fold", "pressed_banks", "slit_shell",
           "tapered_ribbon"]


@dataclass(frozen=True)
class Phantom:
    """One closed-form ribbon on a grid.

    Attributes
    ----------
    name : str
        Short name.
    gm, inner : numpy.ndarray of bool
        Cortical GM and WM-side masks (everything else is CSF).
    truth : numpy.ndarray of float
        True thickness (mm) of each GM voxel; NaN elsewhere.
    where : numpy.ndarray of bool
        GM voxels where the closed form holds (see the module notes).
    spacing : tuple of float
        Voxel size (mm).
    """

    name: str
    gm: np.ndarray
    inner: np.ndarray
    truth: np.ndarray
    where: np.ndarray
    spacing: tuple[float, float, float]


def _frame(n: int, spacing: float, tilt: tuple[float, float, float]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates (mm) of the voxel centres in axes turned by ``tilt`` (radians about x, y,
    z) against the grid, and a mask of the voxels more than 3 mm from the array's faces."""
    c = (np.arange(n) - (n - 1) / 2.0) * spacing
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    ax, ay, az = tilt
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    r = rz @ ry @ rx
    u = r[0, 0] * x + r[1, 0] * y + r[2, 0] * z
    v = r[0, 1] * x + r[1, 1] * y + r[2, 1] * z
    w = r[0, 2] * x + r[1, 2] * y + r[2, 2] * z
    half = (n - 1) / 2.0 * spacing - 3.0
    away = (np.abs(x) < half) & (np.abs(y) < half) & (np.abs(z) < half)
    return u, v, w, away


def _phantom(name: str, gm: np.ndarray, inner: np.ndarray, truth: np.ndarray,
             where: np.ndarray, spacing: float) -> Phantom:
    return Phantom(name, gm, inner, np.where(gm, truth, np.nan), gm & where,
                   (spacing, spacing, spacing))


def pressed_banks(thickness: float = 1.6, *, n: int = 40, spacing: float = 0.5,
                  tilt: tuple[float, float, float] = (0.25, 0.15, 0.1),
                  offset: float = 0.13) -> Phantom:
    """Two banks of ``thickness`` mm between parallel WM walls ``2 * thickness`` apart."""
    _u, _v, w, away = _frame(n, spacing, tilt)
    s = w + offset
    inner = (s < 0.0) | (s >= 2.0 * thickness)
    return _phantom("pressed banks", ~inner, inner, np.full(s.shape, thickness), away, spacing)


def closed_fold(thickness: float = 1.6, depth: float = 6.0, *, n: int = 48,
                spacing: float = 0.5, tilt: tuple[float, float, float] = (0.12, 0.2, 0.3),
                offset: float = 0.11) -> Phantom:
    """A sulcus ``depth`` mm deep, closed over its whole length and depth, in a flat cortex.

    The outer surface is the plane ``w = top`` and the sulcus the sheet ``u = 0`` from it down
    to ``depth``; every point of the ribbon lies ``thickness`` from the WM along the segment to
    its nearest pial point, except within ``2 * thickness`` of the sulcus's mouth.
    """
    u, _v, w, away = _frame(n, spacing, tilt)
    top = 0.5 * depth + offset
    below = np.maximum(top - depth - w, 0.0)
    pial = np.minimum(top - w, np.sqrt(u * u + below * below))
    tissue = w < top
    inner = tissue & (pial > thickness)
    gm = tissue & ~inner
    mouth = (np.abs(u) < 2.0 * thickness) & (w > top - 2.0 * thickness)
    return _phantom("closed fold", gm, inner, np.full(u.shape, thickness), away & ~mouth,
                    spacing)


def slit_shell(thickness: float = 1.8, radius: float = 8.0, *, n: int = 48,
               spacing: float = 0.5, tilt: tuple[float, float, float] = (0.2, 0.3, 0.1),
               offset: tuple[float, float, float] = (0.11, -0.07, 0.05)) -> Phantom:
    """A shell of cortex ``thickness`` mm thick on a WM ball, cut by a closed plane slit.

    The pial surface is the sphere of ``radius`` and the half plane ``u = 0, w > 0`` inside it
    (the slit reaches the ball's middle); the WM is what lies farther than ``thickness`` from
    both. Excluded: within ``2 * thickness`` of where the slit meets the sphere.
    """
    u, v, w, away = _frame(n, spacing, tilt)
    u, v, w = u - offset[0], v - offset[1], w - offset[2]
    r = np.sqrt(u * u + v * v + w * w)
    below = np.maximum(-w, 0.0)
    pial = np.minimum(radius - r, np.sqrt(u * u + below * below))
    tissue = r < radius
    inner = tissue & (pial > thickness)
    gm = tissue & ~inner
    rim = np.sqrt(u * u + (np.sqrt(v * v + w * w) - radius) ** 2)
    mouth = (rim < 2.0 * thickness) & (w > -thickness)
    return _phantom("slit shell", gm, inner, np.full(u.shape, thickness), away & ~mouth,
                    spacing)


def tapered_ribbon(thin: float = 1.2, thick: float = 2.4, *, n: int = 48, spacing: float = 0.5,
                   tilt: tuple[float, float, float] = (0.15, 0.25, 0.2),
                   offset: float = 0.09) -> Phantom:
    """A flat ribbon whose thickness grows linearly from ``thin`` to ``thick`` mm along it.

    The WM is the half space ``w < 0`` and the pial surface the tilted plane ``w = T(u)``,
    ``T(u) = T0 + g u``; a point's true thickness is its distance to the WM plus its distance to
    the pial plane (the segment through it from one to the other).
    """
    u, _v, w, away = _frame(n, spacing, tilt)
    half = (n - 1) / 2.0 * spacing - 3.0
    slope = (thick - thin) / (2.0 * half)
    s = w + offset
    pial = thin + slope * (u + half)
    inner = s < 0.0
    gm = ~inner & (s < pial)
    truth = s + (pial - s) / np.sqrt(1.0 + slope * slope)
    return _phantom("tapered ribbon", gm, inner, truth, away, spacing)


#: The closed-form cases by name.
PHANTOMS: dict[str, Callable[..., Phantom]] = {
    "pressed banks": pressed_banks,
    "closed fold": closed_fold,
    "slit shell": slit_shell,
    "tapered ribbon": tapered_ribbon,
}
