import BMRU
import Foundation
import Netlist

/// How closely a verification run in one simulation mode reproduces a run of the same clips in
/// another (`bmru compare`): the guard that a fast mode must pass against the reference transient
/// before its numbers are trusted (docs/design/simulation-modes.md).
///
/// Both runs are read from their report folders (`report.json` and the per-clip traces): the frame-end
/// samples are compared clip by clip, frame by frame, cell by cell. Clips are matched by name; a clip
/// missing or failed in either run fails the guard.
public struct ModeAgreement: Sendable, Equatable, Codable {
    /// Simulation modes of the reference and the candidate run (`transient` for reports older than modes).
    public var referenceMode: String, candidateMode: String
    /// Clips compared, and how many have the same circuit clip decision in both runs.
    public var clips: Int, identicalDecisions: Int
    /// Fraction of (clip, frame, cell) state bits that are equal in both runs.
    public var stateBitAgreement: Double
    /// Fraction of (clip, frame, cell) candidate currents within `tolerance` of the reference run's,
    /// and the largest difference, amperes.
    public var candidateAgreement: Double, candidateMaxDifference: Double
    /// Fraction of frames whose circuit frame decision is equal in both runs.
    public var frameDecisionAgreement: Double
    /// Largest relative difference of a clip's mean total power (candidate / reference - 1, signed).
    public var powerMaxRelativeDifference: Double
    /// Mean simulation seconds per clip of each run (one worker per core: core-seconds) and their ratio.
    public var referenceSecondsPerClip: Double, candidateSecondsPerClip: Double, speedup: Double
    /// The limits applied.
    public var limits: Limits
    /// Whether every limit is met.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case referenceMode = "reference_mode", candidateMode = "candidate_mode", clips
        case identicalDecisions = "identical_decisions", stateBitAgreement = "state_bit_agreement"
        case candidateAgreement = "candidate_agreement", candidateMaxDifference = "candidate_max_difference"
        case frameDecisionAgreement = "frame_decision_agreement"
        case powerMaxRelativeDifference = "power_max_relative_difference"
        case referenceSecondsPerClip = "reference_seconds_per_clip", candidateSecondsPerClip = "candidate_seconds_per_clip"
        case speedup, limits, passed
    }

    /// What a candidate mode must reproduce (issue "Simulation speed", section 3).
    public struct Limits: Sendable, Equatable, Codable {
        /// Smallest state-bit agreement.
        public var stateBits = 0.999
        /// A candidate current agrees within this fraction of the reference's...
        public var candidateRelative = 0.01
        /// ...or within this many amperes.
        public var candidateAbsolute = 5e-12
        /// Smallest fraction of candidate currents that must agree.
        public var candidateFraction = 0.999
        /// Largest |relative power difference| of any clip.
        public var power = 0.02

        /// The issue's limits.
        public init() {}

        enum CodingKeys: String, CodingKey {
            case stateBits = "state_bits", candidateRelative = "candidate_relative"
            case candidateAbsolute = "candidate_absolute", candidateFraction = "candidate_fraction", power
        }
    }

    /// Compares the runs written to `reference` and `candidate` (folders holding report.json and traces).
    public init(reference: URL, candidate: URL, limits: Limits = Limits()) throws(VerifyError) {
        let (left, right) = (try Report.load(from: reference.appendingPathComponent("report.json")),
                             try Report.load(from: candidate.appendingPathComponent("report.json")))
        referenceMode = left.provenance.mode ?? SimulationMode.transient.rawValue
        candidateMode = right.provenance.mode ?? SimulationMode.transient.rawValue
        let others = Dictionary(right.perClip.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var (bits, bitTotal, candidates, candidateTotal, frameHits, frameTotal) = (0, 0, 0, 0, 0, 0)
        var (maxDifference, maxPower, decisions) = (0.0, 0.0, 0)
        for clip in left.perClip {
            guard let other = others[clip.name] else { throw .inputs("\(candidate.path): no clip \(clip.name)") }
            guard let a = clip.trace, let b = other.trace, let pa = clip.power, let pb = other.power else {
                throw .inputs("clip \(clip.name) failed in one of the runs: nothing to compare")
            }
            if clip.circuitDecision == other.circuitDecision { decisions += 1 }
            let relative = pb.totalNW / pa.totalNW - 1
            if abs(relative) > abs(maxPower) { maxPower = relative }
            let (ta, tb) = (try TraceTable(reference.appendingPathComponent(a)), try TraceTable(candidate.appendingPathComponent(b)))
            guard ta.rows.count == tb.rows.count, ta.header == tb.header else {
                throw .inputs("clip \(clip.name): the two traces have different frames or columns")
            }
            let bitColumns = ta.columns(suffix: "_circuit").filter { ta.header[$0].hasPrefix("s") }
            let candidateColumns = ta.columns(suffix: "_circuit_A").filter { ta.header[$0].hasPrefix("c") }
            guard let decision = ta.header.firstIndex(of: "decision_circuit"), !bitColumns.isEmpty else {
                throw .file(reference.appendingPathComponent(a).path, "not a verifier trace")
            }
            for (ra, rb) in zip(ta.rows, tb.rows) {
                for column in bitColumns {
                    bits += ra[column] == rb[column] ? 1 : 0
                    bitTotal += 1
                }
                for column in candidateColumns {
                    let difference = abs(rb[column] - ra[column])
                    maxDifference = max(maxDifference, difference)
                    if difference <= max(limits.candidateRelative * abs(ra[column]), limits.candidateAbsolute) { candidates += 1 }
                    candidateTotal += 1
                }
                frameHits += ra[decision] == rb[decision] ? 1 : 0
                frameTotal += 1
            }
        }
        guard !left.perClip.isEmpty, bitTotal > 0 else { throw .inputs("\(reference.path): no clips to compare") }
        clips = left.perClip.count
        identicalDecisions = decisions
        stateBitAgreement = Double(bits) / Double(bitTotal)
        candidateAgreement = Double(candidates) / Double(candidateTotal)
        candidateMaxDifference = maxDifference
        frameDecisionAgreement = Double(frameHits) / Double(frameTotal)
        powerMaxRelativeDifference = maxPower
        referenceSecondsPerClip = left.secondsPerClip ?? 0
        candidateSecondsPerClip = right.secondsPerClip ?? 0
        speedup = candidateSecondsPerClip > 0 ? referenceSecondsPerClip / candidateSecondsPerClip : 0
        self.limits = limits
        passed = decisions == clips && stateBitAgreement >= limits.stateBits && candidateAgreement >= limits.candidateFraction
            && abs(maxPower) <= limits.power
    }

    /// One line per figure, for a terminal.
    public var summary: String {
        func pct(_ value: Double) -> String { String(format: "%.3f %%", 100 * value) }
        return """
            \(candidateMode) against \(referenceMode) on \(clips) clips: \(passed ? "PASS" : "FAIL")
            clip decisions identical      \(identicalDecisions)/\(clips)
            frame state bits equal        \(pct(stateBitAgreement)) (limit \(pct(limits.stateBits)))
            candidates within 1 % or 5 pA \(pct(candidateAgreement)) (limit \(pct(limits.candidateFraction))), max difference \(String(format: "%.3g", candidateMaxDifference)) A
            frame decisions equal         \(pct(frameDecisionAgreement))
            power, worst clip             \(String(format: "%+.2f %%", 100 * powerMaxRelativeDifference)) (limit ±\(pct(limits.power)))
            seconds per clip              \(String(format: "%.1f", referenceSecondsPerClip)) -> \(String(format: "%.1f", candidateSecondsPerClip)) (\(String(format: "%.1fx", speedup)))
            """
    }
}

/// A trace CSV written by the verifier: a header and one row of numbers per frame.
struct TraceTable {
    var header: [String]
    var rows: [[Double]]

    init(_ url: URL) throws(VerifyError) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw .file(url.path, fileErrorReason(error)) }
        let lines = text.split(separator: "\n")
        guard let first = lines.first else { throw .file(url.path, "empty trace") }
        header = first.split(separator: ",").map(String.init)
        rows = []
        for (number, line) in lines.dropFirst().enumerated() {
            let values = line.split(separator: ",").map { Double($0) }
            guard values.count == header.count, values.allSatisfy({ $0 != nil }) else {
                throw .file(url.path, "line \(number + 2): expected \(header.count) numbers")
            }
            rows.append(values.map { $0! })
        }
    }

    /// Indices of the columns whose name ends in `suffix`.
    func columns(suffix: String) -> [Int] { header.indices.filter { header[$0].hasSuffix(suffix) } }
}
