#!/usr/bin/env bash
# The main job, `bmru demo`: installs what is missing, builds bmru (release), synthesizes 8 demo
# clips with espeak-ng (4 "yes", 4 other words) and runs each through the software reference and
# the transistor-level circuit of the committed kws-yes-d4 model: a table of reference decision,
# circuit decision, agreement and energy per clip, and a verification report in results/demo/report/.
# The PDK is the embedded generic180 unless PDK_ROOT is set (then gf180mcu). Extra arguments go to
# `bmru demo` (e.g. --data ../shared/data/speech_commands_v0.02_test --clips 20 for real clips). The
# exit status is the demo's: 0 when every check of its report passes, 2 when one fails.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
swift build -c release --product bmru
bash scripts/demo-audio.sh results/demo/audio
.build/release/bmru demo "$@"
