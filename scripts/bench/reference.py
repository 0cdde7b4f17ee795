#!/usr/bin/env python3
"""Benchmark of the Swift float64 network (module BMRU, FastNetwork); writes results/bench/reference.json.

    python3 scripts/bench/reference.py            # from anywhere; needs swift, taskset optional
    python3 scripts/bench/reference.py --cpu 1 --scratch-path .build-perf   # other core / build dir

Builds `bmru` in release mode (scratch path .build-bmru unless --scratch-path), runs `bmru model bench` for d = 4 and
d = 64 (1,000 random clips of 101 frames, 13 inputs, 2 blocks, random parameters) pinned to one
core (--cpu, default 0), and records cell-steps per second (clips x frames x blocks x d per second). If the training
venv (.venv, made by scripts/setup-python.sh) has jax, the JAX model of scripts/train is timed on
the same inputs and parameters, also on one core, and the ratio Swift / JAX is recorded; otherwise
the JAX fields are null. Standard library only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "results", "bench", "reference.json")
HIDDEN = [4, 64]
CLIPS, FRAMES = 1000, 101
REPEATS = 5  # timed repetitions, the fastest counts (Swift and JAX alike); the machine is shared
CPU = "0"


def run(command: list[str], env: dict | None = None) -> str:
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout


def one_core(command: list[str]) -> list[str]:
    return (["taskset", "-c", CPU] if shutil.which("taskset") else []) + command


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "system": platform.platform(),
            "swift": run(["swift", "--version"]).strip().splitlines()[0]}


def jax_results(export_dir: str) -> tuple[dict | None, str]:
    python = os.path.join(ROOT, ".venv", "bin", "python")
    if not os.path.exists(python):
        return None, "no .venv (run scripts/setup-python.sh)"
    if subprocess.run([python, "-c", "import jax"], capture_output=True).returncode != 0:
        return None, ".venv has no jax"
    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               JAX_PLATFORMS="cpu")
    output = run(one_core([python, "-m", "scripts.bench.reference_jax", "--repeats", str(REPEATS)] + [os.path.join(export_dir, f"d{d}") for d in HIDDEN]), env)
    return json.loads(output), "JAX model of scripts/train (jit, eps = 0, associative scan) on CPU, one core"


def main() -> None:
    global CPU
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", default=CPU, help="core to pin both benchmarks to (taskset -c)")
    parser.add_argument("--scratch-path", default=".build-bmru", help="swift build scratch path, relative to the repository")
    args = parser.parse_args()
    CPU = args.cpu
    run(["swift", "build", "-c", "release", "--scratch-path", args.scratch_path, "--product", "bmru"])
    binary = os.path.join(args.scratch_path, "release", "bmru")  # relative to ROOT, the working directory
    with tempfile.TemporaryDirectory() as export_dir:
        bench = [binary, "model", "bench", "--clips", str(CLIPS), "--frames", str(FRAMES),
                 "--repetitions", str(REPEATS), "--out", export_dir]
        for d in HIDDEN:
            bench += ["--hidden", str(d)]
        swift = json.loads(run(one_core(bench)))
        jax, jax_note = jax_results(export_dir)
    rows = []
    for result in swift:
        row = {"swift": result, "jax": None, "swift_over_jax_float32": None, "swift_over_jax_float64": None}
        if jax:
            match = next(r for r in jax["results"] if r["hidden"] == result["hidden"])
            row["jax"] = match
            for dtype in ["float32", "float64"]:
                row[f"swift_over_jax_{dtype}"] = result["cell_steps_per_second"] / match[dtype]["cell_steps_per_second"]
        rows.append(row)
    report = {
        "benchmark": "Swift float64 network kernels (BMRU.FastNetwork, bit-identical to BMRU.Network), cell-steps per second on one core",
        "definition": "cell-steps = clips x frames x blocks x hidden; random parameters (Model.random) and N(0,1) inputs; "
                      f"best of {REPEATS} (both); 'cell_steps_per_second' runs FastNetwork.decide (clip decisions only), "
                      "'traced_cell_steps_per_second' runs FastNetwork.run (full traces)",
        "target_cell_steps_per_second": 1e7,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "python3 scripts/bench/reference.py  (runs: " + " ".join(one_core(bench)).replace(export_dir, "TMP") + ")",
        "machine": machine(),
        "jax": {"version": jax["jax"], "backend": jax["backend"], "note": jax_note} if jax else {"version": None, "note": jax_note},
        "results": rows,
    }
    with open(OUT, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    for row in rows:
        s = row["swift"]
        line = f"d={s['hidden']}: {s['cell_steps_per_second']:.3g} cell-steps/s ({s['traced_cell_steps_per_second']:.3g} traced)"
        if row["jax"]:
            line += f"; JAX f32 {row['jax']['float32']['cell_steps_per_second']:.3g}, f64 {row['jax']['float64']['cell_steps_per_second']:.3g}"
        print(line)
    print(f"wrote {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
