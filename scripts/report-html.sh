#!/usr/bin/env bash
# Writes OUT/report.html (one self-contained file, figures inline) for a `bmru verify --out OUT` folder
# (scripts/report/html.py, docs/reference/report-format.md) with the repository's venv (.venv), which
# scripts/setup-python.sh creates or updates first when needed (its report part only: no JAX).
#   bash scripts/report-html.sh OUT
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: bash scripts/report-html.sh OUT" >&2; exit 1; }
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/setup-python.sh" report
exec "$ROOT/.venv/bin/python" -m scripts.report.html "$@"
