"""Cost of generating synthetic subjects, and how it grows with the grid size.

For each grid (32^3 at 1 mm, 48^3 at 0.667 mm, 64^3 at 0.5 mm, 96^3 at 0.333 mm: the same 32 mm
field of view at rising resolution) prints the median seconds per subject of
``synthesize_subject`` (in memory: sub-voxel anatomy, labels, T2w), of writing a subject's four
NIfTI files, and their sum, with the ratio to 64^3. Single process, single thread (set
``OMP_NUM_THREADS=1`` for a strict one-core figure; numpy here does not multithread these steps).

Usage::

    nice -n 10 python benchmarks/synth.py             # 3 repeats per grid
    python benchmarks/synth.py --repeats 1 --shapes 32 64
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from harmonstats.io import save_nifti
from harmonstats.synth import SubjectSpec, synthesize_subject

FOV_MM = 32.0


def time_shape(shape: int, repeats: int) -> tuple[float, float]:
    """Median seconds to generate one subject in memory, and to write its four files."""
    spacing = FOV_MM / shape
    gen, write = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            cohort = "source" if i % 2 == 0 else "target"
            spec = SubjectSpec(f"b{i}", cohort, ga_birth=32.0 + i, pma_scan=41.0, sex="FM"[i % 2])
            start = time.perf_counter()
            vol = synthesize_subject(spec, shape=shape, spacing=spacing, seed=i)
            gen.append(time.perf_counter() - start)
            start = time.perf_counter()
            for name, arr in (("T2w", vol.t2w), ("original", vol.original),
                              ("truth", vol.truth), ("regions", vol.regions)):
                save_nifti(arr, vol.affine, Path(tmp) / f"b{i}_{name}.nii.gz")
            write.append(time.perf_counter() - start)
    return float(np.median(gen)), float(np.median(write))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=int, nargs="+", default=[32, 48, 64, 96])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    synthesize_subject(SubjectSpec("w", "source", 40.0, 41.0, "F"), shape=32, spacing=1.0)
    rows = [(shape, *time_shape(shape, args.repeats)) for shape in args.shapes]
    ref = next((g + w for s, g, w in rows if s == 64), None)
    print(f"synthetic subject cost, field of view {FOV_MM:g} mm, median of {args.repeats}")
    print(f"{'grid':>8} {'spacing':>8} {'generate_s':>11} {'write_s':>8} {'total_s':>8} "
          f"{'vs_64^3':>8}")
    for shape, gen, write in rows:
        ratio = f"{(gen + write) / ref:8.2f}" if ref else f"{'n/a':>8}"
        print(f"{shape:>5}^3 {FOV_MM / shape:8.3f} {gen:11.3f} {write:8.3f} {gen + write:8.3f} "
              f"{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
