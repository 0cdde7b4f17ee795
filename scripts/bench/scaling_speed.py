"""Benchmark of simulation cost against model size (results/bench/scaling-speed.json; issue 24;
docs/design/partitioned-simulation.md).

For d = 4, 8, 16, 32 and 64 (two blocks, 13 MFCC inputs; the committed trained models where there are
some, else random models with the hardware constraints, seeded) the same real held-out clips run
through `bmru verify` in mode `fast` (the whole circuit) and in mode `partitioned`, two workers. Per d
and mode: core-seconds per clip (the sum of the workers' simulation seconds), the CPU seconds of every
process of the run per clip (the verifier's own work, building decks and handing waveforms over,
included), ngspice's own split of
that time (`simulator_statistics` of report.json: accepted points, Newton iterations, device
evaluation, factorisation, solve), the verdict against the reference network, and `bmru compare` of
the two runs (the guard) where both ran on full clips. The whole circuit runs full clips up to
--whole-max-d; above it, --whole-clips clips of --whole-frames frames with a --whole-timeout per clip,
as a lower bound.
The exponents are least-squares fits of log(core-seconds per clip) against log(transistors).

Runs resume: every run writes its report folder under --work, and `bmru verify` keeps the clips it
has finished, so a second invocation simulates only what is missing.

Usage: swift build -c release --product bmru
       PDK_ROOT=../shared/pdk python3 -m scripts.bench.scaling_speed --data ../shared/data/speech_commands_v0.02_test \
           [--clips 5] [--ds 4,8,16,32,64]
"""
import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import subprocess

import numpy as np
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAINED = {4: "results/models/kws-yes-d4", 16: "results/models/kws-yes-d16"}
STATISTICS = ["accepted_points", "rejected_points", "newton_iterations", "analysis_s", "load_s", "factor_s", "solve_s"]


def run(cmd, allowed=(0,), **kw):
    print("+", " ".join(cmd), flush=True)
    code = subprocess.run(cmd, **kw).returncode
    if code not in allowed:
        raise subprocess.CalledProcessError(code, cmd)
    return code


def random_model(d, seed, folder):
    """A kws-yes-d4-shaped model with `d` hidden units and random parameters (Model.random's
    distributions: weights and biases N(0, 1/sqrt(fan-in)), alpha in [0.5, 1.5), beta_lo in [0, 1),
    delta in [0.1, 1.1))."""
    config = json.load(open(os.path.join(ROOT, TRAINED[4], "config.json")))
    inputs, blocks = config["inputs"], config["blocks"]
    config.update(name=f"random-d{d}", hidden=d)
    config.pop("training", None)
    rng = np.random.default_rng(seed)

    def linear(prefix, n_in, n_out, tensors):
        tensors[prefix + ".weight"] = rng.normal(0, 1 / math.sqrt(n_in), (n_out, n_in))
        tensors[prefix + ".bias"] = rng.normal(0, 1 / math.sqrt(n_in), n_out)

    tensors = {}
    linear("pre", inputs, d, tensors)
    for k in range(blocks):
        linear(f"blocks.{k}.cell", d, d, tensors)
        tensors[f"blocks.{k}.cell.alpha"] = rng.uniform(0.5, 1.5, d)
        tensors[f"blocks.{k}.cell.beta_lo"] = rng.uniform(0, 1, d)
        tensors[f"blocks.{k}.cell.delta"] = rng.uniform(0.1, 1.1, d)
        tensors[f"blocks.{k}.cell.s0"] = rng.integers(0, 2, d).astype(np.float64)
        linear(f"blocks.{k}.post", d, d, tensors)
    linear("classifier", d, len(config["classes"]), tensors)
    os.makedirs(folder, exist_ok=True)
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
    save_file({k: np.ascontiguousarray(v, dtype=np.float64) for k, v in tensors.items()},
              os.path.join(folder, "model.safetensors"))
    return folder


def cpu_seconds():
    """User + system CPU seconds of the finished child processes (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def per_clip(report):
    """Mean core-seconds and ngspice statistics per finished clip of a report.json."""
    clips = [c for c in report["per_clip"] if c["status"] == "ok"]
    stats = [c.get("simulator_statistics") for c in clips]
    result = {"clips": len(clips), "failed": len(report["per_clip"]) - len(clips),
              "core_s_per_clip": round(sum(c["seconds"] for c in clips) / max(1, len(clips)), 2),
              "prediction_agreement": report.get("prediction_agreement"),
              "state_bits": report.get("frame_state_agreement"), "passed": report.get("passed")}
    failures = sorted({c.get("failure") or "" for c in report["per_clip"] if c["status"] != "ok"})
    if failures:
        result["failures"] = failures
    if clips and all(stats):
        result["ngspice_per_clip"] = {k: round(sum(s[k] for s in stats) / len(stats), 3) for k in STATISTICS}
    return result


def fit(points):
    """Least-squares exponent b of cost = a * transistors^b with its standard error; None below 3 points."""
    if len(points) < 3:
        return None
    x = np.log([p[0] for p in points])
    y = np.log([p[1] for p in points])
    design = np.vstack([x, np.ones_like(x)]).T
    coef, residual, _, _ = np.linalg.lstsq(design, y, rcond=None)
    dof = len(points) - 2
    sigma2 = float(residual[0]) / dof if dof > 0 and len(residual) else 0.0
    stderr = math.sqrt(sigma2 / float(np.sum((x - x.mean()) ** 2)))
    return {"exponent": round(float(coef[0]), 3), "stderr": round(stderr, 3), "points": len(points)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bmru", default=os.path.join(ROOT, ".build/release/bmru"))
    parser.add_argument("--pdk", default="gf180mcu")
    parser.add_argument("--characterization", default=os.path.join(ROOT, "results/characterization/gf180mcu"))
    parser.add_argument("--data", required=True, help="Speech Commands folder (held-out clips, balanced)")
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--clips-at", default="64=2", help="fewer clips for the slowest sizes: d=N,... (full clips)")
    parser.add_argument("--ds", default="4,8,16,32,64")
    parser.add_argument("--whole-max-d", type=int, default=16, help="largest d whose whole circuit runs full clips")
    parser.add_argument("--whole-clips", type=int, default=2)
    parser.add_argument("--whole-frames", type=int, default=10)
    parser.add_argument("--whole-timeout", type=float, default=600, help="seconds per clip of a larger whole circuit")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--work", default="/tmp/bmru-scaling")
    parser.add_argument("--out", default=os.path.join(ROOT, "results/bench/scaling-speed.json"))
    args = parser.parse_args()
    ds = [int(d) for d in args.ds.split(",")]
    clips_at = {int(d): int(n) for d, n in (pair.split("=") for pair in args.clips_at.split(",") if pair)}
    os.makedirs(args.work, exist_ok=True)
    common = ["--pdk", args.pdk, "--characterization", args.characterization, "--data", args.data, "--jobs", "2"]

    def cost(entry, mode, metric="core_s_per_clip"):
        run_ = entry["runs"].get(mode, {})
        return run_.get(metric) if run_.get("frames") == 101 and run_.get("clips") else None

    def write():
        """The record of the sizes done so far: written after each size, so a long run leaves its figures."""
        result = {
            "benchmark": "core-seconds per 1.01 s clip against model size: whole-circuit fast transient vs partitioned",
            "pdk": args.pdk, "clips": args.clips, "clips_at": clips_at,
            "data": "Speech Commands held-out split, balanced, first clips",
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "date": datetime.date.today().isoformat(), "sizes": entries,
            "exponent_vs_transistors": {
                metric: {mode: fit([(e["transistors"], cost(e, mode, metric)) for e in entries if cost(e, mode, metric)])
                         for mode in ["partitioned", "fast"]}
                for metric in ["core_s_per_clip", "cpu_s_per_clip_all_processes"]},
        }
        base = next((e for e in entries if e["d"] == 4), None)
        if base:
            # Each mode against its own d = 4 cost.
            result["relative_to_d4"] = {
                metric: {f"d{e['d']}_{mode}": round(cost(e, mode, metric) / cost(base, mode, metric), 2)
                         for e in entries for mode in ["partitioned", "fast"]
                         if cost(e, mode, metric) and cost(base, mode, metric)}
                for metric in ["core_s_per_clip", "cpu_s_per_clip_all_processes"]}
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        json.dump(result, open(args.out, "w"), indent=1)
        return result

    entries = []
    for d in ds:
        model = os.path.join(ROOT, TRAINED[d]) if d in TRAINED else \
            random_model(d, args.seed + d, os.path.join(args.work, f"random-d{d}"))
        deck = os.path.join(args.work, f"deck-d{d}")
        run([args.bmru, "netlist", "--model", model, "--pdk", args.pdk, "--characterization", args.characterization,
             "--out", deck], stdout=subprocess.DEVNULL)
        totals = json.load(open(os.path.join(deck, "manifest.json")))["totals"]
        entry = {"d": d, "model": os.path.relpath(model, ROOT) if d in TRAINED else f"random (seed {args.seed + d})",
                 "transistors": totals["transistors"], "runs": {}}
        folders = {}
        for mode in ["partitioned", "fast"]:
            full = mode == "partitioned" or d <= args.whole_max_d
            folder = os.path.join(args.work, f"d{d}-{mode}")
            cmd = [args.bmru, "verify", "--model", model, "--mode", mode, "--out", folder] + common
            if full:
                cmd += ["--clips", str(clips_at.get(d, args.clips))]
            else:
                cmd += ["--clips", str(args.whole_clips), "--frames", str(args.whole_frames),
                        "--timeout", str(args.whole_timeout)]
            # Exit 2 is a failed review check (random models are not keyword spotters): the timing stands.
            # A resumed run's CPU covers only the clips it simulated, so the figure of the run that
            # simulated them all is kept beside its report.
            cpu_file = os.path.join(folder, "cpu-seconds.json")
            fresh = not os.path.exists(os.path.join(folder, "report.json"))
            before = cpu_seconds()
            code = run(cmd, allowed=(0, 1, 2))
            if fresh:
                json.dump({"cpu_s": cpu_seconds() - before}, open(cpu_file, "w"))
            report_file = os.path.join(folder, "report.json")
            if code == 1 or not os.path.exists(report_file):
                entry["runs"][mode] = {"error": f"bmru verify exited {code}"}
                continue
            figures = per_clip(json.load(open(report_file)))
            figures["frames"] = 101 if full else args.whole_frames
            if os.path.exists(cpu_file):
                cpu = json.load(open(cpu_file))["cpu_s"]
                figures["cpu_s_per_clip_all_processes"] = round(cpu / max(1, figures["clips"] + figures["failed"]), 2)
            entry["runs"][mode] = figures
            if full:
                folders[mode] = folder
        if len(folders) == 2:
            guard = os.path.join(args.work, f"d{d}-guard.json")
            run([args.bmru, "compare", folders["fast"], folders["partitioned"], "--out", guard],
                allowed=(0, 2), stdout=subprocess.DEVNULL)
            entry["guard"] = json.load(open(guard))
        entries.append(entry)
        shutil.rmtree(deck, ignore_errors=True)
        result = write()

    print(json.dumps(result["exponent_vs_transistors"], indent=1))
    print("->", args.out)


if __name__ == "__main__":
    main()
