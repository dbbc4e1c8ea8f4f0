"""The report's segment stage: apply trained models to a study's T2w images, then parcellate.

A study YAML names, per method, either existing label maps or a ``checkpoint``; the built-in
demo uses the demo checkpoints shipped in the repository's ``models/demo/`` folder. Outputs go
to ``<out>/derivatives/<method>/`` (the layout :class:`harmonstats.cohort.Cohort` reads) and are
reused on the next run while the checkpoints stay the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import harmonstats
from harmonstats.cohort import Cohort

__all__ = ["DEMO_MODEL_NAMES", "SegmentPlan", "check_images", "demo_models", "model_summaries",
           "run_segmentation"]

#: The six domain-adaptation models of the paper, in the order the report lists them.
DEMO_MODEL_NAMES = ("baseline", "baseline_aug", "latent", "latent_aug", "image", "image_aug",
                    "randomised")


@dataclass
class SegmentPlan:
    """Which models to apply to which images, and how to load the cohort afterwards.

    Attributes
    ----------
    models : dict of str to path
        Method name -> segmenter checkpoint (or run folder).
    images : dict of str to path
        Participant ID -> T2w image.
    out : path
        Folder whose ``derivatives/<method>/`` receives the label maps.
    parcellation : path, optional
        Parcellation checkpoint applied to every predicted cortical GM.
    device : str
        ``auto``, ``cpu`` or ``cuda``.
    load_cohort : callable
        Returns the cohort with every method, model outputs included.
    precision : str
        ``auto``, ``fp32`` or ``bf16`` (see :func:`harmonstats.models.apply.segment_images`).
    """

    models: dict[str, Path]
    images: dict[str, Path]
    out: Path
    parcellation: Path | None
    device: str
    load_cohort: Callable[[], Cohort]
    precision: str = "auto"


def run_segmentation(plan: SegmentPlan, *, progress: bool = False) -> Cohort:
    """Segment every image with every model (skipping finished subjects); return the cohort."""
    from harmonstats.models.apply import segment_images
    from harmonstats.models.train import resolve_device

    device = str(resolve_device(plan.device))
    for method, checkpoint in plan.models.items():
        segment_images(checkpoint, plan.images, plan.out, method=method,
                       parcellation=plan.parcellation, device=device,
                       precision=plan.precision, progress=progress)
    return plan.load_cohort()


def demo_models(folder: str | os.PathLike[str] | None = None
                ) -> tuple[dict[str, Path], Path | None]:
    """The demo checkpoints present: ``{name: path}`` of the six models, and the parcellation.

    Parameters
    ----------
    folder : path, optional
        Where to look (default: ``models/demo`` of the repository harmonstats runs from).
    """
    where = Path(folder) if folder is not None else (
        Path(harmonstats.__file__).resolve().parents[1] / "models" / "demo")
    found = {name: where / f"{name}.pt" for name in DEMO_MODEL_NAMES
             if (where / f"{name}.pt").is_file()}
    parcellation = where / "parcellation.pt"
    return found, parcellation if parcellation.is_file() else None


def check_images(images: Mapping[str, Path]) -> None:
    """Raise FileNotFoundError naming the first subject whose T2w image is missing."""
    for pid, path in images.items():
        if not Path(path).is_file():
            raise FileNotFoundError(f"subject {pid}: T2w image to segment not found: {path}")


def model_summaries(plan: SegmentPlan) -> dict[str, str]:
    """Method -> a one-line description of its model, from the checkpoint's metadata."""
    from harmonstats.models.checkpoint import load_checkpoint

    out = {}
    items = [*plan.models.items(),
             *([("parcellation", plan.parcellation)] if plan.parcellation else [])]
    for method, path in items:
        p = Path(path)
        meta = load_checkpoint(p / "best.pt" if p.is_dir() else p)["metadata"]
        cfg = meta.get("config", {})
        channels = cfg.get("network", {}).get("channels", [])
        loss = "GDL + cross-entropy" if cfg.get("seg_ce_weight") else "GDL"
        text = (f"{cfg.get('method', '?')} method, U-Net {channels[0]}-{channels[-1]} channels"
                if channels else f"{cfg.get('method', '?')} method")
        text += (f", {cfg.get('epochs', '?')} epochs, {loss}, augmentation "
                 f"{'on' if cfg.get('augment', {}).get('enabled') else 'off'}")
        selected = meta.get("training", {}).get("selected", [])
        if selected and selected[-1].get("val_dice") is not None:
            row = selected[-1]
            text += (f", selected epoch {int(row['epoch']) + 1} (validation Dice "
                     f"{float(row['val_dice']):.3f})")
        out[method] = text + f", {p.name}"
    return out
