import Foundation

extension Report {
    /// `report.md`: the verdict and the checks table first, then a summary table for a reviewer, the cell
    /// boundaries, one row per clip and the provenance.
    public func markdown() -> String {
        func pct(_ value: Double?) -> String { value.map { String(format: "%.1f %%", 100 * $0) } ?? "n/a" }
        func num(_ value: Double?, _ format: String = "%.3g") -> String { value.map { String(format: format, $0) } ?? "n/a" }
        let p = provenance
        var lines = ["# Verification: \(p.model) on \(p.pdk) (\(p.corner))", "", verdict, ""]
        if let checks {
            lines += ["| check | measured | limit | verdict |", "|---|---|---|---|"]
            lines += checks.map { check in
                "| \(check.name.title) | \(check.name.format(check.measured)) | \(check.limitText) | "
                    + (check.passed ? "pass" : "**FAIL**" + (check.failing.map { $0.isEmpty ? "" : " (\($0.joined(separator: ", ")))" } ?? ""))
                    + " |"
            }
            lines += [""]
        }
        if let lint, !lint.isEmpty {
            lines += ["Warnings: what the model asks of the circuit finer than it resolves (model lint, without mismatch):", ""]
            lines += lint.map { "- \($0)" } + [""]
        }
        lines += [
            "How to read this report: `docs/reference/report-format.md` in the BMRUKit repository (commit below).", "",
            "| metric | value |", "|---|---|",
            "| clips (failed to simulate, simulated and disagreeing) | \(clips) (\(failed), \(disagreed.map(String.init) ?? "n/a")) |",
            "| prediction agreement | \(pct(predictionAgreement)) |",
            "| frame state-bit agreement | \(pct(frameStateAgreement)) |",
            "| frame decision agreement (sign of A - B) | \(pct(frameDecisionAgreement)) |",
            "| frame decision agreement (readout node) | \(pct(readoutFrameAgreement)) |",
            "| suppression factor min / median | \(num(suppressionFactor.min)) / \(num(suppressionFactor.median)) |",
            "| suppression factor over frames with the state bit right, min / median | \(num(suppressionFactor.agreeingFrames?.min)) / \(num(suppressionFactor.agreeingFrames?.median)) |",
            "| state discrepancy RMS / p95 / max (units) | \(num(stateDiscrepancy?.rmsUnits)) / \(num(stateDiscrepancy?.p95Units)) / \(num(stateDiscrepancy?.maxUnits)) |",
            "| candidate discrepancy RMS / p95 / max (units) | \(num(candidateDiscrepancy?.rmsUnits)) / \(num(candidateDiscrepancy?.p95Units)) / \(num(candidateDiscrepancy?.maxUnits)) |",
            "| block output discrepancy RMS / p95 / max (units) | \(num(blockOutputDiscrepancy?.rmsUnits)) / \(num(blockOutputDiscrepancy?.p95Units)) / \(num(blockOutputDiscrepancy?.maxUnits)) |",
            "| accuracy reference / circuit (\(accuracy.labelled) labelled) | \(pct(accuracy.reference)) / \(pct(accuracy.circuit)) |",
            "| power total / cells / feedforward / bias (nW) | \(num(power?.totalNW, "%.1f")) / \(num(power?.cellsNW, "%.1f")) / \(num(power?.feedforwardNW, "%.1f")) / \(num(power?.biasNW, "%.1f")) |",
            "| energy per clip (nJ) | \(num(power?.energyNJ, "%.1f")) |",
            "| simulation seconds per clip | \(num(secondsPerClip, "%.1f")) |",
            "| frame period, simulation mode, memory cells | \(num(p.framePeriod)) s, \(p.mode ?? "transient"), \(p.cells ?? "continuous") |", "",
            "## Cell boundaries", "",
            "| block | unit | state agreement | candidate RMS (units) | state RMS (units) | suppression | suppression, bit right |",
            "|---|---|---|---|---|---|---|",
        ]
        let failing = Set(checks?.first { $0.name == .suppression }?.failing ?? [])
        lines += suppressionFactor.perBoundary.map {
            "| \($0.block) | \($0.unit) | \(pct($0.stateAgreement)) | \(num($0.candidateRMSUnits)) | \(num($0.stateRMSUnits)) | "
                + "\(num($0.factor)) | \(num($0.agreeingFramesFactor))\(failing.contains($0.name) ? " **FAIL**" : $0.silent == true ? " (silent)" : "") |"
        }
        lines += ["", "## Clips", "", "| clip | label | reference | circuit | agrees | state bits | seconds | status |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += perClip.map { clip in
            "| \(clip.name) | \(className(clip.label) ?? "") | \(className(clip.referenceDecision) ?? "") | "
                + "\(className(clip.circuitDecision) ?? "") | \(clip.agrees ? "yes" : "no") | \(pct(clip.frameStateAgreement)) | "
                + "\(num(clip.seconds, "%.1f")) | \(clip.failure.map { "failed (\(clip.failureKind?.rawValue ?? "circuit")): \($0)" } ?? clip.status) |"
        }
        let sizing = p.characterizationHash.map { "calibrated (characterization sha256 \($0))" } ?? (p.characterized ? "characterized" : "nominal")
        lines += ["", "## Provenance", "",
                  "| | |", "|---|---|",
                  "| model | \(p.model) (sha256 \(p.modelHash)), classes \(p.classes?.joined(separator: ", ") ?? "n/a") |",
                  "| PDK | \(p.pdk), corner \(p.corner), model files sha256 \(p.pdkModelsHash ?? "n/a") |",
                  "| sizing | \(sizing), I_u = \(p.unitCurrent) A, supply \(p.supply) V |",
                  "| inputs | \(p.inputs) |",
                  "| simulator | \(p.ngspice) |",
                  "| BMRUKit | \(p.bmrukit), commit \(p.bmrukitCommit ?? "n/a") |",
                  "| created | \(p.created) |",
                  "| command | `\(p.commandLine.joined(separator: " "))` |"]
        if !p.commands.isEmpty { lines += ["| ngspice commands before each transient | `\(p.commands.joined(separator: "; "))` |"] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The verdict in one line: PASSED, or FAILED with every failing check, its measured value and limit
    /// (a version 1 report: the prediction agreement against its minimum).
    public var verdict: String {
        guard let checks else {
            return "\(passed ? "PASSED" : "FAILED"): prediction agreement \(Check.Kind.clipDecisions.format(predictionAgreement)) "
                + "against a minimum of \(Check.Kind.clipDecisions.format(minAgreement))."
        }
        let failed = checks.filter { !$0.passed }
        guard !failed.isEmpty else { return "PASSED: all \(checks.count) checks met." }
        let factors = Dictionary(suppressionFactor.perBoundary.map { ($0.name, $0.agreeingFramesFactor) }) { first, _ in first }
        return "FAILED \(failed.count) of \(checks.count) checks: " + failed.map { check in
            let at = (check.failing ?? []).map { name in "\(name) \(Check.Kind.suppression.format(factors[name] ?? nil))" }
            return "\(check.name.title) \(check.name.format(check.measured)) (limit \(check.limitText))"
                + (at.isEmpty ? "" : " at " + at.joined(separator: ", "))
        }.joined(separator: "; ") + "."
    }

    /// The name of class `index` (`provenance.classes`), its index for a version 1 report; nil for nil.
    public func className(_ index: Int?) -> String? {
        guard let index else { return nil }
        guard let classes = provenance.classes, classes.indices.contains(index) else { return String(index) }
        return classes[index]
    }
}
