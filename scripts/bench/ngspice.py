#!/usr/bin/env python3
"""Benchmark of the Swift ngspice driver (results/bench/ngspice.json).

1. Driver overhead: the same GF180 deck (50 subthreshold current mirrors = 100 transistors, each
   input a 101-frame PWL current of 10 ms frames, a 1.01 s transient) run by `ngspice -b` and by
   `bmru simulate`, both as whole processes, best of N runs each; the ratio is driver / ngspice.
2. Pool speed-up: 20 independent transients through `bmru simulate --jobs 1` and `--jobs 2`.

Usage: swift build -c release --product bmru
       PDK_ROOT=../shared/pdk python3 scripts/bench/ngspice.py [--bmru .build/release/bmru] [--repeat 5]
"""
import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mirror_deck(pdk_root, mirrors=50, frames=101, frame=10e-3, seed=0):
    """A deck of `mirrors` NMOS mirrors (2 transistors each) with random 0..600 pA frame inputs."""
    models = os.path.join(pdk_root, "gf180mcuD/libs.tech/ngspice")
    rng = random.Random(seed)
    lines = [
        "* BMRUKit driver benchmark: %d GF180 mirrors, %d frames" % (mirrors, frames),
        ".include %s/design.ngspice" % models,
        ".lib %s/sm141064.ngspice typical" % models,
        ".options abstol=1e-16 gmin=1e-18 vntol=1e-7 reltol=1e-4 chgtol=1e-17 itl1=500",
        "vdd vdd 0 1.8",
        "vhalf half 0 0.9",
    ]
    saves = []
    for m in range(mirrors):
        points = []
        for f in range(frames):
            level = rng.uniform(0, 600e-12)
            points += ["%g %g" % (f * frame + 1e-6, level), "%g %g" % ((f + 1) * frame, level)]
        lines.append("iin%d vdd g%d pwl(0 0 %s)" % (m, m, " ".join(points)))
        lines.append("xin%d g%d g%d 0 0 nfet_03v3 w=1u l=4u" % (m, m, m))
        lines.append("xout%d o%d g%d 0 0 nfet_03v3 w=1u l=4u" % (m, m, m))
        lines.append("vo%d o%d half 0" % (m, m))
        saves.append("i(vo%d)" % m)
    lines.append(".save " + " ".join(saves))
    lines.append(".tran %g %g" % (frame, frames * frame))
    lines.append(".end")
    return "\n".join(lines) + "\n"


def timed(command, cwd=None):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    return time.perf_counter() - start


def best_times(commands, repeat, cwd):
    """Runs the commands in turn, `repeat` rounds (interleaved, so drift hits both), best of each."""
    runs = [[] for _ in commands]
    for _ in range(repeat):
        for index, command in enumerate(commands):
            runs[index].append(timed(command, cwd))
    return [min(r) for r in runs], runs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bmru", default=os.path.join(ROOT, ".build/release/bmru"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(ROOT, "results/bench/ngspice.json"))
    args = parser.parse_args()
    pdk_root = os.environ.get("PDK_ROOT") or os.path.join(os.path.dirname(ROOT), "shared/pdk")
    pdk_root = os.path.abspath(pdk_root)

    with tempfile.TemporaryDirectory() as folder:
        deck = os.path.join(folder, "mirrors.cir")
        with open(deck, "w") as handle:
            handle.write(mirror_deck(pdk_root))
        # One OpenMP thread for both: the driver runs one simulation per core with num_threads=1,
        # while ngspice -b would otherwise spread BSIM4 evaluation over every core.
        with open(os.path.join(folder, ".spiceinit"), "w") as handle:
            handle.write("set num_threads=1\n")
        (ngspice, driver), (ngspice_runs, driver_runs) = best_times(
            [["ngspice", "-b", "-r", os.path.join(folder, "out.raw"), deck],
             [args.bmru, "simulate", deck, "--out", os.path.join(folder, "out.csv")]],
            args.repeat, folder)

        decks = []
        for index in range(20):
            path = os.path.join(folder, "pool%02d.cir" % index)
            with open(path, "w") as handle:
                handle.write(mirror_deck(pdk_root, mirrors=10, frames=41, seed=index))
            decks.append(path)
        pool = {}
        for jobs in (1, 2):
            out = os.path.join(folder, "pool-out-%d" % jobs)
            pool[jobs] = timed([args.bmru, "simulate", *decks, "--jobs", str(jobs), "--out", out])

    report = {
        "benchmark": "ngspice driver overhead and worker-pool speed-up",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
        "command": "PDK_ROOT=%s python3 scripts/bench/ngspice.py --repeat %d" % (pdk_root, args.repeat),
        "driver_overhead": {
            "deck": "50 GF180 nfet_03v3 mirrors (100 transistors), 101 PWL frames of 10 ms, 1.01 s transient",
            "what": "whole processes, best of the runs: ngspice -b writing a binary rawfile vs bmru simulate "
                    "writing the same 51 vectors as CSV; one OpenMP thread each",
            "ngspice_batch_seconds": round(ngspice, 3),
            "bmru_simulate_seconds": round(driver, 3),
            "ratio_driver_over_ngspice": round(driver / ngspice, 4),
            "runs_seconds": {"ngspice": [round(t, 3) for t in ngspice_runs],
                             "bmru": [round(t, 3) for t in driver_runs]},
            "target": "ratio <= 1.05",
        },
        "pool_speedup": {
            "jobs": 20,
            "deck": "10 GF180 mirrors, 41 frames of 10 ms (0.41 s transient) each",
            "one_worker_seconds": round(pool[1], 3),
            "two_workers_seconds": round(pool[2], 3),
            "speedup": round(pool[1] / pool[2], 3),
            "target": ">= 1.8",
        },
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
