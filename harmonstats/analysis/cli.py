"""``harmonstats validate``: the statistics battery from the shell, over run_battery."""

from __future__ import annotations

import argparse
import textwrap
import warnings
from pathlib import Path

from harmonstats.analysis.battery import run_battery, write_battery
from harmonstats.analysis.config import battery_options, load_battery_config
from harmonstats.io import read_table
from harmonstats.layout import check_measures_table, check_participants, read_scans

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``validate`` options to ``parser``; its help lists every battery option."""
    parser.add_argument("measures", help="long measures table (TSV: participant_id, "
                        "[session_id,] cohort, method, measure, value, unit)")
    parser.add_argument("--participants", required=True,
                        help="participants table (TSV); each subject's sub-<label>_sessions.tsv "
                        "beside it is read too (BIDS), giving one row per subject and session")
    parser.add_argument("--config", default=None,
                        help="YAML of battery options, the keys listed below (a group's keys "
                        "nested, e.g. 'tost: {adjust: bh}'); unknown keys are errors")
    parser.add_argument("--out", required=True, help="folder for the result tables (TSV + "
                        "JSON sidecar describing every column)")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = _options_help()


def _options_help() -> str:
    lines = ["battery options (key [default]: meaning):"]
    for key, default, text in battery_options():
        lines += textwrap.wrap(f"{key} [{default}]: {text}", width=96, initial_indent="  ",
                               subsequent_indent="      ")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the battery and write every table as TSV + JSON sidecar; print a one-line summary."""
    config = load_battery_config(args.config)
    path = Path(args.participants).absolute()
    raw, source = read_scans(path.parent, participants=path)
    participants = check_participants(raw, source=source)
    measures = check_measures_table(read_table(args.measures), source=Path(args.measures).name,
                                    participants=participants, participants_source=source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = run_battery(measures, participants, config)
    for w in caught:
        print(f"warning: {w.message}")
    paths = write_battery(results, args.out, config)
    skipped = results["status"].query("status == 'skipped'")
    print(f"wrote {len(paths)} tables to {args.out}"
          + (f"; skipped: {', '.join(skipped['analysis'])}" if len(skipped) else ""))
    return 0
