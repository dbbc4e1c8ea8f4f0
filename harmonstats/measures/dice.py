"""Dice overlap per tissue between two label maps."""

from __future__ import annotations

import numpy as np

from harmonstats.labels import TISSUES

__all__ = ["dice_scores"]


def dice_scores(labels: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Dice coefficient of each of the 6 tissues between a label map and a reference map.

    ``Dice = 2 |A & B| / (|A| + |B|)``. A tissue absent from both maps has no defined overlap and
    gets NaN (not 1): an empty class says nothing about segmentation quality.

    Parameters
    ----------
    labels, reference : numpy.ndarray of int, shape (X, Y, Z)
        Label maps in the 7-tissue scheme, on the same voxel grid.

    Returns
    -------
    dict
        ``dice_<tissue>`` for csf, cgm, wm, dgm, cerebellum, brainstem (unitless, 0..1, NaN when
        the tissue is absent from both maps).

    References
    ----------
    Dice (1945), Measures of the amount of ecologic association between species, Ecology 26(3).
    """
    a = np.asarray(labels)
    b = np.asarray(reference)
    if a.shape != b.shape:
        raise ValueError(f"label maps differ in shape: {a.shape} vs reference {b.shape}")
    out: dict[str, float] = {}
    for value, name in TISSUES.items():
        if value == 0:
            continue
        in_a = a == value
        in_b = b == value
        total = int(in_a.sum()) + int(in_b.sum())
        out[f"dice_{name}"] = (2.0 * float(np.count_nonzero(in_a & in_b)) / total
                               if total else float("nan"))
    return out
