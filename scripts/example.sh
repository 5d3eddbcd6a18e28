#!/usr/bin/env bash
# The main job on the bundled example: set up, validate, plan, apply and test
# examples/catalog against the embedded local backend (no server, no cloud).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/mixops ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[local,dev]'
fi
mixops() { .venv/bin/mixops -C examples/catalog "$@"; }
set -x
mixops validate
mixops plan
mixops apply --auto-approve
mixops plan --detailed-exitcode
mixops test
