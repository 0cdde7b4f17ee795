"""The scaling study's report (issue 23 part 5): keyword spotters of d = 4 to 64 set side by side.

    .venv/bin/python -m scripts.report.scaling results/scaling [--out DIR] [--bmru PATH | --no-bmru]

Reads STUDY/study.json (format `bmru-scaling-study`: one entry per size with its model folder and
sweep folder, paths relative to the study folder) and writes report.json, report.md and one
self-contained report.html (inline SVG) to STUDY, or to --out. Per size: held-out reference accuracy
with a Wilson interval (training.json, checked against the Swift reference `bmru kws`), the deck's
transistors, gate area and bias (`bmru netlist` with the sweep's options, into a temporary folder),
and from the sweep's job files: power per supply, worker seconds and circuit agreement, with bootstrap
intervals over clips; on the same clips, the reference's cells on per frame and the training's power
estimate (model.power_estimate), set against the measured power. Then fits of each power part against
d (a d + c, b d^2 + c d + e, k d^p; the cells also against the cells on) with bootstrap intervals, set
beside the published claim (docs/scaling.md). Sweeps still running are read
as they stand: a size shows how many of its planned clips have a result.
"""
from __future__ import annotations

import argparse
import html as markup
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from safetensors.numpy import load_file

from scripts.report.html import CIRCUIT, CSS, POWER_PARTS, REFERENCE, inline, num, plt, table
from scripts.train import features
from scripts.train import model as network

FORMAT, REPORT_FORMAT = "bmru-scaling-study", "bmru-scaling-report"
Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile
BOOTSTRAP_SAMPLES, BOOTSTRAP_SEED = 2000, 0
PARTS = ["cells_nW", "feedforward_nW", "bias_nW", "total_nW"]
PART_NAMES = {"cells_nW": "cells", "feedforward_nW": "feedforward", "bias_nW": "bias", "total_nW": "total",
              "cpu_seconds": "CPU seconds per clip"}
# Each model: its formula, the powers of d of its terms (0 the constant) and their parameter names.
MODELS = {"linear": ("a*d + c", [1, 0], ["a", "c"]),
          "quadratic": ("b*d^2 + c*d + e", [2, 1, 0], ["b", "c", "e"]),
          "power_law": ("k*d^p", None, ["k", "p"])}
# The claimed model per part, drawn on the linear-axes figure (bias: one element per cell or unit).
CLAIMED_MODEL = {"cells_nW": "linear", "feedforward_nW": "quadratic", "bias_nW": "linear", "total_nW": "quadratic"}
PUBLISHED = {"source": "[HW] arXiv:2605.15216, docs/design/fq-bmru-circuit.md section 4", "d": 4, "total_nW": 100.0,
             "claim": "the recurrent cells cost power linear in d, the feedforward layers quadratic in d, so "
                      "recurrence comes at linear marginal cost",
             "exponents": {"cells_nW": 1, "feedforward_nW": 2}}
METHOD = {
    "accuracy": "held-out reference accuracy: validation + test of the model's split (split.json's balanced sets), "
                "from training.json's majority-vote clip accuracies (the float64 numpy reference of "
                "scripts/train/reference.py on the stored weights). That is the decision rule of the circuit "
                "report's accuracy.reference (majority vote of per-frame argmax, ties to class 0); the Swift "
                "reference (bmru kws on the same clips) recounts it (swift_reference). Interval: Wilson, 95 %.",
    "deck": "bmru netlist with the sweep file's PDK, characterization, cells and biases (and the variant's corner "
            "and unit current), into a temporary folder; the numbers are manifest.json's totals.",
    "clips": "a size's sweep jobs with a result whose key matches its plan (stale results are counted, not used). "
             "A failed simulation counts as a disagreeing clip and enters no other figure.",
    "intervals": f"means over clips: percentile bootstrap over the clips of the size ({BOOTSTRAP_SAMPLES} resamples, "
                 f"seed {BOOTSTRAP_SEED}; too narrow below about 10 clips); proportions: Wilson, 95 %.",
    "fits": "least squares on the per-size means of the sizes with 2 clips or more: the polynomials weighted by 1 / mean^2 (relative residuals, as the "
            "log-log figure shows them), the power law on log(mean) against log(d). Intervals: the fit repeated on "
            "each bootstrap resample (clips resampled within each size), percentile 95 %. With as many parameters as "
            "sizes a fit passes through every point (dof 0) and its interval holds the clip sampling alone; "
            "within_ci counts the sizes whose 95 % interval holds the fitted value.",
    "local_exponents": "log(mean at d2 / mean at d1) / log(d2 / d1) between consecutive sizes: the power law's "
                       "exponent over each step, without a model; bootstrap intervals as above.",
    "seconds": "worker seconds per clip: the job's `seconds`, wall time inside the simulator workers summed over a "
               "partitioned clip's decks; core-seconds when each worker has a core, more on a shared machine.",
    "activity": "cells on per frame: the number of memory cells whose state is on, averaged over the frames of "
                "a clip, from the binary states of the forward pass that the estimate reads (model.forward at "
                "eps = 0; the float64 reference of scripts/train/reference.py has the same states) on the clip's "
                "MFCC features (scripts/train/features.py), for each clip of the sweep that ran. The cells part is fitted "
                "against it: cells_nW = a * cells + b * on on the per-size means (cells = blocks x d), a the "
                "power of a cell that is off, b what a cell adds while on; least squares on relative "
                "residuals, as the polynomials, intervals from the same bootstrap resamples (a size's power "
                "and activity resampled together).",
    "estimate": "estimated power: model.power_estimate (scripts/train/model.py) on each simulated clip's features at "
                "the variant's unit current and supply (1.8 V nominal), per part; the ratio is the measured mean "
                "over the estimated mean of the same clips, its interval from the paired bootstrap means.",
    "cpu_seconds": "CPU seconds per clip: the user + system CPU time of every process of the sweep's runs "
                   "(bmru and its ngspice workers, measured by scripts/scaling-sweeps.sh into the sweep's "
                   "cpu-seconds.json) over the jobs those runs finished; a busy machine does not inflate it. "
                   "Runs cut off before they could record their CPU are left out, with their jobs. The power "
                   "law is fitted by least squares on log(CPU) against log(d), the exponent's interval from "
                   "its standard error and Student's t.",
}


ESTIMATE_NOTE = ("The estimate is model.power_estimate (scripts/train/model.py): every mirror's current from the "
                 "trained weights and the network's own activity on each clip, as the compiler builds the deck. "
                 "A ratio near 1 at every size means the power's growth with d is that of the trained "
                 "network's currents, not of the mirror count.")


class StudyError(Exception):
    """A study file, or a file it points to, that cannot be used: the message is one line naming the
    file and, for the study file, the field."""


def wilson(k: int, n: int) -> dict:
    """k successes of n as {k, n, value, ci}: the fraction and its 95 % Wilson score interval (which
    stays inside [0, 1] and is sensible at 0 or n successes, unlike the normal approximation); value
    and ci are None when n is 0."""
    if n == 0:
        return {"k": k, "n": n, "value": None, "ci": None}
    p, z2 = k / n, Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return {"k": k, "n": n, "value": p, "ci": [float(max(0.0, centre - half)), float(min(1.0, centre + half))]}


def interval(samples: np.ndarray) -> list[float]:
    """The 95 % percentile interval of bootstrap samples (along the last axis)."""
    low, high = np.percentile(samples, [2.5, 97.5], axis=-1)
    return [float(low), float(high)]


def summary(values: np.ndarray, resampled: np.ndarray | None) -> dict:
    """Mean, min and max of per-clip values, with the bootstrap interval of the mean from its resampled
    means (None with a single clip: nothing to resample)."""
    return {"mean": float(values.mean()), "ci": interval(resampled) if resampled is not None else None,
            "min": float(values.min()), "max": float(values.max())}


def fit(model: str, ds: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Parameters of `model` (MODELS) fitted to per-size means: ds [S], means [S, R] (R resamples
    fitted at once); returns [P, R]. The polynomials minimise the relative residuals, weighted by the
    first column's means (the point estimate), the power law log(mean) against log(d)."""
    if model == "power_law":
        design = np.stack([np.ones_like(ds), np.log(ds)], axis=1)
        log_k, p = np.linalg.lstsq(design, np.log(means), rcond=None)[0]
        return np.stack([np.exp(log_k), p])
    weights = 1 / means[:, :1]
    design = np.stack([ds ** power for power in MODELS[model][1]], axis=1) * weights
    return np.linalg.lstsq(design, means * weights, rcond=None)[0]


def evaluate(model: str, params: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A model's values at d for one parameter vector (fit's column)."""
    if model == "power_law":
        return params[0] * d ** params[1]
    return sum(c * d ** power for c, power in zip(params, MODELS[model][1]))


def fit_series(ds: list[int], points: dict, resamples: dict, key: str, models: list[str]) -> dict:
    """Every model of `models` fitted to one series over the sizes `ds` (those with a mean), each with
    its parameters and their bootstrap intervals, the points and degrees of freedom, the residuals in
    percent of each mean and how many sizes' intervals hold the fitted value; a model with more
    parameters than sizes is left out with the reason."""
    d = np.array(ds, dtype=float)
    means = np.array([points[x][key]["mean"] for x in ds])
    out = {}
    for model in models:
        formula, _, names = MODELS[model]
        if len(ds) < len(names):
            out[model] = {"formula": formula, "points": len(ds), "note": f"needs {len(names)} sizes with clips"}
            continue
        boot = np.stack([resamples[x][key] for x in ds])
        best = fit(model, d, means[:, None])[:, 0]
        spread = fit(model, d, np.concatenate([means[:, None], boot], axis=1))[:, 1:]
        fitted = evaluate(model, best, d)
        cis = [points[x][key]["ci"] for x in ds]
        out[model] = {
            "formula": formula, "points": len(ds), "dof": len(ds) - len(names),
            "params": {n: {"value": float(v), "ci": interval(s)} for n, v, s in zip(names, best, spread)},
            "residuals_pct": [float(r) for r in 100 * (means - fitted) / means],
            "within_ci": int(sum(ci is not None and ci[0] <= f <= ci[1] for ci, f in zip(cis, fitted)))}
    return out


def local_exponents(ds: list[int], points: dict, resamples: dict, key: str) -> list[dict]:
    """Between consecutive sizes, the exponent log(m2 / m1) / log(d2 / d1) of a series' means with its
    bootstrap interval: how the series grows over each step, without a model."""
    steps = []
    for d1, d2 in zip(ds, ds[1:]):
        scale = np.log(d2 / d1)
        value = np.log(points[d2][key]["mean"] / points[d1][key]["mean"]) / scale
        samples = np.log(resamples[d2][key] / resamples[d1][key]) / scale
        steps.append({"from": d1, "to": d2, "value": float(value), "ci": interval(samples)})
    return steps


def field_error(study: str, field: str, reason: str) -> StudyError:
    """The one-line error for a bad field of the study file."""
    return StudyError(f"{study}: field {field}: {reason}")


def read_json(path: str) -> dict:
    """A JSON file; a missing or malformed one is a StudyError naming it."""
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as error:
        raise StudyError(f"{path}: cannot read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise StudyError(f"{path}: not JSON: {error.msg} at line {error.lineno}") from None


def load_study(path: str) -> list[dict]:
    """The sizes of a study file, sorted by d, each {d, model, sweep, variant} with the folders resolved
    against the study file's folder. Checks the format, that every entry has a distinct positive
    integer d and string folders, no unknown key, and an integer variant if given."""
    study = read_json(path)
    if not isinstance(study, dict) or study.get("format") != FORMAT:
        raise field_error(path, "format", f"expected {FORMAT!r}")
    if study.get("format_version") != 1:
        raise field_error(path, "format_version", "expected 1")
    unknown = set(study) - {"format", "format_version", "sizes"}
    if unknown:
        raise field_error(path, sorted(unknown)[0], "unknown (known: format, format_version, sizes)")
    sizes = study.get("sizes")
    if not isinstance(sizes, list) or not sizes:
        raise field_error(path, "sizes", "expected a non-empty list")
    folder, seen, out = os.path.dirname(os.path.abspath(path)), set(), []
    for i, entry in enumerate(sizes):
        where = f"sizes[{i}]"
        if not isinstance(entry, dict):
            raise field_error(path, where, "expected an object with d, model and sweep")
        unknown = set(entry) - {"d", "model", "sweep", "variant"}
        if unknown:
            raise field_error(path, f"{where}.{sorted(unknown)[0]}", "unknown (known: d, model, sweep, variant)")
        d = entry.get("d")
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise field_error(path, f"{where}.d", f"{d!r} is not a positive integer")
        if d in seen:
            raise field_error(path, f"{where}.d", f"{d} appears twice")
        seen.add(d)
        for key in ("model", "sweep"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise field_error(path, f"{where}.{key}", "expected a folder path (relative to the study file)")
        variant = entry.get("variant")
        if variant is not None and (not isinstance(variant, int) or isinstance(variant, bool) or variant < 0):
            raise field_error(path, f"{where}.variant", f"{variant!r} is not a variant id")
        out.append({"d": d, "field": where, "variant": variant,
                    "model": os.path.normpath(os.path.join(folder, entry["model"])),
                    "sweep": os.path.normpath(os.path.join(folder, entry["sweep"]))})
    return sorted(out, key=lambda s: s["d"])


def read_accuracy(model: str) -> dict:
    """Held-out reference accuracy of a trained model: validation + test counts from training.json's
    majority-vote accuracies, checked against the clip counts of split.json's balanced sets."""
    training, split = read_json(os.path.join(model, "training.json")), read_json(os.path.join(model, "split.json"))
    counts = {}
    for part, listed in (("val", "validation"), ("test", "test")):
        try:
            entry = training["accuracy"][part]
            accuracy, n = entry["clip_accuracy_majority_vote"], entry["n"]
        except (KeyError, TypeError):
            raise StudyError(f"{model}/training.json: no accuracy.{part}.clip_accuracy_majority_vote and n") from None
        k = round(accuracy * n)
        if abs(accuracy * n - k) > 1e-6 or n != len(split["balanced"][listed]):
            raise StudyError(f"{model}/training.json: accuracy.{part} ({accuracy} of {n}) does not match "
                             f"split.json's {len(split['balanced'][listed])} {listed} clips")
        counts[part] = {"k": k, "n": n}
    total = wilson(counts["val"]["k"] + counts["test"]["k"], counts["val"]["n"] + counts["test"]["n"])
    return {"source": "training.json", **total, "val": counts["val"], "test": counts["test"]}


def swift_reference(bmru: str, model: str, data: str) -> dict | None:
    """The Swift reference's held-out count: `bmru kws` on split.json's balanced validation and test
    clips under `data`, labels from their folders (the keyword is class 0); None when a clip is not
    there."""
    split = read_json(os.path.join(model, "split.json"))
    names = split["balanced"]["validation"] + split["balanced"]["test"]
    files = [os.path.join(data, name) for name in names]
    if not all(os.path.isfile(f) for f in files):
        return None
    config = read_json(os.path.join(model, "config.json"))
    result = subprocess.run([bmru, "kws", "--model", model, "--json", *files], capture_output=True, text=True)
    if result.returncode != 0:
        raise StudyError(f"{model}: bmru kws failed: {result.stderr.strip().splitlines()[-1:]}")
    keyword = config["classes"][0]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    correct = sum((row["prediction"] == keyword) == (name.split("/")[0] == split["keyword"])
                  for row, name in zip(lines, names))
    return {"k": correct, "n": len(lines)}


def network_figures(model: str, data: str, jobs: list[dict], variant: dict | None) -> dict | None:
    """What the trained network predicts for each job that ran, from the clip's MFCC features (files
    under `data`), by one forward pass of the training model at eps = 0: the cells on per frame (its
    binary states) and the supply power per part by model.power_estimate at the variant's unit current
    and supply (the model's and 1.8 V without a variant), with the model's number of memory cells
    (blocks x d); None when a clip is not there."""
    ran = [j for j in jobs if j["status"] == "ok"]
    paths = [os.path.join(data, j["name"]) for j in ran]
    if not all(os.path.isfile(path) for path in paths):
        return None
    config = read_json(os.path.join(model, "config.json"))
    if config.get("features") != features.FEATURE_CONFIG:
        raise StudyError(f"{model}/config.json: features are not the front end of scripts/train/features.py")
    readout = config.get("readout", "relu")
    trained, s0s = network.from_named_tensors(load_file(os.path.join(model, "model.safetensors")))
    variant = variant or {}
    nw_per_unit = (variant.get("unit_current_A", config["unit_current"]) * network.SUPPLY_VOLTS
                   * variant.get("supply_scale", 1) * 1e9)
    on, estimated = [], {key: [] for key in PARTS}
    for path in paths:
        batch = features.clip_features(features.fix_length(features.load_wav(path)))[None].astype(np.float32)
        signals = network.forward(trained, s0s, batch, 0.0, readout=readout, signals=True)[1]
        on.append(sum(np.asarray(states, np.float64).sum(axis=-1) for states in signals["s"]).mean())
        power = network.power_estimate(trained, batch, signals, readout)
        for key in PARTS:
            estimated[key].append(float(power[key.removesuffix("_nW")]) * nw_per_unit)
    return {"cells": len(trained["blocks"]) * config["hidden"], "cells_on": np.array(on),
            **{f"estimated_{key}": np.array(values) for key, values in estimated.items()}}


def estimate_ratios(figures: dict, resampled: dict | None) -> dict | None:
    """Per power part, the measured mean over the estimated mean of the same clips, with the interval
    of the paired bootstrap means; None without estimates."""
    if figures.get("estimated_total_nW") is None:
        return None
    out = {}
    for key in PARTS:
        measured, estimated = figures[key]["mean"], figures[f"estimated_{key}"]["mean"]
        ci = interval(resampled[key] / resampled[f"estimated_{key}"]) if resampled else None
        out[key] = {"measured": measured, "estimated": estimated, "value": measured / estimated, "ci": ci}
    return out


def activity_fit(ds: list[int], points: dict, resamples: dict, cells: dict) -> dict:
    """The cells part against the cells the reference holds on: cells_nW = a * cells + b * on fitted to
    the per-size means (relative residuals, as the polynomials) of the sizes with both, a the power of
    an off cell and b what a cell adds while on; intervals from the paired bootstrap means."""
    have = [d for d in ds if "cells_on" in points[d] and d in cells]
    out = {"formula": "a*cells + b*on", "points": len(have)}
    if len(have) < 2:
        return dict(out, note="needs 2 sizes with clips and the reference's cell states")
    n = np.array([cells[d] for d in have], dtype=float)
    power = np.stack([np.r_[points[d]["cells_nW"]["mean"], resamples[d]["cells_nW"]] for d in have])
    on = np.stack([np.r_[points[d]["cells_on"]["mean"], resamples[d]["cells_on"]] for d in have])
    weights = 1 / power[:, 0]
    params = np.stack([np.linalg.lstsq(np.stack([n, on[:, r]], axis=1) * weights[:, None], power[:, r] * weights,
                                       rcond=None)[0] for r in range(power.shape[1])], axis=1)
    fitted = params[0, 0] * n + params[1, 0] * on[:, 0]
    cis = [points[d]["cells_nW"]["ci"] for d in have]
    return dict(out, dof=len(have) - 2, sizes=have,
                params={name: {"value": float(v[0]), "ci": interval(v[1:])} for name, v in zip("ab", params)},
                fitted=[float(f) for f in fitted],
                residuals_pct=[float(r) for r in 100 * (power[:, 0] - fitted) / power[:, 0]],
                within_ci=int(sum(ci is not None and ci[0] <= f <= ci[1] for ci, f in zip(cis, fitted))))


def deck_totals(bmru: str, model: str, sweep: dict, sweep_dir: str, variant: dict | None) -> dict:
    """transistors, gate area (um^2), bias current (nA) and bias power (nW) of the model's deck as the
    sweep builds it (its PDK, characterization, cells, biases; the variant's corner and unit current),
    compiled by `bmru netlist` into a temporary folder that is deleted."""
    command = [bmru, "netlist", "--model", os.path.relpath(model), "--pdk", sweep["pdk"],
               "--cells", sweep.get("cells", "filtered")]
    if sweep.get("characterization"):
        command += ["--characterization", os.path.relpath(os.path.join(sweep_dir, sweep["characterization"]))]
    if not sweep.get("mirrored_biases", False):
        command += ["--ideal-biases"]
    if variant:
        command += ["--corner", variant["corner"], "--unit-current", repr(variant["unit_current_A"])]
    with tempfile.TemporaryDirectory() as tmp:
        result = subprocess.run(command + ["--out", tmp], capture_output=True, text=True)
        if result.returncode != 0:
            raise StudyError(f"{model}: bmru netlist failed: {result.stderr.strip().splitlines()[-1:]}")
        totals = read_json(os.path.join(tmp, "manifest.json"))["totals"]
    return {"transistors": totals["transistors"], "gate_area_um2": totals["gate_area"] * 1e12,
            "bias_current_nA": totals["bias_current"] * 1e9, "bias_power_nW": totals["bias_power"] * 1e9,
            "options": command[2:]}


def read_sweep(sweep_dir: str, variant_id: int | None, study: str, field: str) -> dict:
    """A sweep folder as it stands: its definition and state, the chosen variant and the job results
    that belong to the plan (key and variant match). States: `no sweep file`, `not planned` (no
    plan.json yet), `running` (jobs missing) or `complete`."""
    definition = os.path.join(sweep_dir, "sweep.json")
    if not os.path.isfile(definition):
        return {"state": "no sweep file", "definition": None, "variant": None, "jobs": [], "planned": None,
                "stale": 0, "mode": None, "cpu": None}
    sweep = read_json(definition)
    planned_clips = (sweep.get("clips") or {}).get("clips")
    plan_path = os.path.join(sweep_dir, "plan.json")
    if not os.path.isfile(plan_path):
        return {"state": "not planned", "definition": sweep, "variant": None, "jobs": [], "planned": planned_clips,
                "stale": 0, "mode": sweep.get("mode", "fast"), "cpu": None}
    plan = read_json(plan_path)
    variants = plan["variants"]
    if variant_id is None and len(variants) != 1:
        raise field_error(study, f"{field}.variant", f"{plan_path} has {len(variants)} variants: name one")
    variant = variants[0] if variant_id is None else next((v for v in variants if v["id"] == variant_id), None)
    if variant is None:
        raise field_error(study, f"{field}.variant", f"{variant_id} is not a variant of {plan_path}")
    keys = {job["id"]: job["key"] for job in plan["jobs"] if job["variant"] == variant["id"]}
    jobs, stale = [], 0
    folder = os.path.join(sweep_dir, "jobs")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith(".json"):
            continue
        job = read_json(os.path.join(folder, name))
        if job.get("job") not in keys:
            continue
        if job.get("key") != keys[job["job"]]:
            stale += 1
            continue
        jobs.append(job["report"])
    state = "complete" if len(jobs) == len(keys) else "running"
    return {"state": state, "definition": sweep, "variant": variant, "jobs": jobs, "planned": len(keys),
            "stale": stale, "mode": sweep.get("mode", "fast"), "cpu": read_cpu(sweep_dir)}


def read_cpu(sweep_dir: str) -> dict | None:
    """The CPU of a sweep's recorded runs (cpu-seconds.json: runs of {cpu_s, jobs}) as {cpu_s, jobs,
    runs, per_clip}; None without a record or before a recorded run finished a job."""
    path = os.path.join(sweep_dir, "cpu-seconds.json")
    if not os.path.isfile(path):
        return None
    runs = read_json(path).get("runs")
    if not isinstance(runs, list) or not all(isinstance(r, dict) and {"cpu_s", "jobs"} <= r.keys() for r in runs):
        raise StudyError(f"{path}: runs must be a list of {{cpu_s, jobs}}")
    cpu, jobs = sum(r["cpu_s"] for r in runs), sum(r["jobs"] for r in runs)
    return {"cpu_s": cpu, "jobs": jobs, "runs": len(runs), "per_clip": cpu / jobs} if jobs else None


# Two-sided 95 % quantiles of Student's t by degrees of freedom, for the cost fit's few sizes.
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}


def cost_fit(rows: list[dict]) -> tuple[dict, list[dict]]:
    """k d^p fitted to the CPU seconds per clip of the sizes that have them (least squares on the logs,
    p's interval from its standard error and Student's t, none with 2 sizes), and the exponents between
    consecutive sizes."""
    have = [(r["d"], r["cpu"]["per_clip"]) for r in rows if r.get("cpu")]
    out = {"formula": "k*d^p", "points": len(have)}
    steps = [{"from": d1, "to": d2, "value": float(np.log(c2 / c1) / np.log(d2 / d1))}
             for (d1, c1), (d2, c2) in zip(have, have[1:])]
    if len(have) < 2:
        return dict(out, note="needs 2 sizes with recorded CPU"), steps
    x, y = np.log([d for d, _ in have]), np.log([c for _, c in have])
    p, logk = np.polyfit(x, y, 1)
    residuals = y - (p * x + logk)
    out.update(params={"k": {"value": float(np.exp(logk))}, "p": {"value": float(p)}}, dof=len(have) - 2,
               residuals_pct=[float(100 * (1 - np.exp(-r))) for r in residuals], within_ci=None)
    if len(have) > 2:
        se = np.sqrt(residuals @ residuals / (len(have) - 2) / np.sum((x - x.mean()) ** 2))
        t = T95.get(len(have) - 2, 1.96)
        out["params"]["p"]["ci"] = [float(p - t * se), float(p + t * se)]
    return out, steps


def clip_figures(jobs: list[dict], rng: np.random.Generator, predicted: dict | None = None) -> tuple[dict, dict]:
    """From a size's job results: the per-clip figures summarised (power parts, energy, seconds, state
    bits and frame decisions over the clips that ran, and what the network predicts for each of those
    clips when given: network_figures' per-clip series; clip decisions and accuracies over all finished
    jobs, a failed one counting as disagreeing and wrong) and each summarised series' bootstrap means
    (the same clip resamples for every series, so that their ratios stay paired)."""
    ran = [j for j in jobs if j["status"] == "ok"]
    series = {key: np.array([j["power"][key] for j in ran]) for key in PARTS + ["energy_nJ"]}
    series["seconds"] = np.array([j["seconds"] for j in ran])
    series["state_bits"] = np.array([j["frame_state_agreement"] for j in ran])
    series["frame_decisions"] = np.array([j["frame_decision_agreement"] for j in ran])
    series.update(predicted or {})
    resampled = None
    if len(ran) >= 2:
        index = rng.integers(0, len(ran), size=(BOOTSTRAP_SAMPLES, len(ran)))
        resampled = {key: values[index].mean(axis=1) for key, values in series.items()}
    figures = {key: summary(values, resampled[key] if resampled else None) if len(ran) else None
               for key, values in series.items()}
    labelled = [j for j in jobs if j.get("label") is not None]
    figures.update(
        ran=len(ran), failed=len(jobs) - len(ran),
        seconds_median=float(np.median(series["seconds"])) if len(ran) else None,
        seconds_total=float(series["seconds"].sum()),
        clip_decisions=wilson(sum(bool(j["agrees"]) for j in jobs), len(jobs)),
        circuit_accuracy=wilson(sum(j.get("circuit_decision") == j["label"] for j in labelled), len(labelled)),
        reference_accuracy=wilson(sum(j["reference_decision"] == j["label"] for j in labelled), len(labelled)))
    return figures, resampled


def build(study_path: str, bmru: str | None) -> dict:
    """The report as a dict (report.json): every size of the study with what exists of it, the fits of
    each power part and of the worker seconds against d, the local exponents and the published claim
    against the measurements."""
    sizes, rng = load_study(study_path), np.random.default_rng(BOOTSTRAP_SEED)
    rows, resamples = [], {}
    for size in sizes:
        d, model = size["d"], size["model"]
        row = {"d": d, "model": os.path.relpath(model), "sweep": os.path.relpath(size["sweep"])}
        trained = all(os.path.isfile(os.path.join(model, f)) for f in ("config.json", "model.safetensors",
                                                                        "training.json"))
        hidden = read_json(os.path.join(model, "config.json")).get("hidden") if trained else d
        if hidden != d:
            raise field_error(study_path, f"{size['field']}.d", f"{d}, but {os.path.relpath(model)}/config.json "
                              f"has hidden {hidden}")
        sweep = read_sweep(size["sweep"], size["variant"], study_path, size["field"])
        if sweep["definition"] is not None:
            named = os.path.normpath(os.path.join(size["sweep"], sweep["definition"]["model"]))
            if os.path.realpath(named) != os.path.realpath(model):
                raise field_error(study_path, f"{size['field']}.model", f"{os.path.relpath(model)}, but "
                                  f"{os.path.relpath(size['sweep'])}/sweep.json names {os.path.relpath(named)}")
        row["model_state"] = "trained" if trained else "not trained yet"
        row["accuracy"] = read_accuracy(model) if trained else None
        row["deck"] = None
        data = ((sweep["definition"] or {}).get("clips") or {}).get("data")
        data = data and os.path.join(size["sweep"], data)
        if trained and bmru and sweep["definition"] is not None:
            row["deck"] = deck_totals(bmru, model, sweep["definition"], size["sweep"], sweep["variant"])
            check = swift_reference(bmru, model, data) if data else None
            row["accuracy"]["swift_reference"] = check
            row["accuracy"]["swift_reference_agrees"] = None if check is None else check == {
                "k": row["accuracy"]["k"], "n": row["accuracy"]["n"]}
        row["sweep_state"] = {"state": sweep["state"], "planned": sweep["planned"], "done": len(sweep["jobs"]),
                              "stale": sweep["stale"], "mode": sweep["mode"], "cpu": sweep["cpu"],
                              "variant": sweep["variant"]}
        row["clips"], row["cells"], row["estimate_ratio"], predicted = None, None, None, None
        if trained and data and sweep["jobs"]:
            predicted = network_figures(model, data, sweep["jobs"], sweep["variant"])
            if predicted is not None:
                row["cells"] = predicted.pop("cells")
        if sweep["jobs"]:
            row["clips"], resampled = clip_figures(sweep["jobs"], rng, predicted)
            if resampled is not None:
                resamples[d] = resampled
            row["estimate_ratio"] = estimate_ratios(row["clips"], resampled)
        rows.append(row)
    points = {row["d"]: row["clips"] for row in rows if row["d"] in resamples}
    ds = sorted(points)
    fits = {key: fit_series(ds, points, resamples, key, list(MODELS)) for key in PARTS}
    cells = {row["d"]: row["cells"] for row in rows if row["cells"]}
    fits["cells_nW"]["activity"] = activity_fit(ds, points, resamples, cells)
    cost, cost_steps = cost_fit([{"d": r["d"], "cpu": r["sweep_state"]["cpu"]} for r in rows])
    fits["cpu_seconds"] = {"power_law": cost}
    return {"format": REPORT_FORMAT, "format_version": 1, "study": os.path.relpath(study_path),
            "bmru": bmru_version(bmru), "method": METHOD, "published": PUBLISHED, "sizes": rows,
            "fit_sizes": ds, "fits": fits,
            "local_exponents": {**{key: local_exponents(ds, points, resamples, key) for key in PARTS},
                                "cpu_seconds": cost_steps},
            "claims": claims(rows, fits)}


def bmru_version(bmru: str | None) -> dict | None:
    """The bmru binary that compiled the decks and ran the Swift reference: its --version and its path
    (relative to the working directory when inside it, like every path of the report)."""
    if not bmru:
        return None
    result = subprocess.run([bmru, "--version"], capture_output=True, text=True)
    inside = os.path.commonpath([bmru, os.getcwd()]) == os.getcwd()
    return {"path": os.path.relpath(bmru) if inside else bmru, "version": result.stdout.strip()}


def claims(rows: list[dict], fits: dict) -> list[dict]:
    """The published claims against the measurements: per claimed part the power-law exponent and the
    d^2 coefficient with their intervals and whether the claimed exponent lies inside (for the cells,
    also the fit against the cells on); the d = 4 total against the published ~100 nW; the measured
    total against the network's estimate at each size."""
    out = []
    for key, exponent in PUBLISHED["exponents"].items():
        power, quadratic = fits[key].get("power_law", {}), fits[key].get("quadratic", {})
        entry = {"claim": f"{PART_NAMES[key]} power grows as d^{exponent}", "series": key, "claimed_exponent": exponent,
                 "exponent": (power.get("params") or {}).get("p"), "sizes": power.get("points", 0),
                 "d2_coefficient": (quadratic.get("params") or {}).get("b")}
        p, b = entry["exponent"], entry["d2_coefficient"]
        if p is None:
            entry["reading"] = "not measured yet: needs clips at 2 sizes or more"
        else:
            inside = p["ci"][0] <= exponent <= p["ci"][1]
            entry["inside"] = inside
            entry["reading"] = (f"exponent {p['value']:.2f} [{p['ci'][0]:.2f}, {p['ci'][1]:.2f}] over "
                                f"{power['points']} sizes: {exponent} {'inside' if inside else 'outside'} the interval")
            if b is not None:
                zero = b["ci"][0] <= 0 <= b["ci"][1]
                entry["reading"] += (f"; d^2 coefficient {b['value']:.3g} nW [{b['ci'][0]:.3g}, {b['ci'][1]:.3g}]"
                                     f"{', interval holds 0' if zero else ''}")
        activity = fits[key].get("activity", {})
        if "params" in activity:
            a, b = activity["params"]["a"], activity["params"]["b"]
            entry["reading"] += (f"; against activity, {with_ci(a, '.3g')} nW per cell plus {with_ci(b, '.3g')} nW "
                                 f"per cell on (residuals {', '.join(f'{r:+.0f}' for r in activity['residuals_pct'])} %)")
        out.append(entry)
    reference = next((r for r in rows if r["d"] == PUBLISHED["d"]), None)
    total = (reference or {}).get("clips") and reference["clips"]["total_nW"]
    entry = {"claim": f"about {PUBLISHED['total_nW']:.0f} nW at d = {PUBLISHED['d']}", "series": "total_nW",
             "published_nW": PUBLISHED["total_nW"], "measured": total}
    if total:
        entry["ratio"] = total["mean"] / PUBLISHED["total_nW"]
        ci = f" [{total['ci'][0]:.1f}, {total['ci'][1]:.1f}]" if total["ci"] else ""
        entry["reading"] = (f"{total['mean']:.1f} nW{ci} over {reference['clips']['ran']} clips, "
                            f"{100 * entry['ratio']:.0f} % of the published {PUBLISHED['total_nW']:.0f} nW")
    else:
        entry["reading"] = f"not measured yet: no clip of d = {PUBLISHED['d']}"
    out.append(entry)
    ratios = {r["d"]: r["estimate_ratio"]["total_nW"] for r in rows if r.get("estimate_ratio")}
    entry = {"claim": "the circuit draws what the trained network's currents predict (model.power_estimate)",
             "series": "total_nW", "ratios": ratios}
    entry["reading"] = (("measured / estimated total: " + ", ".join(f"{v['value']:.3f} at d = {d}"
                                                                     for d, v in ratios.items()))
                        if ratios else "not measured yet: no simulated clip of a trained model")
    out.append(entry)
    return out


def with_ci(entry: dict | None, spec: str = ".1f", scale: float = 1.0) -> str:
    """A mean (or value) with its 95 % interval in brackets, e.g. `93.2 [91.0, 95.4]`; n/a for none."""
    if entry is None:
        return "n/a"
    value = entry["mean"] if "mean" in entry else entry["value"]
    if value is None:
        return "n/a"
    text = format(scale * value, spec)
    return text + (f" [{format(scale * entry['ci'][0], spec)}, {format(scale * entry['ci'][1], spec)}]"
                   if entry.get("ci") else "")


def proportion(entry: dict | None) -> str:
    """k / n and the percentage with its Wilson interval, e.g. `205 / 226, 90.7 [86.2, 93.9] %`."""
    if entry is None or not entry["n"]:
        return "n/a"
    return f"{entry['k']} / {entry['n']}, {with_ci(entry, '.1f', 100)} %"


def accuracy_text(accuracy: dict | None) -> str:
    """The held-out reference accuracy (proportion) and whether the Swift reference's recount agrees."""
    if accuracy is None:
        return "n/a"
    check = accuracy.get("swift_reference")
    swift = ("" if check is None else "; Swift reference: the same" if accuracy["swift_reference_agrees"]
             else f"; Swift reference: {check['k']} / {check['n']}, DIFFERS")
    return proportion(accuracy) + swift


def state_text(row: dict) -> str:
    """A size's state in a few words: model trained or not, sweep state and clips done of planned."""
    s = row["sweep_state"]
    if s["state"] == "no sweep file":
        return f"model {row['model_state']}; no sweep file"
    clips = f"{s['done']} of {s['planned'] if s['planned'] is not None else '?'} clips"
    stale = f", {s['stale']} stale" if s["stale"] else ""
    failed = f", {row['clips']['failed']} failed" if row["clips"] and row["clips"]["failed"] else ""
    mode = f" ({s['mode']})" if s["mode"] else ""
    return f"model {row['model_state']}; sweep {s['state']}{mode}, {clips}{failed}{stale}"


def table_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """The study's main table, one row per size (report.md, report.html, the README's table): state,
    accuracy, deck, power split and the reference's cell activity, seconds, agreement. Cells are plain
    text."""
    header = ["d", "state", "held-out reference accuracy", "transistors", "gate area (um^2)", "clips run",
              "cells (nW)", "reference cells on per frame (of cells)", "feedforward (nW)", "bias (nW)", "total (nW)",
              "CPU s per clip", "clip decisions agree", "state bits (%)", "frame decisions (%)"]
    rows = []
    for row in report["sizes"]:
        deck, c = row["deck"] or {}, row["clips"] or {}
        rows.append([str(row["d"]), state_text(row), accuracy_text(row["accuracy"]),
                     num(deck.get("transistors"), ",d"), num(deck.get("gate_area_um2"), ",.0f"), str(c.get("ran", 0)),
                     with_ci(c.get("cells_nW")),
                     with_ci(c.get("cells_on"), ".2f") + (f" (of {row['cells']})" if row["cells"] else ""),
                     *(with_ci(c.get(key)) for key in PARTS[1:]),
                     num((row["sweep_state"].get("cpu") or {}).get("per_clip"), ".1f"),
                     proportion(c.get("clip_decisions")), with_ci(c.get("state_bits"), ".2f", 100),
                     with_ci(c.get("frame_decisions"), ".2f", 100)])
    return header, rows


def fit_rows(report: dict) -> list[list[str]]:
    """One row per (series, model) fit: formula, sizes, dof, parameters with intervals, residuals, and
    how many sizes' intervals hold the fit."""
    rows = []
    for key, models in report["fits"].items():
        for model, f in models.items():
            if "params" not in f:
                rows.append([PART_NAMES.get(key, key), f["formula"], str(f["points"]), "", f["note"], "", ""])
                continue
            params = "; ".join(f"{n} = {with_ci(v, '.4g')}" for n, v in f["params"].items())
            residuals = ", ".join(f"{r:+.1f}" for r in f["residuals_pct"])
            rows.append([PART_NAMES.get(key, key), f["formula"], str(f["points"]), str(f["dof"]), params, residuals,
                         "" if f["within_ci"] is None else f"{f['within_ci']} of {f['points']}"])
    return rows


def estimate_rows(report: dict) -> tuple[list[str], list[list[str]]]:
    """Per size with estimates: each power part measured, estimated by model.power_estimate on the same
    clips, and their ratio with its interval."""
    header = ["d", "clips"] + [f"{PART_NAMES[key]}: measured / estimated (nW), ratio" for key in PARTS]
    rows = [[str(row["d"]), str(row["clips"]["ran"])]
            + [f"{r['measured']:.1f} / {r['estimated']:.1f}, {with_ci(r, '.3f')}"
               for r in (row["estimate_ratio"][key] for key in PARTS)]
            for row in report["sizes"] if row["estimate_ratio"]]
    return header, rows


FIT_HEADER = ["series", "model", "sizes", "dof", "parameters [95 %]", "residuals (% of mean)", "fit inside the size's interval"]


def markdown(report: dict) -> str:
    """report.md: the claims, the main table, measured against estimated power, the fits and local
    exponents, the method."""
    def md_table(header, rows):
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                         + ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows])
    header, rows = table_rows(report)
    lines = [f"# Scaling study: d = {', '.join(str(r['d']) for r in report['sizes'])}", "",
             f"Study file `{report['study']}`; how to read this report: docs/scaling.md.", "",
             "## The published claim against the measurements", "",
             f"> {PUBLISHED['claim']} ({PUBLISHED['source']}).", ""]
    lines += [f"- {c['claim']}: {c['reading']}" for c in report["claims"]]
    estimates = estimate_rows(report)
    lines += ["", "## Per size", "", md_table(header, rows), "",
              "## Measured against the network's estimate", "", ESTIMATE_NOTE, "",
              md_table(*estimates) if estimates[1] else "None yet: needs simulated clips of a trained model.", "",
              f"## Fits against d (sizes used: {', '.join(map(str, report['fit_sizes'])) or 'none yet'})", "",
              md_table(FIT_HEADER, fit_rows(report)), "", "## Local exponents between consecutive sizes", ""]
    steps = [[PART_NAMES.get(k, k), f"{s['from']} -> {s['to']}", with_ci(s, ".2f")]
             for k, v in report["local_exponents"].items() for s in v]
    lines += [md_table(["series", "step", "exponent [95 %]"], steps) if steps else "None yet: needs clips at 2 sizes.", "",
              "## Method", ""]
    lines += [f"- **{k}**: {v}" for k, v in report["method"].items()]
    if report["bmru"]:
        lines += [f"- **bmru**: {report['bmru']['path']} ({report['bmru']['version']})"]
    return "\n".join(lines) + "\n"


def sized(report: dict, key: str) -> tuple[np.ndarray, list[dict]]:
    """The sizes that have clip figure `key` and the figure at each."""
    have = [r for r in report["sizes"] if r["clips"] and r["clips"].get(key)]
    return np.array([r["d"] for r in have], dtype=float), [r["clips"][key] for r in have]


def error_bars(entries: list[dict], scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Values and asymmetric error bars [2, N] from entries with a mean or value and a ci (zero without one)."""
    values = np.array([scale * (e["mean"] if "mean" in e else e["value"]) for e in entries])
    cis = np.array([[scale * c for c in e["ci"]] if e.get("ci") else [v, v] for e, v in zip(entries, values)])
    return values, np.abs(np.stack([values - cis[:, 0], cis[:, 1] - values]))


def curve(report: dict, key: str, model: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The fitted model of a series over the fitted sizes' range (for drawing), or None without a fit."""
    f = report["fits"][key].get(model, {})
    if "params" not in f:
        return None
    d = np.geomspace(min(report["fit_sizes"]), max(report["fit_sizes"]), 100)
    return d, evaluate(model, [v["value"] for v in f["params"].values()], d)


def d_axis(ax, sizes: list[int], log: bool = True) -> None:
    """A d axis (log2, or linear) labelled at the study's sizes."""
    if log:
        ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("hidden size d")


def power_figure(report: dict) -> plt.Figure:
    """Mean power per part against d with 95 % intervals: log-log with the power-law fits and the
    claimed slopes drawn from the smallest size (left), linear axes with the claimed model per part
    (right); the published d = 4 total as a star."""
    sizes = [r["d"] for r in report["sizes"]]
    fig, (log, linear) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    colors = {key: color for key, _, color in POWER_PARTS} | {"total_nW": "0.15"}
    for ax, models in ((log, {k: "power_law" for k in PARTS}), (linear, CLAIMED_MODEL)):
        for key in PARTS:
            d, entries = sized(report, key)
            if not len(d):
                continue
            values, bars = error_bars(entries)
            label, fitted = PART_NAMES[key], curve(report, key, models[key])
            if fitted is not None:
                f = report["fits"][key][models[key]]
                label += f": p = {f['params']['p']['value']:.2f}" if models[key] == "power_law" else f": {f['formula']}"
                ax.plot(*fitted, color=colors[key], lw=1, ls="-" if models[key] == "power_law" else "--")
            ax.errorbar(d, values, yerr=bars, fmt="o", color=colors[key], capsize=3, ms=4, label=label)
        ax.plot([PUBLISHED["d"]], [PUBLISHED["total_nW"]], "*", color=REFERENCE, ms=12,
                label=f"published total, d = {PUBLISHED['d']}")
        d_axis(ax, sizes, log=ax is log)
        ax.set_ylabel("mean power (nW)")
    for key, exponent in PUBLISHED["exponents"].items():
        d, entries = sized(report, key)
        if len(d) >= 2:
            ends = d[[0, -1]]
            log.plot(ends, entries[0]["mean"] * (ends / d[0]) ** exponent, ":", color=colors[key], lw=1.2,
                     label=f"claimed d^{exponent} from d = {d[0]:.0f}")
    log.set_yscale("log")
    log.set_title("log-log, power-law fits k d^p (solid)")
    linear.set_title("linear axes, claimed model per part (dashed)")
    for ax in (log, linear):
        ax.legend(fontsize=8)
    return fig


def accuracy_figure(report: dict) -> plt.Figure:
    """Left: held-out reference accuracy (Wilson 95 %), and the reference's and the circuit's accuracy on
    the simulated clips, against d. Right: agreement of circuit and reference against d: clip decisions (Wilson), state bits
    and frame decisions (bootstrap)."""
    sizes = [r["d"] for r in report["sizes"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8), layout="constrained")
    have = [r for r in report["sizes"] if r["accuracy"]]
    if have:
        values, bars = error_bars([r["accuracy"] for r in have], 100)
        left.errorbar([r["d"] for r in have], values, yerr=bars, fmt="o-", color=REFERENCE, capsize=4, lw=2.5,
                      ms=7, label="reference, held-out clips")
    for key, label, color, shift in (("reference_accuracy", "reference, simulated clips", REFERENCE, 0.96),
                                     ("circuit_accuracy", "circuit, simulated clips", CIRCUIT, 1.04)):
        d, entries = sized(report, key)
        if len(d):
            values, bars = error_bars(entries, 100)
            left.errorbar(d * shift, values, yerr=bars, fmt="s", mfc="white", color=color, capsize=3, ms=5,
                          label=label)
    left.set_ylabel("accuracy (%)")
    left.set_title("Accuracy (95 % intervals)")
    for key, label, color in (("clip_decisions", "clip decisions", CIRCUIT), ("state_bits", "state bits", "#2ca02c"),
                              ("frame_decisions", "frame decisions", "#9467bd")):
        d, entries = sized(report, key)
        if len(d):
            values, bars = error_bars(entries, 100)
            right.errorbar(d, values, yerr=bars, fmt="o-", color=color, capsize=3, ms=4, label=label)
    right.set_ylabel("agreement with the reference (%)")
    right.set_title("Circuit against reference (95 % intervals)")
    for ax in (left, right):
        d_axis(ax, sizes)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return fig


def cost_figure(report: dict) -> plt.Figure:
    """Against d, log-log: the decks' transistors and gate area, and the CPU seconds per clip (mean
    with its interval, min-max range over clips, the power-law fit)."""
    sizes = [r["d"] for r in report["sizes"]]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), layout="constrained")
    decks = [r for r in report["sizes"] if r["deck"]]
    for ax, key, label in zip(axes, ("transistors", "gate_area_um2"), ("transistors", "gate area (um^2)")):
        if decks:
            ax.plot([r["d"] for r in decks], [r["deck"][key] for r in decks], "o-", color=CIRCUIT)
        ax.set_ylabel(label)
        ax.set_title(f"Deck: {label}")
    right = axes[2]
    costed = [r for r in report["sizes"] if r["sweep_state"].get("cpu")]
    if costed:
        right.plot([r["d"] for r in costed], [r["sweep_state"]["cpu"]["per_clip"] for r in costed], "o",
                   color=CIRCUIT, ms=4, label="measured")
        f = report["fits"]["cpu_seconds"]["power_law"]
        if "params" in f:
            k, p = f["params"]["k"]["value"], f["params"]["p"]["value"]
            d = np.geomspace(costed[0]["d"], costed[-1]["d"], 100)
            right.plot(d, k * d ** p, color=CIRCUIT, lw=1, label=f"k d^p, p = {p:.2f}")
        right.legend(fontsize=8)
    right.set_ylabel("CPU seconds per clip")
    right.set_title("Simulation cost per clip")
    for ax in axes:
        if ax.has_data():
            ax.set_yscale("log")
        d_axis(ax, sizes)
    return fig


def page(report: dict) -> str:
    """report.html: claims, the main table, measured against estimated power, the figures, the fits and
    local exponents, the method."""
    esc = markup.escape
    header, rows = table_rows(report)
    estimates = estimate_rows(report)
    parts = [f"<h1>Scaling study: d = {esc(', '.join(str(r['d']) for r in report['sizes']))}</h1>",
             f"<p class=\"note\">Study file <code>{esc(report['study'])}</code>; how to read it: docs/scaling.md.</p>",
             "<h2>The published claim against the measurements</h2>",
             f"<p class=\"note\">{esc(PUBLISHED['claim'])} ({esc(PUBLISHED['source'])}).</p>",
             "<ul>" + "".join(f"<li>{esc(c['claim'])}: {esc(c['reading'])}</li>" for c in report["claims"]) + "</ul>",
             "<h2>Per size</h2>", table(header, [[esc(c) for c in row] for row in rows], kind="summary"),
             "<h2>Measured against the network's estimate</h2>", f"<p class=\"note\">{esc(ESTIMATE_NOTE)}</p>",
             (table(estimates[0], [[esc(c) for c in row] for row in estimates[1]]) if estimates[1]
              else "<p>None yet: needs simulated clips of a trained model.</p>"),
             "<h2>Power against d</h2>", inline(power_figure(report), "power per part against d"),
             "<h2>Accuracy and agreement against d</h2>", inline(accuracy_figure(report), "accuracy and agreement against d"),
             "<h2>Deck size and simulation cost against d</h2>", inline(cost_figure(report), "deck size and simulation cost"),
             f"<h2>Fits (sizes used: {esc(', '.join(map(str, report['fit_sizes'])) or 'none yet')})</h2>",
             table(FIT_HEADER, [[esc(c) for c in row] for row in fit_rows(report)])]
    steps = [[esc(PART_NAMES.get(k, k)), f"{s['from']} -&gt; {s['to']}", with_ci(s, ".2f")]
             for k, v in report["local_exponents"].items() for s in v]
    parts += ["<h2>Local exponents between consecutive sizes</h2>",
              table(["series", "step", "exponent [95 %]"], steps) if steps else "<p>None yet: needs clips at 2 sizes.</p>",
              "<h2>Method</h2>", "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>"
                                                  for k, v in report["method"].items()) + "</dl>"]
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scaling study</title>"
            f"<style>{CSS}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body></html>\n")


def write(report: dict, out: str) -> list[str]:
    """Write report.json, report.md and report.html into `out` (created if needed); returns their paths."""
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, name) for name in ("report.json", "report.md", "report.html")]
    for path, text in zip(paths, (json.dumps(report, indent=1) + "\n", markdown(report), page(report))):
        with open(path, "w") as f:
            f.write(text)
    return paths


def find_bmru(given: str | None) -> str:
    """The bmru binary: --bmru, else $BMRU, else `bmru` on PATH, else the release build of this
    checkout; a StudyError saying how to get one when none exists."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for candidate in (given, os.environ.get("BMRU"), shutil.which("bmru"), os.path.join(root, ".build/release/bmru")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise StudyError("bmru not found: give --bmru PATH or set BMRU (swift build -c release --product bmru), "
                     "or --no-bmru to leave the decks and the Swift reference check out")


def main(argv: list[str] | None = None) -> int:
    """The command line: build and write the report; a StudyError is one line on stderr and exit 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", help="the study folder (holding study.json) or the study file")
    parser.add_argument("--out", help="where to write the report (default: the study folder)")
    parser.add_argument("--bmru", help="the bmru binary (default: $BMRU, bmru on PATH, .build/release/bmru)")
    parser.add_argument("--no-bmru", action="store_true",
                        help="without bmru: no deck figures and no Swift reference check")
    args = parser.parse_args(argv)
    path = os.path.join(args.study, "study.json") if os.path.isdir(args.study) else args.study
    try:
        bmru = None if args.no_bmru else find_bmru(args.bmru)
        report = build(path, bmru)
        for written in write(report, args.out or os.path.dirname(os.path.abspath(path))):
            print(written)
    except StudyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
