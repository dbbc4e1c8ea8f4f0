"""The segment stage of a study run: apply trained models to the T2w images, then parcellate.

A study YAML names, per method, either existing label maps or a ``checkpoint``; the built-in
demo uses the demo checkpoints shipped with the package (:func:`demo_models_folder`). Outputs
are one BIDS-Derivatives dataset per method, ``<out>/derivatives/<method>/`` (the layout
:class:`harmonstats.cohort.Cohort` reads), reused on the next run while the checkpoints stay
the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from harmonstats.cohort import Cohort
from harmonstats.layout import Scan

__all__ = ["DEMO_MODEL_NAMES", "PAPER_MODEL_NAMES", "SegmentPlan", "demo_models",
           "demo_models_folder", "model_summaries", "run_segmentation"]

#: The six domain-adaptation models of the paper, in the order the report lists them; the
#: package ships a demo checkpoint of each.
PAPER_MODEL_NAMES = ("baseline", "baseline_aug", "latent", "latent_aug", "image", "image_aug")

#: Every demo segmenter the report uses when its checkpoint is shipped: the paper's six and
#: the domain-randomised one (``models/demo/randomised.yaml``).
DEMO_MODEL_NAMES = (*PAPER_MODEL_NAMES, "randomised")


@dataclass
class SegmentPlan:
    """Which models to apply to which images, and how to load the cohort afterwards.

    Attributes
    ----------
    models : dict of str to path
        Method name -> segmenter checkpoint (or run folder).
    images : dict of Scan to path
        Scan -> T2w image.
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
    source_root : path, optional
        The raw dataset of the images (named in the outputs' sidecars).
    scheduler : str, optional
        Dask scheduler address: segment on that cluster, one task per scan.
    """

    models: dict[str, Path]
    images: dict[Scan, Path]
    out: Path
    parcellation: Path | None
    device: str
    load_cohort: Callable[[], Cohort]
    precision: str = "auto"
    source_root: Path | None = None
    scheduler: str | None = None


def run_segmentation(plan: SegmentPlan, *, progress: bool = False) -> Cohort:
    """Segment every image with every model (skipping finished scans); return the cohort."""
    from harmonstats.models.apply import segment_images

    for method, checkpoint in plan.models.items():
        segment_images(checkpoint, plan.images, plan.out, method=method,
                       parcellation=plan.parcellation, device=plan.device,
                       precision=plan.precision, progress=progress,
                       source_root=plan.source_root, scheduler=plan.scheduler)
    return plan.load_cohort()


def demo_models_folder() -> Path:
    """Where the demo checkpoints are: ``harmonstats/demo_models`` of the package.

    In a source checkout that folder links to the repository's ``models/demo/``; a built wheel
    holds the checkpoints themselves (package data, see ``pyproject.toml``), so an installed
    harmonstats finds them from any working folder.
    """
    return Path(str(files("harmonstats") / "demo_models"))


def demo_models(folder: str | os.PathLike[str] | None = None
                ) -> tuple[dict[str, Path], Path | None]:
    """The demo checkpoints present: ``{name: path}`` of the segmenters, and the parcellation.

    Parameters
    ----------
    folder : path, optional
        Where to look (default: :func:`demo_models_folder`).
    """
    where = Path(folder) if folder is not None else demo_models_folder()
    found = {name: where / f"{name}.pt" for name in DEMO_MODEL_NAMES
             if (where / f"{name}.pt").is_file()}
    parcellation = where / "parcellation.pt"
    return found, parcellation if parcellation.is_file() else None


def model_summaries(plan: SegmentPlan) -> dict[str, str]:
    """Method -> a one-line description of its model, from the checkpoint's metadata."""
    from harmonstats.models.checkpoint import read_metadata

    out = {}
    items = [*plan.models.items(),
             *([("parcellation", plan.parcellation)] if plan.parcellation else [])]
    for method, path in items:
        p = Path(path)
        meta = read_metadata(p)
        text = (f"{meta.method} method, U-Net {meta.channels[0]}-{meta.channels[-1]} channels"
                if meta.channels else f"{meta.method} method")
        text += (f", {meta.epochs if meta.epochs is not None else '?'} epochs, {meta.loss}, "
                 f"augmentation {'on' if meta.augmented else 'off'}")
        row = meta.selected
        if row is not None and row.get("val_dice") is not None:
            text += (f", selected epoch {int(row['epoch']) + 1} (validation Dice "
                     f"{float(row['val_dice']):.3f})")
        out[method] = text + f", {p.name}"
    return out
