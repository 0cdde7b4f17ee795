"""Runs every shard of a planned sweep that has missing jobs, one `bmru sweep run --shard` after another,
and appends each run's CPU (user + system of bmru and all its ngspice workers, read from this parent's
RUSAGE_CHILDREN) and the jobs it finished to the sweep's cpu-seconds.json. Called by
scripts/scaling-sweeps.sh; a busy machine inflates wall time but not this CPU.

Run: python3 scripts/scaling_shards.py SWEEP_DIR JOBS BMRU
"""
import datetime
import json
import os
import resource
import subprocess
import sys


def main(folder: str, jobs: str, bmru: str) -> int:
    plan = json.load(open(os.path.join(folder, "plan.json")))
    path = os.path.join(folder, "cpu-seconds.json")

    def done(shard: int) -> int:
        return sum(os.path.exists(os.path.join(folder, "jobs", f"{job['id']:06d}.json"))
                   for job in plan["jobs"] if job["shard"] == shard)

    for shard in range(plan["shards"]):
        before = done(shard)
        if before == sum(job["shard"] == shard for job in plan["jobs"]):
            continue
        start = resource.getrusage(resource.RUSAGE_CHILDREN)
        status = subprocess.run([bmru, "sweep", "run", folder, "--shard", str(shard), "--jobs", jobs]).returncode
        end = resource.getrusage(resource.RUSAGE_CHILDREN)
        record = json.load(open(path)) if os.path.exists(path) else {
            "format": "bmru-cpu-seconds",
            "note": "user + system CPU of each bmru sweep run and its workers (scripts/scaling-sweeps.sh), "
                    "and the jobs it finished"}
        cpu = end.ru_utime + end.ru_stime - start.ru_utime - start.ru_stime
        record.setdefault("runs", []).append({
            "cpu_s": round(cpu, 2), "jobs": done(shard) - before, "shard": shard, "exit": status,
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
        with open(path, "w") as f:
            json.dump(record, f, indent=1)
            f.write("\n")
        if status != 0:
            return status
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    sys.exit(main(*sys.argv[1:]))
