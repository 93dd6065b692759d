#!/usr/bin/env bash
# Regenerates requirements/runtime.lock and requirements/build.lock from their .in files, each in a
# fresh venv of the Python the image uses (3.11). Review the diff before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in runtime build; do
  "$PYTHON" -m venv "$work/$name"
  "$work/$name/bin/pip" install --quiet --upgrade pip
  "$work/$name/bin/pip" install --quiet --requirement "requirements/$name.in"
  {
    grep '^#' "requirements/$name.lock" 2>/dev/null || echo "# Locked from requirements/$name.in; regenerate with benchmarks/lock.sh."
    "$work/$name/bin/pip" freeze --exclude-editable
  } > "$work/$name.lock"
  mv "$work/$name.lock" "requirements/$name.lock"
done
git diff --stat -- requirements/
