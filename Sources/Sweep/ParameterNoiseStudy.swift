import BMRU
import Foundation
import Verify

/// The software parameter-noise study (issue 20 section 5): the reference network with
/// multiplicative noise p (1 + N(0, sigma)) on every learned scalar (`Model.perturbed`), compared
/// with the noiseless network on the same clips, so that a reader can set the circuit's Monte Carlo
/// agreement beside what the software noise model predicts.
///
/// For every sigma, `draws` perturbed models run every clip; each draw's seed depends on `seed`, the
/// sigma's index and the draw alone (`drawSeed(sigma:draw:)`), so the same study on the same clips
/// gives the same report, byte for byte, on any machine.
public struct ParameterNoiseStudy: Sendable, Equatable {
    /// Relative standard deviations of the parameter noise, in (0, 1], in report order.
    public var sigmas: [Double]
    /// Perturbed models per sigma.
    public var draws: Int
    /// Base seed of every draw.
    public var seed: UInt64

    /// The paper's levels: 5, 10 and 15 %.
    public static let paperSigmas = [0.05, 0.10, 0.15]

    /// A study of `draws` perturbed models at each of `sigmas`.
    public init(sigmas: [Double] = paperSigmas, draws: Int = 5, seed: UInt64 = 1) {
        (self.sigmas, self.draws, self.seed) = (sigmas, draws, seed)
    }

    /// Throws when a sigma is not finite and in (0, 1], sigmas repeat or none is given, or draws < 1.
    public func validate() throws(SweepError) {
        guard !sigmas.isEmpty else { throw .setup("give at least one sigma") }
        if let bad = sigmas.first(where: { !($0.isFinite && $0 > 0 && $0 <= 1) }) {
            throw .setup("sigma must be finite and in (0, 1], got \(bad)")
        }
        guard Set(sigmas).count == sigmas.count else { throw .setup("sigmas must differ, got \(sigmas)") }
        guard draws >= 1 else { throw .setup("draws must be >= 1, got \(draws)") }
    }

    /// The seed of draw `draw` at the sigma of index `sigma`: SplitMix64 over (base seed, sigma
    /// index, draw), as sweeps derive their simulator seeds.
    public func drawSeed(sigma: Int, draw: Int) -> UInt64 {
        UInt64(SweepSetup.mix([seed, UInt64(sigma), UInt64(draw)]))
    }

    /// Runs every clip through the noiseless network, then through each draw's perturbed network,
    /// and compares.
    public func run(_ model: Model, clips: [Clip], provenance: ParameterNoiseReport.Provenance) throws(SweepError)
        -> ParameterNoiseReport {
        try validate()
        guard !clips.isEmpty, clips.allSatisfy({ !$0.frames.isEmpty }) else {
            throw .setup("the parameter-noise study needs at least one clip, each of at least one frame")
        }
        let reference = try Outcome(Network(model), clips: clips, reference: nil)
        var levels: [ParameterNoiseReport.Level] = []
        for (index, sigma) in sigmas.enumerated() {
            var outcomes: [Outcome] = []
            for draw in 0..<draws {
                let network = Network(model.perturbed(sigma: sigma, seed: drawSeed(sigma: index, draw: draw)))
                outcomes.append(try Outcome(network, clips: clips, reference: reference))
            }
            levels.append(ParameterNoiseReport.Level(sigma: sigma, seeds: (0..<draws).map { drawSeed(sigma: index, draw: $0) },
                                                     outcomes: outcomes))
        }
        return ParameterNoiseReport(provenance: provenance, sigmas: sigmas, draws: draws, seed: seed, clips: clips.count,
                                    labelled: reference.labelled, noiselessAccuracy: reference.accuracy, levels: levels)
    }

    /// One network's run over the clips: its decisions and traces, and the counts of what agrees
    /// with the reference run (all zero for the reference itself).
    struct Outcome {
        /// Per clip: the majority decision, and the frame decisions and state bits of its trace.
        let decisions: [Int], frameDecisions: [[Int]], states: [[Bool]]
        /// Clips, frames and state bits that equal the reference's, and how many there are.
        var agreeingClips = 0, agreeingFrames = 0, frames = 0, agreeingBits = 0, bits = 0
        /// Labelled clips, and how many of them are decided correctly.
        var labelled = 0, correct = 0

        init(_ network: Network, clips: [Clip], reference: Outcome?) throws(SweepError) {
            var (decisions, frameDecisions, states) = ([Int](), [[Int]](), [[Bool]]())
            for clip in clips {
                let trace: Trace
                do { trace = try network.run(clip.frames) } catch { throw .setup("\(clip.name): \(error.description)") }
                decisions.append(trace.decision.majority)
                frameDecisions.append((0..<trace.frames).map { ClipDecision.argmax(trace.logits(frame: $0)) })
                states.append(trace.states)
            }
            (self.decisions, self.frameDecisions, self.states) = (decisions, frameDecisions, states)
            for (index, clip) in clips.enumerated() {
                if let label = clip.label {
                    labelled += 1
                    if decisions[index] == label { correct += 1 }
                }
                guard let reference else { continue }
                if decisions[index] == reference.decisions[index] { agreeingClips += 1 }
                agreeingFrames += zip(frameDecisions[index], reference.frameDecisions[index]).count { $0.0 == $0.1 }
                frames += frameDecisions[index].count
                agreeingBits += zip(states[index], reference.states[index]).count { $0.0 == $0.1 }
                bits += states[index].count
            }
        }

        /// Fraction of labelled clips decided correctly; nil without labels.
        var accuracy: Double? { labelled > 0 ? Double(correct) / Double(labelled) : nil }
    }
}

/// The parameter-noise study's report (`DIR/report.json` and `report.md`): per sigma, agreement of
/// the perturbed networks with the noiseless one and their accuracy, as a mean over draws with a
/// 95 % interval and pooled over every (draw, clip) pair.
public struct ParameterNoiseReport: Sendable, Equatable, Codable {
    /// Identifies the file.
    public var format = Self.formatName
    /// Revision of the schema.
    public var formatVersion = 1
    /// What was studied.
    public var provenance: Provenance
    /// The study's settings: sigmas, draws per sigma and base seed.
    public var sigmas: [Double], draws: Int, seed: UInt64
    /// Clips, and how many of them carry a label.
    public var clips: Int, labelled: Int
    /// The noiseless network's accuracy (majority decisions); nil without labels.
    public var noiselessAccuracy: Double?
    /// One entry per sigma, in the study's order.
    public var levels: [Level]
    /// How the figures are defined.
    public var method = Self.method

    /// The `format` of the report.
    public static let formatName = "bmru-parameter-noise-study"
    /// File names inside the output folder.
    public static let jsonFileName = "report.json", markdownFileName = "report.md"
    /// The definitions written into every report.
    public static let method = "Every learned scalar p becomes p (1 + N(0, sigma)) (Model.perturbed; the initial state bits "
        + "stay), one draw per seed. A clip's decision is the majority vote of its frame decisions (argmax of the logits); "
        + "decision, frame-decision and state-bit agreement compare a perturbed network with the noiseless one on the same "
        + "clip. Mean and 95 % interval (Student t, clipped to [0, 1]) are over the draws' values; pooled counts every "
        + "(draw, clip) pair, frame or state bit once."

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", provenance, sigmas, draws, seed, clips, labelled
        case noiselessAccuracy = "noiseless_accuracy", levels, method
    }

    /// Where the model and clips come from.
    public struct Provenance: Sendable, Equatable, Codable {
        /// The model's name and SHA-256 of its config.json followed by model.safetensors.
        public var model: String, modelHash: String
        /// Where the clips come from.
        public var inputs: String
        /// BMRUKit's version.
        public var bmrukit: String

        enum CodingKeys: String, CodingKey { case model, modelHash = "model_hash", inputs, bmrukit }

        /// The provenance of `model`, loaded from `modelDirectory`, on clips from `inputs`.
        public init(model: Model, modelDirectory: URL, inputs: String, version: String) {
            let files = [Model.configFileName, Model.tensorsFileName].map { modelDirectory.appendingPathComponent($0) }
            (self.model, modelHash) = (model.config.name, sha256Hex(files: files) ?? "unavailable")
            (self.inputs, bmrukit) = (inputs, version)
        }
    }

    /// The figures of one sigma.
    public struct Level: Sendable, Equatable, Codable {
        /// The noise level.
        public var sigma: Double
        /// The draws' seeds, in draw order.
        public var seeds: [UInt64]
        /// (draw, clip) pairs evaluated: draws x clips.
        public var clipEvaluations: Int
        /// Clip decisions equal to the noiseless network's.
        public var decisionAgreement: Estimate
        /// Frame decisions equal to the noiseless network's.
        public var frameDecisionAgreement: Estimate
        /// State bits (every frame, block and unit) equal to the noiseless network's.
        public var stateBitAgreement: Estimate
        /// Fraction of labelled clips decided correctly; nil without labels.
        public var accuracy: Estimate?

        enum CodingKeys: String, CodingKey {
            case sigma, seeds, clipEvaluations = "clip_evaluations", decisionAgreement = "decision_agreement"
            case frameDecisionAgreement = "frame_decision_agreement", stateBitAgreement = "state_bit_agreement", accuracy
        }

        init(sigma: Double, seeds: [UInt64], outcomes: [ParameterNoiseStudy.Outcome]) {
            (self.sigma, self.seeds) = (sigma, seeds)
            clipEvaluations = outcomes.reduce(0) { $0 + $1.decisions.count }
            decisionAgreement = Estimate(outcomes.map { ($0.agreeingClips, $0.decisions.count) })
            frameDecisionAgreement = Estimate(outcomes.map { ($0.agreeingFrames, $0.frames) })
            stateBitAgreement = Estimate(outcomes.map { ($0.agreeingBits, $0.bits) })
            accuracy = outcomes.allSatisfy { $0.labelled > 0 } ? Estimate(outcomes.map { ($0.correct, $0.labelled) }) : nil
        }
    }

    /// A fraction measured once per draw.
    public struct Estimate: Sendable, Equatable, Codable {
        /// Each draw's fraction, in draw order.
        public var perDraw: [Double]
        /// Mean of `perDraw`.
        public var mean: Double
        /// 95 % interval of the mean (Student t over the draws, clipped to [0, 1]); nil for one draw.
        public var low: Double?, high: Double?
        /// Hits over all draws divided by the count over all draws, and that count.
        public var pooled: Double, count: Int

        enum CodingKeys: String, CodingKey { case perDraw = "per_draw", mean, low, high, pooled, count }

        /// The estimate from each draw's (hits, count); every count must be positive.
        init(_ draws: [(hits: Int, count: Int)]) {
            let values = draws.map { Double($0.hits) / Double($0.count) }, n = Double(values.count)
            let mean = values.reduce(0, +) / n
            (perDraw, self.mean) = (values, mean)
            if values.count > 1 {
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
                let half = Self.t975(degreesOfFreedom: values.count - 1) * (variance / n).squareRoot()
                (low, high) = (max(0, mean - half), min(1, mean + half))
            }
            count = draws.reduce(0) { $0 + $1.count }
            pooled = Double(draws.reduce(0) { $0 + $1.hits }) / Double(count)
        }

        /// The 97.5 % quantile of Student's t: tabulated to 30 degrees of freedom, beyond by the
        /// Cornish-Fisher expansion around the normal quantile (error below 1e-4 there).
        static func t975(degreesOfFreedom v: Int) -> Double {
            let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
                         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
                         2.045, 2.042]
            if v <= table.count { return table[v - 1] }
            let (z, n) = (1.959_963_985, Double(v))
            let (z3, z5, z7) = (z * z * z, z * z * z * z * z, z * z * z * z * z * z * z)
            return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n)
                + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n)
        }
    }

    /// `report.md`: the settings, one row per sigma and the definitions.
    public func markdown() -> String {
        func interval(_ estimate: Estimate?) -> String {
            guard let estimate else { return "n/a" }
            guard let low = estimate.low, let high = estimate.high else { return percent(estimate.mean) }
            return "\(percent(estimate.mean)) [\(percent(low)), \(percent(high))]"
        }
        var lines = [
            "# Parameter-noise study: \(provenance.model)", "",
            "\(clips) clips (\(labelled) labelled) from \(provenance.inputs); \(draws) perturbed models per sigma, base seed \(seed).", "",
            "| sigma | draws | clip evaluations | decision agreement mean [95 % interval] | state bits | accuracy mean [interval] | noiseless accuracy |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += levels.map {
            "| \(String(format: "%g", $0.sigma)) | \($0.seeds.count) | \($0.clipEvaluations) | \(interval($0.decisionAgreement)) | "
                + "\(interval($0.stateBitAgreement)) | \(interval($0.accuracy)) | \(percent(noiselessAccuracy)) |"
        }
        lines += ["", method, "",
                  "Model \(provenance.model) (SHA-256 \(provenance.modelHash)), bmru \(provenance.bmrukit).", ""]
        return lines.joined(separator: "\n")
    }

    /// Writes `report.json` and `report.md` into `folder` (created if needed), each atomically.
    public func write(to folder: URL) throws(SweepError) {
        try AtomicFile.write(try AtomicFile.json(self), to: folder.appendingPathComponent(Self.jsonFileName))
        try AtomicFile.write(Data(markdown().utf8), to: folder.appendingPathComponent(Self.markdownFileName))
    }
}
