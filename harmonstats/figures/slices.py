"""Example slices: a subject's T2w image and each method's tissue labels (paper Fig 9).

References
----------
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, Figure 9.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from harmonstats.figures.style import (
    TISSUE_COLORS,
    _legend_below,
    figure_style,
    new_figure,
    tissue_colormap,
)
from harmonstats.io import load_nifti
from harmonstats.labels import TISSUES

__all__ = ["PLANES", "plot_example_slices"]

#: Plane name -> voxel axis the slice is taken across (arrays in RAS-like voxel order).
PLANES: dict[str, int] = {"sagittal": 0, "coronal": 1, "axial": 2}

Volume = np.ndarray | str | os.PathLike[str]


def _load(volume: Volume, what: str) -> tuple[np.ndarray, tuple[float, ...] | None]:
    if isinstance(volume, str | os.PathLike):
        img = load_nifti(volume, what=what)
        return np.asanyarray(img.dataobj), tuple(float(z) for z in img.header.get_zooms()[:3])
    if isinstance(volume, np.ndarray):
        if volume.ndim != 3:
            raise ValueError(f"{what}: expected a 3D array, got shape {volume.shape}")
        return volume, None
    raise TypeError(f"{what} must be a 3D numpy array or a NIfTI path, got "
                    f"{type(volume).__name__}")


def _cut(volume: np.ndarray, axis: int, index: int) -> np.ndarray:
    # Rows of the displayed image run along the second remaining axis, drawn bottom-up.
    return np.take(volume, index, axis=axis).T


def plot_example_slices(image: Volume, labels: Mapping[str, Volume], *,
                        planes: Sequence[str] = ("sagittal", "axial"),
                        index: Mapping[str, int] | None = None,
                        spacing: Sequence[float] | None = None, title: str | None = None,
                        panel_size: float = 2.4) -> Figure:
    """The T2w image and each method's 7-tissue labels on the same slices (paper Fig 9).

    Parameters
    ----------
    image : numpy.ndarray or path
        The subject's T2w volume (3D array or NIfTI file).
    labels : mapping of str to numpy.ndarray or path
        Method name -> its label map of the same subject, in the 7-tissue scheme
        (:data:`harmonstats.labels.TISSUES`, values 0-6), same shape as ``image``.
    planes : sequence of str
        One row per plane: ``sagittal`` (voxel axis 0), ``coronal`` (1), ``axial`` (2).
    index : mapping of str to int, optional
        Plane -> slice index (voxels); default the middle slice.
    spacing : sequence of 3 float, optional
        Voxel size (mm) for the aspect ratio; default the image header's, or isotropic.
    title : str, optional
        Figure title (e.g. the participant ID and ages).
    panel_size : float
        Size of one panel (inches).

    Returns
    -------
    matplotlib.figure.Figure
        A grid with one row per plane and one column for the image then one per method; labels
        are drawn with the fixed tissue colours of :func:`harmonstats.figures.style.
        tissue_colormap`, with a tissue legend below.

    Raises
    ------
    ValueError
        If ``labels`` is empty, a volume is not 3D, shapes differ, a label map holds a value
        outside 0-6 (naming the method), or a plane or slice index is invalid.
    FileNotFoundError
        If a path does not exist.
    """
    if not isinstance(labels, Mapping) or not labels:
        raise ValueError("labels must be a non-empty mapping of method name -> label map")
    img, zooms = _load(image, "T2w image")
    maps = {}
    for method, volume in labels.items():
        arr, _ = _load(volume, f"label map of method {method!r}")
        if arr.shape != img.shape:
            raise ValueError(f"label map of method {method!r} has shape {arr.shape}, the image "
                             f"{img.shape}")
        values = np.unique(arr)
        bad = values[~np.isin(values, list(TISSUES))]
        if len(bad):
            raise ValueError(f"label map of method {method!r} holds label {bad[0].item()!r} "
                             "outside the 7-tissue scheme (0-6)")
        maps[str(method)] = np.asarray(arr, dtype=np.int16)
    vox = tuple(float(s) for s in spacing) if spacing is not None else zooms or (1.0, 1.0, 1.0)
    if len(vox) != 3:
        raise ValueError(f"spacing must have 3 values (mm), got {spacing!r}")
    cuts = []
    for plane in planes:
        if plane not in PLANES:
            raise ValueError(f"unknown plane {plane!r}; use one of {list(PLANES)}")
        axis = PLANES[plane]
        idx = (index or {}).get(plane, img.shape[axis] // 2)
        if not 0 <= idx < img.shape[axis]:
            raise ValueError(f"slice index {idx} of plane {plane!r} is outside 0-"
                             f"{img.shape[axis] - 1}")
        cuts.append((plane, axis, int(idx)))
    finite = img[np.isfinite(img)]
    vmin, vmax = (np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0))
    cmap, norm = tissue_colormap()
    with figure_style("white"):
        fig, axes = new_figure(len(cuts), 1 + len(maps), panel_size=(panel_size, panel_size))
        for row, (plane, axis, idx) in zip(axes, cuts, strict=True):
            other = [s for k, s in enumerate(vox) if k != axis]
            aspect = other[1] / other[0]
            row[0].imshow(_cut(img, axis, idx), cmap="gray", vmin=vmin, vmax=vmax,
                          origin="lower", aspect=aspect, interpolation="nearest")
            row[0].set_ylabel(f"{plane} {idx}")
            for ax, (_method, arr) in zip(row[1:], maps.items(), strict=True):
                ax.imshow(_cut(arr, axis, idx), cmap=cmap, norm=norm, origin="lower",
                          aspect=aspect, interpolation="nearest")
            for ax in row:
                ax.set_xticks([])
                ax.set_yticks([])
        for ax, name in zip(axes[0], ["T2w", *maps], strict=True):
            ax.set_title(name)
        if title is not None:
            fig.suptitle(title)
        tissues = [(v, n) for v, n in sorted(TISSUES.items()) if v]
        handles = [Patch(facecolor=TISSUE_COLORS[v], edgecolor="0.3") for v, _ in tissues]
        _legend_below(fig, handles, [n for _, n in tissues], title="tissue")
    return fig
