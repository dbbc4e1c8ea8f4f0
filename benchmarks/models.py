"""Networks: training step time and peak memory per method, and whole-volume inference time.

Each case runs in a fresh subprocess so that its peak resident memory (CPU) or peak allocated
GPU memory is its own. Training steps use the paper's networks (U-Net 16-256, PatchGAN 64-512)
on random crops of edge 64 and 128 voxels; inference segments a 256 x 256 x 200 volume at 0.5 mm
with MONAI sliding windows (128^3, overlap 0.5, Gaussian blending) and compares its time with the
60 s goal, once in float32 and once in bfloat16 (``--precision``), side by side with their ratio.
Wall time depends on what else runs on the machine; CPU seconds (all threads) are printed beside
it as a steadier figure.

``--parts agreement`` asks what bfloat16 costs in accuracy: it segments the demo study (40 + 40
subjects, made if missing) with each shipped demo model in both precisions and prints the
fraction of voxels whose label differs and the mean Dice against the true labels of each.

Usage::

    nice -n 10 python benchmarks/models.py                         # everything, CPU
    python benchmarks/models.py --sizes 64 --methods baseline      # a subset
    python benchmarks/models.py --parts inference --overlap 0.25
    python benchmarks/models.py --parts agreement
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

GOAL_S = 60.0


def _peak_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_case(method: str, size: int, steps: int, device: torch.device) -> dict:
    """Mean seconds of ``steps`` training steps after one warm-up step."""
    from harmonstats.models.config import load_config
    from harmonstats.models.methods import build_method

    cfg = load_config({"name": "bench", "method": method, "data": {"patch_size": size},
                       "warmup_epochs": 0})
    torch.manual_seed(0)
    m = build_method(cfg, device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, size, size, size, generator=gen)
    y = torch.randint(0, cfg.out_channels, (1, size, size, size), generator=gen)
    rng = np.random.default_rng(0)
    batch, target = {"image": x, "label": y}, {"image": x.flip(2)}
    m.train_step(batch, target, 0, rng)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        m.train_step(batch, target, 0, rng)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return {"seconds": (time.perf_counter() - t0) / steps,
            "cpu_seconds": (time.process_time() - c0) / steps, "peak_mib": _peak_mib(device)}


def inference_case(shape: tuple[int, int, int], overlap: float, device: torch.device,
                   precision: str) -> dict:
    """Seconds to segment one volume from its NIfTI file to the label array on its grid."""
    import tempfile

    from harmonstats.io import save_nifti
    from harmonstats.models.apply import LoadedModel, segment_image
    from harmonstats.models.config import load_config
    from harmonstats.models.networks import build_segmenter
    from harmonstats.models.train import checkpoint_metadata

    cfg = load_config({"name": "bench", "method": "baseline"})
    torch.manual_seed(0)
    net = build_segmenter(cfg).eval()
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1000, shape).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_nifti(image, np.diag([0.5, 0.5, 0.5, 1.0]), Path(tmp) / "sub-b_T2w.nii.gz")
        model = LoadedModel(net, checkpoint_metadata(cfg), path)
        t0, c0 = time.perf_counter(), time.process_time()
        labels = segment_image(model, path, overlap=overlap, device=device,
                               precision=precision)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if labels.shape != shape:
        raise RuntimeError(f"output shape {labels.shape} differs from input {shape}")
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mib": _peak_mib(device)}


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
    print(f"{'model':<14}{'voxels differing':>18}{'Dice fp32':>11}{'Dice bf16':>11}"
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


def _run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["train", "inference"])
    parser.add_argument("--methods", nargs="+",
                        default=["baseline", "latent", "image", "parcellation"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[64, 128])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--overlap", type=float, default=0.5)
    parser.add_argument("--shape", nargs=3, type=int, default=[256, 256, 200])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", nargs="+", default=["fp32", "bf16"],
                        choices=["fp32", "bf16"], help="inference arithmetic(s) to time")
    parser.add_argument("--study", type=Path, default=Path("data/demo"),
                        help="demo study for --parts agreement")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.child:
        kind, *rest = args.child
        if kind == "train":
            res = train_case(rest[0], int(rest[1]), args.steps, device)
        else:
            res = inference_case(tuple(args.shape), args.overlap, device, rest[0])
        print(json.dumps(res))
        return
    common = ["--steps", str(args.steps), "--overlap", str(args.overlap), "--device",
              args.device, "--shape", *map(str, args.shape)]
    print(f"device: {args.device}, torch threads: {torch.get_num_threads()}")
    if "train" in args.parts:
        print(f"{'method':<14}{'crop':>6}{'s/step':>10}{'cpu s/step':>12}{'peak MiB':>10}")
        for method in args.methods:
            for size in args.sizes:
                r = _run_child([*common, "--child", "train", method, str(size)])
                if "error" in r:
                    print(f"{method:<14}{size:>6}  error: {r['error']}")
                else:
                    print(f"{method:<14}{size:>6}{r['seconds']:>10.2f}{r['cpu_seconds']:>12.2f}"
                          f"{r['peak_mib']:>10.0f}")
    if "inference" in args.parts:
        shape = "x".join(map(str, args.shape))
        walls = {}
        for precision in args.precision:
            r = _run_child([*common, "--child", "inference", precision])
            if "error" in r:
                print(f"inference {shape} {precision}: error: {r['error']}")
                continue
            walls[precision] = r["seconds"]
            print(f"inference {shape} at 0.5 mm, overlap {args.overlap}, {precision}: "
                  f"{r['seconds']:.1f} s wall ({r['cpu_seconds']:.1f} CPU s), peak "
                  f"{r['peak_mib']:.0f} MiB; goal {GOAL_S:.0f} s wall, ratio to goal "
                  f"{r['seconds'] / GOAL_S:.2f}")
        if len(walls) == 2:
            print(f"fp32 / bf16 wall time: {walls['fp32'] / walls['bf16']:.2f}")
    if "agreement" in args.parts:
        agreement(args.study)


if __name__ == "__main__":
    main()
