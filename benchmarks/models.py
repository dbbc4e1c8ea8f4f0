"""Our networks against the authors': training step, whole-volume inference, accuracy kept.

Parts (``--parts``, default ``train inference``):

``train``
    One training step of the tissue segmenter (forward, generalised Dice + CE loss, backward,
    Adam step) on a random crop of edge 64 and 128 voxels, for the authors' U-Net (rebuilt from
    their code: ``AUTHORS_UNET``, 4.72 M parameters, float32, Adam's default per-parameter
    loop) and for ours (the paper's U-Net, 6.47 M parameters) with each speed-up alone and with
    the defaults of ``TrainConfig.compute``. All variants live in this one process and are
    timed in interleaved rounds (one step of each per round, after a warm-up step), so that the
    load of other jobs on a shared machine falls on all of them alike; the figure is the ratio
    of medians, authors / variant.
``methods``
    Step time and peak memory of every method (baseline, latent, image, parcellation) with the
    default options, each case in a fresh subprocess so that its peak memory is its own.
``inference``
    Segments one 256 x 256 x 200 volume at 0.5 mm from its NIfTI file (``segment_image``) with
    the paper's U-Net at several window / overlap / precision settings, and with the authors'
    network at the training crop (128^3, overlap 0.5, float32), in one process; prints seconds
    against the 30 s goal and the ratio to the authors'.
``forward``
    What may speed up inference, each alone, on the whole volume in one window (padded to
    256 x 256 x 208) in one process, interleaved rounds: the paper's U-Net's forward pass in
    float32 and in bfloat16 autocast under ``no_grad``, then bfloat16 with ``inference_mode``,
    with channels-last 3D weights and input, with bfloat16 weights instead of autocast (as they
    are, and with the average pooling in float32), and with ``--compile`` compiled
    (``torch.compile``; its first pass, compilation included, is printed apart); prints the
    ratio to float32 and the share of labels equal to float32's. Then the class arg-max of
    the 7 class probabilities: ``argmax(0)`` against
    :func:`harmonstats.models.inference.hard_labels`, same labels.
``accuracy``
    Trains the demo baseline configuration for a few epochs with each arithmetic variant on a
    small synthetic study (made if missing) and prints the last epoch's training loss and
    validation Dice beside the time per epoch: the speed-ups must not cost accuracy.
``windows``
    Accuracy against speed of the inference window. The paper trains on 128^3 crops of scans
    about twice that size; in the same proportion, the demo baseline is trained here on 32^3
    crops of the 64^3 training volumes, then segments demo subjects (no model saw them) with
    windows of its crop at overlaps 0.5, 0.25 and 0, and with one window over the whole
    volume; prints mean Dice against the true labels and seconds per subject.
``agreement``
    Float32 against bfloat16 inference with every demo model on the demo study: fraction of
    voxels whose label differs and mean Dice against the true labels.

Usage::

    nice -n 10 python benchmarks/models.py                       # train + inference, CPU
    python benchmarks/models.py --parts train --sizes 64 --rounds 3
    python benchmarks/models.py --parts train --compile          # also torch.compile (slow)
    python benchmarks/models.py --parts accuracy windows agreement
    nice -n 10 python benchmarks/models.py --parts forward inference \
        --settings authors:128:0.5:fp32 ours:whole:0:fp32 ours:whole:0:bf16
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

GOAL_S = 30.0
AUTHORS = "authors (their U-Net, fp32, loop Adam)"

#: name -> (network options, compute options) of the training-step variants.
TRAIN_VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    AUTHORS: ("authors", {"precision": "fp32", "optimizer": "loop"}),
    "ours, no speed-up (fp32, loop Adam)": ({}, {"precision": "fp32", "optimizer": "loop"}),
    "ours + bf16 autocast": ({}, {"precision": "bf16", "optimizer": "loop"}),
    "ours + channels-last": ({}, {"precision": "fp32", "optimizer": "loop",
                                  "channels_last": True}),
    "ours + foreach Adam": ({}, {"precision": "fp32", "optimizer": "foreach"}),
    "ours + fused Adam": ({}, {"precision": "fp32", "optimizer": "fused"}),
    "ours + bf16 + channels-last + fused": ({}, {"precision": "bf16", "optimizer": "fused",
                                                 "channels_last": True}),
    "ours, defaults (compute: {})": ({}, {}),
    "authors' U-Net with our defaults": ("authors", {}),
}
COMPILE_VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "ours + torch.compile": ({}, {"precision": "fp32", "optimizer": "loop", "compile": True}),
    "ours, defaults + torch.compile": ({}, {"compile": True}),
}


def _config(method: str, size: int, network: dict[str, Any] | str, compute: dict[str, Any],
            **extra: Any) -> Any:
    from harmonstats.models.config import load_config
    from harmonstats.models.unet import AUTHORS_UNET

    net = dict(AUTHORS_UNET) if network == "authors" else dict(network)
    return load_config({"name": "bench", "method": method, "data": {"patch_size": size},
                        "warmup_epochs": 0, "seg_ce_weight": 1.0, "network": net,
                        "compute": compute, **extra})


def _peak_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def train_side_by_side(size: int, rounds: int, device: torch.device, variants: dict) -> None:
    """Median seconds per step of every variant, interleaved in one process; ratio to authors'."""
    from harmonstats.models.methods import build_method

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, size, size, size, generator=gen)
    y = torch.randint(0, 7, (1, size, size, size), generator=gen)
    batch = {"image": x, "label": y}
    rng = np.random.default_rng(0)
    methods, first = {}, {}
    for name, (network, compute) in variants.items():
        torch.manual_seed(0)
        m = build_method(_config("baseline", size, network, compute), device)
        m.prepare()
        m.train()
        t0 = time.perf_counter()
        m.train_step(batch, None, 0, rng)  # warm-up: kernels chosen, compiled if asked
        _sync(device)
        first[name] = time.perf_counter() - t0
        methods[name] = m
    wall: dict[str, list[float]] = {name: [] for name in methods}
    cpu: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, m in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            m.train_step(batch, None, 0, rng)
            _sync(device)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    med = {name: statistics.median(v) for name, v in wall.items()}
    med_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    print(f"\n== training step at {size}^3, {torch.get_num_threads()} thread(s), {rounds} "
          "interleaved rounds (medians); authors / this, in wall time and in CPU time (all "
          "threads; the steadier figure when other jobs share the machine)")
    print(f"{'variant':<42}{'precision':>10}{'params M':>9}{'wall s':>8}{'CPU s':>8}"
          f"{'first s':>9}{'ratio wall':>11}{'ratio CPU':>11}")
    for name, m in methods.items():
        params = sum(p.numel() for p in m.modules["segmenter"].parameters()) / 1e6
        print(f"{name:<42}{m.precision:>10}{params:>9.2f}{med[name]:>8.2f}{med_cpu[name]:>8.2f}"
              f"{first[name]:>9.1f}{med[AUTHORS] / med[name]:>11.2f}"
              f"{med_cpu[AUTHORS] / med_cpu[name]:>11.2f}")


def method_case(method: str, size: int, steps: int, device: torch.device) -> dict:
    """Mean seconds of ``steps`` training steps of ``method`` after one warm-up step."""
    from harmonstats.models.methods import build_method

    cfg = _config(method, size, {}, {})
    torch.manual_seed(0)
    m = build_method(cfg, device)
    m.prepare()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, size, size, size, generator=gen)
    y = torch.randint(0, cfg.out_channels, (1, size, size, size), generator=gen)
    rng = np.random.default_rng(0)
    batch, target = {"image": x, "label": y}, {"image": x.flip(2)}
    m.train_step(batch, target, 0, rng)
    _sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        m.train_step(batch, target, 0, rng)
    _sync(device)
    return {"seconds": (time.perf_counter() - t0) / steps, "precision": m.precision,
            "cpu_seconds": (time.process_time() - c0) / steps, "peak_mib": _peak_mib(device)}


def _run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def methods_table(methods: list[str], sizes: list[int], steps: int, device: str) -> None:
    """Step time and peak memory of every method, one subprocess per case."""
    print(f"\n{'method':<14}{'crop':>6}{'precision':>10}{'s/step':>10}{'cpu s/step':>12}"
          f"{'peak MiB':>10}")
    for method in methods:
        for size in sizes:
            r = _run_child(["--steps", str(steps), "--device", device, "--child", method,
                            str(size)])
            if "error" in r:
                print(f"{method:<14}{size:>6}  error: {r['error']}")
            else:
                print(f"{method:<14}{size:>6}{r['precision']:>10}{r['seconds']:>10.2f}"
                      f"{r['cpu_seconds']:>12.2f}{r['peak_mib']:>10.0f}")


def inference_side_by_side(shape: tuple[int, int, int], device: torch.device,
                           settings: list[tuple[str, int, float, str]]) -> None:
    """Seconds to segment one volume, NIfTI to label array, per (network, window, overlap,
    precision)."""
    from harmonstats.io import save_nifti
    from harmonstats.models.apply import LoadedModel, segment_image
    from harmonstats.models.networks import build_segmenter
    from harmonstats.models.train import checkpoint_metadata

    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1000, shape).astype(np.float32)
    print(f"\n== inference of one {'x'.join(map(str, shape))} volume at 0.5 mm "
          f"(goal {GOAL_S:.0f} s)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = save_nifti(image, np.diag([0.5, 0.5, 0.5, 1.0]), Path(tmp) / "sub-b_T2w.nii.gz")
        for network, window, overlap, precision in settings:
            cfg = _config("baseline", 128, "authors" if network == "authors" else {}, {})
            torch.manual_seed(0)
            model = LoadedModel(build_segmenter(cfg).eval(), checkpoint_metadata(cfg), path)
            t0, c0 = time.perf_counter(), time.process_time()
            labels = segment_image(model, path, window=window, overlap=overlap, device=device,
                                   precision=precision)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            if labels.shape != shape:
                raise RuntimeError(f"output shape {labels.shape} differs from input {shape}")
            rows.append((network, window, overlap, precision, seconds, cpu))
    # the reference is the authors' network wherever it comes in the settings (else the first)
    ref = next((r[4] for r in rows if r[0] == "authors"), rows[0][4] if rows else np.nan)
    print(f"{'network':<10}{'window':>8}{'overlap':>9}{'precision':>11}{'s':>8}{'CPU s':>8}"
          f"{'authors / this':>16}{'goal met':>10}")
    for network, window, overlap, precision, seconds, cpu in rows:
        print(f"{network:<10}{window:>8}{overlap:>9.2f}{precision:>11}{seconds:>8.1f}"
              f"{cpu:>8.1f}{ref / seconds:>16.2f}{'yes' if seconds <= GOAL_S else 'no':>10}")
    print(f"peak resident memory of the process: {_peak_mib(device):.0f} MiB")


#: name -> options of the forward variants: bf16 autocast, bf16 weights (``True``; ``"pool32"``:
#: average pooling in float32, torch has no bfloat16 CPU kernel for it), channels-last,
#: inference_mode, torch.compile (only with ``--compile``).
FORWARD_VARIANTS: dict[str, tuple[bool, bool | str, bool, bool, bool]] = {
    "fp32, no_grad": (False, False, False, False, False),
    "bf16 autocast, no_grad": (True, False, False, False, False),
    "bf16 autocast, inference_mode": (True, False, False, True, False),
    "bf16 autocast, channels-last 3D": (True, False, True, False, False),
    "bf16 weights and input": (False, True, False, True, False),
    "bf16 weights, fp32 avg pooling": (False, "pool32", False, True, False),
    "bf16 autocast, torch.compile": (True, False, False, True, True),
}


class _Float32(torch.nn.Module):
    """A module run in float32 whatever its input's type, its output cast back."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.float()).to(x.dtype)


def forward_side_by_side(shape: tuple[int, int, int], device: torch.device, rounds: int,
                         compile_too: bool = False) -> None:
    """Median seconds of the network's forward pass per variant; arg-max against hard_labels."""
    import contextlib

    from harmonstats.models.inference import hard_labels
    from harmonstats.models.networks import build_segmenter

    divisor = 16
    padded = tuple(-(-n // divisor) * divisor for n in shape)
    x = torch.rand(1, 1, *padded, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    reference = build_segmenter(_config("baseline", 128, {}, {})).eval()
    runs: dict[str, Any] = {}
    failed: dict[str, str] = {}
    first: dict[str, float] = {}
    for name, (autocast, weights16, channels_last, inference, compiled) in (
            FORWARD_VARIANTS.items()):
        if compiled and not compile_too:
            continue
        net = build_segmenter(_config("baseline", 128, {}, {})).eval().to(device)
        net.load_state_dict(reference.state_dict())
        inp = x.to(device)
        if weights16 == "pool32":
            net.pools = torch.nn.ModuleList(
                _Float32(p) if isinstance(p, torch.nn.AvgPool3d) else p for p in net.pools)
        if weights16:
            net, inp = net.to(torch.bfloat16), inp.to(torch.bfloat16)
        if channels_last:
            net = net.to(memory_format=torch.channels_last_3d)
            inp = inp.contiguous(memory_format=torch.channels_last_3d)
        if compiled:
            net.compile(dynamic=False)

        def run(t: torch.Tensor, net: Any = net, autocast: bool = autocast,
                inference: bool = inference) -> torch.Tensor:
            mode = torch.inference_mode() if inference else torch.no_grad()
            with mode, (torch.autocast(device.type, dtype=torch.bfloat16) if autocast
                        else contextlib.nullcontext()):
                return net(t)
        t0 = time.perf_counter()
        try:
            # Warm-up: kernels chosen; a compiled network compiles for the full size.
            run(inp if compiled else inp[..., :64, :64, :64])
        except (RuntimeError, NotImplementedError) as exc:
            failed[name] = " ".join(str(exc).split())[:90]
            continue
        first[name] = time.perf_counter() - t0
        runs[name] = (run, inp)
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    labels: dict[str, torch.Tensor] = {}
    for _ in range(rounds):
        for name, (run, inp) in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            out = run(inp)
            _sync(device)
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            labels[name] = hard_labels(out[0].float())
    print(f"\n== forward pass of the paper's U-Net on one {'x'.join(map(str, padded))} window, "
          f"{torch.get_num_threads()} thread(s), {rounds} interleaved round(s) (medians); "
          "fp32 / this; labels against fp32 (random weights and input: a check of the "
          "arithmetic, not of accuracy)")
    print(f"{'variant':<34}{'wall s':>8}{'CPU s':>8}{'ratio wall':>11}{'ratio CPU':>11}"
          f"{'labels = fp32':>15}{'first s':>9}")
    base = "fp32, no_grad"
    for name in runs:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        same = float((labels[name] == labels[base]).float().mean())
        print(f"{name:<34}{w:>8.1f}{c:>8.1f}{statistics.median(wall[base]) / w:>11.2f}"
              f"{statistics.median(cpu[base]) / c:>11.2f}{same:>15.4f}{first[name]:>9.1f}")
    for name, why in failed.items():
        print(f"{name:<34}  not run: {why}")
    probs = torch.softmax(torch.randn(7, *padded, generator=torch.Generator().manual_seed(1)), 0)
    t0 = time.perf_counter()
    slow = probs.argmax(0)
    t1 = time.perf_counter()
    fast = hard_labels(probs)
    t2 = time.perf_counter()
    print(f"class arg-max of 7 x {'x'.join(map(str, padded))} probabilities: argmax(0) "
          f"{t1 - t0:.2f} s, hard_labels {t2 - t1:.2f} s ({(t1 - t0) / (t2 - t1):.1f}x), "
          f"same labels: {bool(torch.equal(slow, fast))}")


def accuracy_table(study: Path, epochs: int, device: str) -> None:
    """Last-epoch loss and validation Dice of the demo baseline under each arithmetic variant."""
    import pandas as pd
    import yaml

    from harmonstats.models.config import load_config
    from harmonstats.models.train import train
    from harmonstats.models.unet import AUTHORS_UNET
    from harmonstats.synth import synthesize_study

    if not (study / "participants.tsv").is_file():  # as scripts/train_demo_models.sh makes it
        synthesize_study(study, n_source=48, n_target=48, shape=64, spacing=0.5, seed=1,
                         jobs=2, progress=False)
    base = yaml.safe_load((Path(__file__).parents[1] / "models/demo/baseline.yaml").read_text())
    channels = base["network"]["channels"]
    variants = {
        "authors' U-Net, fp32, loop Adam": ({**AUTHORS_UNET, "channels": channels},
                                            {"precision": "fp32", "optimizer": "loop"}),
        "ours, fp32, loop Adam": ({"channels": channels},
                                  {"precision": "fp32", "optimizer": "loop"}),
        "ours, defaults": ({"channels": channels}, {}),
    }
    print(f"\n== demo baseline config, {epochs} epochs on {study} (same seed, same data)")
    print(f"{'variant':<34}{'precision':>10}{'loss_seg':>10}{'val Dice':>10}"
          f"{'best val Dice':>15}{'s/epoch':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (network, compute) in variants.items():
            cfg = load_config({**base, "epochs": epochs, "network": network,
                               "compute": compute, "optim": {**base["optim"],
                                                             "step_size_up": 2}})
            run = Path(tmp) / name.replace(" ", "_").replace(",", "").replace("'", "")
            train(cfg, study, run, device=device, progress=False)
            m = pd.read_csv(run / "metrics.tsv", sep="\t")
            precision = json.loads((run / "metrics.json").read_text()).get("precision", "")
            last = m.iloc[-1]
            print(f"{name:<34}{precision:>10}{last['loss_seg']:>10.4f}{last['val_dice']:>10.4f}"
                  f"{m['val_dice'].max():>15.4f}{m['seconds'].mean():>9.1f}")


def _crop_model(train_study: Path, runs: Path, crop: int, epochs: int, device: str) -> Path:
    """The demo baseline trained on ``crop``^3 crops of the 64^3 training volumes (cached)."""
    import yaml

    from harmonstats.models.config import load_config
    from harmonstats.models.train import train
    from harmonstats.synth import synthesize_study

    if not (train_study / "participants.tsv").is_file():
        synthesize_study(train_study, n_source=48, n_target=48, shape=64, spacing=0.5, seed=1,
                         jobs=2, progress=False)
    base = yaml.safe_load((Path(__file__).parents[1] / "models/demo/baseline.yaml").read_text())
    cfg = load_config({**base, "name": f"crop{crop}", "epochs": epochs,
                       "data": {**base["data"], "patch_size": crop}})
    return train(cfg, train_study, runs / f"crop{crop}", device=device, progress=False)


def windows_table(study: Path, train_study: Path, runs: Path, subjects: int, crop: int,
                  epochs: int, device: str) -> None:
    """Dice against truth and seconds per subject of each inference window / overlap.

    A model trained on crops smaller than the volume (as the paper's, 128^3 crops of 256^3
    scans) is applied with windows of its crop size at several overlaps and with one window
    over the whole volume.
    """
    from harmonstats.cohort import Cohort
    from harmonstats.io import load_nifti
    from harmonstats.models.apply import load_segmenter, segment_image
    from harmonstats.models.losses import dice_per_class
    from harmonstats.pipeline.demo import DEMO, demo_study

    root, _ = demo_study(study, DEMO, jobs=2)
    cohort = Cohort.from_bids(root, methods=["truth"])
    table = cohort.participants.set_index("participant_id")["cohort"]
    pids = [*table[table == "source"].index[: subjects // 2],
            *table[table == "target"].index[: subjects - subjects // 2]]
    model = load_segmenter(_crop_model(train_study, runs, crop, epochs, device),
                           label_scheme="tissues7")
    truths = {pid: torch.from_numpy(np.asarray(load_nifti(cohort.label_path(
        "truth", pid)).dataobj).astype(np.int64)) for pid in pids}
    whole = max(int(s) for s in load_nifti(cohort.image_path(pids[0])).shape)
    settings = [(crop, 0.5), (crop, 0.25), (crop, 0.0), (whole, 0.0)]
    print(f"\n== inference window: the demo baseline trained on {crop}^3 crops of the 64^3 "
          f"training volumes ({epochs} epochs), {len(pids)} demo subjects; mean Dice over 6 "
          "tissues vs truth")
    print(f"{'window':>8}{'overlap':>9}{'Dice source':>13}{'Dice target':>13}{'s/subject':>11}"
          f"{'speed-up':>10}")
    ref = None
    for window, overlap in settings:
        dice: dict[str, list[float]] = {"source": [], "target": []}
        t0 = time.perf_counter()
        for pid in pids:
            pred = segment_image(model, cohort.image_path(pid), window=window, overlap=overlap)
            per_class = dice_per_class(torch.from_numpy(pred.astype(np.int64)), truths[pid],
                                       7)[1:]
            dice[table[pid]].append(float(np.nanmean(per_class.numpy())))
        seconds = (time.perf_counter() - t0) / len(pids)
        ref = ref or seconds
        print(f"{window:>8}{overlap:>9.2f}{np.mean(dice['source']):>13.4f}"
              f"{np.mean(dice['target']):>13.4f}{seconds:>11.2f}{ref / seconds:>10.2f}")


def agreement(study: Path) -> None:
    """Labels and Dice against truth of each demo model in float32 and bfloat16 (CPU)."""
    from harmonstats.cohort import Cohort
    from harmonstats.io import load_nifti
    from harmonstats.models.apply import load_segmenter, segment_image
    from harmonstats.models.losses import dice_per_class
    from harmonstats.pipeline.demo import DEMO, demo_study
    from harmonstats.pipeline.segment import demo_models

    root, _ = demo_study(study, DEMO, jobs=2)
    cohort = Cohort.from_bids(root, methods=["truth"])  # not every derivatives folder
    models, _ = demo_models()
    print(f"\n{'model':<14}{'voxels differing':>18}{'Dice fp32':>11}{'Dice bf16':>11}"
          f"{'time fp32/bf16':>16}")
    for name, path in models.items():
        model = load_segmenter(path, label_scheme="tissues7")
        differ = total = 0
        dice: dict[str, list[float]] = {"fp32": [], "bf16": []}
        seconds = {"fp32": 0.0, "bf16": 0.0}
        for pid in cohort.subjects:
            truth = torch.from_numpy(np.asarray(
                load_nifti(cohort.label_path("truth", pid)).dataobj).astype(np.int64))
            preds = {}
            for precision in ("fp32", "bf16"):
                t0 = time.perf_counter()
                preds[precision] = segment_image(model, cohort.image_path(pid),
                                                 precision=precision)
                seconds[precision] += time.perf_counter() - t0
                per_class = dice_per_class(torch.from_numpy(preds[precision].astype(np.int64)),
                                           truth, 7)[1:]
                dice[precision].append(float(np.nanmean(per_class.numpy())))
            differ += int((preds["fp32"] != preds["bf16"]).sum())
            total += preds["fp32"].size
        print(f"{name:<14}{differ / total:>18.2e}{np.mean(dice['fp32']):>11.4f}"
              f"{np.mean(dice['bf16']):>11.4f}{seconds['fp32'] / seconds['bf16']:>16.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["train", "inference"],
                        choices=["train", "methods", "forward", "inference", "accuracy",
                                 "windows", "agreement"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[64, 128])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--compile", action="store_true",
                        help="also time torch.compile variants of --parts train and forward "
                        "(a minute or more to compile)")
    parser.add_argument("--methods", nargs="+",
                        default=["baseline", "latent", "image", "parcellation"])
    parser.add_argument("--steps", type=int, default=2, help="steps per --parts methods case")
    parser.add_argument("--shape", nargs=3, type=int, default=[256, 256, 200])
    parser.add_argument("--settings", nargs="+", metavar="NET:WINDOW:OVERLAP:PRECISION",
                        help="inference settings to time, e.g. authors:128:0.5:fp32 "
                        "ours:whole:0:bf16 (default: six of them)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's); 1 gives the steadiest "
                        "CPU-time figures on a shared machine")
    parser.add_argument("--study", type=Path, default=Path("data/demo"),
                        help="demo study for --parts windows / agreement")
    parser.add_argument("--train-study", type=Path, default=Path("data/train"),
                        help="training study of --parts accuracy and windows (the demo models' "
                        "study, made by scripts/train_demo_models.sh, or a small one made here)")
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs of the --parts accuracy and windows runs")
    parser.add_argument("--subjects", type=int, default=16,
                        help="demo subjects (half source, half target) for --parts windows")
    parser.add_argument("--crop", type=int, default=32,
                        help="training crop of the model --parts windows trains")
    parser.add_argument("--runs", type=Path, default=Path("runs/bench"),
                        help="run folders of the models the benchmark trains")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(method_case(args.child[0], int(args.child[1]), args.steps, device)))
        return
    print(f"device: {args.device}, torch threads: {torch.get_num_threads()}, torch "
          f"{torch.__version__}")
    if "train" in args.parts:
        variants = {**TRAIN_VARIANTS, **(COMPILE_VARIANTS if args.compile else {})}
        for size in args.sizes:
            train_side_by_side(size, args.rounds, device, variants)
    if "methods" in args.parts:
        methods_table(args.methods, args.sizes, args.steps, args.device)
    if "forward" in args.parts:
        forward_side_by_side(tuple(args.shape), device, args.rounds, args.compile)
    if "inference" in args.parts:
        whole = max(args.shape)
        settings = [("authors", 128, 0.5, "fp32"), ("ours", 128, 0.5, "fp32"),
                    ("ours", 128, 0.5, "bf16"), ("ours", 128, 0.25, "bf16"),
                    ("ours", whole, 0.0, "fp32"), ("ours", whole, 0.0, "bf16")]
        if args.settings:
            settings = [(n, whole if w == "whole" else int(w), float(o), p)
                        for n, w, o, p in (s.split(":") for s in args.settings)]
        inference_side_by_side(tuple(args.shape), device, settings)
    if "accuracy" in args.parts:
        accuracy_table(args.train_study, args.epochs, args.device)
    if "windows" in args.parts:
        windows_table(args.study, args.train_study, args.runs, args.subjects, args.crop,
                      args.epochs, args.device)
    if "agreement" in args.parts:
        agreement(args.study)


if __name__ == "__main__":
    main()
