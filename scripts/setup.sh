#!/usr/bin/env bash
# Set up harmonstats in ./.venv: the CPU build of torch by default, then the package with its
# test and ComBat extras. Safe to rerun: what is installed already is kept.
#
#   HARMONSTATS_TORCH        torch requirement to install (default: torch==2.13.0)
#   HARMONSTATS_TORCH_INDEX  package index for torch, e.g. a CPU or CUDA wheel index
#   PYTHON                   interpreter to build the venv with (default: python3, >= 3.10)
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($python_bin --version)"
    "$python_bin" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate

# pip, without the notes some local package-index set-ups print for every package; a failing
# install still fails the script (pipefail).
pip_install() {
    python -m pip install -q "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor" || true; }
}

if ! python -c "import torch" 2>/dev/null; then
    torch_spec=${HARMONSTATS_TORCH:-torch==2.13.0}
    echo "setup: installing $torch_spec"
    if [ -n "${HARMONSTATS_TORCH_INDEX:-}" ]; then
        pip_install "$torch_spec" --index-url "$HARMONSTATS_TORCH_INDEX"
    else
        pip_install "$torch_spec"
    fi
fi
echo "setup: installing harmonstats and its dependencies"
pip_install -e ".[dev]"
python -c "import harmonstats, torch; print(f'setup: harmonstats {harmonstats.__version__}, torch {torch.__version__} (CUDA available: {torch.cuda.is_available()})')"
