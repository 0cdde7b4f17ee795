import Foundation
import Verify

/// The merged report of a sweep (`DIR/report.json`, `report.md`, `report.html`; docs/robustness.md):
/// agreement with the reference per variant, operating condition, die, clip and cell, the yield,
/// and what fails first.
///
/// Everything but `execution` is a function of the plan and the job results alone, so a sweep run
/// locally and one run through Slurm give the same report.
public struct SweepReport: Sendable, Equatable, Codable {
    /// Identifies the file.
    public var format = "bmru-sweep-report"
    /// Revision of the schema.
    public var formatVersion = 1
    /// What was swept.
    public var sweep: Provenance
    /// Jobs planned, with a result, failed (simulation failed) and missing (merged with `--partial`).
    public var jobs: JobCounts
    /// Agreement and yield over all dies.
    public var summary: Summary
    /// One entry per operating condition (the variants without their Monte Carlo sample).
    public var conditions: [Condition]
    /// One entry per variant.
    public var variants: [VariantSummary]
    /// One entry per clip, over every variant.
    public var perClip: [ClipSummary]
    /// One entry per memory cell (block-major).
    public var cells: [CellSummary]
    /// How the jobs were run: not part of the comparison of two runs of the same sweep.
    public var execution: Execution

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", sweep, jobs, summary, conditions, variants
        case perClip = "per_clip", cells, execution
    }

    /// What was swept and with what.
    public struct Provenance: Sendable, Equatable, Codable {
        /// Model name and SHA-256 of its files; PDK name and SHA-256 of its model files.
        public var model: String, modelHash: String, pdk: String, pdkHash: String
        /// The characterization folder (relative to the report) and its hash; nil for nominal sizing.
        public var characterization: String?, characterizationHash: String?
        /// How the decks are calibrated: once, at the default corner, 27 C, nominal supply, without
        /// variation, and used unchanged in every variant.
        public var calibration: String
        /// Memory-cell variant, simulation mode (`RunMode`: fast, transient or partitioned), and
        /// whether biases are mirrored.
        public var cells: String, mode: String, mirroredBiases: Bool
        /// Where the clips come from, and how many.
        public var inputs: String, clips: Int
        /// The sweep's axes as planned.
        public var axes: SweepDefinition.Axes
        /// BMRUKit's version.
        public var bmrukit: String

        enum CodingKeys: String, CodingKey {
            case model, modelHash = "model_hash", pdk, pdkHash = "pdk_hash", characterization
            case characterizationHash = "characterization_hash", calibration, cells, mode
            case mirroredBiases = "mirrored_biases", inputs, clips, axes, bmrukit
        }
    }

    /// Job counts.
    public struct JobCounts: Sendable, Equatable, Codable {
        /// Jobs in the plan, with a result, whose simulation failed, and without a result.
        public var planned: Int, done: Int, failed: Int, missing: Int
    }

    /// The sweep's headline figures.
    public struct Summary: Sendable, Equatable, Codable {
        /// Fraction of (variant, clip) jobs whose clip decision agrees with the reference, over the
        /// jobs with a result (a failed simulation counts as disagreeing; missing jobs of a partial
        /// merge are left out).
        public var clipAgreement: Double
        /// Mean fraction of state bits that agree, over the jobs that ran.
        public var stateBitAgreement: Double?
        /// Number of dies (condition x Monte Carlo sample; one per condition without Monte Carlo)
        /// with a result for every clip: the dies the yield and the histogram are over.
        public var dies: Int
        /// Fraction of dies whose clip agreement is >= 0.99, and = 1.
        public var yield99: Double, yield100: Double
        /// Histogram of the dies' clip agreement: counts in 10 bins of width 0.1 (the last includes 1).
        public var dieAgreementHistogram: [Int]
        /// The condition with the lowest clip agreement (ties: lowest state bits), if any disagree.
        public var worstCondition: String?
        /// What goes wrong first in the disagreeing jobs: the cell (`b<block>.u<unit>`) whose bit
        /// flips first, or `readout` when every state bit is right; counts, most frequent first.
        public var firstFailures: [FirstFailure]

        enum CodingKeys: String, CodingKey {
            case clipAgreement = "clip_agreement", stateBitAgreement = "state_bit_agreement", dies
            case yield99 = "yield_99", yield100 = "yield_100", dieAgreementHistogram = "die_agreement_histogram"
            case worstCondition = "worst_condition", firstFailures = "first_failures"
        }
    }

    /// A part that fails first, how often, and the median frame of its first wrong bit.
    public struct FirstFailure: Sendable, Equatable, Codable {
        /// `b<block>.u<unit>` or `readout`; disagreeing jobs where it fails first; the median frame of
        /// its first wrong bit (nil for the readout).
        public var part: String, jobs: Int, medianFrame: Int?
        enum CodingKeys: String, CodingKey { case part, jobs, medianFrame = "median_frame" }
    }

    /// One operating condition over its dies.
    public struct Condition: Sendable, Equatable, Codable {
        /// A readable label (`Variant.condition`).
        public var condition: String
        /// Process corner, degrees Celsius, supply multiple, amperes per unit, noise scale.
        public var corner: String, temperature: Double, supplyScale: Double, unitCurrent: Double, noise: Double
        /// Dies (Monte Carlo samples, or 1) with a result for every clip.
        public var dies: Int
        /// Over all its jobs: clip agreement, mean state-bit agreement, failed jobs.
        public var clipAgreement: Double, stateBitAgreement: Double?, failed: Int
        /// Fraction of its dies with clip agreement >= 0.99 and = 1; the worst die's agreement.
        public var yield99: Double, yield100: Double, worstDie: Double
        /// Mean, smallest and largest total power over its jobs, nanowatts.
        public var powerNW: Spread?
        /// RMS of circuit minus reference candidate and state currents over every cell and frame of
        /// its jobs whose state bits are all right (model units; a wrong bit is a full-level state
        /// error that would swamp the analog one), and their ratio: the suppression factor of all
        /// cell boundaries pooled; nil when no job has every bit right.
        public var candidateRMSUnits: Double?, stateRMSUnits: Double?, suppression: Double?

        enum CodingKeys: String, CodingKey {
            case condition, corner, temperature = "temperature_C", supplyScale = "supply_scale"
            case unitCurrent = "unit_current_A", noise, dies, clipAgreement = "clip_agreement"
            case stateBitAgreement = "state_bit_agreement", failed, yield99 = "yield_99", yield100 = "yield_100"
            case worstDie = "worst_die", powerNW = "power_nW", candidateRMSUnits = "candidate_rms_units"
            case stateRMSUnits = "state_rms_units", suppression
        }
    }

    /// Mean, smallest and largest of a set of values.
    public struct Spread: Sendable, Equatable, Codable {
        /// The mean, the smallest and the largest value.
        public var mean: Double, min: Double, max: Double
        init?(_ values: [Double]) {
            guard let low = values.min(), let high = values.max() else { return nil }
            (mean, min, max) = (values.reduce(0, +) / Double(values.count), low, high)
        }
    }

    /// One variant over the clips.
    public struct VariantSummary: Sendable, Equatable, Codable {
        /// The variant.
        public var variant: Variant
        /// Clips with a result, agreeing, failed.
        public var clips: Int, agreeing: Int, failed: Int
        /// Clip agreement over its clips with a result, mean state-bit agreement, mean power (nW).
        public var clipAgreement: Double, stateBitAgreement: Double?, powerNW: Double?
        /// The earliest wrong state bit over its clips (lowest frame first).
        public var firstWrongStateBit: WrongBit?

        enum CodingKeys: String, CodingKey {
            case variant, clips, agreeing, failed, clipAgreement = "clip_agreement"
            case stateBitAgreement = "state_bit_agreement", powerNW = "power_nW", firstWrongStateBit = "first_wrong_state_bit"
        }
    }

    /// A wrong state bit and its clip.
    public struct WrongBit: Sendable, Equatable, Codable {
        /// The clip, the cell's block and unit, and the frame.
        public var clip: String, block: Int, unit: Int, frame: Int
    }

    /// One clip over the variants.
    public struct ClipSummary: Sendable, Equatable, Codable {
        /// The clip's name, its label and the reference's decision (class indices).
        public var clip: String, label: Int?, referenceDecision: Int?
        /// Variants with a result on it, and the fraction deciding like the reference.
        public var runs: Int, agreement: Double
        /// Mean state-bit agreement over its runs.
        public var stateBitAgreement: Double?

        enum CodingKeys: String, CodingKey {
            case clip, label, referenceDecision = "reference_decision", runs, agreement
            case stateBitAgreement = "state_bit_agreement"
        }
    }

    /// One memory cell over every job.
    public struct CellSummary: Sendable, Equatable, Codable {
        /// The cell.
        public var block: Int, unit: Int
        /// Mean fraction of its state bits that agree; jobs whose first wrong bit is this cell's.
        public var stateAgreement: Double?, firstToFail: Int

        enum CodingKeys: String, CodingKey {
            case block, unit, stateAgreement = "state_agreement", firstToFail = "first_to_fail"
        }
    }

    /// How the results were produced.
    public struct Execution: Sendable, Equatable, Codable {
        /// Jobs per runner (`local`, `slurm <job>_<task>`).
        public var runners: [String: Int]
        /// Slurm array job ids that ran jobs, sorted.
        public var slurmJobs: [String]
        /// Simulation seconds summed over the jobs, and per job.
        public var coreSeconds: Double, secondsPerJob: Double?

        enum CodingKeys: String, CodingKey {
            case runners, slurmJobs = "slurm_jobs", coreSeconds = "core_seconds", secondsPerJob = "seconds_per_job"
        }
    }
}
