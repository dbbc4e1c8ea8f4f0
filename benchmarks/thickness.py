"""Cortical thickness against known truth: ``pbt``, ``laplace`` and ANTs DiReCT side by side.

Parts (``--parts``, comma-separated):

- ``cases``: the closed-form cases of :mod:`harmonstats.measures.phantoms` (two banks pressed
  together, a fold closed along its whole length, a shell with a closed slit, a ribbon whose
  thickness varies linearly), each at two orientations, and spherical shells: per method, the
  mean error and the median absolute error against the per-voxel truth (mm).
- ``brains``: synthetic folded brains written by ``harmonstats.synth`` (``--n-brains`` scaled to
  a 64^3 field at 0.5 mm, as the demo's, and ``--n-real`` at real neonatal size, 256 x 256 x 200
  at 0.5 mm), measured on their ``truth`` label maps; the per-voxel true thickness is read from
  each scan's ``desc-thickness_map`` and the touching banks from its ``desc-touching_mask``,
  beside the labels in ``derivatives/harmonstats-synth``.
  Per method: bias, voxelwise Pearson r and median |error| on touching-bank voxels, elsewhere
  and on all cortical voxels (pooled over brains, and per brain); the correlation of the
  subject means with the true means; time per brain and the ratio DiReCT / pbt. DiReCT takes
  about an hour on a real-size brain, so on those it runs on a 96^3 crop around the cortex that
  holds the most touching banks (``--direct-crop``), beside pbt and laplace on the same crop.
- ``scale``: pbt (and laplace) on a real-size brain placed in a 260 x 310 x 250 grid at 0.5 mm,
  and on brains of 64^3 and 128^3: CPU seconds and peak memory of a fresh process doing only
  that (so the figures are the method's, not this script's), and how both grow with the size.

Usage::

    nice -n 10 python benchmarks/thickness.py                          # everything (hours: DiReCT)
    python benchmarks/thickness.py --parts cases,scale --no-direct
    python benchmarks/thickness.py --parts brains --study DIR --n-real 0   # an existing study
    python benchmarks/thickness.py --parts brains,scale --n-brains 0 --real-study DIR

Per-brain rows are written to ``benchmarks/results/thickness_brains.tsv``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from harmonstats.io import load_nifti, read_table
from harmonstats.layout import Scan, derivative_path
from harmonstats.measures.direct import PROBABILITY_SIGMA, direct_thickness
from harmonstats.measures.laplace import laplace_thickness
from harmonstats.measures.pbt import pbt_thickness
from harmonstats.measures.phantoms import PHANTOMS
from harmonstats.synth.study import LABELS_DATASET

INNER = (3, 4, 5, 6)
REAL_SHAPE = (256, 256, 200)
RESULTS = Path(__file__).resolve().parent / "results"
METHODS = {"pbt": pbt_thickness, "laplace": laplace_thickness, "direct": direct_thickness}


def _with_prob_sigma(sigma: float) -> None:
    """Run DiReCT on GM/WM probability maps smoothed by ``sigma`` mm (0: the binary masks)."""
    METHODS["direct"] = functools.partial(direct_thickness, prob_sigma=sigma)


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def _methods(direct: bool) -> list[str]:
    return ["pbt", "laplace", *(["direct"] if direct else [])]


# -- closed-form cases ---------------------------------------------------------------------
def run_cases(direct: bool) -> None:
    print("\n== closed-form cases (0.5 mm voxels): error against the per-voxel truth, mm ==")
    print(f"{'case':<16} {'tilt':<18} {'voxels':>6}" + "".join(
        f" {m + ' mean':>13} {m + ' |e|':>12}" for m in _methods(direct)))
    for name, make in PHANTOMS.items():
        for tilt in ((0.25, 0.15, 0.1), (0.05, 0.4, 0.7)):
            ph = make(tilt=tilt)
            line = f"{name:<16} {tilt!s:<18} {int(ph.where.sum()):>6}"
            for m in _methods(direct):
                got = METHODS[m](ph.gm, ph.inner, ph.spacing)
                err = got[ph.where] - ph.truth[ph.where]
                line += f" {np.nanmean(err):+13.3f} {np.nanmedian(np.abs(err)):12.3f}"
            print(line, flush=True)
    print("\nspherical shells, WM radius 6 mm, 44^3 at 0.5 mm (mean over the shell - true):")
    c = (np.arange(44) - 21.5) * 0.5
    x, y, z = np.meshgrid(c, c, c, indexing="ij")
    r = np.sqrt(x**2 + y**2 + z**2)
    for t in (1.5, 2.0, 2.5, 3.0):
        gm, wm = (r >= 6.0) & (r < 6.0 + t), r < 6.0
        line = f"  {t:.1f} mm:"
        for m in _methods(direct):
            got = METHODS[m](gm, wm, (0.5, 0.5, 0.5))
            line += f"  {m} {np.nanmean(got[gm]) - t:+.3f}"
        print(line, flush=True)


# -- folded brains ---------------------------------------------------------------------------
def _subject(study: Path, pid: str) -> dict[str, np.ndarray | tuple[float, ...]]:
    """A synthetic scan's truth labels, true thickness map and touching-bank mask."""
    scan = Scan.of(pid)
    img = load_nifti(study / derivative_path(LABELS_DATASET, scan, desc="truth"))
    thickness = study / derivative_path(LABELS_DATASET, scan, "map", desc="thickness")
    touching = study / derivative_path(LABELS_DATASET, scan, "mask", desc="touching")
    return {
        "labels": np.asarray(img.dataobj).astype(np.uint8),
        "truth": np.asarray(load_nifti(thickness).dataobj),
        "touching": np.asarray(load_nifti(touching).dataobj).astype(bool),
        "spacing": tuple(float(v) for v in img.header.get_zooms()[:3]),
    }


def _crop_box(touching: np.ndarray, gm: np.ndarray, size: int) -> tuple[slice, ...]:
    """A ``size``^3 box around the cortex that holds the most touching-bank voxels."""
    density = ndimage.uniform_filter(touching.astype(np.float32), size=size // 2)
    density[~gm] = 0
    centre = np.unravel_index(int(np.argmax(density)), gm.shape)
    return tuple(slice(int(min(max(c - size // 2, 0), n - size)),
                       int(min(max(c - size // 2, 0), n - size)) + size)
                 for c, n in zip(centre, gm.shape, strict=True))


def column_truth(gm: np.ndarray, inner: np.ndarray, spacing: tuple[float, ...],
                 truth: np.ndarray) -> np.ndarray:
    """The true thickness averaged over each column of cortex (the GM voxels sharing their
    nearest WM-side voxel): what a method that gives a column one thickness, exactly right on
    average, reaches voxel by voxel. Where the truth varies along a column (a column passing
    beside the edge of a closed sheet, whose voxels take their truth from the sheet's edge), no
    such method can follow it."""
    from harmonstats.measures.pbt import column_feet

    _base, _coords, foot = column_feet(gm, inner, spacing)
    key = np.ravel_multi_index(tuple(foot.T), gm.shape)
    t = truth[gm].astype(np.float64)
    sums = np.bincount(key, weights=t, minlength=gm.size)
    counts = np.bincount(key, minlength=gm.size)
    out = np.full(gm.shape, np.nan)
    out[gm] = (sums / np.maximum(counts, 1))[key]
    return out


def _scores(got: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    ok = mask & np.isfinite(got)
    if ok.sum() < 3:
        return {"bias": np.nan, "r": np.nan, "mae": np.nan, "n": int(ok.sum())}
    err = got[ok] - truth[ok]
    return {"bias": float(err.mean()), "r": float(np.corrcoef(got[ok], truth[ok])[0, 1]),
            "mae": float(np.median(np.abs(err))), "n": int(ok.sum())}


def _measure(subject: dict, name: str, kind: str, methods: list[str], voxels: list[dict],
             box: tuple[slice, ...] | None = None) -> dict[str, object]:
    labels, truth, touching = subject["labels"], subject["truth"], subject["touching"]
    if box is not None:
        labels, truth, touching = labels[box], truth[box], touching[box]
    gm = labels == 2
    inner = np.isin(labels, INNER)
    row: dict[str, object] = {"brain": name, "kind": kind, "voxels": int(labels.size),
                              "gm": int(gm.sum()), "touching_share": float(touching[gm].mean()),
                              "true_mean": float(truth[gm].mean())}

    def maps() -> Iterator[tuple[str, tuple[np.ndarray, float]]]:
        # one method's map at a time (a real-size brain's are 100 MB each), then the ceiling
        for m in methods:
            kwargs = {"subject": name} if m == "direct" else {}
            yield m, _timed(METHODS[m], gm, inner, subject["spacing"], **kwargs)
        yield "column", (column_truth(gm, inner, subject["spacing"], truth), np.nan)

    for m, (got, seconds) in maps():
        row[f"{m}_mean"] = float(np.nanmean(got[gm]))
        row[f"{m}_s"] = seconds
        for part, mask in (("touching", gm & touching), ("elsewhere", gm & ~touching),
                           ("all", gm)):
            s = _scores(got, truth, mask)
            row |= {f"{m}_{part}_{k}": v for k, v in s.items() if k != "n"}
            ok = mask & np.isfinite(got)
            voxels.append({"brain": name, "kind": kind, "method": m, "part": part,
                           "got": got[ok].astype(np.float32),
                           "truth": truth[ok].astype(np.float32)})
    return row


def _pooled(voxels: list[dict], method: str, part: str, kinds: set[str]) -> dict[str, float]:
    rows = [v for v in voxels if v["method"] == method and v["part"] == part
            and v["kind"] in kinds]
    if not rows:
        return {"bias": np.nan, "r": np.nan, "mae": np.nan, "n": 0}
    got = np.concatenate([v["got"] for v in rows]).astype(np.float64)
    truth = np.concatenate([v["truth"] for v in rows]).astype(np.float64)
    return _scores(got, truth, np.ones(got.shape, bool))


def _print_table(df: pd.DataFrame, voxels: list[dict], methods: list[str]) -> None:
    groups = [("all brains", set(df["kind"])), *[(k, {k}) for k in sorted(set(df["kind"]))]]
    for title, kinds in groups:
        sub = df[df["kind"].isin(kinds)]
        print(f"\n-- {title}: {len(sub)} brains, {int(sub['gm'].sum())} cortical voxels, "
              f"{(sub['touching_share'] * sub['gm']).sum() / sub['gm'].sum():.1%} on touching "
              "banks (pooled voxels) --")
        print(f"{'method':<8} {'part':<10} {'voxels':>9} {'bias':>8} {'r':>6} {'|e| med':>8}"
              f"   per brain: {'bias':>15} {'r':>13}")
        for m in [*methods, "column"]:
            for part in ("touching", "elsewhere", "all"):
                s = _pooled(voxels, m, part, kinds)
                bias, r = sub[f"{m}_{part}_bias"], sub[f"{m}_{part}_r"]
                print(f"{m:<8} {part:<10} {s['n']:>9} {s['bias']:+8.3f} {s['r']:6.3f} "
                      f"{s['mae']:8.3f}   {bias.min():+7.3f} to {bias.max():+.3f} "
                      f"{r.min():6.3f} to {r.max():.3f}")
        print("(column: the truth averaged over each column of cortex, the best a method that "
              "gives a column one thickness can reach)")
        for m in methods:
            ok = sub[[f"{m}_mean", "true_mean"]].dropna()
            r = np.corrcoef(ok[f"{m}_mean"], ok["true_mean"])[0, 1] if len(ok) > 2 else np.nan
            print(f"{m}: subject means vs true means r = {r:.3f} (n = {len(ok)}), mean bias "
                  f"{(ok[f'{m}_mean'] - ok['true_mean']).mean():+.3f} mm, "
                  f"{sub[f'{m}_s'].mean():.2f} s per brain")


def run_brains(study: Path | None, n_fov: int, n_real: int, seed: int, direct: bool,
               direct_crop: int, real_study: Path | None = None) -> dict[str, np.ndarray]:
    """Measure the brains (module notes); return the label map of the first brain of each kind
    (for the ``scale`` part)."""
    from harmonstats.synth import synthesize_study

    methods = _methods(direct)
    with tempfile.TemporaryDirectory() as tmp:
        studies = []
        if study is not None:
            studies.append(("given", study, read_table(study / "truth.tsv")["participant_id"]
                            .tolist()[:n_fov]))
        if real_study is not None:
            studies.append(("real size", real_study,
                            read_table(real_study / "truth.tsv")["participant_id"].tolist()))
        if study is None:
            for kind, n, kwargs in (("fov 64^3", n_fov, {"shape": 64}),
                                    ("real size", n_real, {"shape": REAL_SHAPE, "size": "real"})):
                if n <= 0 or (kind == "real size" and real_study is not None):
                    continue
                half = (n + 1) // 2
                root = Path(tmp) / kind.replace(" ", "_").replace("^", "")
                start = time.perf_counter()
                synthesize_study(root, n_source=half, n_target=n - half, spacing=0.5,
                                 seed=seed, progress=False, **kwargs)
                print(f"synthesised {n} brains ({kind}) in {time.perf_counter() - start:.0f} s",
                      flush=True)
                studies.append((kind, root,
                                read_table(root / "truth.tsv")["participant_id"].tolist()))
        rows, voxels = [], []
        first: dict[str, np.ndarray] = {}
        print("\n== synthetic folded brains, truth label maps, per-voxel truth from "
              "desc-thickness ==", flush=True)
        for kind, root, pids in studies:
            for pid in pids:
                subject = _subject(root, pid)
                first.setdefault(kind, subject["labels"])
                real = kind == "real size"
                # On real-size brains DiReCT (about an hour each) runs on a crop, with the other
                # methods beside it on the same crop; they also run on the whole brain.
                whole = [m for m in methods if not (real and m == "direct")]
                row = _measure(subject, pid, kind, whole, voxels)
                rows.append(row)
                print("  " + json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                         for k, v in row.items()}), flush=True)
                if real and direct:
                    box = _crop_box(subject["touching"], subject["labels"] == 2, direct_crop)
                    crop = _measure(subject, f"{pid}-crop", f"real-size {direct_crop}^3 crop",
                                    methods, voxels, box)
                    rows.append(crop)
                    print("  " + json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                             for k, v in crop.items()}), flush=True)
        df = pd.DataFrame(rows)
        RESULTS.mkdir(exist_ok=True)
        df.to_csv(RESULTS / "thickness_brains.tsv", sep="\t", index=False)
        whole = df[~df["kind"].str.contains("crop")]
        _print_table(whole, [v for v in voxels if "crop" not in v["kind"]], methods)
        crops = df[df["kind"].str.contains("crop")]
        if len(crops):
            _print_table(crops, [v for v in voxels if "crop" in v["kind"]], methods)
        if direct:
            timed = df.dropna(subset=["direct_s"])
            ratio = timed["direct_s"].sum() / timed["pbt_s"].sum()
            print(f"\nspeed: DiReCT / pbt = {ratio:.0f}x (summed times over the "
                  f"{len(timed)} volumes both ran on); laplace / pbt = "
                  f"{df['laplace_s'].sum() / df['pbt_s'].sum():.1f}x")
    return first


# -- cost at real size -----------------------------------------------------------------------
_CHILD = """
import json, sys, time
import numpy as np
from harmonstats.measures.laplace import laplace_thickness
from harmonstats.measures.pbt import pbt_thickness
labels = np.load(sys.argv[1])
fn = {"pbt": pbt_thickness, "laplace": laplace_thickness}[sys.argv[2]]
def hwm():
    # This process's own peak resident memory (MB). Not ru_maxrss: Linux carries the parent's
    # peak over into it across exec, so it would report the benchmark's peak, not this one's.
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
before = hwm()
cpu, wall = time.process_time(), time.perf_counter()
out = fn(labels == 2, np.isin(labels, (3, 4, 5, 6)), (0.5, 0.5, 0.5))
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
print(json.dumps({"cpu_s": cpu, "wall_s": wall, "peak_mb": hwm(), "start_mb": before,
                  "mean": float(np.nanmean(out[labels == 2]))}))
"""


def _cost(labels: np.ndarray, method: str, tmp: Path) -> dict[str, float]:
    path = tmp / "labels.npy"
    np.save(path, labels)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), method], check=True,
                          capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_scale(seed: int, laplace: bool, brains: dict[str, np.ndarray] | None = None) -> None:
    """Cost of one brain at 64^3, 128^3 and real size (``brains``: label maps already made,
    by kind, used instead of new ones)."""
    from harmonstats.synth import SubjectSpec, synthesize_subject

    brains = brains or {}
    spec = SubjectSpec("scale", "source", ga_birth=40.0, pma_scan=41.0, sex="F")
    grids = [("64^3, 0.5 mm (fov-scaled brain)", "fov 64^3", {"shape": 64}),
             ("128^3, 0.5 mm (fov-scaled brain)", "fov 128^3", {"shape": 128}),
             ("260 x 310 x 250, 0.5 mm (real-size brain)", "real size",
              {"shape": REAL_SHAPE, "size": "real"})]
    print("\n== cost: a fresh process measuring one brain (CPU seconds, peak resident memory) ==")
    print(f"{'grid':<44} {'voxels':>11} {'GM voxels':>10} {'method':<8} {'CPU s':>7} "
          f"{'wall s':>7} {'peak MB':>8} {'start MB':>9} {'vs 64^3':>8}")
    first: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, kwargs in grids:
            labels = brains.get(kind)
            if labels is None:
                labels = synthesize_subject(spec, spacing=0.5, seed=seed, **kwargs).truth
            if kwargs.get("size") == "real":
                # The brain as it came (256 x 256 x 200), in the larger grid of a real scan.
                labels = np.pad(labels, [(2, 2), (27, 27), (25, 25)])
            for method in ("pbt", *(["laplace"] if laplace else [])):
                c = _cost(labels, method, Path(tmp))
                first.setdefault(method, c["cpu_s"])
                print(f"{name:<44} {labels.size:>11} {int((labels == 2).sum()):>10} "
                      f"{method:<8} {c['cpu_s']:7.1f} {c['wall_s']:7.1f} {c['peak_mb']:8.0f} "
                      f"{c['start_mb']:9.0f} "
                      f"{c['cpu_s'] / first[method]:7.1f}x", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", default="cases,brains,scale",
                   help="comma-separated parts: cases, brains, scale")
    p.add_argument("--study", type=Path, default=None,
                   help="an existing study folder with desc-thickness maps (default: synthesize)")
    p.add_argument("--n-brains", type=int, default=6, help="fov-scaled brains (64^3, 0.5 mm)")
    p.add_argument("--n-real", type=int, default=2, help="real-size brains (256x256x200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthesized studies")
    p.add_argument("--no-direct", action="store_true", help="skip DiReCT everywhere")
    p.add_argument("--real-study", type=Path, default=None,
                   help="an existing study of real-size brains (used instead of --n-real new ones)")
    p.add_argument("--direct-crop", type=int, default=96,
                   help="side (voxels) of the crop DiReCT measures on real-size brains")
    p.add_argument("--no-laplace-scale", action="store_true",
                   help="time only pbt in the scale part")
    p.add_argument("--prob-sigma", type=float, default=PROBABILITY_SIGMA,
                   help="sigma (mm) of DiReCT's GM/WM probability maps; 0: binary masks")
    a = p.parse_args()
    parts = {s.strip() for s in a.parts.split(",")}
    direct = not a.no_direct
    _with_prob_sigma(a.prob_sigma)
    if "cases" in parts:
        run_cases(direct)
    brains = None
    if "brains" in parts:
        brains = run_brains(a.study, a.n_brains, a.n_real, a.seed, direct, a.direct_crop,
                            a.real_study)
    if "scale" in parts:
        run_scale(a.seed, not a.no_laplace_scale, brains)


if __name__ == "__main__":
    main()
