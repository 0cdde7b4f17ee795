import Foundation

extension SweepReport {
    /// `report.md`: the headline, one row per operating condition, the cells, what fails first and
    /// the clips.
    public func markdown() -> String {
        let s = sweep
        var lines = [
            "# Robustness sweep: \(s.model) on \(s.pdk)", "",
            "\(jobs.planned) jobs (\(s.clips) clips x \(variants.count) variants): \(jobs.done) done, \(jobs.failed) failed, "
                + "\(jobs.missing) missing. Calibration: \(s.calibration).", "",
            "| metric | value |", "|---|---|",
            "| clip agreement over all jobs | \(percent(summary.clipAgreement)) |",
            "| state-bit agreement (mean over jobs) | \(percent(summary.stateBitAgreement)) |",
            "| dies | \(summary.dies) |",
            "| yield: dies with clip agreement >= 99 % / = 100 % | \(percent(summary.yield99)) / \(percent(summary.yield100)) |",
            "| worst condition | \(summary.worstCondition ?? "none disagrees") |",
            "| cells, simulation mode, mirrored biases | \(s.cells), \(s.mode), \(s.mirroredBiases ? "yes" : "no") |", "",
            "## Operating conditions", "",
            "| condition | dies | clip agreement | state bits | worst die | yield >= 99 % | yield 100 % | failed | candidate / state RMS (units), suppression | power mean / min / max (nW) |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        func number(_ value: Double?) -> String { value.map { String(format: "%.3g", $0) } ?? "n/a" }
        lines += conditions.map {
            "| \($0.condition) | \($0.dies) | \(percent($0.clipAgreement)) | \(percent($0.stateBitAgreement)) | "
                + "\(percent($0.worstDie)) | \(percent($0.yield99)) | \(percent($0.yield100)) | \($0.failed) | "
                + "\(number($0.candidateRMSUnits)) / \(number($0.stateRMSUnits)), \(number($0.suppression)) | "
                + ($0.powerNW.map { String(format: "%.1f / %.1f / %.1f", $0.mean, $0.min, $0.max) } ?? "n/a") + " |"
        }
        lines += ["", "## What fails first", "",
                  "In each disagreeing job: the cell whose state bit is wrong first, or the readout when every bit is right.", "",
                  "| part | jobs | median frame |", "|---|---|---|"]
        lines += summary.firstFailures.map { "| \($0.part) | \($0.jobs) | \($0.medianFrame.map(String.init) ?? "") |" }
        lines += ["", "## Cells", "", "| block | unit | state agreement | first to fail (jobs) |", "|---|---|---|---|"]
        lines += cells.map { "| \($0.block) | \($0.unit) | \(percent($0.stateAgreement)) | \($0.firstToFail) |" }
        lines += ["", "## Clips", "", "| clip | label | reference | runs | deciding like the reference | state bits |",
                  "|---|---|---|---|---|---|"]
        lines += perClip.map {
            "| \($0.clip) | \($0.label.map(String.init) ?? "") | \($0.referenceDecision.map(String.init) ?? "") | \($0.runs) | "
                + "\(percent($0.agreement)) | \(percent($0.stateBitAgreement)) |"
        }
        lines += ["", "## Provenance", "",
                  "- model \(s.model) (SHA-256 \(s.modelHash)), PDK \(s.pdk) (model files SHA-256 \(s.pdkHash))",
                  "- characterization \(s.characterization ?? "none")" + (s.characterizationHash.map { " (SHA-256 \($0))" } ?? ""),
                  "- clips: \(s.inputs)",
                  "- bmru \(s.bmrukit); runners: " + execution.runners.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) jobs)" }
                    .joined(separator: ", "),
                  "- simulation: \(String(format: "%.0f", execution.coreSeconds)) core-seconds"
                    + (execution.secondsPerJob.map { String(format: ", %.1f per job", $0) } ?? ""), ""]
        return lines.joined(separator: "\n")
    }

    /// `report.html`: one self-contained file (inline SVG, no scripts, no external files) with the
    /// headline, the die-agreement histogram, the conditions table as corner x temperature x supply
    /// and the power distribution.
    public func html() -> String {
        let s = sweep
        var body = [
            "<h1>Robustness sweep: \(escape(s.model)) on \(escape(s.pdk))</h1>",
            "<p>\(jobs.planned) jobs (\(s.clips) clips &times; \(variants.count) variants): \(jobs.done) done, "
                + "\(jobs.failed) failed, \(jobs.missing) missing. Simulation mode: \(escape(s.mode)). "
                + "Calibration: \(escape(s.calibration)).</p>",
            "<table><tr><th>clip agreement</th><th>state bits</th><th>dies</th><th>yield &ge; 99 %</th><th>yield 100 %</th>"
                + "<th>worst condition</th></tr><tr><td>\(percent(summary.clipAgreement))</td>"
                + "<td>\(percent(summary.stateBitAgreement))</td><td>\(summary.dies)</td><td>\(percent(summary.yield99))</td>"
                + "<td>\(percent(summary.yield100))</td><td>\(escape(summary.worstCondition ?? "none disagrees"))</td></tr></table>",
            "<h2>Clip agreement per die</h2>",
            Self.bars(summary.dieAgreementHistogram.map(Double.init),
                      labels: (0..<10).map { "\($0 * 10)-\($0 == 9 ? 100 : $0 * 10 + 10) %" }, yLabel: "dies"),
        ]
        body += ["<h2>Operating conditions</h2>", conditionGrid()]
        let powers = variants.compactMap(\.powerNW)
        if let low = powers.min(), let high = powers.max() {
            let width = max((high - low) / 12, 0.05)
            var counts = Array(repeating: 0.0, count: 12)
            for p in powers { counts[min(11, Int((p - low) / width))] += 1 }
            body += ["<h2>Power per variant (mean over its clips)</h2>",
                     Self.bars(counts, labels: (0..<12).map { String(format: "%.1f", low + (Double($0) + 0.5) * width) },
                               yLabel: "variants", xLabel: "nW")]
        }
        body += ["<h2>What fails first</h2>",
                 "<table><tr><th>part</th><th>jobs</th><th>median frame</th></tr>"
                    + summary.firstFailures.map { "<tr><td>\($0.part)</td><td>\($0.jobs)</td><td>\($0.medianFrame.map(String.init) ?? "")</td></tr>" }
                    .joined() + "</table>",
                 "<h2>Clips</h2>",
                 "<table><tr><th>clip</th><th>label</th><th>runs</th><th>deciding like the reference</th><th>state bits</th></tr>"
                    + perClip.map { "<tr><td>\(escape($0.clip))</td><td>\($0.label.map(String.init) ?? "")</td><td>\($0.runs)</td>"
                        + "<td>\(percent($0.agreement))</td><td>\(percent($0.stateBitAgreement))</td></tr>" }.joined() + "</table>",
                 "<h2>Glossary</h2>",
                 "<dl><dt>die</dt><dd>one Monte Carlo sample of the statistical models at one operating condition: the same circuit for every clip</dd>"
                    + "<dt>clip agreement</dt><dd>fraction of clips whose circuit decision (majority of frame decisions) equals the reference's</dd>"
                    + "<dt>state bit</dt><dd>a memory cell's binary state at the end of a frame: on when its state current exceeds half its high level</dd>"
                    + "<dt>yield</dt><dd>fraction of dies whose clip agreement reaches the threshold</dd></dl>",
                 "<p>Format: docs/robustness.md. Model SHA-256 \(s.modelHash), PDK model files SHA-256 \(s.pdkHash), bmru \(escape(s.bmrukit)).</p>"]
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Sweep: \(escape(s.model)) on \(escape(s.pdk))</title>
            <style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}
            td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}th{background:#eee}td:first-child{text-align:left}
            .bad{background:#f4c7c3}.ok{background:#d9ead3}</style></head><body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    /// Conditions as a table: rows corner x supply, columns temperature (noise and unit current in
    /// the row label when they vary).
    private func conditionGrid() -> String {
        let temperatures = Array(Set(conditions.map(\.temperature))).sorted()
        var rows: [String] = [], cells: [String: Condition] = [:]
        for condition in conditions {
            let row = "\(condition.corner), supply x\(formatNumber(condition.supplyScale))"
                + (Set(conditions.map(\.unitCurrent)).count > 1 ? ", I_u \(formatNumber(condition.unitCurrent * 1e9)) nA" : "")
                + (Set(conditions.map(\.noise)).count > 1 ? ", noise x\(formatNumber(condition.noise))" : "")
            if !rows.contains(row) { rows.append(row) }
            cells["\(row)|\(condition.temperature)"] = condition
        }
        var html = "<table><tr><th>condition</th>" + temperatures.map { "<th>\(formatNumber($0)) &deg;C</th>" }.joined() + "</tr>"
        for row in rows {
            html += "<tr><td>\(escape(row))</td>"
            for t in temperatures {
                guard let c = cells["\(row)|\(t)"] else { html += "<td></td>"; continue }
                html += "<td class=\"\(c.clipAgreement >= 0.99 ? "ok" : "bad")\">\(percent(c.clipAgreement)) clips, "
                    + "\(percent(c.stateBitAgreement)) bits" + (c.dies > 1 ? ", yield \(percent(c.yield99))" : "")
                    + (c.powerNW.map { String(format: ", %.1f nW", $0.mean) } ?? "") + "</td>"
            }
            html += "</tr>"
        }
        return html + "</table><p>Green: clip agreement &ge; 99 %.</p>"
    }

    /// A bar chart as inline SVG.
    static func bars(_ values: [Double], labels: [String], yLabel: String, xLabel: String? = nil) -> String {
        let (width, height, left, bottom) = (720.0, 260.0, 50.0, 40.0)
        let top = max(values.max() ?? 1, 1)
        let slot = (width - left - 10) / Double(max(values.count, 1))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#333\"/>"
        svg += "<text x=\"12\" y=\"\(height / 2)\" transform=\"rotate(-90 12 \(height / 2))\" font-size=\"12\" text-anchor=\"middle\">\(yLabel)</text>"
        svg += "<text x=\"\(left - 4)\" y=\"14\" font-size=\"11\" text-anchor=\"end\">\(formatNumber(top))</text>"
        for (index, value) in values.enumerated() {
            let h = (height - bottom - 20) * value / top
            let x = left + Double(index) * slot
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4a7ab5\"/>",
                          x + 2, height - bottom - h, slot - 4, h)
            if value > 0 {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">",
                              x + slot / 2, height - bottom - h - 3) + formatNumber(value) + "</text>"
            }
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">",
                          x + slot / 2, height - bottom + 14) + labels[index] + "</text>"
        }
        if let xLabel {
            svg += "<text x=\"\(width / 2)\" y=\"\(height - 6)\" font-size=\"12\" text-anchor=\"middle\">\(xLabel)</text>"
        }
        return svg + "</svg>"
    }
}

/// A fraction as a percentage with one decimal, or `n/a`.
func percent(_ fraction: Double?) -> String { fraction.map { String(format: "%.1f %%", 100 * $0) } ?? "n/a" }

/// Text made safe for HTML.
func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
