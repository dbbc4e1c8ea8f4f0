"""What the validation of the adaptation models watches besides Dice.

The latent model's domain classifier accuracy (the authors' selection rule), and, for the image
model, how close the generated source images come to the target's intensities: the two-sample
Kolmogorov-Smirnov distance between the generated source image's values in a tissue and the
target images' values in the same tissue (cortical GM and CSF, where the target's contrast
differs most), beside the same distance for the untranslated source images as the reference.
A generator that adapts drives the first below the second. And the image discriminator's
accuracy on the same crops, real target images and generated source images apart: a
discriminator that wins outright is right on (nearly) every patch of both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from harmonstats.models.data import VolumeDataset

__all__ = ["KS_TISSUES", "ValidationCrops", "discriminator_accuracy", "intensity_ks",
           "translation_ks"]

#: Tissues (label, name) whose intensity distance the image model logs.
KS_TISSUES: dict[int, str] = {1: "csf", 2: "gm"}


@dataclass
class ValidationCrops:
    """Fixed validation crops of both domains (labels where the study has them)."""

    source: VolumeDataset
    target: VolumeDataset

    def images(self) -> Iterator[tuple[torch.Tensor, int]]:
        """``(image (1, 1, *crop), domain)``: source crops (0), then target crops (1)."""
        for domain, ds in enumerate((self.source, self.target)):
            for i in range(len(ds)):
                yield ds[i]["image"][None], domain

    def labelled(self, which: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(image (1, *crop), labels (*crop))]`` of ``source`` or ``target``; empty without
        labels."""
        ds = self.source if which == "source" else self.target
        items = [ds[i] for i in range(len(ds))]
        return [(it["image"], it["label"]) for it in items if "label" in it]


def intensity_ks(values: np.ndarray, reference: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (largest gap between the two empirical CDFs).

    NaN if either sample is empty.
    """
    if values.size == 0 or reference.size == 0:
        return float("nan")
    return float(stats.ks_2samp(values, reference).statistic)


def _tissue_values(pairs: list[tuple[torch.Tensor, torch.Tensor]], label: int) -> np.ndarray:
    return np.concatenate([img[0][lab == label].numpy().ravel() for img, lab in pairs]
                          or [np.empty(0, np.float32)])


def translation_ks(translate: Callable[[torch.Tensor], torch.Tensor],
                   crops: ValidationCrops) -> dict[str, float]:
    """KS distance to the target of generated and of untranslated source intensities per tissue.

    Parameters
    ----------
    translate : callable
        The generator: ``(1, 1, *crop)`` image -> image of the same shape.
    crops : ValidationCrops
        Source crops with their (training-label) tissue maps, target crops with theirs.

    Returns
    -------
    dict
        ``ks_<tissue>`` (generated source vs target) and ``ks_<tissue>_source`` (source vs
        target) for the tissues of :data:`KS_TISSUES`; NaN when the target crops have no labels.
    """
    source, target = crops.labelled("source"), crops.labelled("target")
    generated = [(translate(img[None])[0].float().cpu(), lab) for img, lab in source]
    out = {}
    for label, name in KS_TISSUES.items():
        ref = _tissue_values(target, label)
        out[f"ks_{name}"] = intensity_ks(_tissue_values(generated, label), ref)
        out[f"ks_{name}_source"] = intensity_ks(_tissue_values(source, label), ref)
    return out


def discriminator_accuracy(translate: Callable[[torch.Tensor], torch.Tensor],
                           discriminate: Callable[[torch.Tensor], torch.Tensor],
                           crops: ValidationCrops, *, real_label: float = 1.0,
                           fake_label: float = 0.0) -> dict[str, float]:
    """Fraction of the image discriminator's patches that are right, on real and generated crops.

    A patch of a target crop is right when its LSGAN score is nearer ``real_label`` than
    ``fake_label``; a patch of a generated source crop when it is nearer ``fake_label``.

    Returns
    -------
    dict
        ``d_acc_real`` (target crops) and ``d_acc_fake`` (generated source crops), in [0, 1].
    """
    threshold = 0.5 * (real_label + fake_label)
    right = {0: 0, 1: 0}
    total = {0: 0, 1: 0}
    for image, domain in crops.images():
        if domain == 0:
            scores = discriminate(translate(image))
            right[0] += int((scores < threshold).sum())
        else:
            scores = discriminate(image)
            right[1] += int((scores >= threshold).sum())
        total[domain] += scores.numel()
    return {"d_acc_real": right[1] / total[1] if total[1] else float("nan"),
            "d_acc_fake": right[0] / total[0] if total[0] else float("nan")}
