"""The ``harmonstats`` command: a thin layer over the library, one subcommand per stage.

Each subcommand lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int``; modules are imported only when their subcommand runs, so ``harmonstats
--help`` stays fast (torch is not imported for it).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from harmonstats import __version__
from harmonstats.errors import InputError

__all__ = ["COMMANDS", "main"]

#: Subcommand -> (module, one-line help).
COMMANDS: dict[str, tuple[str, str]] = {
    "synth": ("harmonstats.synth.cli", "write a synthetic two-cohort study with known truth"),
    "preprocess": ("harmonstats.models.cli_preprocess", "resample, align, mask and normalise"),
    "train": ("harmonstats.models.cli_train", "train a segmentation or parcellation model"),
    "segment": ("harmonstats.models.cli_segment", "apply a trained model to a study"),
    "measure": ("harmonstats.measures.cli", "measure volumes, cortical thickness and Dice"),
    "validate": ("harmonstats.analysis.cli", "run the harmonisation-validation statistics"),
    "report": ("harmonstats.pipeline.cli", "run a study end to end and write the HTML report"),
}

#: Errors that come from the user's input or its files: printed as one line, exit code 2, no
#: traceback. Every other exception (a KeyError, a TypeError, a ValueError raised inside a
#: library) is a bug and keeps its traceback.
USER_ERRORS = (InputError, OSError)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harmonstats",
        description="Validate the harmonisation of neonatal brain MRI cohorts.",
    )
    parser.add_argument("--version", action="version", version=f"harmonstats {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _one_line(exc: BaseException) -> str:
    """The error as one line (an OSError's own text names the file: ``[Errno 2] ...: 'x'``)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``harmonstats`` command; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not argv or argv[0] not in COMMANDS:
        args = parser.parse_args(argv)
        parser.print_help()
        return 0 if args.command is None and not argv else 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    sub = argparse.ArgumentParser(prog=f"harmonstats {name}", description=COMMANDS[name][1])
    module.add_arguments(sub)
    args = sub.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except USER_ERRORS as exc:
        print(f"harmonstats {name}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"harmonstats {name}: interrupted; finished work is kept, rerun to resume",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
