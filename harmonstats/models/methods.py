"""The training step of each method: baseline, latent-space DA, image-space DA, parcellation.

References
----------
Grigorescu I. et al. (2021). Harmonized segmentation of neonatal brain MRI. Front. Neurosci.
Kamnitsas K. et al. (2017). Unsupervised domain adaptation in brain lesion segmentation with
adversarial networks. IPMI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from harmonstats.errors import InputError
from harmonstats.models.compute import (
    autocast,
    build_adam,
    prepare_input,
    prepare_module,
    training_precision,
)
from harmonstats.models.config import TrainConfig
from harmonstats.models.discriminator import latent_features
from harmonstats.models.losses import (
    GeneralisedDiceLoss,
    domain_cross_entropy,
    global_ncc_loss,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
)
from harmonstats.models.networks import build_discriminator, build_generator, build_segmenter

__all__ = ["Method", "alpha_schedule", "build_method", "normalise_like_inputs"]


def alpha_schedule(epoch: int, cfg: TrainConfig) -> float:
    """Adversarial weight of the latent model: 0, then linear to ``alpha_max``, then constant."""
    if epoch < cfg.alpha_start_epoch:
        return 0.0
    if epoch >= cfg.alpha_end_epoch:
        return cfg.alpha_max
    return cfg.alpha_max * (epoch - cfg.alpha_start_epoch) / (cfg.alpha_end_epoch -
                                                             cfg.alpha_start_epoch)


def normalise_like_inputs(image: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A generator's Tanh output put through :data:`~harmonstats.models.data.NORMALISATION`.

    The output ``f`` in [-1, 1] is read as an acquired signal ``(f + 1) / 2`` >= 0 (Tanh's -1 is
    no signal), masked to the brain of ``like`` (a prepared input batch ``(N, 1, *spatial)``:
    every voxel above its minimum), and normalised exactly as every input image is:
    z-scored within the brain (the background at the z of signal 0), then rescaled so that the
    volume spans [-1, 1]. Differentiable, so a generator can be trained through it.
    """
    out = []
    for img, ref in zip(image.float(), like, strict=True):
        brain = ref > ref.min()
        values = (img[brain] + 1.0) / 2.0
        if values.numel() < 2:
            out.append(torch.full_like(img, -1.0))
            continue
        mean, std = values.mean(), values.std(correction=0).clamp_min(1e-6)
        z = torch.where(brain, ((img + 1.0) / 2.0 - mean) / std, -mean / std)
        lo, hi = z.min(), z.max()
        out.append(2.0 * (z - lo) / (hi - lo).clamp_min(1e-6) - 1.0)
    return torch.stack(out).to(image.dtype)


class _LinearDecay:
    """Learning-rate factor falling linearly from 1 to 0 over the run (picklable for resuming)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        return max(0.0, 1.0 - epoch / self.epochs)


def _step(opt: torch.optim.Optimizer, module: nn.Module) -> None:
    """Average gradients over data-parallel processes (if any), then step."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        world = dist.get_world_size()
        for p in module.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad /= world
    opt.step()


class Method:
    """Networks, optimisers and the training step of one method.

    Attributes
    ----------
    modules : dict
        ``segmenter`` always; ``discriminator`` (latent, image) and ``generator`` (image).
    optimizers : dict
        Optimisers and schedulers by name (saved in checkpoints for resuming).
    needs_target : bool
        Whether a step also takes a batch of target-domain images.
    """

    def __init__(self, cfg: TrainConfig, device: torch.device) -> None:
        self.cfg = cfg
        self.device = device
        self.precision = training_precision(cfg, device)
        self.gdl = GeneralisedDiceLoss(ce_weight=cfg.seg_ce_weight)
        self.modules: dict[str, nn.Module] = {"segmenter": build_segmenter(cfg).to(device)}
        self.needs_target = cfg.method in ("latent", "image")
        compute = cfg.compute
        opt = build_adam(self.modules["segmenter"].parameters(), compute, lr=cfg.optim.max_lr,
                         weight_decay=cfg.optim.weight_decay)
        step_up = cfg.optim.step_size_up or max(1, cfg.epochs // 6)
        self.optimizers: dict[str, torch.optim.Optimizer] = {"segmenter": opt}
        self.schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler] = {
            "segmenter": torch.optim.lr_scheduler.CyclicLR(
                opt, cfg.optim.base_lr, cfg.optim.max_lr, step_size_up=step_up,
                mode=cfg.optim.cycle_mode, cycle_momentum=False)
        }
        self.pool: list[torch.Tensor] = []
        self.steps = 0
        if cfg.method in ("latent", "image"):
            disc = build_discriminator(cfg).to(device)
            self.modules["discriminator"] = disc
            self.optimizers["discriminator"] = build_adam(
                disc.parameters(), compute, lr=cfg.discriminator.lr,
                betas=cfg.discriminator.betas,
                weight_decay=cfg.gen_weight_decay if cfg.method == "image" else 0.0)
        if cfg.method == "image":
            gen = build_generator(cfg).to(device)
            self.modules["generator"] = gen
            self.optimizers["generator"] = build_adam(
                gen.parameters(), compute, lr=cfg.gen_lr, betas=cfg.discriminator.betas,
                weight_decay=cfg.gen_weight_decay)
        epochs = cfg.epochs
        for name in ("discriminator", "generator"):
            if name in self.optimizers:
                self.schedulers[name] = torch.optim.lr_scheduler.LambdaLR(
                    self.optimizers[name], _LinearDecay(epochs))

    def autocast(self) -> contextlib.AbstractContextManager[None]:
        """Mixed precision (bfloat16) when ``compute.precision`` resolves to it."""
        return autocast(self.device, self.precision)

    def prepare(self) -> None:
        """Memory layout and compilation of ``compute`` (after any weights are loaded)."""
        for module in self.modules.values():
            prepare_module(module, self.cfg.compute)

    def train(self) -> None:
        """Put every network in training mode."""
        for m in self.modules.values():
            m.train()

    def eval(self) -> None:
        """Put every network in evaluation mode."""
        for m in self.modules.values():
            m.eval()

    def end_epoch(self) -> None:
        """Step the per-epoch learning-rate schedulers."""
        for sched in self.schedulers.values():
            sched.step()

    def state_dicts(self) -> dict[str, object]:
        """Optimiser and scheduler states, and the image pool, for resuming."""
        out: dict[str, object] = {f"opt_{k}": o.state_dict() for k, o in self.optimizers.items()}
        out.update({f"sched_{k}": s.state_dict() for k, s in self.schedulers.items()})
        out["pool"] = [p.cpu() for p in self.pool]
        out["steps"] = self.steps
        return out

    def load_state_dicts(self, states: dict[str, object]) -> None:
        """Restore what :meth:`state_dicts` returned."""
        for k, o in self.optimizers.items():
            o.load_state_dict(states[f"opt_{k}"])  # type: ignore[arg-type]
        for k, s in self.schedulers.items():
            s.load_state_dict(states[f"sched_{k}"])  # type: ignore[arg-type]
        self.pool = [p.to(self.device) for p in states.get("pool", [])]  # type: ignore[attr-defined]
        self.steps = int(states.get("steps", 0))  # type: ignore[call-overload]

    def train_step(self, src: dict[str, torch.Tensor], tgt: dict[str, torch.Tensor] | None,
                   epoch: int, rng: np.random.Generator) -> dict[str, float]:
        """One optimisation step; returns the losses by name."""
        x = prepare_input(src["image"].to(self.device), self.cfg.compute)
        y = src["label"].to(self.device)
        xt = (prepare_input(tgt["image"].to(self.device), self.cfg.compute)
              if tgt is not None else None)
        if self.cfg.method in ("baseline", "parcellation", "randomised"):
            return self._segment_step(x, y)
        if xt is None:
            raise InputError(f"method {self.cfg.method!r} needs target-domain training images")
        if self.cfg.method == "latent":
            return self._latent_step(x, y, xt, epoch)
        return self._image_step(x, y, xt, epoch, rng)

    def _zero(self) -> None:
        for o in self.optimizers.values():
            o.zero_grad(set_to_none=True)

    def _segment_step(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        seg = self.modules["segmenter"]
        self._zero()
        with self.autocast():
            loss = self.gdl(seg(x), y)
        loss.backward()
        _step(self.optimizers["segmenter"], seg)
        return {"loss_seg": float(loss.detach())}

    def _latent_step(self, x: torch.Tensor, y: torch.Tensor, xt: torch.Tensor,
                     epoch: int) -> dict[str, float]:
        seg, disc = self.modules["segmenter"], self.modules["discriminator"]
        update_d = self._d_turn()
        self._zero()
        with self.autocast():
            logits, feats_s = seg(x, return_features=True)
            _, feats_t = seg(xt, return_features=True)
            lat_s, lat_t = latent_features(feats_s), latent_features(feats_t)
            with torch.set_grad_enabled(update_d):
                loss_d = 0.5 * (domain_cross_entropy(disc(lat_s.detach()), 0)
                                + domain_cross_entropy(disc(lat_t.detach()), 1))
        if update_d:
            loss_d.backward()
            _step(self.optimizers["discriminator"], disc)
        self._zero()
        alpha = alpha_schedule(epoch, self.cfg)
        with self.autocast():
            loss_seg = self.gdl(logits, y)
            loss_adv = 0.5 * (domain_cross_entropy(disc(lat_s), 0)
                              + domain_cross_entropy(disc(lat_t), 1))
            loss = loss_seg - alpha * loss_adv
        loss.backward()
        _step(self.optimizers["segmenter"], seg)
        return {"loss_seg": float(loss_seg.detach()), "loss_adv": float(loss_adv.detach()),
                "loss_disc": float(loss_d.detach()), "alpha": alpha}

    def _d_turn(self) -> bool:
        """Whether this step updates the discriminator (every ``adversary.d_every``-th step)."""
        turn = self.steps % self.cfg.adversary.d_every == 0
        self.steps += 1
        return turn

    def instance_noise(self, epoch: int) -> float:
        """SD of the noise added to the discriminator's inputs in ``epoch`` (linear decay)."""
        a = self.cfg.adversary
        span = a.instance_noise_epochs or self.cfg.epochs
        return a.instance_noise * max(0.0, 1.0 - epoch / span)

    def _pooled(self, fake: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        """CycleGAN's image pool: half the time D sees an older generated image."""
        size = self.cfg.pool_size
        if size == 0:
            return fake.detach()
        out = []
        for img in fake.detach():
            if len(self.pool) < size:
                self.pool.append(img.clone())
                out.append(img)
            elif rng.random() < 0.5:
                i = int(rng.integers(len(self.pool)))
                out.append(self.pool[i].clone())
                self.pool[i] = img.clone()
            else:
                out.append(img)
        return torch.stack(out)

    def _image_step(self, x: torch.Tensor, y: torch.Tensor, xt: torch.Tensor, epoch: int,
                    rng: np.random.Generator) -> dict[str, float]:
        seg, disc = self.modules["segmenter"], self.modules["discriminator"]
        warm = epoch < self.cfg.warmup_epochs
        real = self.cfg.adversary.real_label
        sd = self.instance_noise(epoch)

        def seen(img: torch.Tensor) -> torch.Tensor:  # what D sees: the image + instance noise
            return img + sd * torch.randn_like(img) if sd > 0 else img

        self._zero()
        with self.autocast():
            fake = self._generate(x)
            loss_adv = lsgan_generator_loss(disc(seen(fake)), real_label=real)
            loss_ncc = global_ncc_loss(fake, x)
            if warm:
                loss_seg = self.gdl(seg(x), y)
            else:
                seen_by_seg = fake if self.cfg.adversary.seg_through_generator else fake.detach()
                loss_seg = 0.5 * (self.gdl(seg(seen_by_seg), y) + self.gdl(seg(x), y))
            lam = self.cfg.ncc_warmup_weight if warm else self.cfg.ncc_weight
            loss = loss_seg + loss_adv + lam * loss_ncc
        loss.backward()
        _step(self.optimizers["segmenter"], seg)
        _step(self.optimizers["generator"], self.modules["generator"])
        self._zero()
        update_d = self._d_turn()
        with self.autocast(), torch.set_grad_enabled(update_d):
            loss_d = lsgan_discriminator_loss(disc(seen(xt)), disc(seen(self._pooled(fake, rng))),
                                              real_label=real)
        if update_d:
            loss_d.backward()
            _step(self.optimizers["discriminator"], disc)
        return {"loss_seg": float(loss_seg.detach()), "loss_adv": float(loss_adv.detach()),
                "loss_ncc": float(loss_ncc.detach()), "loss_disc": float(loss_d.detach()),
                "instance_noise": sd}

    def _generate(self, x: torch.Tensor) -> torch.Tensor:
        """The generator's image of ``x``, normalised as inputs are if
        ``adversary.normalise_generated``."""
        fake = self.modules["generator"](x)
        if not self.cfg.adversary.normalise_generated:
            return fake
        return normalise_like_inputs(fake, x)

    def translate(self, image: torch.Tensor) -> torch.Tensor:
        """The generator's image of a source batch (no gradients, on the CPU)."""
        with torch.no_grad(), self.autocast():
            return self._generate(image.to(self.device)).float().cpu()

    def discriminate(self, image: torch.Tensor) -> torch.Tensor:
        """The image discriminator's patch scores of a batch (no gradients, on the CPU)."""
        with torch.no_grad(), self.autocast():
            return self.modules["discriminator"](image.to(self.device)).float().cpu()

    def domain_accuracy(self, batches: Iterator[tuple[torch.Tensor, int]]) -> float:
        """Fraction of latent voxels the domain classifier assigns to the right domain."""
        seg, disc = self.modules["segmenter"], self.modules["discriminator"]
        right = total = 0
        with torch.no_grad(), self.autocast():
            for image, domain in batches:
                _, feats = seg(image.to(self.device), return_features=True)
                pred = disc(latent_features(feats)).argmax(1)
                right += int((pred == domain).sum())
                total += pred.numel()
        return right / total if total else float("nan")


def build_method(cfg: TrainConfig, device: torch.device) -> Method:
    """Networks and optimisers of ``cfg.method`` on ``device`` (initialised from torch's RNG)."""
    return Method(cfg, device)
