"""``harmonstats synth``: write a synthetic two-cohort neonatal study with known truth."""

from __future__ import annotations

import argparse

from harmonstats.synth.folding import Folding
from harmonstats.synth.study import synthesize_study

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``synth`` options to ``parser``."""
    parser.add_argument("--out", required=True, help="study folder to write")
    parser.add_argument("--n-source", type=int, default=40,
                        help="subjects in the source (dHCP-like) cohort (default 40)")
    parser.add_argument("--n-target", type=int, default=40,
                        help="subjects in the target (ePrime-like) cohort (default 40)")
    parser.add_argument("--shape", type=int, nargs="+", default=[64], metavar="N",
                        help="voxels per side, or along x y z (default 64; real size at 0.5 mm: "
                             "256 256 200)")
    parser.add_argument("--spacing", type=float, default=0.5, help="voxel size in mm (default 0.5)")
    parser.add_argument("--size", choices=("fov", "real"), default="fov",
                        help="brain scaled to the field of view (default) or real neonatal size")
    parser.add_argument("--touching", type=float, default=Folding().touching,
                        help="mean share of each sulcus's depth where its banks touch with no CSF "
                             f"between them (default {Folding().touching})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--rescanned", type=float, default=0.0,
                        help="share of subjects with a second session (default 0: no sessions)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a study already in --out")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Write the study; print its folder."""
    shape = args.shape[0] if len(args.shape) == 1 else tuple(args.shape)
    out = synthesize_study(args.out, n_source=args.n_source, n_target=args.n_target,
                           shape=shape, spacing=args.spacing, seed=args.seed,
                           jobs=args.jobs, progress=not args.no_progress,
                           overwrite=args.overwrite, rescanned=args.rescanned,
                           size=args.size, folding=Folding(touching=args.touching))
    print(out)
    return 0
