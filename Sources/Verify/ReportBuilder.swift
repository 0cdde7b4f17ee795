import BMRU
import Foundation
import Netlist

/// Builds a run's `Report`: pools the clips' comparisons into the run's figures and records where the
/// run came from (model, PDK, compiler settings, simulator, command line).
struct ReportBuilder {
    /// The model, its hash (`Verifier.modelHash()`) and the compiler that built the decks.
    var model: Model, modelHash: String, compiler: Compiler
    /// ngspice commands run before each transient.
    var commands: [String]
    /// The limits the run is judged against.
    var checks: ReviewChecks
    /// What the caller knows about the run.
    var context: Verifier.Context
    /// The version banner of the simulator that ran the clips (`JobOutcome.simulator`), "unknown" when
    /// no clip's job reached one.
    var ngspice: String
    /// The partitions' load when the clips ran partitioned (`Verifier.partitioned`): the provenance's
    /// mode is then `partitioned-<load>`, over the compiler's step control.
    var partitioned: Partitioning.Load? = nil

    /// The report over all comparisons of the run `runHash`, which took `wallSeconds`, with the model's
    /// `lint` findings as warnings.
    func report(_ comparisons: [Comparison], wallSeconds: Double, runHash: String, lint: [ModelLint.Finding]) -> Report {
        let iu = compiler.unitCurrent(for: model)
        let ran = comparisons.filter { $0.report.failure == nil }
        func pooled(_ part: (Comparison) -> (Int, Int)) -> Double? {
            let (hits, total) = ran.map(part).reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
            return total == 0 ? nil : Double(hits) / Double(total)
        }
        let cells = model.config.blocks * model.config.hidden
        let boundaries = (0..<cells).map { cell in
            let candidate = Discrepancy.rms(ran.flatMap { $0.candidateDifferences[cell] }) / iu
            let state = Discrepancy.rms(ran.flatMap { $0.stateDifferences[cell] }) / iu
            let agreeingCandidate = Discrepancy.rms(ran.flatMap { $0.agreeingCandidateDifferences[cell] }) / iu
            let agreeingState = Discrepancy.rms(ran.flatMap { $0.agreeingStateDifferences[cell] }) / iu
            let agree = ran.reduce(0) { $0 + $1.cellAgreements[cell] }, frames = ran.reduce(0) { $0 + $1.report.frames }
            let (block, unit) = cell.quotientAndRemainder(dividingBy: model.config.hidden)
            let thresholds = model.blocks[block].cell
            return Report.Boundary(block: block, unit: unit, candidateRMSUnits: candidate, stateRMSUnits: state,
                                   factor: state > 0 ? candidate / state : nil,
                                   agreeingFramesFactor: agreeingState > 0 ? agreeingCandidate / agreeingState : nil,
                                   stateAgreement: frames == 0 ? 0 : Double(agree) / Double(frames),
                                   betaLo: thresholds.betaLo[unit], betaHi: thresholds.betaHi[unit],
                                   firstErrors: Report.FirstErrors(ran.compactMap { $0.firstWrongBits[cell] }),
                                   silent: !ran.isEmpty && !ran.contains { $0.referenceDriven[cell] })
        }
        let factors = boundaries.compactMap(\.factor), agreeingFactors = boundaries.compactMap(\.agreeingFramesFactor)
        let labelled = comparisons.filter { $0.report.label != nil }
        let agreeing = comparisons.filter(\.report.agrees).count
        let prediction = Double(agreeing) / Double(comparisons.count)
        let provenance = Report.Provenance(
            model: model.config.name, modelHash: modelHash, classes: model.config.classes, pdk: compiler.pdk.name,
            corner: compiler.corner, pdkModelsHash: sha256Hex(files: compiler.pdk.modelFiles) ?? "unavailable",
            unitCurrent: iu, supply: compiler.supply, characterized: compiler.characterization != nil,
            characterizationHash: (try? compiler.characterization?.encoded()).map(sha256Hex),
            inputs: context.inputs, framePeriod: compiler.frameDuration, mode: partitioned.map { "partitioned-\($0.rawValue)" } ?? compiler.mode.rawValue,
            cells: compiler.cellTiming.rawValue, ngspice: ngspice,
            bmrukit: context.version, bmrukitCommit: context.commit, commands: commands, commandLine: context.commandLine,
            created: ISO8601DateFormatter().string(from: Date()), runHash: runHash)
        var report = Report(
            clips: comparisons.count, failed: comparisons.count - ran.count, disagreed: ran.filter { !$0.report.agrees }.count,
            predictionAgreement: prediction,
            frameStateAgreement: pooled { ($0.cellAgreements.reduce(0, +), $0.report.frames * cells) },
            frameDecisionAgreement: pooled { ($0.frameDecisionHits, $0.report.frames) },
            readoutFrameAgreement: pooled { ($0.readoutHits, $0.report.frames) },
            suppressionFactor: .init(min: factors.min(), median: median(factors),
                                     agreeingFrames: .init(min: agreeingFactors.min(), median: median(agreeingFactors)),
                                     perBoundary: boundaries),
            stateDiscrepancy: Discrepancy(ran.flatMap { $0.stateDifferences.flatMap { $0 } }, unitCurrent: iu),
            candidateDiscrepancy: Discrepancy(ran.flatMap { $0.candidateDifferences.flatMap { $0 } }, unitCurrent: iu),
            blockOutputDiscrepancy: Discrepancy(ran.flatMap(\.blockOutputDifferences), unitCurrent: iu),
            accuracy: .init(
                reference: labelled.isEmpty ? nil
                    : Double(labelled.filter { $0.report.referenceDecision == $0.report.label }.count) / Double(labelled.count),
                circuit: labelled.isEmpty ? nil
                    : Double(labelled.filter { $0.report.circuitDecision == $0.report.label }.count) / Double(labelled.count),
                labelled: labelled.count),
            power: ran.isEmpty ? nil : Power(mean: ran.compactMap(\.report.power)),
            secondsPerClip: ran.isEmpty ? nil : ran.map(\.report.seconds).reduce(0, +) / Double(ran.count),
            wallSeconds: wallSeconds, minAgreement: checks.clipDecisions, passed: false, limits: checks,
            lint: lint, provenance: provenance, perClip: comparisons.map(\.report))
        let results = checks.evaluate(report)
        (report.checks, report.passed) = (results, results.allSatisfy(\.passed))
        return report
    }
}

extension Report.FirstErrors {
    /// The counts and median margin of one cell's first wrong bits, one per clip that has one.
    init(_ bits: [FirstWrongBit]) {
        var margins: [Double] = []
        (clips, onReferenceSide, across, inFrame0) = (bits.count, 0, 0, 0)
        for bit in bits {
            switch bit {
            case .inFrame0: inFrame0 += 1
            case let .classified(onReferenceSide: same, marginUnits: margin):
                if same { onReferenceSide += 1 } else { across += 1 }
                margins.append(margin)
            }
        }
        medianMarginUnits = median(margins)
    }
}
