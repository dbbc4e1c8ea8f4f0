"""``python -m harmonstats.report [STUDY.yaml] [--out DIR] [--quick]``: ``harmonstats report``."""

from __future__ import annotations

import sys

from harmonstats.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
