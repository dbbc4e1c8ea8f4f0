#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: lint, type check, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
echo "test: ruff"
ruff check harmonstats tests benchmarks
echo "test: mypy"
mypy harmonstats
echo "test: pytest"
python -m pytest -n 2 --durations=15 "$@"
