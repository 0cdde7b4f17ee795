#!/usr/bin/env bash
# Runs the scaling study's sweeps (results/scaling/sweeps/d<D>, docs/scaling.md) one size after another,
# resumable: plans a size that has no plan.json (shards of at most 5 clips), runs each shard's missing
# jobs on the local worker pool, appends each shard run's CPU (user + system of bmru and its ngspice
# workers) and the number of jobs it finished to the size's cpu-seconds.json, and merges what exists
# into the size's report.
#
#   bash scripts/scaling-sweeps.sh [--jobs N] [D ...]       (default: 4 8 16 32 64, --jobs 2)
#
# BMRU names the bmru binary (default .build/release/bmru); PDK_ROOT defaults to ../shared/pdk. A shard
# run that is killed records nothing: its finished jobs stay, and the CPU per clip is taken over the
# recorded runs, so a session that stops mid-sweep loses the record of one shard at most.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BMRU="${BMRU:-$ROOT/.build/release/bmru}"
export PDK_ROOT="$(cd "${PDK_ROOT:-$ROOT/../shared/pdk}" && pwd)"
JOBS=2
if [ "${1:-}" = "--jobs" ]; then JOBS="$2"; shift 2; fi
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(4 8 16 32 64)
[ -x "$BMRU" ] || { echo "scaling-sweeps: $BMRU: no bmru binary (swift build -c release, or set BMRU)" >&2; exit 1; }
for d in "${SIZES[@]}"; do
    dir="$ROOT/results/scaling/sweeps/d$d"
    [ -f "$dir/sweep.json" ] || { echo "scaling-sweeps: $dir/sweep.json: no such sweep" >&2; exit 1; }
    shards=$(python3 -c 'import json, sys; print(-(-json.load(open(sys.argv[1]))["clips"]["clips"] // 5))' "$dir/sweep.json")
    [ -f "$dir/plan.json" ] || "$BMRU" sweep plan "$dir/sweep.json" --out "$dir" --shards "$shards"
    python3 "$ROOT/scripts/scaling_shards.py" "$dir" "$JOBS" "$BMRU"
    "$BMRU" sweep merge "$dir" --partial
done
