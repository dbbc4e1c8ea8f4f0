"""Print, as a Markdown table, what ``harmonstats`` answers to each bad input of the test suite.

Every case of ``tests/bad_inputs.py`` runs as a real process (``python -m harmonstats ...``) in
a fresh copy of a small valid folder: the table shows the one line it printed, its exit code,
whether it wrote anything, and whether a traceback appeared::

    python scripts/bad_inputs.py [--only TEXT] > bad_inputs.md
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bad_inputs import CASES, snapshot, write_base  # noqa: E402


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " <br> ")


def main(argv: list[str] | None = None) -> int:
    """Run the cases; print the table; return 1 if any case misbehaved."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose description has TEXT")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if args.only in c.what]
    print("| # | bad input | command | message (stderr) | exit | nothing written | "
          "traceback |")
    print("|---|---|---|---|---|---|---|")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = write_base(Path(tmp) / "base")
        for number, case in enumerate(cases, start=1):
            folder = Path(tmp) / f"case{number}"
            shutil.copytree(base, folder)
            case.change(folder)
            before = snapshot(folder)
            result = subprocess.run([sys.executable, "-m", "harmonstats", *case.command],
                                    cwd=folder, capture_output=True, text=True, timeout=600)
            unchanged = snapshot(folder) == before
            traceback = "Traceback" in result.stderr
            one_line = len(result.stderr.splitlines()) == 1 and not result.stdout
            failures += not (result.returncode == 2 and unchanged and one_line and not traceback)
            command = " ".join(Path(a).name if "/" in a and Path(a).is_absolute() else a
                               for a in case.command[:2])
            print(f"| {number} | {_cell(case.what)} | `harmonstats {command} ...` | "
                  f"{_cell(result.stderr.strip())} | {result.returncode} | "
                  f"{'yes' if unchanged else 'NO'} | {'YES' if traceback else 'no'} |",
                  flush=True)
            shutil.rmtree(folder)
    print(f"\n{len(cases) - failures} of {len(cases)} cases: exit 2, one line, nothing written, "
          "no traceback.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
