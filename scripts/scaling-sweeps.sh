#!/usr/bin/env bash
# Runs the scaling study's sweeps (results/scaling/sweeps/d<D>, docs/scaling.md) one size after another,
# resumable: plans a size that has no plan.json, runs its missing jobs on the local worker pool, appends
# the run's CPU (user + system of bmru and its ngspice workers) and the number of jobs it finished to the
# size's cpu-seconds.json, and merges what exists into its report.
#
#   bash scripts/scaling-sweeps.sh [--jobs N] [D ...]       (default: 4 8 16 32 64, --jobs 2)
#
# BMRU names the bmru binary (default .build/release/bmru); PDK_ROOT defaults to ../shared/pdk. A run
# that is killed records nothing: its finished jobs stay, and the CPU per clip is taken over recorded runs.
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
    [ -f "$dir/plan.json" ] || "$BMRU" sweep plan "$dir/sweep.json" --out "$dir"
    # The run under a Python parent that reads the CPU of all its descendants when it ends.
    python3 - "$dir" "$BMRU" sweep run "$dir" --jobs "$JOBS" <<'EOF'
import datetime, json, os, resource, subprocess, sys

folder, command = sys.argv[1], sys.argv[2:]
def done():
    jobs = os.path.join(folder, "jobs")
    return sum(n.endswith(".json") for n in os.listdir(jobs)) if os.path.isdir(jobs) else 0
before = done()
if before >= len(json.load(open(os.path.join(folder, "plan.json")))["jobs"]):
    sys.exit(0)  # complete: nothing to run, nothing to record
status = subprocess.run(command).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
path = os.path.join(folder, "cpu-seconds.json")
record = json.load(open(path)) if os.path.exists(path) else {
    "format": "bmru-cpu-seconds", "note": "user + system CPU of each run of bmru sweep run and its workers "
    "(scripts/scaling-sweeps.sh), and the jobs it finished"}
record.setdefault("runs", []).append({"cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "jobs": done() - before,
                                      "exit": status, "finished": datetime.datetime.now(datetime.timezone.utc)
                                      .isoformat(timespec="seconds")})
with open(path, "w") as f:
    json.dump(record, f, indent=1)
    f.write("\n")
sys.exit(status)
EOF
    "$BMRU" sweep merge "$dir" --partial
done
