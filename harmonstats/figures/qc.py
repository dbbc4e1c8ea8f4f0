"""Segmentation QC mosaic: one slice per subject, grouped by cohort, flagged maps framed in red.

The view MRIQC users know: a page of thumbnails on which a failed segmentation stands out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from harmonstats.figures.slices import PLANES, _cut
from harmonstats.figures.style import (
    TISSUE_COLORS,
    _legend_below,
    figure_style,
    new_figure,
    tissue_colormap,
)
from harmonstats.io import load_nifti
from harmonstats.labels import TISSUES
from harmonstats.layout.names import scans_of

__all__ = ["plot_qc_mosaic"]

_FLAG_COLOR = "#d62728"


def _slice(volume: np.ndarray, labels: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """The slice across ``axis`` through the centre of the brain (labelled voxels)."""
    brain = np.nonzero(labels > 0)
    index = int(np.median(brain[axis])) if brain[axis].size else labels.shape[axis] // 2
    return _cut(volume, axis, index), _cut(labels, axis, index)


def plot_qc_mosaic(
    cohort: Any,
    method: str,
    *,
    qc: pd.DataFrame | None = None,
    plane: str = "axial",
    columns: int = 10,
    max_per_group: int | None = None,
    panel_size: float = 1.25,
    alpha: float = 0.45,
) -> Figure:
    """One slice per subject of a method's tissue maps over the T2w image, grouped by cohort.

    Parameters
    ----------
    cohort : Cohort
        The study (participants with ``cohort``; images and label maps).
    method : str
        Whose maps to show.
    qc : pandas.DataFrame, optional
        :func:`harmonstats.measures.qc.segmentation_qc` table: a map with any flag gets a red
        frame and the number of its flags in its title.
    plane : {"axial", "coronal", "sagittal"}
        Slice direction; each slice passes through the centre of the subject's labelled brain.
    columns : int
        Panels per row.
    max_per_group : int, optional
        At most this many subjects per cohort, flagged ones first (default: all).
    panel_size : float
        Edge of one panel (inches).
    alpha : float
        Opacity of the labels over the image.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``method`` is not in the cohort, ``plane`` is unknown or ``columns`` < 1.
    """
    if method not in cohort.methods:
        raise ValueError(f"unknown method {method!r}; cohort has {cohort.methods}")
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}; use one of {list(PLANES)}")
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    axis = PLANES[plane]
    flags: dict[str, int] = {}
    if qc is not None:
        own = qc[qc["method"] == method]
        own = own.assign(scan=[s.key for s in scans_of(own)])
        flags = {str(k): int(v) for k, v in own.groupby("scan")["flag"].sum().items()}
    table = cohort.participants.assign(scan=[s.key for s in cohort.scans])
    groups: list[tuple[str, list[str]]] = []
    for name, rows in table.groupby("cohort", sort=False):
        ids = sorted(rows["scan"].astype(str), key=lambda p: -flags.get(p, 0))
        groups.append((str(name), ids[:max_per_group] if max_per_group else ids))
    layout = [(name, ids[i:i + columns]) for name, ids in groups
              for i in range(0, len(ids), columns)]
    cmap, norm = tissue_colormap()
    with figure_style("white"):
        fig, axes = new_figure(len(layout), columns, panel_size=(panel_size, panel_size))
        shown: set[str] = set()
        for row_axes, (group, ids) in zip(axes, layout, strict=True):
            for k, ax in enumerate(row_axes):
                ax.set_xticks([])
                ax.set_yticks([])
                if k >= len(ids):
                    ax.set_visible(False)
                    continue
                pid = ids[k]
                labels = np.asarray(load_nifti(cohort.label_path(method, pid)).dataobj)
                image_path = cohort.image_path(pid)
                image = (np.asarray(load_nifti(image_path).dataobj, dtype=np.float32)
                         if image_path is not None else labels.astype(np.float32))
                img, lab = _slice(image, labels, axis)
                lo, hi = np.percentile(img, [1, 99]) if img.size else (0.0, 1.0)
                ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, origin="lower",
                          interpolation="nearest")
                ax.imshow(np.ma.masked_equal(lab, 0), cmap=cmap, norm=norm, alpha=alpha,
                          origin="lower", interpolation="nearest")
                n = flags.get(pid, 0)
                ax.set_title(f"{pid}" + (f" ({n})" if n else ""), fontsize=7,
                             color=_FLAG_COLOR if n else "black")
                if n:
                    for spine in ax.spines.values():
                        spine.set(visible=True, color=_FLAG_COLOR, linewidth=2.5)
            if group not in shown:
                row_axes[0].set_ylabel(group, fontsize=9)
                shown.add(group)
        fig.suptitle(f"{method}: one {plane} slice per subject"
                     + ("; red: maps with QC flags (their number)" if qc is not None else ""),
                     fontsize=10)
        tissues = [(v, n) for v, n in sorted(TISSUES.items()) if v]
        handles = [Patch(facecolor=TISSUE_COLORS[v], edgecolor="0.3") for v, _ in tissues]
        _legend_below(fig, handles, [n for _, n in tissues], title="tissue")
    return fig

