"""Finding a study's scans and files: harmonstats.layout against pybids, side by side.

Writes a BIDS study of tiny NIfTI files (``--subjects`` subjects, two sessions for a third of
them, a pipeline's derivatives dataset with two label maps and regions, and two model datasets),
then times, in this process:

- ours: ``read_scans`` + ``find_study_files`` (what ``Cohort.from_bids`` does before it checks
  the files), and
- pybids: ``import bids`` and ``BIDSLayout(root, derivatives=True, validate=False)`` then a query
  for every ``dseg`` map,

checks that both find the same label maps, and prints the times and their ratio.

    python benchmarks/layout.py [--subjects 200] [--pybids-path DIR]

pybids is not a dependency of harmonstats; ``--pybids-path`` adds a folder where it is installed
(``pip install --target DIR pybids``) to the import path.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harmonstats.io import save_nifti, write_table
from harmonstats.layout import (
    Scan,
    derivative_path,
    find_study_files,
    raw_path,
    read_scans,
    scans_of,
    sessions_path,
)
from harmonstats.layout.derivatives import generated_by, write_dataset_description


def write_study(root: Path, n: int) -> list[Scan]:
    """A study of ``n`` subjects (a third with two sessions) in the harmonstats layout."""
    tiny = np.zeros((2, 2, 2), np.uint8)
    ids = [f"s{i:04d}" for i in range(n)]
    write_table(pd.DataFrame({"participant_id": [f"sub-{p}" for p in ids]}),
                root / "participants.tsv")
    write_dataset_description(root, name="benchmark", dataset_type="raw",
                              generated=[generated_by()])
    scans = []
    for i, pid in enumerate(ids):
        sessions = ["01", "02"] if i % 3 == 0 else ["01"]
        write_table(pd.DataFrame({"session_id": [f"ses-{s}" for s in sessions]}),
                    root / sessions_path(pid))
        scans += [Scan.of(pid, s) for s in sessions]
    for name in ("pipeline", "baseline", "image_aug"):
        write_dataset_description(root / "derivatives" / name, name=name,
                                  generated=[generated_by()])
    for scan in scans:
        save_nifti(tiny.astype(np.float32), np.eye(4), root / raw_path(scan, "T2w"))
        for desc in ("original", "truth", "regions"):
            save_nifti(tiny, np.eye(4), root / derivative_path("pipeline", scan, desc=desc))
        for model in ("baseline", "image_aug"):
            save_nifti(tiny, np.eye(4), root / derivative_path(model, scan))
    return scans


def ours(root: Path) -> tuple[float, set[Path]]:
    start = time.perf_counter()
    table, _ = read_scans(root)
    found = find_study_files(root, scans_of(table))
    seconds = time.perf_counter() - start
    maps = {p for paths in found.labels.values() for p in paths.values()}
    maps |= {p for paths in found.regions.values() for p in paths.values()}
    return seconds, maps


def theirs(root: Path) -> tuple[float, float, set[Path]]:
    start = time.perf_counter()
    import bids

    imported = time.perf_counter() - start
    start = time.perf_counter()
    layout = bids.BIDSLayout(str(root), derivatives=True, validate=False)
    files = layout.get(suffix="dseg", extension=".nii.gz", return_type="filename")
    indexed = time.perf_counter() - start
    return imported, indexed, {Path(f) for f in files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=200)
    parser.add_argument("--pybids-path", type=Path, default=None)
    args = parser.parse_args()
    if args.pybids_path is not None:
        sys.path.append(str(args.pybids_path))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "study"
        scans = write_study(root, args.subjects)
        ours_s, our_maps = ours(root)
        print(f"study: {args.subjects} subjects, {len(scans)} scans, "
              f"{len(our_maps)} label and region maps")
        print(f"harmonstats.layout: {ours_s:.3f} s (read_scans + find_study_files)")
        try:
            imported, indexed, their_maps = theirs(root)
        except ImportError:
            print("pybids: not installed (pip install --target DIR pybids; --pybids-path DIR)")
            return
        print(f"pybids: import {imported:.2f} s, BIDSLayout + query {indexed:.2f} s")
        print(f"same label and region maps found: {their_maps == our_maps}")
        print(f"ratio (pybids import + index) / harmonstats.layout: "
              f"{(imported + indexed) / ours_s:.0f}x; index alone {indexed / ours_s:.0f}x")


if __name__ == "__main__":
    main()
