"""Render a `bmru verify` report folder as one self-contained OUT/report.html.

    .venv/bin/python -m scripts.report.html OUT     # from the repository root
    bash scripts/report-html.sh OUT                  # the same, creating the venv if needed

Reads OUT/report.json and the trace CSVs it names (docs/reference/report-format.md) and computes no
metric: the checks, the cells' thresholds and first wrong state bits are report.json's (older reports
lack some, and the page says so). The figures are inline SVG data URIs, so the page opens alone (an
e-mail attachment); only the links to trace CSVs need the folder. Run it as a module: run as a file, its
folder would come first on sys.path and this module would shadow the standard `html`.
"""
from __future__ import annotations

import argparse
import base64
import csv
import io
import html
import json
import os
import re
import urllib.parse

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

CIRCUIT, REFERENCE = "#1f77b4", "#ff7f0e"  # blue, orange (check_html.py looks for the orange)
POWER_PARTS = [("cells_nW", "cells (vdd_cell)", "#4c72b0"), ("feedforward_nW", "feedforward (vdd_ff)", "#55a868"),
               ("bias_nW", "bias (vdd_bias)", "#8172b2")]
plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "bmru", "font.size": 9, "axes.grid": True,
                     "grid.alpha": 0.3})


def pct(value) -> str:
    """A fraction as a percentage with one decimal, like report.md; n/a for null."""
    return "n/a" if value is None else f"{100 * value:.1f} %"


def num(value, spec: str = ".3g") -> str:
    """A number in the given format, like report.md; n/a for null."""
    return "n/a" if value is None else format(value, spec)


def read_trace(path: str) -> dict[str, np.ndarray]:
    """A trace CSV as column name -> float array (one value per frame)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    values = np.array(rows[1:], dtype=float).reshape(len(rows) - 1, len(rows[0]))
    return {name: values[:, j] for j, name in enumerate(rows[0])}


def trace_cells(trace: dict) -> list[tuple[int, int]]:
    """The (block, unit) pairs of a trace, in column order."""
    return [(int(m[1]), int(m[2])) for name in trace if (m := re.fullmatch(r"c(\d+)_(\d+)_circuit_A", name))]


def thresholds(report: dict) -> tuple[dict | None, str]:
    """Per cell (block, unit): (beta_lo, beta_hi) in amperes, or None with the reason (a report written
    before report.json carried them)."""
    boundaries, unit = report["suppression_factor"]["per_boundary"], report["provenance"]["unit_current_A"]
    if not boundaries or any("beta_lo" not in b for b in boundaries):
        return None, "thresholds not shown: report.json predates them"
    cells = {(b["block"], b["unit"]): (b["beta_lo"] * unit, b["beta_hi"] * unit) for b in boundaries}
    return cells, "thresholds beta_lo, beta_hi from report.json"


def first_errors(boundaries: list[dict]) -> list[list[str]] | None:
    """Table rows of the cells with a wrong state bit in some clip (report.json's `first_errors`): how
    many clips, split into on the reference's side, across and in frame 0, and the median margin in
    units; None for a report written before report.json carried them."""
    if not boundaries or any("first_errors" not in b for b in boundaries):
        return None
    return [[str(b["block"]), str(b["unit"]), str(e["clips"]), str(e["on_reference_side"]), str(e["across"]),
             str(e["in_frame_0"]), num(e["median_margin_units"])]
            for b in boundaries if (e := b["first_errors"])["clips"] > 0]


REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FORMAT_DOC = "docs/reference/report-format.md"


def inline(fig, alt: str) -> str:
    """An <img> holding the figure as an SVG data URI (no date in it), so the page needs no other file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f"<img src=\"data:image/svg+xml;base64,{data}\" alt=\"{html.escape(alt)}\">"


def class_name(report: dict, index) -> str:
    """The name of class `index` (provenance.classes), its index in a report written before names; "" for none."""
    if index is None:
        return ""
    classes = report["provenance"].get("classes")
    return classes[int(index)] if classes and 0 <= int(index) < len(classes) else str(int(index))


def milliseconds(trace: dict) -> np.ndarray:
    """Each frame's sampling time (its end), ms."""
    return trace["t_end_s"] * 1e3


def cell_figure(trace: dict, kind: str, clip: str, cells_thresholds: dict | None) -> plt.Figure:
    """Circuit vs reference over frames for every cell: kind "c" (candidates, with thresholds when
    given) or "h" (state currents, on one scale so that an off cell's fA read as 0)."""
    cells = trace_cells(trace)
    cols = min(len(cells), 4)
    rows = -(-len(cells) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 0.6 + 2.1 * rows), sharex=True, sharey=kind == "h",
                             squeeze=False, layout="constrained")
    time = milliseconds(trace)
    for ax, (k, i) in zip(axes.flat, cells):
        ax.plot(time, trace[f"{kind}{k}_{i}_reference_A"] * 1e9, color=REFERENCE, label="reference", lw=1.2)
        ax.plot(time, trace[f"{kind}{k}_{i}_circuit_A"] * 1e9, color=CIRCUIT, label="circuit", lw=1.0)
        if cells_thresholds and (k, i) in cells_thresholds:
            for level, style in zip(cells_thresholds[(k, i)], ("--", ":")):
                ax.axhline(level * 1e9, color="0.35", ls=style, lw=0.8)
        ax.set_title(f"block {k}, unit {i}")
    for ax in axes.flat[len(cells):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("time (ms)")
    for ax in axes[:, 0]:
        ax.set_ylabel("current (nA)")
    what = "Candidate currents" if kind == "c" else "State currents"
    note = " (dashed: beta_lo, dotted: beta_hi)" if kind == "c" and cells_thresholds else ""
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper right", ncols=2)
    fig.suptitle(f"{what}{note}, clip {clip}", x=0.01, ha="left")
    return fig


def class_figure(trace: dict, clip: str, names: tuple[str, str]) -> plt.Figure:
    """Class currents A and B, then A - B against the reference's logit difference (traces that have
    it), with the frames where the reference picks class 0 shaded and the frames where the circuit's
    decision differs marked. Legends sit right of the axes, over no data."""
    time = milliseconds(trace)
    a, b = trace["class_a_A"] * 1e9, trace["class_b_A"] * 1e9
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 4.8), sharex=True, layout="constrained")
    top.plot(time, a, color=CIRCUIT, label=f"A ({names[0]})")
    top.plot(time, b, color="#2ca02c", label=f"B ({names[1]})")
    top.set_ylabel("circuit current (nA)")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    top.set_title(f"Class currents, clip {clip}")
    bottom.plot(time, a - b, color=CIRCUIT, label="circuit A - B")
    if "logit_difference_reference_A" in trace:
        bottom.plot(time, trace["logit_difference_reference_A"] * 1e9, color=REFERENCE, label="reference")
    bottom.axhline(0, color="0.3", lw=0.8)
    period = time[0] if len(time) == 1 else time[1] - time[0]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], trace["decision_reference"] == 0, [0]]).astype(int)))
    for n, (start, end) in enumerate(zip(edges[::2], edges[1::2])):  # runs of frames [start, end)
        bottom.axvspan(time[start] - period, time[end - 1], color=REFERENCE, alpha=0.18, lw=0,
                       label=None if n else f"reference decides {names[0]}")
    wrong = trace["decision_circuit"] != trace["decision_reference"]
    bottom.plot(time[wrong], (a - b)[wrong], "x", color="#d62728", label="decision differs")
    bottom.set_xlabel("time (ms)")
    bottom.set_ylabel("A - B (nA)")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def histogram_figure(ran: list[dict]) -> plt.Figure:
    """Histograms over simulated clips of the per-clip frame state and frame decision agreement."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), layout="constrained")
    for ax, key, what in zip(axes, ("frame_state_agreement", "frame_decision_agreement"),
                             ("frame state-bit agreement", "frame decision agreement")):
        values = [100 * c[key] for c in ran]
        low = min(np.floor(min(values)), 99.0)
        ax.hist(values, bins=np.linspace(low, 100, 21), color=CIRCUIT, edgecolor="white")
        ax.set_xlabel(f"{what} per clip (%)")
        ax.set_ylabel("clips")
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # clip counts
        ax.set_title(f"{what.capitalize()} over {len(ran)} clips")
    return fig


def boundary_figure(boundaries: list[dict]) -> plt.Figure:
    """Per-cell state agreement (simulated clips pooled) as bars."""
    fig, ax = plt.subplots(figsize=(12, 3.2), layout="constrained")
    names = [f"b{p['block']}.u{p['unit']}" for p in boundaries]
    values = [100 * p["state_agreement"] for p in boundaries]
    ax.bar(names, values, color=CIRCUIT)
    ax.set_ylim(min(min(values) - 2, 90), 101)
    ax.grid(axis="x", visible=False)
    for x, v in enumerate(values):
        ax.annotate(f"{v:.1f}", (x, v), ha="center", va="bottom", fontsize=8)
    ax.set_xlabel("cell (block.unit)")
    ax.set_ylabel("state-bit agreement (%)")
    ax.set_title("State-bit agreement per cell, all simulated clips")
    return fig


def power_figure(ran: list[dict], mean: dict) -> plt.Figure:
    """Power per supply as stacked bars: the mean over simulated clips at 0, then each clip at its row
    number (ticks thinned so that hundreds of clips stay legible)."""
    parts = [mean] + [c["power"] for c in ran]
    positions = np.arange(len(parts))
    fig, ax = plt.subplots(figsize=(12, 3.6), layout="constrained")
    bottom = np.zeros(len(parts))
    for key, label, color in POWER_PARTS:
        values = np.array([p[key] for p in parts])
        ax.bar(positions, values, bottom=bottom, color=color, width=0.8 if len(parts) < 60 else 1.0,
               label=f"{label}: {mean[key]:.1f} nW")
        bottom += values
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=12, integer=True, min_n_ticks=1))
    ax.set_xlim(-0.6, len(parts) - 0.4)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: "mean" if x == 0 else f"{x:.0f}"))
    ax.set_xlabel("clip (row number in the clip table; 0: the mean)")
    ax.set_ylabel("mean power (nW)")
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside upper right", ncols=3)
    fig.suptitle(f"Power by supply, mean {mean['total_nW']:.1f} nW", x=0.01, ha="left")
    return fig


def chosen_clips(ran: list[dict]) -> list[tuple[str, dict]]:
    """The worst of the simulated clips `ran` (lowest frame state agreement) and a typical one (the
    median), once each; first in input order on ties."""
    ranked = sorted(ran, key=lambda c: c["frame_state_agreement"])
    chosen = [("worst", ranked[0])]
    if len(ranked) > 1:
        chosen.append(("typical", ranked[len(ranked) // 2]))
    return chosen


def summary_rows(r: dict) -> list[tuple[str, str]]:
    """The headline figures of report.md, then the provenance."""
    p, power, acc = r["provenance"], r.get("power") or {}, r["accuracy"]
    sf, sd, cd = r["suppression_factor"], r.get("state_discrepancy") or {}, r.get("candidate_discrepancy") or {}
    agreeing = sf.get("agreeing_frames") or {}
    discrepancy = lambda d: f"{num(d.get('rms_units'))} / {num(d.get('p95_units'))} / {num(d.get('max_units'))}"  # noqa: E731
    return [
        ("clips (failed)", f"{r['clips']} ({r['failed']})"),
        ("prediction agreement", pct(r["prediction_agreement"])),
        ("frame state-bit agreement", pct(r["frame_state_agreement"])),
        ("frame decision agreement (sign of A - B)", pct(r["frame_decision_agreement"])),
        ("frame decision agreement (readout node)", pct(r["readout_frame_agreement"])),
        ("suppression factor min / median", f"{num(sf['min'])} / {num(sf['median'])}"),
        ("suppression factor over frames with the state bit right, min / median",
         f"{num(agreeing.get('min'))} / {num(agreeing.get('median'))}"),
        ("state discrepancy RMS / p95 / max (units)", discrepancy(sd)),
        ("candidate discrepancy RMS / p95 / max (units)", discrepancy(cd)),
        (f"accuracy reference / circuit ({acc['labelled']} labelled)", f"{pct(acc['reference'])} / {pct(acc['circuit'])}"),
        ("power total / cells / feedforward / bias (nW)",
         " / ".join(num(power.get(k), ".1f") for k in ("total_nW", "cells_nW", "feedforward_nW", "bias_nW"))),
        ("energy per clip (nJ)", num(power.get("energy_nJ"), ".1f")),
        ("simulation seconds per clip", num(r.get("seconds_per_clip"), ".1f")),
        ("wall seconds", num(r["wall_seconds"], ".1f")),
        ("frame period, simulation mode, memory cells",
         f"{num(p['frame_period_s'])} s, {p.get('mode', 'transient')}, {p.get('cells', 'continuous')}"),
        ("model, classes, sizing", f"{p['model']}, {', '.join(p.get('classes') or ['n/a'])}, "
                                   f"{'characterized' if p['characterized'] else 'nominal'}"),
        ("model hash (SHA-256)", p["model_hash"]),
        ("characterization hash (SHA-256)", p.get("characterization_hash") or "n/a"),
        ("PDK, corner", f"{p['pdk']}, {p['corner']}"),
        ("PDK model files hash (SHA-256)", p.get("pdk_models_hash") or "n/a"),
        ("unit current, supply", f"{p['unit_current_A']:g} A, {p['supply_V']:g} V"),
        ("inputs", p["inputs"]),
        ("ngspice, BMRUKit (commit)", f"{p['ngspice']}, {p['bmrukit']} ({p.get('bmrukit_commit') or 'n/a'})"),
        ("ngspice commands before each transient", "; ".join(p["commands"]) or "none"),
        ("created", p["created"]),
        ("command line", " ".join(p["command_line"])),
    ]


def link(path: str, text: str) -> str:
    """A link to a file in the report folder (path relative to it, URL-quoted)."""
    return f"<a href=\"{html.escape(urllib.parse.quote(path))}\">{text}</a>"


def table(header: list[str], rows: list[list[str]], classes: list[str] | None = None, kind: str = "") -> str:
    """An HTML table of the CSS class kind; cells are already escaped; optional CSS class per row."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(f"<tr{f' class={c!r}' if c else ''}>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                   for row, c in zip(rows, classes or [""] * len(rows)))
    return f"<table class={kind!r}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def clip_rows(r: dict, out: str, trace_links: bool) -> tuple[list[list[str]], list[str]]:
    """One row per clip: decisions by class name, agreements, power, time, status (failure text) and,
    with trace_links, a link to its trace CSV when the folder holds it."""
    rows, classes = [], []
    for n, c in enumerate(r["per_clip"], 1):
        ok = c["status"] == "ok"
        status = "ok" if ok else f"failed: {html.escape(c.get('failure') or c['status'])}"
        shipped = trace_links and c.get("trace") and os.path.isfile(os.path.join(out, c["trace"]))
        trace = link(c["trace"], "csv") if shipped else ""
        rows.append([str(n), html.escape(c["name"]), html.escape(class_name(r, c.get("label"))),
                     html.escape(class_name(r, c["reference_decision"])), html.escape(class_name(r, c.get("circuit_decision"))),
                     "yes" if c["agrees"] else "no", pct(c.get("frame_state_agreement")),
                     pct(c.get("frame_decision_agreement")), num((c.get("power") or {}).get("total_nW"), ".1f"),
                     num(c.get("seconds"), ".1f"), status, trace])
        classes.append("" if ok and c["agrees"] else "bad")
    return rows, classes


def check_value(name: str, value) -> str:
    """A check's measured value or limit as report.md prints it: a percentage, a factor, nW or a count."""
    if value is None:
        return "n/a"
    if name in ("clip_decisions", "state_bits", "frame_decisions"):
        return f"{100 * value:.2f} %"
    return {"suppression": f"{value:.3g}", "power": f"{value:.1f}"}.get(name, f"{value:.0f}")


def verdict(r: dict) -> str:
    """The verdict line: report.json's checks (version 2), else the prediction agreement and its minimum."""
    checks = r.get("checks")
    if checks is None:
        return (f"{'PASSED' if r['passed'] else 'FAILED'}: prediction agreement {pct(r['prediction_agreement'])} "
                f"against a minimum of {pct(r['min_agreement'])}.")
    failed = [c for c in checks if not c["passed"]]
    if not failed:
        return f"PASSED: all {len(checks)} checks met."
    return f"FAILED {len(failed)} of {len(checks)} checks: " + "; ".join(
        f"{c['title']} {check_value(c['name'], c['measured'])} (limit {c['relation']} {check_value(c['name'], c['limit'])})"
        + (f" at {', '.join(c['failing'])}" if c.get("failing") else "") for c in failed) + "."


def check_rows(r: dict) -> tuple[list[list[str]], list[str]]:
    """One row per check of report.json: what, measured, limit, verdict (failing boundaries named)."""
    rows, classes = [], []
    for c in r["checks"]:
        where = f" ({', '.join(c['failing'])})" if c.get("failing") else ""
        rows.append([html.escape(c["title"]), check_value(c["name"], c["measured"]),
                     f"{html.escape(c['relation'])} {check_value(c['name'], c['limit'])}",
                     "pass" if c["passed"] else f"FAIL{html.escape(where)}"])
        classes.append("" if c["passed"] else "bad")
    return rows, classes


def format_doc_link(out: str) -> str:
    """A link to the report format from the report folder when both are in this repository, else its path as text."""
    target = os.path.join(REPOSITORY, FORMAT_DOC)
    inside = os.path.commonpath([os.path.abspath(out), REPOSITORY]) == REPOSITORY
    return link(os.path.relpath(target, os.path.abspath(out)), FORMAT_DOC) if inside else f"<code>{FORMAT_DOC}</code> in the BMRUKit repository"


GLOSSARY = [
    ("unit current (I_u)", "the current that stands for 1.0 in the model: every weight, threshold and state is a multiple "
                           "of it (here {iu}); the report's 'units' are multiples of it."),
    ("candidate", "the current a memory cell compares with its thresholds beta_lo and beta_hi in each frame."),
    ("state bit", "a memory cell's binary state (on: its state current above alpha / 2). Circuit and reference agree "
                  "on a bit when both read the same; all bits right means the circuit computes the model's recurrence."),
    ("suppression factor", "at a cell boundary, the RMS of the candidate's error (circuit minus reference) over the RMS "
                           "of the state's error, over the frames whose state bit is right: how much analog error the "
                           "binary state removes. The published cell claims at least 20."),
    ("frame, clip decision", "each 10 ms frame the readout picks the class with the larger current (A or B); the clip's "
                             "decision is the majority over its frames."),
]


CSS = """body{font-family:sans-serif;max-width:1240px;margin:16px auto;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0}table.summary td:first-child{white-space:nowrap}td{overflow-wrap:anywhere}tr.bad td{background:#fbe3e3}
.passed{color:#17692e;font-weight:bold}.failed{color:#b00020;font-weight:bold}
img{width:100%;display:block;margin:6px 0 14px}.note{color:#555;font-size:13px}
dt{font-weight:bold;margin-top:6px}dd{margin-left:18px}"""


def render(out: str, trace_links: bool = True) -> str:
    """Write OUT/report.html, one file with inline figures, from OUT/report.json and its traces; returns its
    path. Without trace_links the clip table links no trace CSV: for a folder committed without its traces
    (they are drawn from, not shipped)."""
    with open(os.path.join(out, "report.json")) as f:
        r = json.load(f)
    p, ran = r["provenance"], [c for c in r["per_clip"] if c["status"] == "ok"]
    names = (class_name(r, 0), class_name(r, 1))
    parts = [f"<h1>Verification: {html.escape(p['model'])} on {html.escape(p['pdk'])} ({html.escape(p['corner'])})</h1>",
             f"<p class=\"{'passed' if r['passed'] else 'failed'}\">{html.escape(verdict(r))}</p>"]
    if r.get("checks") is not None:
        parts += ["<h2>Checks</h2>", table(["check", "measured", "limit", "verdict"], *check_rows(r))]
    else:
        parts += ["<p class=\"note\">No checks table: report.json (format version 1) predates the checks.</p>"]
    if r.get("lint"):
        parts += ["<h2>Warnings</h2>",
                  "<p class=\"note\">What the model asks of the circuit finer than it resolves (model lint, without "
                  "mismatch): warnings, not checks.</p>",
                  table(["parameter", "kind", "value (units)", "margin (pA)", "resolution (pA)", "frames within 3 sigma"],
                        [[html.escape(f["parameter"]), html.escape(f["kind"]), num(f["value"], ".4g"),
                          num(f["margin_A"] * 1e12, ".1f"), num(f["resolution_A"] * 1e12, ".1f"),
                          "" if f.get("frames") is None else f"{f.get('close', 0)} of {f['frames']}"] for f in r["lint"]])]
    parts += [f"<p class=\"note\">How to read this report: {format_doc_link(out)}; terms in the glossary at the end.</p>",
              "<h2>Summary</h2>", table(["metric", "value"], [[m, html.escape(v)] for m, v in summary_rows(r)], kind="summary")]
    cells_thresholds, note = thresholds(r)
    traced = [c for c in ran if os.path.isfile(os.path.join(out, c["trace"]))]
    if ran and not traced:
        parts += ["<p class=\"note\">No clip figures: the trace CSVs are not in this folder.</p>"]
    if traced:
        for tag, clip in chosen_clips(traced):
            trace = read_trace(os.path.join(out, clip["trace"]))
            name = html.escape(clip["name"])
            parts += [f"<h2>{tag.capitalize()} clip: {name}</h2>",
                      f"<p class=\"note\">frame state-bit agreement {pct(clip['frame_state_agreement'])}, frame decision "
                      f"agreement {pct(clip['frame_decision_agreement'])}; {html.escape(note)}.</p>",
                      inline(cell_figure(trace, "c", clip["name"], cells_thresholds), f"candidate currents, {clip['name']}"),
                      inline(cell_figure(trace, "h", clip["name"], None), f"state currents, {clip['name']}"),
                      inline(class_figure(trace, clip["name"], names), f"class currents, {clip['name']}")]
    if ran:
        parts += ["<h2>Agreement over clips</h2>", inline(histogram_figure(ran), "agreement histograms")]
    boundaries = r["suppression_factor"]["per_boundary"]
    if boundaries:
        suppression = next((c for c in r.get("checks") or [] if c["name"] == "suppression"), None)
        failing = set(suppression.get("failing") or []) if suppression else set()
        parts += ["<h2>Cells</h2>", inline(boundary_figure(boundaries), "state agreement per cell"),
                  table(["block", "unit", "state agreement", "candidate RMS (units)", "state RMS (units)", "suppression",
                         "suppression, bit right"],
                        [[str(b["block"]), str(b["unit"]), pct(b["state_agreement"]), num(b["candidate_rms_units"]),
                          num(b["state_rms_units"]), num(b["factor"]),
                          num(b.get("factor_agreeing_frames")) + (" (silent)" if b.get("silent") else "")]
                         for b in boundaries],
                        ["bad" if f"b{b['block']}.u{b['unit']}" in failing else "" for b in boundaries])]
        rows = first_errors(boundaries)
        if ran and rows is None:
            parts += ["<p class=\"note\">First wrong state bits not shown: report.json predates them.</p>"]
        elif ran:
            parts += ["<h3>First wrong state bit per clip</h3>",
                      "<p class=\"note\">On the reference's side: the circuit's frame-end candidate was on the same side "
                      "of the deciding threshold as the reference's, so the cell latched a transient inside the frame; "
                      "across: the candidate itself was wrong. Margin: the reference candidate's distance from that "
                      "threshold.</p>",
                      table(["block", "unit", "clips", "on the reference's side", "across", "in frame 0",
                             "median margin (units)"], rows) if rows else "<p>No wrong state bit.</p>"]
    if r.get("power") and ran:
        parts += ["<h2>Power</h2>", inline(power_figure(ran, r["power"]), "power by supply")]
    rows, classes = clip_rows(r, out, trace_links)
    unlinked = len(ran) - (len(traced) if trace_links else 0)
    parts += ["<h2>Clips</h2>",
              *([f"<p class=\"note\">{unlinked} trace CSVs are not shipped with this page (not committed; "
                 "<code>provenance.command_line</code> regenerates them): no link.</p>"] if unlinked else []),
              table(["#", "clip", "label", "reference", "circuit", "agrees", "state bits", "frame decisions",
                     "power (nW)", "seconds", "status", "trace"][:None if trace_links else -1],
                    [row[:None if trace_links else -1] for row in rows], classes)]
    unit = f"{p['unit_current_A']:g} A"
    parts += ["<h2>Glossary</h2>", "<dl>" + "".join(
        f"<dt>{html.escape(term)}</dt><dd>{html.escape(text.format(iu=unit))}</dd>"
        for term, text in GLOSSARY) + "</dl>"]
    path = os.path.join(out, "report.html")
    with open(path, "w") as f:
        f.write(f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>Verification: {html.escape(p['model'])}</title><style>{CSS}</style></head>\n"
                f"<body>\n" + "\n".join(parts) + "\n</body></html>\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="report folder written by bmru verify --out")
    parser.add_argument("--no-trace-links", action="store_true",
                        help="link no trace CSV (a report committed without its traces; the figures still use them)")
    args = parser.parse_args()
    print(render(args.out, trace_links=not args.no_trace_links))


if __name__ == "__main__":
    main()
