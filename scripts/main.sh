#!/usr/bin/env bash
# The main job on the embedded default (generic180, no PDK_ROOT needed): installs what is missing,
# builds bmru (release), runs the PDK smoke test in every corner, then verifies the committed
# kws-yes-d4 model at transistor level against the software reference on 2 golden clips (20 frames
# each), writing the report to results/demo/verify/. Until the keyword-spotting demo exists
# (`bmru demo`), this is the shortest end-to-end run of the toolchain.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
swift build -c release --product bmru
.build/release/bmru pdk check generic180
# Exit status 2 means the circuit disagreed with the reference: a result, reported, not a failure here.
status=0
.build/release/bmru verify --model results/models/kws-yes-d4 --pdk generic180 \
    --characterization results/characterization/generic180 --clips 2 --frames 20 --jobs 2 \
    --report results/demo/verify || status=$?
[ "$status" -le 2 ] || exit "$status"
echo "report: results/demo/verify/report.md"
