#!/usr/bin/env bash
# Train the built-in demo's eight models (models/demo/*.yaml) and export each to models/demo/<name>.pt
# (float16 segmenter weights + metadata; about 3 MB each).
#
#   bash scripts/train_demo_models.sh                   # all eight, CPU here (about 3 h on 2 cores)
#   MODELS="baseline_aug parcellation" bash scripts/train_demo_models.sh
#   DEVICE=cuda bash scripts/train_demo_models.sh       # on a GPU
#
# The training study is synthetic (48 + 48 subjects at 64^3 / 0.5 mm, seed 1), distinct from the
# demo study (seed 0) that the report segments. A killed run resumes where it stopped. The latent
# and image models start from the exported baselines (init_from), so the baselines come first.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${DATA:-data/train}
if [ ! -f "$DATA/participants.tsv" ]; then
  "$PY" -m harmonstats synth --out "$DATA" --n-source 48 --n-target 48 --shape 64 --spacing 0.5 \
    --seed 1 --jobs 2
fi
for m in ${MODELS:-baseline_aug baseline image_aug image latent_aug latent randomised parcellation}; do
  echo "== $m"
  "$PY" -m harmonstats train "models/demo/$m.yaml" --data "$DATA" --out "runs/demo/$m" \
    --device "${DEVICE:-auto}" --no-progress
  "$PY" -c "import sys; from harmonstats.models.checkpoint import export_model; \
print(export_model(sys.argv[1], sys.argv[2]))" "runs/demo/$m" "models/demo/$m.pt"
done
