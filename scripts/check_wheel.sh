#!/usr/bin/env bash
# Build the wheel, install it in a fresh venv outside the checkout, and run the quick demo from
# an empty folder: the installed package must find its demo checkpoints (package data) and
# segment with them. Slow (a full install of the dependencies, then the demo): run it by hand or
# in a release check, not in the unit tests (tests/test_packaging.py checks the wheel's content).
#
#   bash scripts/check_wheel.sh            # keeps nothing; WORK=/some/dir to keep the files
#   HARMONSTATS_TORCH, HARMONSTATS_TORCH_INDEX   as for scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python_bin=${PYTHON:-python3}
work=${WORK:-$(mktemp -d)}
[ -n "${WORK:-}" ] || trap 'rm -rf "$work"' EXIT
echo "check_wheel: building the wheel in $work/dist"
"$python_bin" -m pip wheel . --no-deps -q -w "$work/dist"
wheel=$(ls "$work"/dist/harmonstats-*.whl)
"$python_bin" -m venv "$work/venv"
py="$work/venv/bin/python"
torch_spec=${HARMONSTATS_TORCH:-torch==2.13.0}
echo "check_wheel: installing $torch_spec, then $(basename "$wheel") and its dependencies"
if [ -n "${HARMONSTATS_TORCH_INDEX:-}" ]; then
    "$py" -m pip install -q "$torch_spec" --index-url "$HARMONSTATS_TORCH_INDEX"
else
    "$py" -m pip install -q "$torch_spec"
fi
"$py" -m pip install -q "$wheel"
mkdir -p "$work/empty"
cd "$work/empty"
# Nothing of the checkout is importable from here: the package is the installed wheel's.
where=$(env -u PYTHONPATH "$py" -c "import harmonstats; print(harmonstats.__file__)")
case "$where" in
    "$work/venv/"*) echo "check_wheel: harmonstats from $where" ;;
    *) echo "check_wheel: harmonstats imported from $where, not the fresh venv"; exit 1 ;;
esac
env -u PYTHONPATH "$py" -m harmonstats.report --quick 2> demo.log || { tail -20 demo.log; exit 1; }
grep -q "] segment done in " demo.log || { echo "check_wheel: demo did not segment"; \
    tail -20 demo.log; exit 1; }
grep "] segment done in \|report written" demo.log || true
test -f reports/demo-quick/index.html
echo "check_wheel: the installed wheel ran the quick demo with its checkpoints from $(pwd)"
