"""Cortical thickness by ANTs DiReCT (KellyKapowski), through antspyx: the reference method.

DiReCT needs a segmentation in its own convention: 1 = CSF and everything outside the brain,
2 = cortical GM, 3 = WM. Deep GM, cerebellum and brainstem lie on the inner side of the cortical
ribbon, so they are given to the WM side (label 3), the same choice as for the ``laplace``
method. Voxel spacing is passed from the NIfTI header, so thickness comes out in mm. The
iterations, gradient step and velocity-field smoothing are the paper's (45, 0.025, 1.5); all
other settings are KellyKapowski's defaults (thickness prior 10 mm, no convergence stop: this
build runs all 45 iterations).

GM and WM probability maps. DiReCT grows the WM until the warped WM probability matches the GM
probability. From a label map, the GM and WM "probabilities" are the binary masks (the default,
``prob_sigma=0``). ``prob_sigma > 0`` smooths the masks with a Gaussian of that sigma in mm
(``ants.smooth_image``), as the KellyKapowski program does itself (variance 1 mm^2) when it is
given only a segmentation. That smoothing is not the default because it is wrong at neonatal
scale: on spherical shells at 0.5 mm voxels (``benchmarks/thickness.py --parts cases
--prob-sigma 1``) sigma 1 mm gave 1.26 mm for a 2 mm shell and 2.68 mm for a 3 mm one, where
the binary masks give within 0.2 mm; and on the synthetic brains of an earlier generator (CSF
between all banks) it lowered DiReCT's bias (+0.60 to +0.19 mm) only by under-estimating away
from the poles, while its correlation with the true thickness fell (r 0.829 to 0.776).

Where DiReCT is wrong (measured; DiReCT's, not this wrapper's; ``benchmarks/thickness.py``,
figures in the README): its only outer boundary is the label map's CSF, so where two banks
touch with no CSF voxel between them it measures across both. On the closed-form cases of
:mod:`harmonstats.measures.phantoms` at 0.5 mm it reads a fold closed along its whole length
+0.63 to +0.85 mm thick on average and a shell with a closed slit +0.30 to +0.32 mm, while two
flat banks pressed together read 0.24 mm thin; on a ribbon thickening linearly it is 0.11 mm
low. On the folded synthetic brains (touching banks, per-voxel truth) see the README.

Checked and ruled out, on the earlier generator's brains (CSF in every sulcus): DiReCT left no
GM voxel at 0 (a 0 would count in the means); its thickness prior (10 mm) never bound (maximum
4.9 mm on the two brains mapped); all 45 iterations ran (this build's convergence threshold is
0); no GM touched the background; the cerebellum never touched the cortex,
and deep GM and brainstem touched under 10% of the GM voxels that touch the WM side. DiReCT is
also unreliable next to WM thinner than its own smoothing scales (1 mm for the WM-probability
gradient): a flat WM sheet 0.5-1.5 mm wide under 2 mm of GM gives 0.9-1.9 mm, a WM ball or
rod of radius 0.5-1 mm 1.1-1.7 mm.

References
----------
Das, Avants, Grossman & Gee (2009), Registration based cortical thickness measurement,
NeuroImage 45(3), 867-879.
Grigorescu et al. (2021), Harmonised segmentation of neonatal brain MRI, section 2.4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["DIRECT_PARAMS", "PROBABILITY_SIGMA", "direct_thickness"]

#: Default Gaussian sigma (mm) that turns the GM and WM masks into DiReCT's probability maps:
#: 0, the binary masks (see the module notes for why not KellyKapowski's own 1 mm).
PROBABILITY_SIGMA = 0.0

#: DiReCT settings used by the paper's pipeline (PAPER_NOTES.md).
DIRECT_PARAMS: dict[str, float] = {"its": 45, "r": 0.025, "m": 1.5, "x": 0,
                                   "probability_sigma_mm": PROBABILITY_SIGMA}


def _probability(mask: np.ndarray, spacing: tuple[float, ...], sigma: float) -> Any:
    import ants

    img = ants.from_numpy(mask.astype(np.float32), spacing=spacing)
    if sigma == 0:
        return img
    return ants.smooth_image(img, sigma, sigma_in_physical_coordinates=True)


def direct_thickness(
    gm: np.ndarray,
    inner: np.ndarray,
    spacing: Sequence[float] = (1.0, 1.0, 1.0),
    *,
    subject: str = "",
    its: int = 45,
    r: float = 0.025,
    m: float = 1.5,
    prob_sigma: float = PROBABILITY_SIGMA,
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
        DiReCT's iterations, gradient step and velocity-field smoothing (paper: 45, 0.025, 1.5).
    prob_sigma : float
        Gaussian sigma (mm) that turns the GM and WM masks into DiReCT's probability maps;
        0 (default) passes the binary masks, 1 is what KellyKapowski does for a segmentation
        alone (too blurred for a 2-3 mm ribbon at 0.5 mm voxels: see the module notes).

    Returns
    -------
    numpy.ndarray of float64, shape (X, Y, Z)
        Thickness in mm on GM voxels (DiReCT leaves 0 where it found none), NaN elsewhere.

    Raises
    ------
    ValueError
        If ``prob_sigma`` is negative or not finite, or if DiReCT fails (it returns an all-zero
        map, e.g. when GM and WM do not touch).
    """
    import ants

    if not np.isfinite(prob_sigma) or prob_sigma < 0:
        raise ValueError(f"prob_sigma must be a finite number >= 0 (mm), got {prob_sigma!r}")
    gm = np.asarray(gm, dtype=bool)
    inner = np.asarray(inner, dtype=bool) & ~gm
    seg = np.ones(gm.shape, dtype=np.uint32)
    seg[gm] = 2
    seg[inner] = 3
    h = tuple(float(s) for s in spacing)
    s_img = ants.from_numpy(seg.astype(np.float32), spacing=h).clone("unsigned int")
    g_img = _probability(gm, h, prob_sigma)
    w_img = _probability(inner, h, prob_sigma)
    try:
        thick = ants.kelly_kapowski(s=s_img, g=g_img, w=w_img, its=its, r=r, m=m, x=0)
    except RuntimeError as exc:
        who = f"subject {subject}: " if subject else ""
        raise ValueError(f"{who}DiReCT (ants.kelly_kapowski) failed: {exc}") from exc
    out = np.full(gm.shape, np.nan)
    out[gm] = thick.numpy()[gm]
    return out
