"""``harmonstats synth``: write a synthetic two-cohort neonatal study with known truth."""

from __future__ import annotations

import argparse

from harmonstats.synth.study import synthesize_study

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``synth`` options to ``parser``."""
    parser.add_argument("--out", required=True, help="study folder to write")
    parser.add_argument("--n-source", type=int, default=40,
                        help="subjects in the source (dHCP-like) cohort (default 40)")
    parser.add_argument("--n-target", type=int, default=40,
                        help="subjects in the target (ePrime-like) cohort (default 40)")
    parser.add_argument("--shape", type=int, default=64, help="voxels per side (default 64)")
    parser.add_argument("--spacing", type=float, default=0.5, help="voxel size in mm (default 0.5)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--rescanned", type=float, default=0.0,
                        help="share of subjects with a second session (default 0: no sessions)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a study already in --out")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Write the study; print its folder."""
    out = synthesize_study(args.out, n_source=args.n_source, n_target=args.n_target,
                           shape=args.shape, spacing=args.spacing, seed=args.seed,
                           jobs=args.jobs, progress=not args.no_progress,
                           overwrite=args.overwrite, rescanned=args.rescanned)
    print(out)
    return 0
