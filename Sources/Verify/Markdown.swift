import Foundation

extension Report {
    /// `report.md`: a summary table for a reviewer, then the cell boundaries and one row per clip.
    public func markdown() -> String {
        func pct(_ value: Double?) -> String { value.map { String(format: "%.1f %%", 100 * $0) } ?? "n/a" }
        func num(_ value: Double?, _ format: String = "%.3g") -> String { value.map { String(format: format, $0) } ?? "n/a" }
        let p = provenance
        var lines = [
            "# Verification: \(p.model) on \(p.pdk) (\(p.corner))", "",
            "\(passed ? "PASSED" : "FAILED"): prediction agreement \(pct(predictionAgreement)) against a minimum of "
                + "\(pct(minAgreement)).", "",
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
        lines += suppressionFactor.perBoundary.map {
            "| \($0.block) | \($0.unit) | \(pct($0.stateAgreement)) | \(num($0.candidateRMSUnits)) | \(num($0.stateRMSUnits)) | \(num($0.factor)) | \(num($0.agreeingFramesFactor)) |"
        }
        lines += ["", "## Clips", "", "| clip | label | reference | circuit | agrees | state bits | seconds | status |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += perClip.map { clip in
            "| \(clip.name) | \(clip.label.map(String.init) ?? "") | \(clip.referenceDecision) | "
                + "\(clip.circuitDecision.map(String.init) ?? "") | \(clip.agrees ? "yes" : "no") | \(pct(clip.frameStateAgreement)) | "
                + "\(num(clip.seconds, "%.1f")) | \(clip.failure.map { "failed (\(clip.failureKind?.rawValue ?? "circuit")): \($0)" } ?? clip.status) |"
        }
        lines += ["", "## Provenance", "",
                  "model \(p.model) (sha256 \(p.modelHash)), \(p.characterizationHash.map { "calibrated (characterization sha256 \($0))" } ?? (p.characterized ? "characterized" : "nominal")) sizing, "
                      + "I_u = \(p.unitCurrent) A, supply \(p.supply) V; inputs \(p.inputs); \(p.ngspice); "
                      + "BMRUKit \(p.bmrukit); \(p.created).", "",
                  "`" + p.commandLine.joined(separator: " ") + "`"]
        if !p.commands.isEmpty { lines += ["", "ngspice commands before each transient: `\(p.commands.joined(separator: "; "))`"] }
        return lines.joined(separator: "\n") + "\n"
    }
}
