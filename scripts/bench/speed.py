"""Benchmark of the transistor-level simulation speed (results/bench/speed.json; docs/design/simulation-modes.md).

1. Cost anatomy of one 1.01 s clip (101 frames of 10 ms) of a model on a PDK in each simulation mode:
   the deck of `bmru netlist --golden 0 --mode M` run by `ngspice -b` with `rusage all`, one thread:
   accepted/rejected time points, Newton iterations, and the time in device evaluation (matrix
   load), factorisation, solve and the rest (truncation error, breakpoints, output).
2. Guard: `bmru verify` of the same real clips (Speech Commands, speaker-disjoint, balanced) in mode
   `transient` and in mode `fast`, two workers, then `bmru compare` of the two reports: decisions,
   state bits, candidate currents, power, and the core-seconds per clip of each mode.
3. With --long-run-clips N: the wall time of a fresh N-clip verification in mode fast (held-out
   split, balanced, two workers), the issue's 200-clip figure; also written as results/bench/kws.json
   (scripts/bench/kws.py: the keyword-spotting issue's benchmark of the same run).
4. results/bench/verify.json (issue 5): seconds per 1 s clip of the verifier in each mode, the pool's
   speed-up (sum of per-clip simulation seconds over the wall time of the 2-worker fast run) and the
   circuit's cost over the float64 reference's (traced reference speed from results/bench/reference.json).

--cells selects the memory cells (`bmru verify --cells`; docs/design/cell-variants.md), filtered by default
as in `bmru`; the committed speed.json and verify.json were measured with continuous cells (then the
default), speed-filtered.json with filtered cells.

Usage: swift build -c release --product bmru
       PDK_ROOT=../shared/pdk python3 -m scripts.bench.speed --data ../shared/data/speech_commands_v0.02_test \
           [--clips 20] [--long-run-clips 200]
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import tempfile
import time

from scripts.bench import kws  # the keyword-spotting benchmark record

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUSAGE = {
    "accepted_points": r"Accepted timepoints = (\d+)",
    "rejected_points": r"Rejected timepoints = (\d+)",
    "newton_iterations": r"Transient iterations = (\d+)",
    "analysis_s": r"Transient analysis time = ([\d.]+)",
    "device_evaluation_s": r"Transient load time = ([\d.]+)",
    "factor_s": r"Transient factor time = ([\d.]+)",
    "solve_s": r"Transient solve time = ([\d.]+)",
    "truncation_s": r"Transient trunc time = ([\d.]+)",
    "parse_s": r"Netlist parsing time = ([\d.]+)",
    "expansion_s": r"Subckt and Param expansion time = ([\d.]+)",
    "loading_s": r"Netlist loading time = ([\d.]+)",
}


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def anatomy(bmru, model, pdk, characterization, mode, work, cells):
    """ngspice's own statistics for golden clip 0 of `model` in `mode`."""
    folder = os.path.join(work, "deck-" + mode)
    cmd = [bmru, "netlist", "--model", model, "--pdk", pdk, "--golden", "0", "--mode", mode, "--cells", cells,
           "--out", folder]
    if characterization:
        cmd += ["--characterization", characterization]
    run(cmd, stdout=subprocess.DEVNULL)
    deck = open(os.path.join(folder, "deck.cir")).read().rstrip()
    assert deck.endswith(".end")
    # One thread, as each worker runs; rusage after the deck's own transient.
    deck = deck[: -len(".end")] + ".control\nset num_threads=1\nrun\nrusage all\n.endc\n.end\n"
    path = os.path.join(folder, "rusage.cir")
    open(path, "w").write(deck)
    start = time.monotonic()
    # ngspice -b exits with status 1 after a .control block even when the run succeeded: judge by the output.
    print("+ ngspice -b", path, flush=True)
    out = subprocess.run(["ngspice", "-b", path], capture_output=True, text=True).stdout
    if "Transient analysis time" not in out:
        raise SystemExit(f"ngspice -b {path} did not finish its transient:\n{out[-2000:]}")
    wall = time.monotonic() - start
    stats = {"wall_s": round(wall, 3)}
    for key, pattern in RUSAGE.items():
        match = re.search(pattern, out)
        stats[key] = float(match.group(1)) if match else None
    frames = 101
    stats["points_per_frame"] = round(stats["accepted_points"] / frames, 1)
    stats["iterations_per_frame"] = round(stats["newton_iterations"] / frames, 1)
    stats["ms_per_iteration"] = round(1e3 * stats["device_evaluation_s"] / stats["newton_iterations"], 3)
    other = stats["analysis_s"] - stats["device_evaluation_s"] - stats["factor_s"] - stats["solve_s"]
    stats["other_analysis_s"] = round(other, 3)
    return stats


def verify(bmru, model, pdk, characterization, mode, data, clips, out, cells, split="test"):
    cmd = [bmru, "verify", "--model", model, "--pdk", pdk, "--data", data, "--split", split, "--clips", str(clips),
           "--mode", mode, "--cells", cells, "--jobs", "2", "--out", out]
    if characterization:
        cmd += ["--characterization", characterization]
    start = time.monotonic()
    print("+", " ".join(cmd), flush=True)
    # Exit 2 is a failed review check: the run and its timing stand (the guard compares the reports).
    code = subprocess.run(cmd).returncode
    if code not in (0, 2):
        raise subprocess.CalledProcessError(code, cmd)
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bmru", default=os.path.join(ROOT, ".build/release/bmru"))
    parser.add_argument("--model", default=os.path.join(ROOT, "results/models/kws-yes-d4"))
    parser.add_argument("--pdk", default="gf180mcu")
    parser.add_argument("--characterization", default=os.path.join(ROOT, "results/characterization/gf180mcu"))
    parser.add_argument("--data", required=True, help="Speech Commands folder (the guard's clips: test split)")
    parser.add_argument("--clips", type=int, default=20)
    parser.add_argument("--cells", choices=["continuous", "sampled", "filtered"], default="filtered")
    parser.add_argument("--long-run-clips", type=int, help="also time a fresh verification of this many held-out clips")
    parser.add_argument("--out", default=os.path.join(ROOT, "results/bench/speed.json"))
    parser.add_argument("--verify-out", default=os.path.join(ROOT, "results/bench/verify.json"))
    parser.add_argument("--kws-out", default=os.path.join(ROOT, "results/bench/kws.json"))
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="bmru-speed-")
    result = {
        "benchmark": "transistor-level simulation speed per 1.01 s clip (101 frames of 10 ms)",
        "model": os.path.basename(args.model), "pdk": args.pdk,
        "characterized": bool(args.characterization), "cells": args.cells,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "date": datetime.date.today().isoformat(),
        "anatomy_golden_clip_0": {},
    }
    for mode in ["transient", "fast"]:
        result["anatomy_golden_clip_0"][mode] = anatomy(args.bmru, args.model, args.pdk, args.characterization, mode, work, args.cells)
    a = result["anatomy_golden_clip_0"]
    result["anatomy_speedup"] = round(a["transient"]["analysis_s"] / a["fast"]["analysis_s"], 2)

    reports = {}
    walls = {}
    for mode in ["transient", "fast"]:
        reports[mode] = os.path.join(work, "verify-" + mode)
        walls[mode] = verify(args.bmru, args.model, args.pdk, args.characterization, mode, args.data, args.clips,
                             reports[mode], args.cells)
    agreement_path = os.path.join(work, "agreement.json")
    status = subprocess.run([args.bmru, "compare", reports["transient"], reports["fast"], "--out", agreement_path]).returncode
    agreement = json.load(open(agreement_path))
    result["guard"] = {
        "clips": agreement["clips"], "inputs": f"{args.data} test split, balanced, first {args.clips}",
        "passed": agreement["passed"], "compare_exit_status": status, "figures": agreement,
        "wall_s_two_workers": {mode: round(wall, 1) for mode, wall in walls.items()},
    }
    result["core_seconds_per_clip"] = {
        "transient": round(agreement["reference_seconds_per_clip"], 2), "fast": round(agreement["candidate_seconds_per_clip"], 2),
    }
    result["speedup_fast_over_transient"] = round(agreement["speedup"], 2)
    result["target_core_seconds_per_clip"] = 8
    if args.long_run_clips:
        folder = os.path.join(work, "verify-long")
        wall = verify(args.bmru, args.model, args.pdk, args.characterization, "fast", args.data, args.long_run_clips,
                      folder, args.cells, split="heldout")
        report = json.load(open(os.path.join(folder, "report.json")))
        result["long_run"] = {
            "clips": report["clips"], "mode": "fast", "split": "heldout (balanced)", "workers": 2,
            "wall_s": round(wall, 1), "seconds_per_clip": round(report["seconds_per_clip"], 2),
            "target_wall_s_200_clips": 900,
        }
        long_run = kws.summary(folder)
        long_run["report"] = "not kept: the fresh --long-run-clips run of scripts/bench/speed.py"
        kws.write(long_run, args.kws_out)
    fast = json.load(open(os.path.join(reports["fast"], "report.json")))
    result["corner"] = fast["provenance"]["corner"]
    simulated = sum(clip["seconds"] for clip in fast["per_clip"])
    reference = json.load(open(os.path.join(ROOT, "results/bench/reference.json")))
    d4 = next(r["swift"] for r in reference["results"] if r["swift"]["hidden"] == 4)
    reference_seconds = d4["traced_seconds"] / d4["clips"]
    verify_bench = {
        "benchmark": "bmru verify: seconds per 1.01 s clip (101 frames), pool speed-up, circuit vs reference cost",
        "model": result["model"], "pdk": args.pdk, "clips": agreement["clips"], "date": result["date"],
        "machine": result["machine"],
        "seconds_per_clip": result["core_seconds_per_clip"],
        "pool": {"workers": 2, "wall_s": round(walls["fast"], 1), "simulation_s": round(simulated, 1),
                 "speedup": round(simulated / walls["fast"], 2),
                 "note": "wall time includes MFCC extraction, compiling every clip's deck and writing the report"},
        "reference_seconds_per_clip": reference_seconds,
        "reference_source": "results/bench/reference.json (FastNetwork.run with full traces, d = 4, one core)",
        "circuit_over_reference": round(result["core_seconds_per_clip"]["fast"] / reference_seconds),
    }
    with open(args.verify_out, "w") as f:
        json.dump(verify_bench, f, indent=2, sort_keys=True)
        f.write("\n")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ["core_seconds_per_clip", "speedup_fast_over_transient", "anatomy_speedup"]}))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
