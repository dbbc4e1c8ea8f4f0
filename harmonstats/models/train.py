"""The training loop: seeding, data-parallel processes, validation, checkpoints, resuming.

``harmonstats train CONFIG.yaml --data STUDY --out RUN_DIR`` calls :func:`train`. A run writes
``RUN_DIR/config.yaml``, ``RUN_DIR/metrics.tsv`` (+ JSON sidecar, one row per epoch),
``RUN_DIR/last.pt`` (everything needed to resume) and ``RUN_DIR/best.pt`` (the epoch selected
by the validation criterion). Rerunning the same command after a kill resumes from ``last.pt``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
import yaml
from tqdm import tqdm

from harmonstats.errors import InputError
from harmonstats.io import atomic_path, write_table
from harmonstats.labels import REGIONS, TISSUES
from harmonstats.models.augment import build_augmentation, sample_seed
from harmonstats.models.checkpoint import check_compatible, load_checkpoint, save_checkpoint
from harmonstats.models.config import NetworkConfig, TrainConfig, load_config
from harmonstats.models.data import NORMALISATION, VolumeDataset, find_volumes
from harmonstats.models.inference import predict_labels
from harmonstats.models.losses import dice_per_class
from harmonstats.models.methods import Method, build_method
from harmonstats.models.monitor import ValidationCrops, discriminator_accuracy, translation_ks
from harmonstats.models.randomise import build_randomisation
from harmonstats.models.synthetic import SyntheticDataset

__all__ = ["METRICS_COLUMNS", "checkpoint_metadata", "init_modules", "resolve_device", "train"]

#: Columns of ``metrics.tsv`` that every method writes (losses vary by method).
METRICS_COLUMNS = {
    "epoch": "Epoch (0-based)",
    "lr": "Segmenter learning rate during the epoch",
    "val_dice": {"Description": "Mean Dice over foreground classes, source validation volumes",
                 "Units": "1"},
    "domain_accuracy": "Latent model: domain classifier voxel accuracy on validation volumes",
    "d_acc_real": {"Description": "Image model: fraction of the discriminator's patches that "
                                  "call the target validation crops real", "Units": "1"},
    "d_acc_fake": {"Description": "Image model: fraction of the discriminator's patches that "
                                  "call the generated source validation crops generated",
                   "Units": "1"},
    "ks_gm": "Image model: Kolmogorov-Smirnov distance of generated source cortical GM "
             "intensities (validation crops) to the target's",
    "ks_csf": "Image model: the same for CSF",
    "ks_gm_source": "Image model: KS distance of the untranslated source cortical GM "
                    "intensities to the target's (reference)",
    "ks_csf_source": "Image model: the same for CSF",
    "instance_noise": "Image model: SD of the noise added to the discriminator's inputs",
    "selected": "1 if this epoch's weights are best.pt",
    "seconds": {"Description": "Wall time of the epoch", "Units": "s"},
}


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; otherwise the named device."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device {device!r} requested but CUDA is not available")
    return torch.device(device)


def checkpoint_metadata(cfg: TrainConfig) -> dict[str, Any]:
    """Plain-data description of a model: config, labels, spacing, normalisation, channels."""
    parc = cfg.method == "parcellation"
    return {
        "config": cfg.model_dump(mode="json"),
        "method": cfg.method,
        "label_scheme": "regions11" if parc else "tissues7",
        "labels": {int(k): v for k, v in (REGIONS if parc else TISSUES).items()},
        "input": "cortical GM mask" if parc else "T2w",
        "spacing_mm": cfg.data.spacing,
        "normalisation": "binary mask" if parc else NORMALISATION,
        "in_channels": 1,
        "out_channels": cfg.out_channels,
        "patch_size": cfg.data.patch_size,
    }


def _dist_info() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def _collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _split(volumes: list, cohort: str, split: str) -> list:
    return [v for v in volumes if v.cohort == cohort and v.split == split]


def train(
    config: TrainConfig | str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    device: str = "auto",
    resume: bool = True,
    progress: bool = True,
) -> Path:
    """Train one model of the paper and keep its best checkpoint.

    Parameters
    ----------
    config : TrainConfig or path-like
        The configuration (YAML file or validated object).
    data : path-like
        Study folder (``participants.tsv`` with ``cohort`` and ``split``; BIDS-like ``sub-<id>``).
    out : path-like
        Run folder.
    device : str
        ``auto`` (CUDA when present), ``cpu``, ``cuda``, ``cuda:1``...
    resume : bool
        Continue from ``out/last.pt`` if it exists.
    progress : bool
        Show a progress bar with the running losses.

    Returns
    -------
    pathlib.Path
        ``out/best.pt``.

    Notes
    -----
    Started by ``torchrun --nproc_per_node N``, each process trains on its share of the
    subjects and gradients are averaged across processes (gloo on CPU, NCCL on GPU); only rank 0
    validates and writes files.
    """
    cfg = config if isinstance(config, TrainConfig) else load_config(config)
    out = Path(out)
    rank, world = _dist_info()
    dev = resolve_device(device)
    if world > 1 and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    started_dist = False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        started_dist = True
    try:
        return _train(cfg, Path(data), out, dev, resume, progress, rank, world)
    finally:
        if started_dist:
            dist.destroy_process_group()


def _train(cfg: TrainConfig, data: Path, out: Path, dev: torch.device, resume: bool,
           progress: bool, rank: int, world: int) -> Path:
    volumes = find_volumes(data, label_desc=cfg.data.label_desc)
    src, tgt = cfg.data.source_cohort, cfg.data.target_cohort
    train_src, val_src = _split(volumes, src, "train"), _split(volumes, src, "val")
    train_tgt, val_tgt = _split(volumes, tgt, "train"), _split(volumes, tgt, "val")
    synthetic = cfg.data.synthetic
    if not val_src or not (train_src or synthetic):
        raise InputError(f"{data}: need source-cohort ({src!r}) subjects in splits 'train' and "
                         f"'val'; found {len(train_src)} and {len(val_src)}")
    task = "parcellation" if cfg.method == "parcellation" else "tissue"
    aug = (build_randomisation(cfg.randomise, cfg.augment, cfg.data.spacing)
           if cfg.method == "randomised" else build_augmentation(cfg.augment))
    kw: dict[str, Any] = {"spacing": cfg.data.spacing, "label_scheme": cfg.data.label_scheme,
                          "cache": cfg.data.cache}
    ds_src = (VolumeDataset(train_src, task=task, patch_size=cfg.data.patch_size, augment=aug,
                            seed=cfg.seed, **kw) if synthetic is None else
              SyntheticDataset(synthetic, cohort="source", task=task, spacing=cfg.data.spacing,
                               label_desc=cfg.data.label_desc, patch_size=cfg.data.patch_size,
                               augment=aug, seed=cfg.seed))
    ds_val = VolumeDataset(val_src[: cfg.val_subjects], task=task, patch_size=None, **kw)
    torch.manual_seed(cfg.seed)
    method = build_method(cfg, dev)
    ds_tgt: VolumeDataset | None = None
    domain_crops: ValidationCrops | None = None
    if method.needs_target:
        if not train_tgt and synthetic is None:
            raise InputError(f"{data}: method {cfg.method!r} needs target-cohort ({tgt!r}) "
                             "training subjects; found none")
        ds_tgt = (VolumeDataset(train_tgt, task="image", patch_size=cfg.data.patch_size,
                                augment=aug, seed=cfg.seed + 1, **kw) if synthetic is None else
                  SyntheticDataset(synthetic, cohort="target", task="image",
                                   spacing=cfg.data.spacing, label_desc=cfg.data.label_desc,
                                   patch_size=cfg.data.patch_size, augment=aug,
                                   seed=cfg.seed + 1))
        # labels, where the study has them, only to monitor intensities per tissue
        val_t = val_tgt[: cfg.val_subjects]
        labelled = bool(val_t) and all(v.labels is not None for v in val_t)
        domain_crops = ValidationCrops(
            VolumeDataset(val_src[: cfg.val_subjects], task=task,
                          patch_size=cfg.data.patch_size, seed=cfg.seed + 3, **kw),
            VolumeDataset(val_t, task="tissue" if labelled else "image",
                          patch_size=cfg.data.patch_size, seed=cfg.seed + 2, **kw))
    metadata = checkpoint_metadata(cfg)
    if cfg.init_from is not None:
        init_modules(method.modules, cfg.init_from, metadata)
    history: list[dict[str, Any]] = []
    start, best = 0, -math.inf
    last = out / "last.pt"
    if resume and last.is_file():
        ckpt = load_checkpoint(last)
        if ckpt["metadata"].get("config") != metadata["config"]:
            raise InputError(f"{last} was written with a different config; use another --out "
                             "or remove the run folder")
        for name, module in method.modules.items():
            module.load_state_dict(ckpt["models"][name])
        method.load_state_dicts(ckpt["optimizers"])
        start, best = int(ckpt["state"]["epoch"]) + 1, float(ckpt["state"]["best"])
        history = list(ckpt["state"]["history"])
    method.prepare()
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "config.yaml") as tmp:
            tmp.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    steps = cfg.steps_per_epoch or max(1, math.ceil(len(ds_src) / (cfg.batch_size * world)))
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        torch.manual_seed(sample_seed(cfg.seed, epoch, 999_983))
        rng = np.random.default_rng(sample_seed(cfg.seed, epoch, rank + 1))
        ds_src.set_epoch(epoch)
        order = _order(len(ds_src), steps * cfg.batch_size * world, cfg.seed, epoch)
        order_t = order
        if ds_tgt is not None:
            ds_tgt.set_epoch(epoch)
            order_t = _order(len(ds_tgt), steps * cfg.batch_size * world, cfg.seed + 1, epoch)
        lr = method.optimizers["segmenter"].param_groups[0]["lr"]
        method.train()
        sums: dict[str, float] = {}
        bar = tqdm(range(steps), desc=f"{cfg.name} epoch {epoch + 1}/{cfg.epochs}",
                   disable=not progress or rank != 0, leave=False)
        for step in bar:
            sl = slice((step * world + rank) * cfg.batch_size,
                       (step * world + rank + 1) * cfg.batch_size)
            batch = _collate([ds_src[i] for i in order[sl]])
            batch_t = _collate([ds_tgt[i] for i in order_t[sl]]) if ds_tgt is not None else None
            losses = method.train_step(batch, batch_t, epoch, rng)
            for k, v in losses.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.set_postfix({k: f"{v / (step + 1):.4f}" for k, v in sums.items()})
        method.end_epoch()
        if rank == 0:
            row: dict[str, Any] = {"epoch": epoch, "lr": lr}
            row.update({k: v / steps for k, v in sums.items()})
            best = _validate_and_save(cfg, method, ds_val, domain_crops, out, metadata, row, best,
                                      history, epoch, t0)
        if world > 1:
            dist.barrier()
    if world > 1:
        _check_replicas(method)
    if rank == 0 and not (out / "best.pt").is_file():
        warnings.warn(f"{cfg.name}: no epoch met the selection rule ({cfg.select}); best.pt was "
                      f"not written and {last} holds the final weights", stacklevel=2)
    return out / "best.pt"


def init_modules(modules: dict[str, torch.nn.Module], source: str | os.PathLike[str],
                 metadata: dict[str, Any]) -> list[str]:
    """Start a run's networks from the weights of another checkpoint (``init_from``).

    The segmenter always; the generator and discriminator too when the checkpoint is a full run
    checkpoint of the same method (to continue an adaptation with a new schedule).

    Parameters
    ----------
    modules : dict
        The freshly built networks of this run, by name.
    source : path-like
        A checkpoint file (full or exported, float16 weights are cast) or a run folder (its
        ``best.pt``).
    metadata : dict
        This run's checkpoint metadata: the source must have the same label scheme and channels.

    Returns
    -------
    list of str
        The names of the networks loaded.

    Raises
    ------
    FileNotFoundError
        If the checkpoint does not exist.
    ValueError
        If it has no segmenter, another label scheme or channel count, or another architecture.
    """
    p = Path(source)
    if p.is_dir():
        p = p / "best.pt"
    ckpt = load_checkpoint(p)
    where = f"init_from {p}"
    check_compatible(ckpt["metadata"], label_scheme=metadata["label_scheme"],
                     in_channels=metadata["in_channels"], out_channels=metadata["out_channels"],
                     where=where)
    if "segmenter" not in ckpt["models"]:
        raise InputError(f"{where}: no segmenter weights")
    config = ckpt["metadata"].get("config", {})
    have, want = config.get("network"), metadata["config"]["network"]
    # through the config model, so that a checkpoint written before an option existed compares
    # by the option's default
    if have is not None and NetworkConfig.model_validate(have) != NetworkConfig.model_validate(
            want):
        raise InputError(f"{where}: network {have} differs from this config's {want}")
    names = ["segmenter"]
    if ckpt["metadata"].get("method") == metadata["method"]:
        names += [n for n in ("generator", "discriminator")
                  if n in modules and n in ckpt["models"]]
    for name in names:
        own = modules[name].state_dict()
        weights = {k: v.to(own[k].dtype) if k in own else v
                   for k, v in ckpt["models"][name].items()}
        try:
            modules[name].load_state_dict(weights)
        except RuntimeError as exc:
            raise InputError(f"{where}: {name} weights do not fit this {name}: "
                             f"{str(exc).splitlines()[0]}") from None
    return names


def _check_replicas(method: Method) -> None:
    """Raise if data-parallel processes ended with different weights (gradients not averaged)."""
    for name, module in method.modules.items():
        total = sum(float(p.detach().double().sum()) * (i + 1)
                    for i, p in enumerate(module.parameters()))
        values = torch.tensor([total, -total], dtype=torch.float64, device=method.device)
        dist.all_reduce(values, op=dist.ReduceOp.MAX)
        if float(values[0]) != -float(values[1]):
            raise RuntimeError(f"data-parallel replicas of the {name} diverged")


def _order(n: int, needed: int, seed: int, epoch: int) -> np.ndarray:
    rng = np.random.default_rng(sample_seed(seed, epoch, 0))
    reps = math.ceil(needed / n)
    return np.concatenate([rng.permutation(n) for _ in range(reps)])[:needed]


def _validate_and_save(cfg: TrainConfig, method: Method, ds_val: VolumeDataset,
                       domain_crops: ValidationCrops | None, out: Path, metadata: dict[str, Any],
                       row: dict[str, Any], best: float, history: list[dict[str, Any]],
                       epoch: int, t0: float) -> float:
    method.eval()
    seg = method.modules["segmenter"]
    dices = []
    for i in range(len(ds_val)):
        item = ds_val[i]
        pred = predict_labels(seg, item["image"], roi=cfg.data.patch_size,
                              overlap=cfg.sw_overlap, device=method.device,
                              precision=method.precision)
        per_class = dice_per_class(pred, item["label"], cfg.out_channels)[1:]
        dices.append(float(np.nanmean(per_class.numpy())))
    row["val_dice"] = float(np.mean(dices))
    row["domain_accuracy"] = float("nan")
    if cfg.method == "latent" and domain_crops is not None:
        row["domain_accuracy"] = method.domain_accuracy(domain_crops.images())
    if cfg.method == "image" and domain_crops is not None:
        row.update(discriminator_accuracy(method.translate, method.discriminate, domain_crops,
                                          real_label=cfg.adversary.real_label))
        row.update(translation_ks(method.translate, domain_crops))
    eligible = cfg.select != "latent_rule" or row["domain_accuracy"] < cfg.max_domain_accuracy
    improved = eligible and (cfg.select == "last" or row["val_dice"] > best)
    if improved:
        best = row["val_dice"]
    row["selected"] = int(improved)
    row["seconds"] = time.perf_counter() - t0
    history.append(row)
    state = {"epoch": epoch, "best": best, "history": history}
    models = dict(method.modules)
    if improved:
        save_checkpoint(out / "best.pt", models=models, metadata=metadata,
                        state={**state, "val_dice": row["val_dice"]})
    table = pd.DataFrame(history)
    columns: dict[str, Any] = {c: METRICS_COLUMNS.get(c, f"Mean training {c} over the epoch")
                               for c in table.columns}
    write_table(table, out / "metrics.tsv", columns,
                metadata={"method": cfg.method, "name": cfg.name, "precision": method.precision})
    # last.pt is written last: a run killed before it redoes this epoch, and rewrites best.pt
    # and metrics.tsv as they were.
    save_checkpoint(out / "last.pt", models=models, metadata=metadata,
                    optimizers=method.state_dicts(), state=state)
    return best
