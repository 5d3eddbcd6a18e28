#!/usr/bin/env bash
# The main job on the bundled example: set up, validate, plan, apply and test
# examples/catalog against the embedded local backend (no server, no cloud).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
mixops() { .venv/bin/mixops -C examples/catalog "$@"; }
set -x
mixops validate
mixops plan
mixops apply --auto-approve
mixops plan --detailed-exitcode
mixops test
