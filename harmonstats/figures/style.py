"""Colours and style shared by every figure, so a method or a cohort has one colour throughout.

The style is applied through a context (:func:`figure_style`) while a figure is built, so importing
:mod:`harmonstats.figures` or drawing a figure never changes the user's global matplotlib state.
Figures are plain :class:`matplotlib.figure.Figure` objects, not registered with pyplot: a
notebook displays the returned figure once, and nothing is kept alive after it is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from harmonstats.labels import TISSUES

__all__ = [
    "COHORT_COLORS",
    "METHOD_COLORS",
    "TISSUE_COLORS",
    "cohort_palette",
    "figure_style",
    "method_palette",
    "new_figure",
    "tissue_colormap",
]

#: Colour of each known method: unaugmented and augmented variants of a model share a hue.
METHOD_COLORS: dict[str, str] = {
    "original": "#7f7f7f",
    "truth": "#262626",
    "baseline": "#9ecae1",
    "baseline_aug": "#2171b5",
    "latent": "#a1d99b",
    "latent_aug": "#238b45",
    "image": "#fdae6b",
    "image_aug": "#d94801",
    "randomised": "#ce1256",
    "combat": "#807dba",
}

#: Colour of each known cohort (the paper draws dHCP in magenta and ePrime in light blue).
COHORT_COLORS: dict[str, str] = {
    "source": "#c51b7d",
    "target": "#4eb3d3",
}

#: Colour of each of the 7 tissue labels, indexed by label value (0 background is black).
TISSUE_COLORS: dict[int, str] = {
    0: "#000000",
    1: "#4575b4",
    2: "#d73027",
    3: "#f7f7f7",
    4: "#fdae61",
    5: "#1a9850",
    6: "#984ea3",
}

# Colours for names not listed above, taken in order and never reused within one palette.
_EXTRA = [
    "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39",
    "#7b4173", "#5254a3", "#b5cf6b", "#e7ba52", "#ad494a", "#a55194",
]


def _palette(names: Iterable[str], known: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used = set(known.values())
    extra = (c for c in _EXTRA if c not in used)
    for name in names:
        if name in out:
            continue
        if name in known:
            out[name] = known[name]
        else:
            colour = next(extra, None)
            out[name] = colour if colour is not None else mpl.colors.to_hex(
                mpl.colormaps["tab20"](len(out) % 20))
    return out


def method_palette(methods: Iterable[str]) -> dict[str, str]:
    """Colour of each method: fixed for the known methods, then a fixed sequence for others.

    Parameters
    ----------
    methods : iterable of str
        Method names (``original``, ``baseline_aug``, ...), in the order they are drawn.

    Returns
    -------
    dict
        Method name -> hex colour. The same name always gets the same colour when it is one of
        :data:`METHOD_COLORS`; other names get colours in order of appearance.
    """
    return _palette([str(m) for m in methods], METHOD_COLORS)


def cohort_palette(cohorts: Iterable[str]) -> dict[str, str]:
    """Colour of each cohort: ``source`` magenta, ``target`` light blue, others in a fixed order.

    Parameters
    ----------
    cohorts : iterable of str
        Cohort names, in the order they are drawn.

    Returns
    -------
    dict
        Cohort name -> hex colour.
    """
    return _palette([str(c) for c in cohorts], COHORT_COLORS)


def tissue_colormap() -> tuple[ListedColormap, BoundaryNorm]:
    """Discrete colormap and norm that draw label value ``k`` in :data:`TISSUE_COLORS` ``[k]``.

    Returns
    -------
    (matplotlib.colors.ListedColormap, matplotlib.colors.BoundaryNorm)
        Pass both to ``imshow(labels, cmap=cmap, norm=norm, interpolation="nearest")``.
    """
    values = sorted(TISSUES)
    cmap = ListedColormap([TISSUE_COLORS[v] for v in values], name="harmonstats_tissues")
    norm = BoundaryNorm(np.arange(len(values) + 1) - 0.5, cmap.N)
    return cmap, norm


_RC: dict[str, float] = {
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
}


@contextmanager
def figure_style(style: str = "ticks") -> Iterator[None]:
    """Context in which the seaborn ``style`` and harmonstats' font sizes apply.

    Parameters
    ----------
    style : str
        A seaborn axes style (``ticks``, ``whitegrid``, ``white``, ``darkgrid``, ``dark``).

    Examples
    --------
    >>> from harmonstats.figures.style import figure_style, new_figure
    >>> with figure_style():
    ...     fig, axes = new_figure(1, 2)
    """
    with sns.axes_style(style), sns.plotting_context("notebook", rc=_RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, panel_size: tuple[float, float] = (3.2, 2.8),
               sharex: bool = False, sharey: bool = False) -> tuple[Figure, np.ndarray]:
    """A figure pyplot does not keep open, with a grid of axes, using constrained layout.

    Parameters
    ----------
    nrows, ncols : int
        Grid of panels.
    panel_size : (float, float)
        Width and height of one panel (inches).
    sharex, sharey : bool
        Share the x / y axis between all panels.

    Returns
    -------
    (matplotlib.figure.Figure, numpy.ndarray of Axes)
        The axes always as a 2-D array (nrows, ncols).
    """
    # Made through pyplot, then closed at once: pyplot then holds no reference (no figure
    # piles up in scripts), but the figure keeps pyplot's canvas, so Jupyter shows it inline.
    fig = plt.figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    plt.close(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey)
    return fig, axes


def _legend_below(fig: Figure, handles: list, labels: list[str], *, title: str | None = None,
                  ncol: int | None = None) -> None:
    """One legend for the whole figure, under the panels, so it never covers data."""
    # About 0.065 inch per character at 8 pt plus 0.7 inch of handle and spacing per entry:
    # one row if every entry fits the width, else as many columns of the widest entry as fit.
    width = fig.get_figwidth()
    sizes = [0.7 + 0.065 * len(label) for label in labels]
    fits = len(labels) if sum(sizes) <= width else int(width // max(sizes, default=1.0))
    fig.legend(handles, labels, loc="outside lower center", title=title,
               ncol=ncol or max(1, min(len(labels), 6, fits)), frameon=False)
