"""Cost of generating synthetic subjects: time and peak memory, and how they grow with the grid.

For each grid (32^3 at 1 mm, 48^3 at 0.667 mm, 64^3 at 0.5 mm, 96^3 at 0.333 mm: the same 32 mm
field of view at rising resolution, the brain scaled to it; and a real-size brain in a
256 x 256 x 200 grid at 0.5 mm) prints the median seconds per subject (wall, and CPU) of
``synthesize_subject`` (in memory: folded anatomy on the 2x finer grid, labels, true
thickness, T2w), of writing its files, their sum with the ratio to 64^3, and the peak resident
memory of the process that made them. Each grid runs in a fresh process (one thread:
``OMP_NUM_THREADS=1``), so its peak memory is its own.

Usage::

    nice -n 10 python benchmarks/synth.py                       # 3 repeats per grid
    python benchmarks/synth.py --repeats 1 --shapes 32 64 real
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

FOV_MM = 32.0

_CHILD = """
import json, resource, sys, tempfile, time
from pathlib import Path
import numpy as np
from harmonstats.io import save_nifti
from harmonstats.synth import SubjectSpec, synthesize_subject
shape, repeats = sys.argv[1], int(sys.argv[2])
if shape == "real":
    kwargs = {"shape": (256, 256, 200), "spacing": 0.5, "size": "real"}
else:
    kwargs = {"shape": int(shape), "spacing": 32.0 / int(shape)}
gen, cpu, write = [], [], []
with tempfile.TemporaryDirectory() as tmp:
    for i in range(repeats):
        cohort = "source" if i % 2 == 0 else "target"
        spec = SubjectSpec(f"b{i}", cohort, ga_birth=32.0 + i, pma_scan=41.0, sex="FM"[i % 2])
        start, start_cpu = time.perf_counter(), time.process_time()
        vol = synthesize_subject(spec, seed=i, **kwargs)
        gen.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        start = time.perf_counter()
        for name, arr in (("T2w", vol.t2w), ("original", vol.original), ("truth", vol.truth),
                          ("regions", vol.regions), ("thickness", vol.thickness_map),
                          ("touching", vol.touching.astype(np.uint8))):
            save_nifti(arr, vol.affine, Path(tmp) / f"b{i}_{name}.nii.gz")
        write.append(time.perf_counter() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"generate": float(np.median(gen)), "generate_cpu": float(np.median(cpu)),
                  "write": float(np.median(write)),
                  "peak_mb": peak, "touching_share": vol.touching_share,
                  "voxels": int(vol.truth.size)}))
"""


def measure(shape: str, repeats: int) -> dict[str, float]:
    """Median seconds to generate one subject and to write its files, and the peak memory."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _CHILD, shape, str(repeats)], check=True,
                          capture_output=True, text=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["32", "48", "64", "96", "real"],
                        help="cubic grid sides (32 mm field of view), or 'real' (real-size "
                             "brain, 256 x 256 x 200 at 0.5 mm)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = [(shape, measure(shape, 1 if shape == "real" else args.repeats))
            for shape in args.shapes]
    ref = next((r["generate"] + r["write"] for s, r in rows if s == "64"), None)
    print(f"synthetic subject cost, median of {args.repeats} (real size: 1), one thread")
    print(f"{'grid':>22} {'voxels':>10} {'generate_s':>11} {'gen_cpu_s':>10} {'write_s':>8} "
          f"{'total_s':>8} "
          f"{'vs_64^3':>8} {'peak_MB':>8} {'touching':>9}")
    for shape, r in rows:
        total = r["generate"] + r["write"]
        name = ("256x256x200, 0.5 mm real" if shape == "real"
                else f"{shape}^3, {FOV_MM / int(shape):.3f} mm")
        ratio = f"{total / ref:8.2f}" if ref else f"{'n/a':>8}"
        print(f"{name:>22} {r['voxels']:>10} {r['generate']:11.2f} {r['generate_cpu']:10.2f} "
              f"{r['write']:8.2f} "
              f"{total:8.2f} {ratio} {r['peak_mb']:8.0f} {r['touching_share']:9.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
