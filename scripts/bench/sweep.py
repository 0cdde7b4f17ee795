#!/usr/bin/env python3
"""Benchmark of the sweep runner: one sweep of >= 40 clip jobs run locally with 2 workers and
through Slurm with 2 single-CPU array tasks, on the same machine, one after the other.

Writes results/bench/sweep.json: the wall-time ratio Slurm / local, the shard runner's overhead per
job (wall time x workers - summed simulation seconds, per job, as a fraction of a job's simulation),
and Slurm's scheduling overhead per task (submission to the task's first output). Needs an idle
machine and a running Slurm (bash scripts/slurm-local.sh start); quote the ratios, not the times.

    python3 scripts/bench/sweep.py [--bmru .build/release/bmru] [--samples 20] [--clips 2]
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(arguments, **kwargs):
    return subprocess.run(arguments, check=True, capture_output=True, text=True, **kwargs)


def jobs_seconds(folder):
    total, count = 0.0, 0
    for name in os.listdir(os.path.join(folder, "jobs")):
        with open(os.path.join(folder, "jobs", name)) as handle:
            total += json.load(handle)["report"]["seconds"]
            count += 1
    return total, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bmru", default=os.path.join(ROOT, ".build/release/bmru"))
    parser.add_argument("--samples", type=int, default=20, help="Monte Carlo dies")
    parser.add_argument("--clips", type=int, default=2, help="golden clips of kws-yes-d4 (101 frames each)")
    parser.add_argument("--out", default=os.path.join(ROOT, "results/bench/sweep.json"))
    args = parser.parse_args()
    os.environ.setdefault("PDK_ROOT", os.path.join(os.path.dirname(ROOT), "shared/pdk"))
    work = tempfile.mkdtemp(prefix="bmru-bench-sweep-")
    sweep = os.path.join(work, "sweep.json")
    with open(sweep, "w") as handle:
        json.dump({"format": "bmru-sweep", "format_version": 1,
                   "model": os.path.join(ROOT, "results/models/kws-yes-d4"), "pdk": "gf180mcu",
                   "characterization": os.path.join(ROOT, "results/characterization/gf180mcu"),
                   "clips": {"clips": args.clips},
                   "axes": {"monte_carlo": {"samples": args.samples, "seed": 11}}}, handle)
    jobs = args.samples * args.clips

    local = os.path.join(work, "local")
    start = time.monotonic()
    run([args.bmru, "sweep", sweep, "--out", local, "--jobs", "2"])
    local_wall = time.monotonic() - start
    local_sim, _ = jobs_seconds(local)

    cluster = os.path.join(work, "slurm")
    start = time.monotonic()
    run([args.bmru, "sweep", "plan", sweep, "--out", cluster, "--shards", "2", "--seconds-per-job", "10"])
    submitted = run([args.bmru, "sweep", "submit", cluster]).stdout.split()
    merge_id = submitted[submitted.index("merge") + 2]
    submit_time = time.monotonic()
    first_output = None
    while True:
        if first_output is None and os.path.isdir(os.path.join(cluster, "jobs")) and os.listdir(os.path.join(cluster, "jobs")):
            first_output = time.monotonic()
        queue = subprocess.run(["squeue", "-h", "-j", merge_id], capture_output=True, text=True).stdout.strip()
        if not queue:
            break
        time.sleep(0.2)
    slurm_wall = time.monotonic() - start
    slurm_sim, _ = jobs_seconds(cluster)
    report = json.load(open(os.path.join(cluster, "report.json")))
    local_report = json.load(open(os.path.join(local, "report.json")))
    report.pop("execution"), local_report.pop("execution")

    per_job = local_sim / jobs
    result = {
        "benchmark": "sweep runner: local pool vs Slurm array",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "command": " ".join(sys.argv),
        "sweep": {"model": "kws-yes-d4", "pdk": "gf180mcu", "monte_carlo_samples": args.samples,
                  "clips": args.clips, "frames_per_clip": 101, "jobs": jobs},
        "local": {"workers": 2, "wall_s": round(local_wall, 2), "simulation_s": round(local_sim, 2)},
        "slurm": {"array_tasks": 2, "cpus_per_task": 1, "wall_s": round(slurm_wall, 2),
                  "simulation_s": round(slurm_sim, 2),
                  "submit_to_first_result_s": round((first_output or submit_time) - submit_time, 2)},
        "wall_ratio_slurm_over_local": round(slurm_wall / local_wall, 3),
        "runner_overhead_per_job_fraction": round((local_wall * 2 - local_sim) / jobs / per_job, 4),
        "slurm_overhead_per_task_s": round((slurm_wall * 2 - slurm_sim) / 2, 2),
        "reports_equal": report == local_report,
        "targets": {"wall_ratio_slurm_over_local": "<= 1.10", "runner_overhead_per_job_fraction": "< 0.02"},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(json.dumps(result, indent=2, sort_keys=True))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
