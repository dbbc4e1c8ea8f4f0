"""``harmonstats train CONFIG.yaml --data STUDY --out RUN_DIR``: train one model of the paper.

For data-parallel training start it with ``torchrun --nproc_per_node N -m
harmonstats.models.cli_train CONFIG.yaml --data STUDY --out RUN_DIR`` (same options).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` options."""
    parser.add_argument("config", help="model YAML config (see the models/ folder)")
    parser.add_argument("--data", required=True, help="study folder (participants.tsv, sub-*/)")
    parser.add_argument("--out", required=True, help="run folder (checkpoints, metrics.tsv)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda")
    parser.add_argument("--no-resume", action="store_true",
                        help="start afresh even if RUN_DIR/last.pt exists")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Train; print the best checkpoint's path."""
    from harmonstats.models.train import train

    best = train(args.config, args.data, args.out, device=args.device,
                 resume=not args.no_resume, progress=not args.no_progress)
    print(best)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python -m harmonstats.models.cli_train`` (used under ``torchrun``)."""
    parser = argparse.ArgumentParser(prog="harmonstats train", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
