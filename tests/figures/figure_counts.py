"""Counting what a figure drew, for the figure tests."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure


def visible_axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible()]


def points(ax: Axes, gid: str | None = None) -> np.ndarray:
    """Offsets of the scatter collections of ``ax`` with this gid (None: unlabelled ones)."""
    found = [c.get_offsets() for c in ax.collections
             if isinstance(c, PathCollection) and c.get_gid() == gid]
    return np.concatenate(found) if found else np.empty((0, 2))


def texts(ax: Axes, gid: str) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def lines(ax: Axes, gid: str) -> list:
    return [line for line in ax.lines if line.get_gid() == gid]
