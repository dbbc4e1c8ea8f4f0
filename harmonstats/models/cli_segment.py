"""``harmonstats segment RUN_DIR_OR_CHECKPOINT --data STUDY --out DIR``: write label maps."""

from __future__ import annotations

import argparse

from harmonstats.errors import InputError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``segment`` options."""
    parser.add_argument("model", help="run folder (uses best.pt) or checkpoint file; a "
                        "parcellation model parcellates the tissue maps of --method instead")
    parser.add_argument("--data", required=True,
                        help="BIDS study folder (sub-*[/ses-*]/anat/*_T2w.nii.gz)")
    parser.add_argument("--out", required=True,
                        help="output root; maps go to the BIDS-Derivatives dataset "
                        "OUT/derivatives/METHOD/")
    parser.add_argument("--method", default=None,
                        help="method name (default: the model's name); for a parcellation "
                        "model, the method whose tissue maps to parcellate (e.g. original)")
    parser.add_argument("--parcellation", default=None,
                        help="parcellation run folder or checkpoint to split the predicted cGM")
    parser.add_argument("--overlap", type=float, default=0.5, help="sliding-window overlap")
    parser.add_argument("--window", type=int, default=None,
                        help="sliding-window edge in voxels (default: the model's training "
                        "crop); a window as large as the image segments it in one pass")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA if present), cpu, cuda; with --scheduler, each worker "
                        "resolves auto for itself")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                        help="network arithmetic: auto is bf16 on CUDA, fp32 on CPU; bf16 on a "
                        "CPU with native bfloat16 is about 2x faster")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:port): one task per scan on "
                        "that cluster, one network load per worker; the workers must see the "
                        "study and the checkpoints under the same paths")
    parser.add_argument("--overwrite", action="store_true", help="redo subjects already done")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Segment (or parcellate) the study; print how many subjects have maps."""
    from harmonstats.models.apply import load_segmenter, parcellate_cohort, segment_cohort

    if load_segmenter(args.model).metadata.label_scheme == "regions11":
        if args.method is None:
            raise InputError("a parcellation model needs --method (whose tissue maps to split)")
        done = parcellate_cohort(args.model, args.data, args.out, method=args.method,
                                 overlap=args.overlap, device=args.device,
                                 precision=args.precision, window=args.window,
                                 progress=not args.no_progress, overwrite=args.overwrite,
                                 scheduler=args.scheduler)
        print(f"{len(done)} subjects parcellated")
        return 0
    done = segment_cohort(args.model, args.data, args.out, method=args.method,
                          parcellation=args.parcellation, overlap=args.overlap,
                          device=args.device, precision=args.precision, window=args.window,
                          progress=not args.no_progress, overwrite=args.overwrite,
                          scheduler=args.scheduler)
    print(f"{len(done)} subjects segmented")
    return 0
