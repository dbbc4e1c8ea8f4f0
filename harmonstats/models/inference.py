"""Applying trained networks to whole volumes of any size (MONAI sliding windows)."""

from __future__ import annotations

import torch
from monai.inferers import sliding_window_inference
from torch import nn

__all__ = ["predict_labels", "predict_probabilities"]


def predict_probabilities(model: nn.Module, image: torch.Tensor, *, roi: int, overlap: float = 0.5,
                          device: torch.device | str = "cpu", sw_batch_size: int = 1
                          ) -> torch.Tensor:
    """Class probabilities of a whole volume, windows blended with Gaussian weights.

    Parameters
    ----------
    model : torch.nn.Module
        Segmenter returning logits ``(N, C, *spatial)``.
    image : torch.Tensor
        Prepared image ``(1, *spatial)`` (one channel, any size).
    roi : int
        Window edge in voxels (the training crop size).
    overlap : float
        Fraction of overlap between windows.
    device : torch.device or str
        Where the network runs; the blended output is kept on the CPU.

    Returns
    -------
    torch.Tensor
        ``(C, *spatial)`` probabilities.
    """
    if image.ndim != 4 or image.shape[0] != 1:
        raise ValueError(f"expected a one-channel volume (1, X, Y, Z), got {tuple(image.shape)}")
    dev = torch.device(device)
    model.eval()

    def _predict(window: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            return torch.softmax(model(window.to(dev)).float(), dim=1)

    with torch.no_grad():
        probs = sliding_window_inference(
            image[None].float(), roi_size=(roi,) * 3, sw_batch_size=sw_batch_size,
            predictor=_predict, overlap=overlap, mode="gaussian", sw_device=dev,
            device=torch.device("cpu"))
    return probs[0]


def predict_labels(model: nn.Module, image: torch.Tensor, *, roi: int, overlap: float = 0.5,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Hard label map ``(*spatial)`` (int64): the arg-max of :func:`predict_probabilities`."""
    return predict_probabilities(model, image, roi=roi, overlap=overlap, device=device).argmax(0)
