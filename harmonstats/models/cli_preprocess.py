"""``harmonstats preprocess --data STUDY --out OUT``: resample, align, mask; stratified split."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``preprocess`` options."""
    parser.add_argument("--data", required=True,
                        help="BIDS study folder (sub-*[/ses-*]/anat/*_T2w.nii.gz)")
    parser.add_argument("--out", required=True, help="output study folder")
    parser.add_argument("--spacing", type=float, default=0.5, help="isotropic voxel size, mm")
    parser.add_argument("--template", default=None, help="template for rigid alignment (ANTs)")
    parser.add_argument("--mask-desc", default=None,
                        help="brain mask: sub-<id>_desc-<MASK_DESC>_mask.nii.gz")
    parser.add_argument("--split", action="store_true",
                        help="add a PMA-stratified 80/10/10 train/val/test split per cohort")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Preprocess the study and write its participants table (with a split if asked)."""
    from harmonstats.io import read_table, write_table
    from harmonstats.layout import PARTICIPANTS, check_participants, sessions_path
    from harmonstats.models.preprocess import preprocess_study, stratified_split

    data, out = Path(args.data), Path(args.out)
    table_path = data / PARTICIPANTS
    # The table is checked before any scan is preprocessed (and anything written).
    table = (check_participants(read_table(table_path), source=table_path.name,
                                required=("participant_id",))
             if table_path.is_file() else None)
    if table is None and args.split:
        raise FileNotFoundError(f"--split needs {table_path}")
    done = preprocess_study(data, out, spacing=args.spacing, template=args.template,
                            mask_desc=args.mask_desc, progress=not args.no_progress)
    if table is not None:
        if args.split:
            table = stratified_split(table, seed=args.seed)
        write_table(table, out / PARTICIPANTS, {
            "split": "train / val / test, stratified by PMA at scan within cohort"})
        for pid in table["participant_id"]:
            for sessions in (sessions_path(pid), sessions_path(pid).with_suffix(".json")):
                if (data / sessions).is_file():
                    (out / sessions).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(data / sessions, out / sessions)
    print(f"{len(done)} scans preprocessed")
    return 0
