#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then runs every test: the Swift package's tests
# (real libngspice, real PDK files), the Python training pipeline's tests and the report.html tests
# (scripts/report, with a headless-Chromium rendering).
# PDK_ROOT defaults to ../shared/pdk beside the checkout (the GF180MCU models).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export PDK_ROOT="$(cd "${PDK_ROOT:-$ROOT/../shared/pdk}" && pwd)"
.venv/bin/python -m pytest -q scripts/train scripts/report
swift build --build-tests
swift test --skip-build
