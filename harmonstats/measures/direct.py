"""Cortical thickness by ANTs DiReCT (KellyKapowski), through antspyx: the reference method.

DiReCT needs a segmentation in its own convention: 1 = CSF and everything outside the brain,
2 = cortical GM, 3 = WM. Deep GM, cerebellum and brainstem lie on the inner side of the cortical
ribbon, so they are given to the WM side (label 3), the same choice as for the ``laplace``
method. The GM and WM "probabilities" are the binary masks. Voxel spacing is passed from the
NIfTI header, so thickness comes out in mm.

References
----------
Das, Avants, Grossman & Gee (2009), Registration based cortical thickness measurement,
NeuroImage 45(3), 867-879.
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, section 2.4.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["DIRECT_PARAMS", "direct_thickness"]

#: DiReCT settings used by the paper's pipeline (PAPER_NOTES.md).
DIRECT_PARAMS: dict[str, float] = {"its": 45, "r": 0.025, "m": 1.5, "x": 0}


def direct_thickness(
    gm: np.ndarray,
    inner: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    *,
    subject: str = "",
    its: int = 45,
    r: float = 0.025,
    m: float = 1.5,
) -> np.ndarray:
    """Cortical thickness at every GM voxel by DiReCT (``ants.kelly_kapowski``).

    Parameters
    ----------
    gm : numpy.ndarray of bool, shape (X, Y, Z)
        Cortical GM mask.
    inner : numpy.ndarray of bool, shape (X, Y, Z)
        WM-side mask (WM, deep GM, cerebellum, brainstem).
    spacing : sequence of 3 float
        Voxel size in mm.
    subject : str
        Name used in error messages.
    its, r, m : int, float, float
        DiReCT's iterations, gradient step and gradient-field smoothing (paper: 45, 0.025, 1.5).

    Returns
    -------
    numpy.ndarray of float64, shape (X, Y, Z)
        Thickness in mm on GM voxels (DiReCT leaves 0 where it found none), NaN elsewhere.

    Raises
    ------
    ValueError
        If DiReCT fails (it returns an all-zero map, e.g. when GM and WM do not touch).
    """
    import ants

    gm = np.asarray(gm, dtype=bool)
    inner = np.asarray(inner, dtype=bool) & ~gm
    seg = np.ones(gm.shape, dtype=np.uint32)
    seg[gm] = 2
    seg[inner] = 3
    h = tuple(float(s) for s in spacing)
    s_img = ants.from_numpy(seg.astype(np.float32), spacing=h).clone("unsigned int")
    g_img = ants.from_numpy(gm.astype(np.float32), spacing=h)
    w_img = ants.from_numpy(inner.astype(np.float32), spacing=h)
    try:
        thick = ants.kelly_kapowski(s=s_img, g=g_img, w=w_img, its=its, r=r, m=m, x=0)
    except RuntimeError as exc:
        who = f"subject {subject}: " if subject else ""
        raise ValueError(f"{who}DiReCT (ants.kelly_kapowski) failed: {exc}") from exc
    out = np.full(gm.shape, np.nan)
    out[gm] = thick.numpy()[gm]
    return out
