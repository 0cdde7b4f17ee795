#!/usr/bin/env python3
"""results/bench/kws.json from a keyword-spotting verification report (issue 6, section 5): wall time
of the run on this machine, clips, seconds per clip (inside a worker: core-seconds) and per clip of
wall time, with the run's mode, PDK and agreement figures for context.

The wall time only means something for a run that simulated every clip: a run that resumed clips
from saved samples did not. `scripts/bench/speed.py --long-run-clips 200` writes kws.json from its
fresh 200-clip run; this script does the same for any other fresh run.

Usage: python3 scripts/bench/kws.py REPORT_FOLDER [--out results/bench/kws.json]
"""
import argparse
import json
import os
import platform

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def summary(folder):
    """The benchmark record of the fresh verification run in report folder `folder`."""
    report = json.load(open(os.path.join(folder, "report.json")))
    p = report["provenance"]
    line = p["command_line"]
    workers = int(line[line.index("--jobs") + 1]) if "--jobs" in line else 2  # bmru verify's default
    result = {
        "benchmark": "transistor-level keyword spotting: one bmru verify run over held-out clips",
        "report": os.path.relpath(os.path.abspath(folder), ROOT),
        "model": p["model"], "pdk": p["pdk"], "corner": p["corner"], "mode": p.get("mode", "transient"),
        "cells": p.get("cells", "continuous"),
        "inputs": p["inputs"], "command_line": " ".join(p["command_line"]), "created": p["created"],
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "clips": report["clips"], "failed": report["failed"], "workers": workers,
        "wall_s": round(report["wall_seconds"], 1),
        "wall_s_per_clip": round(report["wall_seconds"] / report["clips"], 2),
        "core_seconds_per_clip": round(report["seconds_per_clip"], 2),
        "prediction_agreement": report["prediction_agreement"],
        "frame_state_agreement": report["frame_state_agreement"],
        "power_total_nW": report["power"]["total_nW"], "energy_nJ": report["power"]["energy_nJ"],
    }
    return result


def write(result, path):
    """Writes `result` as results/bench JSON (sorted keys, one trailing newline)."""
    with open(path, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("report", help="a bmru verify report folder of a run that simulated every clip")
    parser.add_argument("--out", default=os.path.join(ROOT, "results/bench/kws.json"))
    args = parser.parse_args()
    result = summary(args.report)
    write(result, args.out)
    print(json.dumps({k: result[k] for k in ["clips", "wall_s", "core_seconds_per_clip"]}))


if __name__ == "__main__":
    main()
