#!/usr/bin/env bash
# Set up (if needed) and run the built-in demo on a synthetic two-cohort study.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
study=data/demo
if [ ! -f "$study/participants.tsv" ]; then
    harmonstats synth --out "$study" --n-source 40 --n-target 40 --shape 64 --jobs 2
fi
harmonstats measure "$study" --methods original,truth --jobs 2 --out "$study/measures.tsv"
echo "demo: measures written to $study/measures.tsv"
