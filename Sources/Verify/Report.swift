import BMRU
import Foundation
import Netlist
import Ngspice

/// The verification report (`report.json`; schema in docs/reference/report-format.md): circuit against
/// reference over a set of clips, aggregated and per clip, with provenance.
public struct Report: Sendable, Equatable, Codable {
    /// Identifies the file.
    public var format = "bmru-verify-report"
    /// Revision of the schema: 2 adds `limits` and `checks`; version 1 reports still load.
    public var formatVersion = 2
    /// Clips given (failed ones included).
    public var clips: Int
    /// Clips whose simulation failed (counted as disagreeing).
    public var failed: Int
    /// Clips simulated whose circuit clip decision differs from the reference's: with `failed`, what
    /// `predictionAgreement` counts against. Absent in older reports.
    public var disagreed: Int?
    /// Fraction of all clips whose circuit clip decision equals the reference's.
    public var predictionAgreement: Double
    /// Fraction of (frame, cell) state bits that agree, over the simulated clips; nil if none ran.
    public var frameStateAgreement: Double?
    /// Fraction of frames whose circuit frame decision (sign of A - B) equals the reference's argmax.
    public var frameDecisionAgreement: Double?
    /// Fraction of frames whose readout output (decision node) equals the reference's argmax.
    public var readoutFrameAgreement: Double?
    /// Candidate-to-state discrepancy ratios at the cell boundaries.
    public var suppressionFactor: Suppression
    /// State and candidate discrepancies pooled over the simulated clips (nil if none ran).
    public var stateDiscrepancy: Discrepancy?, candidateDiscrepancy: Discrepancy?
    /// Block-output (p_k) discrepancy pooled over the simulated clips (nil if none ran, and in
    /// reports written before block outputs were sampled).
    public var blockOutputDiscrepancy: Discrepancy?
    /// Accuracy against labels.
    public var accuracy: Accuracy
    /// Mean power and energy over the simulated clips (nil if none ran).
    public var power: Power?
    /// Mean simulation seconds per simulated clip (inside the workers), and the run's wall time.
    public var secondsPerClip: Double?, wallSeconds: Double
    /// The clip-decision limit (`limits.clipDecisions`, kept for readers of version 1) and the verdict:
    /// every check passed (in version 1, `predictionAgreement` met `minAgreement`).
    public var minAgreement: Double, passed: Bool
    /// The limits the report was judged against; nil in version 1 reports.
    public var limits: ReviewChecks?
    /// Every target against its limit, in the order `ReviewChecks.evaluate` gives them; nil in version 1 reports.
    public var checks: [Check]?
    /// What the model asks of the circuit finer than it resolves, over the run's clips (`ModelLint` as
    /// the compiler builds the deck, without mismatch): warnings beside the checks, not checks; nil in
    /// reports written before them.
    public var lint: [ModelLint.Finding]?
    /// Where the numbers come from.
    public var provenance: Provenance
    /// One entry per clip, in input order.
    public var perClip: [ClipReport]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", clips, failed, disagreed, predictionAgreement = "prediction_agreement"
        case frameStateAgreement = "frame_state_agreement", frameDecisionAgreement = "frame_decision_agreement"
        case readoutFrameAgreement = "readout_frame_agreement", suppressionFactor = "suppression_factor"
        case stateDiscrepancy = "state_discrepancy", candidateDiscrepancy = "candidate_discrepancy"
        case blockOutputDiscrepancy = "block_output_discrepancy", accuracy, power
        case secondsPerClip = "seconds_per_clip", wallSeconds = "wall_seconds", minAgreement = "min_agreement", passed
        case limits, checks, lint, provenance, perClip = "per_clip"
    }

    /// Candidate discrepancy over state discrepancy, RMS-based, at every cell (block, unit).
    public struct Suppression: Sendable, Equatable, Codable {
        /// Smallest and median factor over the boundaries that have one; nil when none has.
        public var min: Double?, median: Double?
        /// The same over each cell's frames whose state bit agrees: how well a cell restores its analog
        /// level, apart from its bit errors (which `min`/`median` include and which dominate them).
        /// Absent in older reports.
        public var agreeingFrames: Summary?
        /// Every cell, block-major.
        public var perBoundary: [Boundary]

        enum CodingKeys: String, CodingKey {
            case min, median, agreeingFrames = "agreeing_frames", perBoundary = "per_boundary"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(min, forKey: .min)
            try c.encode(median, forKey: .median)
            try c.encodeIfPresent(agreeingFrames, forKey: .agreeingFrames)
            try c.encode(perBoundary, forKey: .perBoundary)
        }

        /// Smallest and median of a set of factors; nil when the set is empty.
        public struct Summary: Sendable, Equatable, Codable {
            public var min: Double?, median: Double?

            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(min, forKey: .min)
                try c.encode(median, forKey: .median)
            }
        }
    }

    /// One cell boundary.
    public struct Boundary: Sendable, Equatable, Codable {
        /// Block and unit of the cell.
        public var block: Int, unit: Int
        /// RMS of circuit minus reference candidate and state currents, model units, pooled over clips.
        public var candidateRMSUnits: Double, stateRMSUnits: Double
        /// candidateRMSUnits / stateRMSUnits; nil when the state discrepancy is 0.
        public var factor: Double?
        /// The same ratio over the frames whose state bit agrees; nil when their state discrepancy is 0
        /// (and in older reports).
        public var agreeingFramesFactor: Double?
        /// Fraction of frames whose state bit agrees.
        public var stateAgreement: Double
        /// The cell's thresholds beta_lo and beta_hi, model units: what its candidate is compared with
        /// (the HTML report draws them). Absent in older reports.
        public var betaLo: Double?, betaHi: Double?
        /// The cell's first wrong state bits over the simulated clips. Absent in older reports.
        public var firstErrors: FirstErrors?
        /// Whether the reference never drives the cell: its candidate is 0 and its state off at every
        /// frame of every simulated clip. Such a boundary carries no signal, so its factor is a ratio of
        /// two noise floors (femtoamperes) and the suppression check passes over it. Absent in older reports.
        public var silent: Bool?

        enum CodingKeys: String, CodingKey {
            case block, unit, candidateRMSUnits = "candidate_rms_units", stateRMSUnits = "state_rms_units", factor
            case agreeingFramesFactor = "factor_agreeing_frames", stateAgreement = "state_agreement"
            case betaLo = "beta_lo", betaHi = "beta_hi", firstErrors = "first_errors", silent
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(block, forKey: .block)
            try c.encode(unit, forKey: .unit)
            try c.encode(candidateRMSUnits, forKey: .candidateRMSUnits)
            try c.encode(stateRMSUnits, forKey: .stateRMSUnits)
            try c.encode(factor, forKey: .factor)
            try c.encodeIfPresent(agreeingFramesFactor, forKey: .agreeingFramesFactor)
            try c.encode(stateAgreement, forKey: .stateAgreement)
            try c.encodeIfPresent(betaLo, forKey: .betaLo)
            try c.encodeIfPresent(betaHi, forKey: .betaHi)
            try c.encodeIfPresent(firstErrors, forKey: .firstErrors)
            try c.encodeIfPresent(silent, forKey: .silent)
        }
    }

    /// One cell's first wrong state bit in each simulated clip that has one, counted by how it came
    /// about: a latched transient, a wrong candidate, or unclassified in frame 0 (`FirstWrongBit`).
    public struct FirstErrors: Sendable, Equatable, Codable {
        /// Simulated clips in which the cell has a wrong state bit.
        public var clips: Int
        /// Of those first wrong bits: the circuit's frame-end candidate on the reference's side of the
        /// threshold that decided the frame (the cell latched a transient inside the frame), across it
        /// (the candidate was wrong), and in frame 0 (not classified).
        public var onReferenceSide: Int, across: Int, inFrame0: Int
        /// Median distance of the reference candidate from that threshold over the classified ones,
        /// model units; nil when none is classified.
        public var medianMarginUnits: Double?

        enum CodingKeys: String, CodingKey {
            case clips, onReferenceSide = "on_reference_side", across, inFrame0 = "in_frame_0"
            case medianMarginUnits = "median_margin_units"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(clips, forKey: .clips)
            try c.encode(onReferenceSide, forKey: .onReferenceSide)
            try c.encode(across, forKey: .across)
            try c.encode(inFrame0, forKey: .inFrame0)
            try c.encode(medianMarginUnits, forKey: .medianMarginUnits)
        }
    }

    /// Clip-decision accuracy of each side against the labels; nil without labels.
    public struct Accuracy: Sendable, Equatable, Codable {
        /// Reference and circuit accuracy over the labelled clips (a failed clip counts as wrong for the circuit).
        public var reference: Double?, circuit: Double?
        /// How many clips had a label.
        public var labelled: Int

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(reference, forKey: .reference)
            try c.encode(circuit, forKey: .circuit)
            try c.encode(labelled, forKey: .labelled)
        }
    }

    /// How the report was made.
    public struct Provenance: Sendable, Equatable, Codable {
        /// Model name and SHA-256 of its config.json followed by model.safetensors.
        public var model: String, modelHash: String
        /// The model's class names, index order: what the class indices of the report mean. Absent in
        /// version 1 reports.
        public var classes: [String]?
        /// PDK name and model corner.
        public var pdk: String, corner: String
        /// SHA-256 of the PDK's model files (`PDK.modelFiles`, concatenated in path order): which device
        /// models the decks included; "unavailable" when one cannot be read. Absent in version 1 reports.
        public var pdkModelsHash: String?
        /// Amperes per unit and supply volts of the deck.
        public var unitCurrent: Double, supply: Double
        /// Whether the deck was sized from a characterization.
        public var characterized: Bool
        /// SHA-256 of that characterization's `characterization.json` (its tables as written); nil
        /// for a nominal deck and in older reports.
        public var characterizationHash: String?
        /// Where the inputs came from (a path relative to the working directory of the run).
        public var inputs: String
        /// Duration of one input frame, seconds.
        public var framePeriod: Double
        /// The transient's `SimulationMode` (`transient` or `fast`); nil in reports written before
        /// modes existed, which all ran `transient`.
        public var mode: String?
        /// The memory cells' `CellTiming` (`continuous`, `sampled` or `filtered`); nil in reports written before
        /// sampled cells existed, which were all `continuous`.
        public var cells: String?
        /// ngspice's version line and BMRUKit's version.
        public var ngspice: String, bmrukit: String
        /// The git commit BMRUKit was built from (`-dirty` when the checkout had uncommitted changes,
        /// `unknown` when built without git history). Absent in version 1 reports.
        public var bmrukitCommit: String?
        /// ngspice commands run before every transient (fault injection), if any.
        public var commands: [String]
        /// The command line that made the report: `bmru` and its arguments, absolute paths made relative
        /// to the working directory of the run (version 1 reports kept them as given).
        public var commandLine: [String]
        /// When the report was made (ISO 8601).
        public var created: String
        /// SHA-256 of what the run computed (`Verifier.runHash`: clips, their simulation jobs, the
        /// limits); a run into the same folder with another hash is refused. Absent in
        /// older reports.
        public var runHash: String?

        enum CodingKeys: String, CodingKey {
            case model, modelHash = "model_hash", classes, pdk, corner, pdkModelsHash = "pdk_models_hash"
            case unitCurrent = "unit_current_A", supply = "supply_V"
            case characterized, characterizationHash = "characterization_hash", inputs, framePeriod = "frame_period_s", mode
            case cells, ngspice, bmrukit, bmrukitCommit = "bmrukit_commit", commands
            case commandLine = "command_line", created, runHash = "run_hash"
        }
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws(VerifyError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) + Data("\n".utf8) } catch { throw .file("report.json", "\(error)") }
    }

    /// Reads a report written by `json()`.
    public static func load(from url: URL) throws(VerifyError) -> Report {
        do { return try JSONDecoder().decode(Report.self, from: Data(contentsOf: url)) } catch {
            throw .file(url.path, fileErrorReason(error))
        }
    }
}

/// Mean power drawn from the compiler's three supplies and the energy of one clip.
public struct Power: Sendable, Equatable, Codable {
    /// Total, memory cells (`vdd_cell`), feedforward mirrors and readout (`vdd_ff`), ideal bias sources
    /// (`vdd_bias`), nanowatts.
    public var totalNW: Double, cellsNW: Double, feedforwardNW: Double, biasNW: Double
    /// Mean total power times the clip's duration, nanojoules.
    public var energyNJ: Double

    enum CodingKeys: String, CodingKey {
        case totalNW = "total_nW", cellsNW = "cells_nW", feedforwardNW = "feedforward_nW", biasNW = "bias_nW"
        case energyNJ = "energy_nJ"
    }

    /// Power from the per-supply means (watts, in `NetworkSignal.supplies` order) over `duration` seconds.
    init(supplies watts: [Double], duration: Double) {
        (cellsNW, feedforwardNW, biasNW) = (watts[0] * 1e9, watts[1] * 1e9, watts[2] * 1e9)
        totalNW = cellsNW + feedforwardNW + biasNW
        energyNJ = totalNW * duration
    }

    /// The mean of several clips' figures.
    init(mean items: [Power]) {
        let n = Double(items.count)
        totalNW = items.map(\.totalNW).reduce(0, +) / n
        cellsNW = items.map(\.cellsNW).reduce(0, +) / n
        feedforwardNW = items.map(\.feedforwardNW).reduce(0, +) / n
        biasNW = items.map(\.biasNW).reduce(0, +) / n
        energyNJ = items.map(\.energyNJ).reduce(0, +) / n
    }
}

/// One clip's comparison. Fields that need a finished simulation are absent for a failed clip.
public struct ClipReport: Sendable, Equatable, Codable {
    /// The clip's name, and its label's class index if known.
    public var name: String, label: Int?
    /// Frames in the clip.
    public var frames: Int
    /// `ok`, or `failed` with the reason (convergence failure, timeout, worker crash).
    public var status: String, failure: String?
    /// For a failed clip, whether the circuit failed or the simulation could not be set up.
    public var failureKind: FailureKind?
    /// Simulation seconds inside the worker, and how many times the job was started.
    public var seconds: Double, attempts: Int
    /// ngspice's statistics of the clip's transients (summed over its partitions); nil for a failed
    /// clip and in reports written before they were kept.
    public var statistics: SimulatorStatistics?
    /// Majority-vote clip decisions (class indices) and whether they agree (false for a failed clip).
    public var referenceDecision: Int, circuitDecision: Int?, agrees: Bool
    /// Per-frame agreements (see `Report`).
    public var frameDecisionAgreement: Double?, readoutFrameAgreement: Double?, frameStateAgreement: Double?
    /// Discrepancies of this clip.
    public var stateDiscrepancy: Discrepancy?, candidateDiscrepancy: Discrepancy?
    /// Power and energy of this clip.
    public var power: Power?
    /// The per-frame trace file, relative to the report folder.
    public var trace: String?
    /// The clip's standalone deck (`Verifier.keepDecks`), relative to the report folder.
    public var deck: String?
    /// Fraction of frames whose state bit agrees, per cell (block-major).
    public var cellStateAgreement: [Double]?
    /// The earliest wrong state bit (lowest frame, then block and unit); nil when every bit agrees.
    public var firstWrongStateBit: StateBit?

    /// Why a clip's simulation failed.
    public enum FailureKind: String, Sendable, Equatable, Codable {
        /// The circuit did not simulate: no convergence, a timeout, a crash inside the simulator, or
        /// output that does not cover the clip.
        case circuit
        /// Something outside the circuit: the deck or a PDK file does not load, a `--spice-command`
        /// fails, the simulator library or a worker process cannot be used.
        case setup

        /// The kind of a job's failure.
        public init(_ failure: JobFailure) {
            switch failure {
            case .timedOut, .workerCrashed, .simulation(.convergence), .simulation(.timeout): self = .circuit
            case .simulation, .worker: self = .setup
            }
        }
    }

    /// One cell's state bit in one frame.
    public struct StateBit: Sendable, Equatable, Codable {
        /// The cell's block and unit, and the frame.
        public var block: Int, unit: Int, frame: Int
    }

    enum CodingKeys: String, CodingKey {
        case name, label, frames, status, failure, failureKind = "failure_kind", seconds, attempts
        case statistics = "simulator_statistics"
        case referenceDecision = "reference_decision"
        case circuitDecision = "circuit_decision", agrees, frameDecisionAgreement = "frame_decision_agreement"
        case readoutFrameAgreement = "readout_frame_agreement", frameStateAgreement = "frame_state_agreement"
        case stateDiscrepancy = "state_discrepancy", candidateDiscrepancy = "candidate_discrepancy", power, trace, deck
        case cellStateAgreement = "cell_state_agreement", firstWrongStateBit = "first_wrong_state_bit"
    }
}
