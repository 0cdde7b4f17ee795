"""report.html from a small synthetic `bmru verify` report (1 block x 2 cells, 5 frames, 2 simulated
clips and 1 failed), and its headless-Chromium rendering when chromium is installed.

Run: .venv/bin/python -m pytest -q scripts/report
"""
import csv
import json
import os
import shutil

import pytest

from scripts.report import check_html, html

FRAMES = 5
IU = 1e-9


def write_trace(path: str, flip_frame: int | None) -> None:
    """A 5-frame trace for cells (0, 0) and (0, 1); the circuit's cell (0, 1) bit differs from the
    reference at flip_frame (and so does the frame decision)."""
    header = ["frame", "t_end_s"]
    for i in range(2):
        header += [f"c0_{i}_circuit_A", f"c0_{i}_reference_A", f"h0_{i}_circuit_A", f"h0_{i}_reference_A",
                   f"s0_{i}_circuit", f"s0_{i}_reference"]
    header += ["class_a_A", "class_b_A", "decision_circuit", "decision_reference", "readout_V"]
    rows = []
    for t in range(FRAMES):
        reference = [0, 1 if t >= 2 else 0]
        circuit = list(reference)
        if t == flip_frame:
            circuit[1] = 1 - circuit[1]
        row = [t, 0.01 * (t + 1)]
        for i in range(2):
            candidate = (0.2 + 0.3 * t) * IU
            row += [candidate * 1.02, candidate, 1e-14 + 0.8 * IU * circuit[i], 0.8 * IU * reference[i],
                    circuit[i], reference[i]]
        a, b = (2.0 + circuit[1]) * IU, 2.5 * IU
        row += [a, b, 0 if a >= b else 1, 1 - reference[1], 1.8 if a >= b else 0.0]
        rows.append(row)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header] + rows)


def discrepancy(rms: float) -> dict:
    return {"rms_A": rms * IU, "p95_A": 2 * rms * IU, "max_A": 3 * rms * IU, "rms_units": rms,
            "p95_units": 2 * rms, "max_units": 3 * rms, "count": FRAMES * 2}


def first_errors(clips: int, on_reference_side: int, median: float | None) -> dict:
    return {"clips": clips, "on_reference_side": on_reference_side, "across": clips - on_reference_side,
            "in_frame_0": 0, "median_margin_units": median}


def power(total: float) -> dict:
    return {"total_nW": total, "cells_nW": 0.1 * total, "feedforward_nW": 0.5 * total, "bias_nW": 0.4 * total,
            "energy_nJ": total * 0.05}


@pytest.fixture
def report_dir(tmp_path):
    """OUT with report.json (format version 1, with the cells' thresholds and first wrong bits) and two
    traces; `make_version_2` adds what version 2 has."""
    out = tmp_path / "out"
    (out / "traces").mkdir(parents=True)
    write_trace(str(out / "traces" / "a.csv"), flip_frame=None)
    write_trace(str(out / "traces" / "b.csv"), flip_frame=3)
    ok = {"status": "ok", "attempts": 1, "frames": FRAMES, "readout_frame_agreement": 1.0}
    per_clip = [
        {**ok, "name": "yes/a.wav", "label": 0, "seconds": 1.5, "reference_decision": 1, "circuit_decision": 1,
         "agrees": True, "frame_decision_agreement": 1.0, "frame_state_agreement": 1.0,
         "state_discrepancy": discrepancy(0.0), "candidate_discrepancy": discrepancy(0.02), "power": power(100.0),
         "trace": "traces/a.csv"},
        {**ok, "name": "other/b.wav", "label": 1, "seconds": 2.5, "reference_decision": 1, "circuit_decision": 1,
         "agrees": True, "frame_decision_agreement": 0.8, "frame_state_agreement": 0.9,
         "state_discrepancy": discrepancy(0.36), "candidate_discrepancy": discrepancy(0.02), "power": power(120.0),
         "trace": "traces/b.csv"},
        {"name": "other/c.wav", "label": 1, "frames": FRAMES, "status": "failed",
         "failure": "timestep too small at t = 0.021 s", "seconds": 0.7, "attempts": 2, "reference_decision": 1,
         "agrees": False},
    ]
    report = {
        "format": "bmru-verify-report", "format_version": 1, "clips": 3, "failed": 1,
        "prediction_agreement": 2 / 3, "frame_state_agreement": 0.95, "frame_decision_agreement": 0.9,
        "readout_frame_agreement": 1.0,
        "suppression_factor": {"min": 0.0556, "median": 0.0556, "per_boundary": [
            {"block": 0, "unit": 0, "candidate_rms_units": 0.02, "state_rms_units": 0.0, "factor": None,
             "state_agreement": 1.0, "beta_lo": 0.3, "beta_hi": 0.7, "first_errors": first_errors(0, 0, None)},
            # Clip b's cell (0, 1) is wrong only at frame 3: on since frame 2 in the reference, so beta_lo
            # (0.5 units) decided; the reference candidate is 1.1 units, the circuit's 2 % higher: same side.
            {"block": 0, "unit": 1, "candidate_rms_units": 0.02, "state_rms_units": 0.36, "factor": 0.0556,
             "state_agreement": 0.9, "beta_lo": 0.5, "beta_hi": 0.7, "first_errors": first_errors(1, 1, 0.6)}]},
        "state_discrepancy": discrepancy(0.18), "candidate_discrepancy": discrepancy(0.02),
        "accuracy": {"reference": 2 / 3, "circuit": 1 / 3, "labelled": 3},
        "power": power(110.0), "seconds_per_clip": 2.0, "wall_seconds": 4.2, "min_agreement": 0.98, "passed": False,
        "provenance": {
            "model": "tiny", "model_hash": "0" * 64, "pdk": "generic180", "corner": "typical",
            "unit_current_A": IU, "supply_V": 1.8, "characterized": False, "inputs": "golden.safetensors",
            "frame_period_s": 0.01, "mode": "fast", "ngspice": "ngspice-39", "bmrukit": "0.1.0", "commands": [],
            "command_line": ["bmru", "verify", "--model", "results/models/tiny", "--pdk", "generic180", "--report", str(out)],
            "created": "2026-01-01T00:00:00Z"},
        "per_clip": per_clip,
    }
    (out / "report.json").write_text(json.dumps(report))
    return out


def make_version_2(report_dir) -> None:
    """Turn the fixture into a format version 2 report: class names and checks, the suppression one failing."""
    path = report_dir / "report.json"
    report = json.load(open(path))
    report["format_version"] = 2
    report["provenance"]["classes"] = ["yes", "other"]
    report["provenance"]["bmrukit_commit"] = "c81eb539a7641375602b276731f195691e65f128"
    report["checks"] = [
        {"name": "clip_decisions", "title": "clip decisions agree", "measured": 2 / 3, "relation": ">=", "limit": 0.5,
         "passed": True},
        {"name": "suppression", "title": "suppression factor at every cell boundary, frames with the bit right",
         "measured": 0.0556, "relation": ">=", "limit": 20, "passed": False, "failing": ["b0.u1"]},
        {"name": "power", "title": "mean power (nW)", "measured": 110.0, "relation": "<=", "limit": 200, "passed": True}]
    report["lint"] = [{"parameter": "pre.weight[2][12]", "value": 0.003211, "kind": "omitted weight",
                       "margin_A": 1.6e-12, "resolution_A": 2.8e-12}]
    path.write_text(json.dumps(report))


def test_report_html(report_dir):
    page = open(html.render(str(report_dir))).read()
    for text in ["FAILED: prediction agreement 66.7 %", "95.0 %", "90.0 %", "0.0556 / 0.0556", "66.7 % / 33.3 %",
                 "110.0 / 11.0 / 55.0 / 44.0", "5.5", "generic180, typical", "0.01 s, fast", "ngspice-39",
                 "failed: timestep too small at t = 0.021 s", 'href="traces/b.csv"', "Worst clip: other/b.wav",
                 "Typical clip: yes/a.wav", "No checks table: report.json (format version 1) predates the checks.",
                 "thresholds beta_lo, beta_hi from report.json", "<dt>suppression factor</dt>", "<dt>state bit</dt>",
                 "<dt>unit current (I_u)</dt>", "docs/reference/report-format.md"]:
        assert text in page, text
    # One self-contained file: every figure inline, nothing else loaded.
    figures = page.count('<img src="data:image/svg+xml;base64,')
    assert figures == 9 and page.count("<img") == figures
    assert not (report_dir / "figures").exists()


def test_report_version_2(report_dir):
    make_version_2(report_dir)
    page = open(html.render(str(report_dir))).read()
    for text in ["FAILED 1 of 3 checks: suppression factor at every cell boundary, frames with the bit right 0.0556 "
                 "(limit &gt;= 20) at b0.u1.", "<h2>Checks</h2>",
                 "<tr class='bad'><td>suppression factor at every cell boundary, frames with the bit right</td>"
                 "<td>0.0556</td><td>&gt;= 20</td><td>FAIL (b0.u1)</td></tr>",
                 "<td>mean power (nW)</td><td>110.0</td><td>&lt;= 200.0</td><td>pass</td>",
                 "<td>66.67 %</td><td>&gt;= 50.00 %</td>", "tiny, yes, other, nominal",
                 "0.1.0 (c81eb539a7641375602b276731f195691e65f128)",
                 # Classes by name in the clip table.
                 "<td>other/b.wav</td><td>other</td><td>other</td><td>other</td>",
                 # Model lint as warnings.
                 "<h2>Warnings</h2>", "<td>pre.weight[2][12]</td><td>omitted weight</td><td>0.003211</td><td>1.6</td><td>2.8</td>"]:
        assert text in page, text
    # The boundary failing the suppression check is highlighted in the cells table.
    assert "<tr class='bad'><td>0</td><td>1</td>" in page


def test_time_axes_and_many_clips(report_dir):
    trace = html.read_trace(str(report_dir / "traces" / "b.csv"))
    figure = html.class_figure(trace, "b", ("yes", "other"))
    bottom = figure.axes[1]
    assert bottom.get_xlabel() == "time (ms)" and bottom.get_xlim()[1] >= 50
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["A (yes)", "B (other)"]
    # The legends sit outside the axes, over no data.
    figure.canvas.draw()
    for ax in figure.axes:
        legend, box = ax.get_legend().get_window_extent(), ax.get_window_extent()
        assert legend.x0 >= box.x1, "legend overlaps its axes"
    # 226 clips: the power figure's axis keeps a dozen labels or so.
    ran = [{"power": power(90.0 + n % 7)} for n in range(226)]
    power_figure = html.power_figure(ran, power(93.0))
    power_figure.canvas.draw()
    axis = power_figure.axes[0]
    low, high = axis.get_xlim()
    ticks = [t.get_text() for t in axis.get_xticklabels() if low <= t.get_position()[0] <= high]
    assert 3 <= len(ticks) <= 14 and ticks[0] == "mean", ticks


def test_committed_report_without_traces(report_dir):
    # A folder without its trace CSVs (a committed report): no dead links, no clip figures, and it says so.
    shutil.rmtree(report_dir / "traces")
    page = open(html.render(str(report_dir))).read()
    assert 'href="traces/' not in page
    assert "No clip figures: the trace CSVs are not in this folder." in page
    assert "2 trace CSVs are not shipped with this page" in page


def test_no_trace_links(report_dir):
    # Traces present to draw from, but not shipped (a committed report): figures, and no link.
    page = open(html.render(str(report_dir), trace_links=False)).read()
    assert "Worst clip: other/b.wav" in page and 'href="traces/' not in page and "<th>trace</th>" not in page
    assert "2 trace CSVs are not shipped with this page" in page


def test_first_errors(report_dir):
    boundaries = json.load(open(report_dir / "report.json"))["suppression_factor"]["per_boundary"]
    assert html.first_errors(boundaries) == [["0", "1", "1", "1", "0", "0", "0.6"]]
    page = open(html.render(str(report_dir))).read()
    assert "First wrong state bit per clip" in page
    assert "<td>0</td><td>1</td><td>1</td><td>1</td><td>0</td><td>0</td><td>0.6</td>" in page


def test_report_without_thresholds(report_dir):
    # A report.json written before the cells' thresholds and first wrong bits: the page says so.
    path = report_dir / "report.json"
    report = json.load(open(path))
    for boundary in report["suppression_factor"]["per_boundary"]:
        for key in ("beta_lo", "beta_hi", "first_errors"):
            del boundary[key]
    path.write_text(json.dumps(report))
    page = open(html.render(str(report_dir))).read()
    assert "thresholds not shown: report.json predates them" in page
    assert "First wrong state bits not shown: report.json predates them." in page
    assert "First wrong state bit per clip" not in page


def test_report_html_in_chromium(report_dir, tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    html.render(str(report_dir))
    png = str(tmp_path / "report.png")
    check_html.screenshot(str(report_dir / "report.html"), png)
    check_html.check(png)
