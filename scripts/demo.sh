#!/usr/bin/env bash
# Set up (if needed) and run the built-in demo end to end: synthesise a two-cohort study, measure
# it, run the statistics battery and write reports/demo/index.html. Extra arguments go to
# `python -m harmonstats.report` (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
python -m harmonstats.report "$@"
