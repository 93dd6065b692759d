#!/usr/bin/env bash
# Footprint of the action's runtime, without a Docker engine: builds a fresh venv from the same lock
# file as the image, installs green-gate the way the Dockerfile does, then measures
#   1. install size (whole venv; and without pip/setuptools, which the base image already has),
#   2. `green-gate --help` wall time (first call after install = cold, then the median of 5),
#   3. the image's own command, `python -m gate.action`, on examples/digits with INPUT_* set as the
#      runner sets them: a recorded baseline (exit 0), then a +30% regression (must exit 1).
# Usage: benchmarks/footprint.sh [WORKDIR]   (default: a temporary folder, removed afterwards)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3.11}
work=${1:-$(mktemp -d)}
[ -n "${1:-}" ] || trap 'rm -rf "$work"' EXIT
venv="$work/venv"

echo "== fresh venv from requirements/runtime.lock ($("$PYTHON" --version))"
"$PYTHON" -m venv "$venv"
start=$(date +%s)
"$venv/bin/pip" install --quiet --disable-pip-version-check --requirement "$repo/requirements/runtime.lock"
PIP_CONSTRAINT="$repo/requirements/build.lock" \
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "$repo"
echo "install: $(( $(date +%s) - start )) s"

site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
total_mb=$(du -sm "$venv" | cut -f1)
base_mb=$(du -smc "$site"/pip "$site"/pip-* "$site"/setuptools "$site"/setuptools-* "$site"/_distutils_hack \
  2>/dev/null | tail -1 | cut -f1)
pyc_mb=$(find "$venv" -name __pycache__ -type d -prune -exec du -sc {} + | awk '/total$/ {s += $1} END {print int(s / 1024)}')
echo "size: venv ${total_mb} MB; runtime deps + green-gate without pip/setuptools $(( total_mb - base_mb )) MB" \
  "(of which bytecode ${pyc_mb} MB)"

echo "== green-gate --help"
cold=$( { /usr/bin/time -f %e "$venv/bin/green-gate" --help >/dev/null; } 2>&1 )
warm=$(for _ in 1 2 3 4 5; do { /usr/bin/time -f %e "$venv/bin/green-gate" --help >/dev/null; } 2>&1; done | sort -n | sed -n 3p)
echo "help: cold ${cold} s, warm median ${warm} s"

echo "== the image's command: python -m gate.action on examples/digits"
ws="$work/workspace"
rm -rf "$ws" && mkdir -p "$ws" && cp -r "$repo/examples" "$ws/"
run_action() {  # $1: extra work; prints the exit code
  : > "$work/output" && : > "$work/summary"
  ( cd "$ws" && env -i PATH="$venv/bin:/usr/bin:/bin" HOME="$work" \
      GITHUB_ACTIONS=true GITHUB_REF_NAME=main GITHUB_SHA=0000000000000000000000000000000000000000 \
      GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary" \
      GREEN_GATE_EXAMPLE_PASSES=40 GREEN_GATE_EXAMPLE_EXTRA_WORK="$1" \
      INPUT_WORKING_DIRECTORY=examples/digits INPUT_BUDGET=green-budget.yml INPUT_RECORD=true \
      INPUT_MODE=history INPUT_COMMENT=false INPUT_GPUS=all \
      INPUT_SETUP_COMMAND='pip install --quiet --disable-pip-version-check "scikit-learn>=1.4"' \
      python -m gate.action >"$work/stdout" 2>"$work/stderr" ) && code=0 || code=$?
  echo "$code"
}
start=$(date +%s)
code=$(run_action 0)
echo "baseline: exit $code in $(( $(date +%s) - start )) s; outputs: $(tr '\n' ' ' < "$work/output")"
[ "$code" = 0 ] || { tail -30 "$work/stderr"; exit 1; }
start=$(date +%s)
code=$(run_action 0.3)
echo "regression +30%: exit $code in $(( $(date +%s) - start )) s; outputs: $(tr '\n' ' ' < "$work/output")"
[ "$code" = 1 ] || { tail -30 "$work/stderr"; exit 1; }
echo "ok"
