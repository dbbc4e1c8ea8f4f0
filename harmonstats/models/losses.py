"""Losses of the paper: generalised Dice, global signed NCC, LSGAN and domain cross-entropy."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "GeneralisedDiceLoss",
    "dice_per_class",
    "domain_cross_entropy",
    "generalised_dice_loss",
    "global_ncc_loss",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
]


def generalised_dice_loss(
    probs: torch.Tensor, target: torch.Tensor, *, smooth_nr: float = 1e-5, smooth_dr: float = 1e-5
) -> torch.Tensor:
    """Generalised Dice loss of Sudre et al. (2017), pooled over the batch.

    ``1 - (2 sum_l w_l sum_n p_ln t_ln + s_nr) / (sum_l w_l sum_n (p_ln + t_ln) + s_dr)`` with
    ``w_l = 1 / (sum_n t_ln)^2``. A class absent from the target would have an infinite weight;
    it takes the largest finite weight instead (MONAI's convention).

    Parameters
    ----------
    probs : torch.Tensor
        Class probabilities ``(N, C, *spatial)``.
    target : torch.Tensor
        Integer labels ``(N, *spatial)`` or ``(N, 1, *spatial)`` in ``[0, C)``, or a one-hot /
        soft target of the same shape as ``probs``.
    smooth_nr, smooth_dr : float
        Added to the numerator and the denominator.

    Returns
    -------
    torch.Tensor
        Scalar loss in [0, 1].

    References
    ----------
    Sudre C. H. et al. (2017). Generalised Dice overlap as a deep learning loss function for
    highly unbalanced segmentations. DLMIA, LNCS 10553.
    """
    onehot = _as_onehot(target, probs)
    dims = [0, *range(2, probs.ndim)]
    tsum = onehot.sum(dim=dims)
    w = 1.0 / (tsum * tsum)
    finite = torch.isfinite(w)
    max_w = w[finite].max() if finite.any() else torch.ones((), device=w.device, dtype=w.dtype)
    w = torch.where(finite, w, max_w)
    inter = (probs * onehot).sum(dim=dims)
    denom = (probs + onehot).sum(dim=dims)
    return 1.0 - (2.0 * (w * inter).sum() + smooth_nr) / ((w * denom).sum() + smooth_dr)


def _as_onehot(target: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    if target.shape == probs.shape and target.is_floating_point():
        return target
    labels = target[:, 0] if target.ndim == probs.ndim else target
    if labels.shape != (probs.shape[0], *probs.shape[2:]):
        raise ValueError(
            f"target shape {tuple(target.shape)} does not match predictions {tuple(probs.shape)}"
        )
    n_classes = probs.shape[1]
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(
            f"target labels range {int(labels.min())}..{int(labels.max())} is outside the "
            f"{n_classes} classes of the prediction"
        )
    onehot = F.one_hot(labels.long(), n_classes).movedim(-1, 1)
    return onehot.to(probs.dtype)


class GeneralisedDiceLoss(nn.Module):
    """:func:`generalised_dice_loss` on logits (softmax applied here), optionally plus CE.

    Parameters
    ----------
    smooth_nr, smooth_dr : float
        See :func:`generalised_dice_loss`.
    ce_weight : float
        Weight of an added voxel-wise cross-entropy term (0: the paper's GDL alone). The GDL's
        ``1 / volume^2`` weights let the small classes dominate the first few hundred steps;
        the cross-entropy term makes the large classes (CSF, cortex, WM) learn from the start,
        which matters for short runs.
    """

    def __init__(self, smooth_nr: float = 1e-5, smooth_dr: float = 1e-5,
                 ce_weight: float = 0.0) -> None:
        super().__init__()
        self.smooth_nr = smooth_nr
        self.smooth_dr = smooth_dr
        self.ce_weight = ce_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Return the loss of ``softmax(logits)`` against ``target`` (integer labels)."""
        logits = logits.float()
        loss = generalised_dice_loss(torch.softmax(logits, dim=1), target,
                                     smooth_nr=self.smooth_nr, smooth_dr=self.smooth_dr)
        if self.ce_weight:
            labels = target[:, 0] if target.ndim == logits.ndim else target
            loss = loss + self.ce_weight * F.cross_entropy(logits, labels.long())
        return loss


def dice_per_class(labels_pred: torch.Tensor, labels_true: torch.Tensor, n_classes: int
                        ) -> torch.Tensor:
    """Dice of two hard label maps per class.

    Returns
    -------
    torch.Tensor
        ``(n_classes,)`` on the CPU; NaN for a class present in neither map.
    """
    dices = []
    for c in range(n_classes):
        p = labels_pred == c
        t = labels_true == c
        denom = p.sum() + t.sum()
        dices.append(2.0 * (p & t).sum() / denom if denom > 0 else torch.tensor(float("nan")))
    return torch.stack([d.float().cpu() for d in dices])


def global_ncc_loss(x: torch.Tensor, y: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    """One minus the global, signed normalised cross-correlation, averaged over the batch.

    ``1 - sum(x'y') / sqrt(sum x'^2 sum y'^2 + eps)``, ``x', y'`` mean-centred per image. It is 0
    for identical images and 2 for a contrast-inverted copy (MONAI's local NCC is squared and
    cannot tell these apart).

    Parameters
    ----------
    x, y : torch.Tensor
        Images ``(N, C, *spatial)``.

    Returns
    -------
    torch.Tensor
        Scalar in [0, 2].
    """
    if x.shape != y.shape:
        raise ValueError(
            f"NCC needs images of one shape, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    xf = x.float().flatten(1)
    yf = y.float().flatten(1)
    xc = xf - xf.mean(dim=1, keepdim=True)
    yc = yf - yf.mean(dim=1, keepdim=True)
    ncc = (xc * yc).sum(1) / torch.sqrt((xc * xc).sum(1) * (yc * yc).sum(1) + eps)
    return (1.0 - ncc).mean()


def lsgan_discriminator_loss(
    d_real: torch.Tensor, d_fake: torch.Tensor, *, real_label: float = 1.0, fake_label: float = 0.0
) -> torch.Tensor:
    """Least-squares GAN discriminator loss ``E[(D(real) - b)^2] + E[(D(fake) - a)^2]``.

    References
    ----------
    Mao X. et al. (2017). Least squares generative adversarial networks. ICCV.
    """
    return ((d_real.float() - real_label) ** 2).mean() + ((d_fake.float() - fake_label) ** 2).mean()


def lsgan_generator_loss(d_fake: torch.Tensor, *, real_label: float = 1.0) -> torch.Tensor:
    """Least-squares GAN generator loss ``E[(D(G(x)) - b)^2]``."""
    return ((d_fake.float() - real_label) ** 2).mean()


def domain_cross_entropy(logits: torch.Tensor, domain: torch.Tensor | int) -> torch.Tensor:
    """Voxel-wise cross-entropy of a domain classifier.

    Parameters
    ----------
    logits : torch.Tensor
        ``(N, 2, *spatial)`` domain logits.
    domain : torch.Tensor or int
        Domain per sample ``(N,)`` (0 source, 1 target) or one domain for the whole batch.
    """
    n = logits.shape[0]
    dom = torch.as_tensor(domain, device=logits.device, dtype=torch.long).expand(n)
    target = dom.view(n, *([1] * (logits.ndim - 2))).expand(n, *logits.shape[2:])
    return F.cross_entropy(logits.float(), target)
