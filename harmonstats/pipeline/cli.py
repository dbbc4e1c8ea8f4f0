"""``harmonstats report`` and ``python -m harmonstats.report``: the demo, or a user's study.

With no study YAML, runs the built-in demo end to end on a synthetic two-cohort study (generated
once into ``data/demo``, reused while its parameters stay the same) and writes
``reports/demo/index.html``. With a study YAML, does the same on the user's own data.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from harmonstats.errors import InputError
from harmonstats.pipeline.demo import DEMO, QUICK, demo_run, demo_study
from harmonstats.pipeline.run import Progress, run_report
from harmonstats.pipeline.study import study_run

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the report command."""
    parser.add_argument("study", nargs="?", type=Path,
                        help="study YAML (default: run the built-in demo on a synthetic study)")
    parser.add_argument("--out", type=Path,
                        help="report folder (default: reports/demo, reports/demo-quick with "
                             "--quick, or reports/<study name>)")
    parser.add_argument("--quick", action="store_true",
                        help="demo only: a smaller synthetic study (about a minute)")
    parser.add_argument("--data", type=Path,
                        help="demo only: where the synthetic study is cached (default data/demo, "
                             "data/demo-quick with --quick)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes for synthesis and measuring (default: 2 for the "
                             "demo, measures.jobs of the study YAML)")
    parser.add_argument("--seed", type=int, default=0, help="demo only: seed (default 0)")


def run(args: argparse.Namespace) -> int:
    """Run the report; print where it is. Returns 0 on success."""
    if args.study is None:
        params = QUICK if args.quick else DEMO
        params = type(params)(**{**vars(params), "seed": args.seed})
        name = "demo-quick" if args.quick else "demo"
        data = args.data if args.data is not None else Path("data") / name
        out = args.out if args.out is not None else Path("reports") / name
        jobs = args.jobs if args.jobs is not None else 2
        if jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {jobs}")
        progress = Progress(total=7)
        with progress.stage("synthesise") as st:
            root, reused = demo_study(data, params, jobs=jobs, progress=sys.stderr.isatty())
            st["note"] = f"reused {root}" if reused else f"wrote {root}"
        with progress.stage("load") as st:
            study = demo_run(root, params, jobs=jobs, quick=args.quick)
            st["note"] = study.describe()
    else:
        if args.quick or args.data is not None:
            raise InputError("--quick and --data apply to the demo only, not to a study YAML")
        if args.jobs is not None and args.jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {args.jobs}")
        progress = Progress(total=6)
        # Every input problem is found while loading: its one line is all that is printed.
        with progress.stage("load", announce=False) as st:
            study = study_run(args.study, jobs=args.jobs)
            st["note"] = study.describe()
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", study.title).strip("-") or "study"
        out = args.out if args.out is not None else Path("reports") / slug
    index = run_report(study, out, progress=progress, show_bars=sys.stderr.isatty())
    print(f"report written to {index}")
    return 0
