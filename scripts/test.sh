#!/usr/bin/env bash
# The whole test suite, from nothing: install (with the local backend and dev
# tools), check that generated JSON Schemas are fresh, lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/mixops ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
.venv/bin/python -m pip install -q -e '.[local,dev]'
.venv/bin/mixops schema --check
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
