#!/usr/bin/env bash
# Installs what is missing (scripts/setup.sh), then runs every test: the Swift package's tests
# (real libngspice, real PDK files, a local Slurm for the sweep tests), the Python training pipeline's
# tests and the report tests (report.html and the scaling study's report,
# scripts/report, with a headless-Chromium rendering).
# PDK_ROOT defaults to ../shared/pdk beside the checkout (the GF180MCU models).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export PDK_ROOT="$(cd "${PDK_ROOT:-$ROOT/../shared/pdk}" && pwd)"
# The cluster path of `bmru sweep` is tested on a real single-node Slurm (scripts/slurm-local.sh):
# as root it is started here and its tests cannot be skipped; otherwise they run only if Slurm is up.
if [ "$(id -u)" -eq 0 ]; then
    bash scripts/slurm-local.sh start
    export BMRUKIT_REQUIRE_SLURM=1
else
    echo "test: not root, Slurm not started: the Slurm sweep test runs only if a local Slurm is already up" >&2
fi
swift build --build-tests
# The scaling report's tests compile decks and run the Swift reference with the bmru just built.
BMRU="$ROOT/.build/debug/bmru" .venv/bin/python -m pytest -q scripts/train scripts/report
swift test --skip-build
