#!/usr/bin/env bash
# The main job on the embedded default: installs what is missing, builds bmru (release) and runs
# the PDK smoke test on the embedded generic180 card in every corner.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
swift build -c release --product bmru
.build/release/bmru pdk check generic180
