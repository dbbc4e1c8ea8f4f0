"""``harmonstats measure``: measure a study folder into a tidy TSV table."""

from __future__ import annotations

import argparse

from harmonstats.measures.methods import DEFAULT_THICKNESS, THICKNESS_METHODS

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``measure`` subcommand's arguments."""
    parser.add_argument("study", metavar="DIR", help="BIDS-like study folder")
    parser.add_argument("--methods", default=None,
                        help="comma-separated methods to measure (default: all found)")
    parser.add_argument("--thickness", choices=THICKNESS_METHODS, default=DEFAULT_THICKNESS,
                        help=f"cortical thickness method (default: {DEFAULT_THICKNESS}, fast; "
                             "direct: ANTs DiReCT, slow)")
    parser.add_argument("--reference", default="truth",
                        help="method Dice is computed against (default: truth; 'none' for no Dice)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (-1: all cores)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address (tcp://host:port) to run the tasks on")
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="result cache folder (default: DIR/.harmonstats-cache)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--out", required=True, help="output table (.tsv; a .json sidecar too)")


def run(args: argparse.Namespace) -> int:
    """Measure the study and write the table; return the exit code."""
    from harmonstats.measures.extract import measure_study, write_measures

    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
    reference = None if args.reference.lower() == "none" else args.reference
    df = measure_study(args.study, methods=methods, thickness=args.thickness,
                       reference=reference, jobs=args.jobs, scheduler=args.scheduler,
                       cache_dir=args.cache, progress=not args.no_progress)
    path = write_measures(df, args.out)
    print(f"wrote {len(df)} rows to {path}")
    return 0
