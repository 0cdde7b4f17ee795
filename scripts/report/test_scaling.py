"""The scaling study's report (scripts/report/scaling.py) on real inputs: the committed kws-yes-d4 model
and nominal-corner jobs of its committed PVT sweep, copied into a temporary study with sizes still
missing; fits on synthetic sweeps of exact power laws and polynomials; bad study files; the decks and
the Swift reference through the real `bmru` when one is built (else those tests skip).

Run: .venv/bin/python -m pytest -q scripts/report
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from safetensors.numpy import load_file

from scripts.report import check_html, scaling
from scripts.train import features, reference

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "results/models/kws-yes-d4")
PVT = os.path.join(ROOT, "results/sweeps/kws-yes-d4-gf180-pvt")
NOMINAL = 4  # the PVT plan's variant at typical, 27 C, supply x1
DATA = os.path.normpath(os.path.join(ROOT, "../shared/data/speech_commands_v0.02_test"))


def write_json(path, value) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f)


def copy_sweep(folder, jobs: int, stale: int = 0) -> list[dict]:
    """The PVT sweep's files into `folder`, its paths made absolute, with the first `jobs` job results
    of the nominal variant (the last `stale` of them with a key the plan does not hold); returns the
    copied results that match the plan."""
    sweep = json.load(open(os.path.join(PVT, "sweep.json")))
    for key in ("model", "characterization"):
        sweep[key] = os.path.normpath(os.path.join(PVT, sweep[key]))
    sweep["clips"]["data"] = os.path.normpath(os.path.join(PVT, sweep["clips"]["data"]))
    write_json(os.path.join(folder, "sweep.json"), sweep)
    shutil.copy(os.path.join(PVT, "plan.json"), os.path.join(folder, "plan.json"))
    plan = json.load(open(os.path.join(PVT, "plan.json")))
    ids = [job["id"] for job in plan["jobs"] if job["variant"] == NOMINAL][:jobs]
    kept = []
    for n, i in enumerate(ids):
        job = json.load(open(os.path.join(PVT, "jobs", f"{i:06d}.json")))
        if n >= jobs - stale:
            job["key"] = "0" * 64
        else:
            kept.append(job["report"])
        write_json(os.path.join(folder, "jobs", f"{i:06d}.json"), job)
    return kept


@pytest.fixture
def partial_study(tmp_path):
    """d = 4: the real model, 6 of the 10 nominal PVT clips, one of them stale; d = 8: no model, a sweep
    file not yet planned; d = 16: nothing at all."""
    kept = copy_sweep(str(tmp_path / "sweeps/d4"), jobs=6, stale=1)
    write_json(str(tmp_path / "sweeps/d8/sweep.json"), {"model": "../../models/kws-yes-d8", "pdk": "gf180mcu",
                                                        "mode": "partitioned", "clips": {"clips": 50}})
    study = {"format": "bmru-scaling-study", "format_version": 1, "sizes": [
        {"d": 8, "model": "models/kws-yes-d8", "sweep": "sweeps/d8"},
        {"d": 4, "model": MODEL, "sweep": "sweeps/d4", "variant": NOMINAL},
        {"d": 16, "model": "models/kws-yes-d16", "sweep": "sweeps/d16"}]}
    write_json(str(tmp_path / "study.json"), study)
    return tmp_path, kept


def test_partial_study(partial_study, tmp_path):
    folder, kept = partial_study
    report = scaling.build(str(folder / "study.json"), bmru=None)
    assert [row["d"] for row in report["sizes"]] == [4, 8, 16]
    d4, d8, d16 = report["sizes"]
    # Held-out accuracy from training.json: 115 of 122 validation and 90 of 104 test clips.
    assert (d4["accuracy"]["k"], d4["accuracy"]["n"]) == (205, 226)
    assert d4["accuracy"]["val"] == {"k": 115, "n": 122} and d4["accuracy"]["test"] == {"k": 90, "n": 104}
    low, high = d4["accuracy"]["ci"]
    assert low < 205 / 226 < high and high - low == pytest.approx(0.076, abs=0.002)
    # The nominal variant's results that match the plan: 5, the stale one counted and left out.
    assert d4["sweep_state"] == {"state": "running", "planned": 10, "done": 5, "stale": 1, "mode": "fast", "cpu": None,
                                 "variant": json.load(open(os.path.join(PVT, "plan.json")))["variants"][NOMINAL]}
    clips = d4["clips"]
    assert clips["ran"] == 5 and clips["failed"] == 0
    for key in scaling.PARTS:
        values = [job["power"][key] for job in kept]
        assert clips[key]["mean"] == pytest.approx(np.mean(values))
        assert clips[key]["ci"][0] <= clips[key]["mean"] <= clips[key]["ci"][1]
        assert min(values) <= clips[key]["ci"][0] and clips[key]["ci"][1] <= max(values)
    assert clips["seconds"]["mean"] == pytest.approx(np.mean([job["seconds"] for job in kept]))
    agree = sum(job["agrees"] for job in kept)
    assert (clips["clip_decisions"]["k"], clips["clip_decisions"]["n"]) == (agree, 5)
    assert clips["state_bits"]["mean"] == pytest.approx(np.mean([job["frame_state_agreement"] for job in kept]))
    assert d4["deck"] is None
    assert d8["model_state"] == "not trained yet" and d8["accuracy"] is None and d8["clips"] is None
    assert d8["sweep_state"]["state"] == "not planned" and d8["sweep_state"]["planned"] == 50
    assert d16["sweep_state"]["state"] == "no sweep file"
    # One size with clips: no fit yet, and the report says what each needs.
    assert report["fit_sizes"] == [4]
    assert report["fits"]["cells_nW"]["quadratic"]["note"] == "needs 3 sizes with clips"
    assert report["claims"][0]["reading"] == "not measured yet: needs clips at 2 sizes or more"
    assert report["claims"][2]["reading"].startswith(f"{clips['total_nW']['mean']:.1f} nW [")
    # The three files, the page self-contained with its three figures inline.
    paths = scaling.write(report, str(tmp_path / "out"))
    assert [os.path.basename(p) for p in paths] == ["report.json", "report.md", "report.html"]
    assert json.load(open(paths[0]))["sizes"][0]["clips"]["ran"] == 5
    text = open(paths[1]).read()
    assert "| 4 | model trained; sweep running (fast), 5 of 10 clips, 1 stale | 205 / 226, 90.7 [" in text
    assert "| 8 | model not trained yet; sweep not planned (partitioned), 0 of 50 clips |" in text
    assert "| 16 | model not trained yet; no sweep file |" in text
    page = open(paths[2]).read()
    assert page.count('<img src="data:image/svg+xml;base64,') == 3 == page.count("<img")
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    if shutil.which("chromium"):  # drawn: text, tables and the orange of the reference accuracy and the claim
        png = str(tmp_path / "report.png")
        check_html.screenshot(paths[2], png)
        check_html.check(png)


def test_nothing_run_yet(partial_study):
    folder, _ = partial_study
    study = json.load(open(folder / "study.json"))
    study["sizes"] = study["sizes"][:1]  # d = 8: no model, a sweep not planned
    write_json(str(folder / "study.json"), study)
    report = scaling.build(str(folder / "study.json"), bmru=None)
    assert report["fit_sizes"] == [] and report["local_exponents"]["total_nW"] == []
    assert report["fits"]["cpu_seconds"]["power_law"] == {"formula": "k*d^p", "points": 0,
                                                          "note": "needs 2 sizes with recorded CPU"}
    assert report["claims"][2]["reading"] == "not measured yet: no clip of d = 4"
    assert "None yet: needs clips at 2 sizes." in scaling.markdown(report)
    assert scaling.page(report).count("<img") == 3


def test_command_line(partial_study, tmp_path, capsys):
    folder, _ = partial_study
    assert scaling.main([str(folder), "--no-bmru", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "out" / name)
                                               for name in ("report.json", "report.md", "report.html")]


def synthetic_sweep(folder, d: int, parts: dict, clips: int = 4) -> None:
    """A planned, complete sweep of `clips` jobs at size d (real job files of the PVT sweep as templates),
    each part's per-clip power the given value times 1 + (-1.5 %, -0.5 %, +0.5 %, +1.5 %): means exact."""
    template = json.load(open(os.path.join(PVT, "jobs", "000040.json")))
    spread = np.linspace(-0.015, 0.015, clips)
    write_json(os.path.join(folder, "sweep.json"), {"model": f"../../models/kws-yes-d{d}", "pdk": "gf180mcu"})
    write_json(os.path.join(folder, "plan.json"), {
        "variants": [{"id": 0, "corner": "typical", "unit_current_A": 5e-10}],
        "jobs": [{"id": i, "variant": 0, "key": f"k{i}"} for i in range(clips)]})
    for i in range(clips):
        job = json.loads(json.dumps(template))
        job.update(job=i, key=f"k{i}")
        for key, value in parts.items():
            job["report"]["power"][key] = value * (1 + spread[i])
        job["report"]["seconds"] = 3.0 * d ** 1.2 * (1 + spread[i])
        write_json(os.path.join(folder, "jobs", f"{i:06d}.json"), job)
    # Two recorded runs; a run cut off before recording leaves no entry and its jobs are not counted.
    cpu = 2.0 * d ** 1.5 * clips
    write_json(os.path.join(folder, "cpu-seconds.json"), {"runs": [{"cpu_s": 0.25 * cpu, "jobs": clips / 4},
                                                                   {"cpu_s": 0.75 * cpu, "jobs": 3 * clips / 4}]})


def test_fits_recover_known_coefficients(tmp_path):
    sizes = [4, 8, 16, 32, 64]
    cells = {d: 0.4 * d for d in sizes}                     # linear through 0: p = 1
    feedforward = {d: 0.03 * d * d + 0.6 * d + 2 for d in sizes}
    bias = {d: 5 + 2.5 * d for d in sizes}
    for d in sizes:
        synthetic_sweep(str(tmp_path / f"sweeps/d{d}"), d, {"cells_nW": cells[d], "feedforward_nW": feedforward[d],
                                                             "bias_nW": bias[d],
                                                             "total_nW": cells[d] + feedforward[d] + bias[d]})
    write_json(str(tmp_path / "study.json"), {"format": "bmru-scaling-study", "format_version": 1, "sizes": [
        {"d": d, "model": f"models/kws-yes-d{d}", "sweep": f"sweeps/d{d}"} for d in sizes]})
    report = scaling.build(str(tmp_path / "study.json"), bmru=None)
    fits = report["fits"]
    assert report["fit_sizes"] == sizes

    def params(key, model):
        return {n: v["value"] for n, v in fits[key][model]["params"].items()}

    assert params("cells_nW", "linear") == pytest.approx({"a": 0.4, "c": 0}, abs=1e-9)
    assert params("cells_nW", "power_law") == pytest.approx({"k": 0.4, "p": 1.0})
    assert params("feedforward_nW", "quadratic") == pytest.approx({"b": 0.03, "c": 0.6, "e": 2.0})
    assert params("bias_nW", "quadratic") == pytest.approx({"b": 0, "c": 2.5, "e": 5}, abs=1e-9)
    assert params("cpu_seconds", "power_law") == pytest.approx({"k": 2.0, "p": 1.5})
    assert fits["cpu_seconds"]["power_law"]["params"]["p"]["ci"] == pytest.approx([1.5, 1.5])
    assert [s["value"] for s in report["local_exponents"]["cpu_seconds"]] == pytest.approx([1.5] * 4)
    assert "seconds" not in fits  # worker seconds are summarised per size, not fitted
    exact = fits["feedforward_nW"]["quadratic"]
    assert exact["dof"] == 2 and exact["points"] == 5 and exact["within_ci"] == 5
    assert max(abs(r) for r in exact["residuals_pct"]) < 1e-9
    # The intervals hold the truth and are narrow: the clips spread +-1.5 % around exact means.
    b = exact["params"]["b"]["ci"]
    assert b[0] < 0.03 < b[1] and b[1] - b[0] < 0.01
    # A wrong model shows in its residuals: a straight line through the quadratic feedforward.
    assert max(abs(r) for r in fits["feedforward_nW"]["linear"]["residuals_pct"]) > 5
    # Local exponents: exactly 1 for the cells at every doubling; the feedforward's rise toward 2 as its
    # d^2 term takes over (0.84 from 4 to 8, log2(163.28 / 51.92) = 1.65 from 32 to 64).
    assert [s["value"] for s in report["local_exponents"]["cells_nW"]] == pytest.approx([1, 1, 1, 1])
    steps = [s["value"] for s in report["local_exponents"]["feedforward_nW"]]
    assert steps == sorted(steps) and steps[0] == pytest.approx(np.log2(8.72 / 4.88))
    assert steps[-1] == pytest.approx(np.log2(163.28 / 51.92))
    # The claims are read from the fits: cells linear holds, the feedforward's exponent is below 2.
    cells_claim, feedforward_claim, _, estimate_claim = report["claims"]
    assert estimate_claim["reading"] == "not measured yet: no simulated clip of a trained model"
    assert cells_claim["inside"] and cells_claim["exponent"]["value"] == pytest.approx(1.0)
    assert not feedforward_claim["inside"] and feedforward_claim["exponent"]["ci"][1] < 2
    assert feedforward_claim["d2_coefficient"]["value"] == pytest.approx(0.03)
    assert "interval holds 0" not in feedforward_claim["reading"]
    assert report["claims"][2]["measured"]["mean"] == pytest.approx(cells[4] + feedforward[4] + bias[4])


def test_network_figures_on_the_sweeps_clips(partial_study):
    # d = 4's cells on per frame equal the float64 reference's on the MFCC features of each clip that ran.
    folder, kept = partial_study
    if not os.path.isdir(DATA):
        pytest.skip(f"no Speech Commands folder at {DATA}")
    report = scaling.build(str(folder / "study.json"), bmru=None)
    d4 = report["sizes"][0]
    params = reference.load_params(load_file(os.path.join(MODEL, "model.safetensors")))
    on = [reference.run(params, features.clip_features(features.fix_length(features.load_wav(
        os.path.join(DATA, job["name"])))))[1].sum(axis=(1, 2)).mean() for job in kept]
    assert d4["cells"] == 8  # 2 blocks of 4
    assert d4["clips"]["cells_on"]["mean"] == pytest.approx(np.mean(on))
    assert 0 < min(on) and max(on) < 8
    # The estimate from the network's currents is within a few percent of what the circuit drew on the
    # same clips, part by part (kws-yes-d4, typical corner: 1.7 % above in total).
    ratios = d4["estimate_ratio"]
    for key in scaling.PARTS:
        assert ratios[key]["measured"] == pytest.approx(d4["clips"][key]["mean"])
        assert 0.9 < ratios[key]["value"] < 1.1 and ratios[key]["ci"][0] <= ratios[key]["value"] <= ratios[key]["ci"][1]
    assert "| 4 | 5 | " in scaling.markdown(report)
    # A clip whose file is not there: no activity for the size, the rest of its figures as before.
    path = folder / "sweeps/d4/jobs" / sorted(os.listdir(folder / "sweeps/d4/jobs"))[0]
    job = json.load(open(path))
    job["report"]["name"] = "yes/missing.wav"
    write_json(str(path), job)
    again = scaling.build(str(folder / "study.json"), bmru=None)["sizes"][0]
    assert again["cells"] is None and "cells_on" not in again["clips"] and again["estimate_ratio"] is None
    assert again["clips"]["cells_nW"] == d4["clips"]["cells_nW"]


def test_activity_fit_recovers_known_coefficients():
    # cells_nW = 0.3 nW per cell + 5 nW per cell on, exactly, in every resample: a and b come back
    # with intervals of zero width; one size cannot separate them.
    sizes, rng = [4, 8, 16, 32, 64], np.random.default_rng(1)
    cells = {d: 2 * d for d in sizes}
    on = {d: 0.05 * cells[d] + 3 * (d % 3) for d in sizes}
    points, resamples = {}, {}
    for d in sizes:
        on_r = on[d] * (1 + 0.05 * rng.standard_normal(200))
        power = 0.3 * cells[d] + 5 * on[d]
        points[d] = {"cells_nW": {"mean": power, "ci": [0.99 * power, 1.01 * power]}, "cells_on": {"mean": on[d]}}
        resamples[d] = {"cells_nW": 0.3 * cells[d] + 5 * on_r, "cells_on": on_r}
    f = scaling.activity_fit(sizes, points, resamples, cells)
    assert f["dof"] == 3 and f["within_ci"] == 5 and max(map(abs, f["residuals_pct"])) < 1e-9
    assert f["params"]["a"]["value"] == pytest.approx(0.3) and f["params"]["a"]["ci"] == pytest.approx([0.3, 0.3])
    assert f["params"]["b"]["value"] == pytest.approx(5) and f["params"]["b"]["ci"] == pytest.approx([5, 5])
    assert scaling.activity_fit(sizes[:1], points, resamples, cells)["note"].startswith("needs 2 sizes")


def test_wilson():
    # Closed forms: at k = 0 the upper end is z^2 / (n + z^2); at k = n the lower end is n / (n + z^2).
    z2 = scaling.Z95 ** 2
    assert scaling.wilson(0, 10)["ci"] == pytest.approx([0, z2 / (10 + z2)])
    assert scaling.wilson(20, 20)["ci"] == pytest.approx([20 / (20 + z2), 1])
    assert scaling.wilson(205, 226)["ci"] == pytest.approx([0.8624, 0.9385], abs=5e-4)
    assert scaling.wilson(0, 0) == {"k": 0, "n": 0, "value": None, "ci": None}


@pytest.mark.parametrize("change, message", [
    (lambda s: s.update(format="bmru-sweep"), "field format: expected 'bmru-scaling-study'"),
    (lambda s: s.update(extra=1), "field extra: unknown (known: format, format_version, sizes)"),
    (lambda s: s.update(sizes=[]), "field sizes: expected a non-empty list"),
    (lambda s: s["sizes"][1].update(d=0), "field sizes[1].d: 0 is not a positive integer"),
    (lambda s: s["sizes"][0].update(d=4), "field sizes[1].d: 4 appears twice"),
    (lambda s: s["sizes"][0].pop("sweep"), "field sizes[0].sweep: expected a folder path"),
    (lambda s: s["sizes"][0].update(sweeps="x"), "field sizes[0].sweeps: unknown (known: d, model, sweep, variant)"),
    (lambda s: s["sizes"][1].update(variant="typical"), "field sizes[1].variant: 'typical' is not a variant id"),
    (lambda s: s["sizes"][1].pop("variant"), "field sizes[1].variant: "),  # the PVT plan has 45 variants
    (lambda s: s["sizes"][1].update(variant=99), "field sizes[1].variant: 99 is not a variant of "),
    (lambda s: s["sizes"][1].update(d=32), "field sizes[1].d: 32, but "),  # kws-yes-d4 has hidden 4
    (lambda s: s["sizes"][1].update(model="models/other"), "field sizes[1].model: "),  # sweeps/d4 names kws-yes-d4
])
def test_bad_study_file(partial_study, change, message, capsys):
    folder, _ = partial_study
    path = folder / "study.json"
    study = json.load(open(path))
    change(study)
    write_json(str(path), study)
    with pytest.raises(scaling.StudyError) as error:
        scaling.build(str(path), bmru=None)
    assert str(error.value).startswith(f"{path}: {message}"), str(error.value)
    assert scaling.main([str(path), "--no-bmru", "--out", str(folder / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: field ")
    assert not (folder / "out").exists()


def test_unreadable_study_file(tmp_path):
    path = tmp_path / "study.json"
    path.write_text("{\"format\": ")
    with pytest.raises(scaling.StudyError, match=r"study\.json: not JSON: .* at line 1$"):
        scaling.build(str(path), bmru=None)
    with pytest.raises(scaling.StudyError, match=r"missing\.json: cannot read: No such file or directory$"):
        scaling.build(str(tmp_path / "missing.json"), bmru=None)


def bmru_or_skip() -> str:
    try:
        return scaling.find_bmru(None)
    except scaling.StudyError:
        pytest.skip("no bmru binary (set BMRU or build .build/release/bmru)")


def test_deck_totals_match_the_committed_deck(tmp_path):
    # The sweep's options (mirrored biases, filtered cells, the committed GF180 characterization) give
    # the committed kws-yes-d4 deck of spice/kws-yes-d4/gf180mcu.
    bmru = bmru_or_skip()
    if not os.environ.get("PDK_ROOT"):
        pytest.skip("PDK_ROOT is not set (the GF180 models)")
    sweep = {"pdk": "gf180mcu", "cells": "filtered", "mirrored_biases": True,
             "characterization": os.path.join(ROOT, "results/characterization/gf180mcu")}
    deck = scaling.deck_totals(bmru, MODEL, sweep, str(tmp_path), None)
    committed = json.load(open(os.path.join(ROOT, "spice/kws-yes-d4/gf180mcu/manifest.json")))["totals"]
    assert deck["transistors"] == committed["transistors"] == 720
    assert deck["gate_area_um2"] == pytest.approx(committed["gate_area"] * 1e12)
    assert deck["bias_power_nW"] == pytest.approx(committed["bias_power"] * 1e9)
    assert os.listdir(tmp_path) == []  # the deck went to a temporary folder, now deleted
    ideal = scaling.deck_totals(bmru, MODEL, {**sweep, "mirrored_biases": False}, str(tmp_path), None)
    assert "--ideal-biases" in ideal["options"] and ideal["transistors"] < deck["transistors"]


def test_swift_reference_recounts_training_accuracy():
    bmru = bmru_or_skip()
    if not os.path.isdir(DATA):
        pytest.skip(f"no Speech Commands folder at {DATA}")
    assert scaling.swift_reference(bmru, MODEL, DATA) == {"k": 205, "n": 226}
    assert scaling.swift_reference(bmru, MODEL, os.path.join(DATA, "missing")) is None


def test_shard_runs_record_their_cpu_and_the_report_reads_it(tmp_path):
    # A real two-shard sweep (latch-d4's first 2 golden sequences, 4 frames, generic180) run shard by
    # shard: each run's CPU and finished jobs are recorded, a second pass runs and records nothing, and
    # the report's cost per clip is the recorded CPU over the recorded jobs.
    from scripts import scaling_shards
    bmru = bmru_or_skip()
    folder = tmp_path / "sweep"
    write_json(str(folder / "sweep.json"), {
        "format": "bmru-sweep", "format_version": 1, "model": os.path.join(ROOT, "results/models/latch-d4"),
        "pdk": "generic180", "axes": {}, "clips": {"clips": 2, "frames": 4}})
    planned = subprocess.run([bmru, "sweep", "plan", str(folder / "sweep.json"), "--out", str(folder), "--shards", "2"],
                             capture_output=True, text=True, cwd=ROOT)
    assert planned.returncode == 0, planned.stderr
    assert scaling_shards.main(str(folder), "1", bmru) == 0
    runs = json.load(open(folder / "cpu-seconds.json"))["runs"]
    assert [(r["shard"], r["jobs"], r["exit"]) for r in runs] == [(0, 1, 0), (1, 1, 0)]
    assert all(r["cpu_s"] > 0 for r in runs)
    assert scaling_shards.main(str(folder), "1", bmru) == 0
    assert json.load(open(folder / "cpu-seconds.json"))["runs"] == runs
    cpu = scaling.read_cpu(str(folder))
    assert cpu == {"cpu_s": pytest.approx(sum(r["cpu_s"] for r in runs)), "jobs": 2, "runs": 2,
                   "per_clip": pytest.approx(sum(r["cpu_s"] for r in runs) / 2)}
