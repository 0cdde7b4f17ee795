import BMRU
import Foundation

/// The limits a verification must meet to pass: one value for every target of the report, so that the
/// verdict, the exit status and the report's checks table all come from the same place.
///
/// The defaults are the published claims of the FQ-BMRU keyword spotter (docs/reference/report-format.md,
/// "Checks"). A checks file (`--checks FILE`, JSON, the keys of `CodingKeys`, each optional) replaces
/// some of them, flags replace single ones, and the report records the limits it was judged against.
public struct ReviewChecks: Sendable, Equatable, Codable {
    /// Least fraction of clips whose circuit clip decision equals the reference's (failed clips count
    /// as disagreeing): the decision the application sees.
    public var clipDecisions = 0.99
    /// Least fraction of (frame, cell) state bits equal in circuit and reference: the recurrence itself.
    public var stateBits = 0.995
    /// Least fraction of frames whose circuit frame decision (sign of A - B) equals the reference's.
    public var frameDecisions = 0.99
    /// Least suppression factor at every cell boundary, over each cell's frames with its state bit right
    /// (`Report.Boundary.agreeingFramesFactor`): the binary state restores analog levels. Bit errors are
    /// judged by `stateBits`, not here; silent boundaries (`Report.Boundary.silent`) carry nothing to restore.
    public var suppression = 20.0
    /// Most clips whose simulation may fail.
    public var failedClips = 0
    /// Most mean total power over the simulated clips, nanowatts: the published keyword spotter's budget.
    public var powerNW = 100.0

    enum CodingKeys: String, CodingKey, CaseIterable {
        case clipDecisions = "min_clip_decisions", stateBits = "min_state_bits", frameDecisions = "min_frame_decisions"
        case suppression = "min_suppression", failedClips = "max_failed_clips", powerNW = "max_power_nW"
    }

    /// The defaults.
    public init() {}

    /// Limits from a checks file or a report: a missing key keeps its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clipDecisions = try c.decodeIfPresent(Double.self, forKey: .clipDecisions) ?? clipDecisions
        stateBits = try c.decodeIfPresent(Double.self, forKey: .stateBits) ?? stateBits
        frameDecisions = try c.decodeIfPresent(Double.self, forKey: .frameDecisions) ?? frameDecisions
        suppression = try c.decodeIfPresent(Double.self, forKey: .suppression) ?? suppression
        // Read as a number first: Foundation reports 1.5 for an Int without naming the field.
        if let count = try c.decodeIfPresent(Double.self, forKey: .failedClips) {
            guard let whole = Int(exactly: count) else {
                throw DecodingError.dataCorruptedError(forKey: .failedClips, in: c, debugDescription: "\(count) is not a whole number")
            }
            failedClips = whole
        }
        powerNW = try c.decodeIfPresent(Double.self, forKey: .powerNW) ?? powerNW
    }

    /// Reads a checks file: a JSON object with some of the keys of `CodingKeys`. An unknown key (a typo
    /// would otherwise leave a default silently in force), a value of the wrong type or out of range is
    /// an error naming the file and the field.
    public static func load(from url: URL) throws(VerifyError) -> ReviewChecks {
        let checks: ReviewChecks
        do {
            let data = try Data(contentsOf: url)
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
               let unknown = object.keys.sorted().first(where: { CodingKeys(rawValue: $0) == nil })
            {
                throw VerifyError.file(url.path, "field \(unknown): unknown (known: "
                    + CodingKeys.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            checks = try JSONDecoder().decode(ReviewChecks.self, from: data)
        } catch let error as VerifyError {
            throw error
        } catch {
            throw .file(url.path, fileErrorReason(error))
        }
        if let problem = checks.problem { throw .file(url.path, "field \(problem.field): \(problem.value) \(problem.rule)") }
        return checks
    }

    /// The first limit out of range: its checks-file field, its value and the rule it breaks; nil when
    /// every limit is usable. The checks file and the flags (`bmru verify`) report it in their own names.
    public var problem: (field: String, value: Double, rule: String)? {
        for (key, value) in [(CodingKeys.clipDecisions, clipDecisions), (.stateBits, stateBits), (.frameDecisions, frameDecisions)]
        where !(0...1).contains(value) {
            return (key.rawValue, value, "must be in 0...1")
        }
        if !(suppression >= 0 && suppression.isFinite) { return (CodingKeys.suppression.rawValue, suppression, "must be >= 0") }
        if failedClips < 0 { return (CodingKeys.failedClips.rawValue, Double(failedClips), "must be >= 0") }
        if !(powerNW > 0 && powerNW.isFinite) { return (CodingKeys.powerNW.rawValue, powerNW, "must be > 0") }
        return nil
    }

    /// Every check of `report` against these limits, in the order the report shows them.
    func evaluate(_ report: Report) -> [Check] {
        // A silent boundary carries no signal to restore (`Report.Boundary.silent`); the others fail when
        // their factor is below the limit or when no frame has its bit right (nothing shows that they
        // restore levels). A factor of nil with frames right means no state error at all.
        let boundaries = report.suppressionFactor.perBoundary.filter { $0.silent != true }
        let failing = boundaries.filter { boundary in
            boundary.stateAgreement == 0 || (boundary.agreeingFramesFactor.map { $0 < suppression } ?? false)
        }
        let factors = boundaries.compactMap(\.agreeingFramesFactor)
        return [
            Check(.clipDecisions, measured: report.predictionAgreement, limit: clipDecisions),
            Check(.stateBits, measured: report.frameStateAgreement, limit: stateBits),
            Check(.frameDecisions, measured: report.frameDecisionAgreement, limit: frameDecisions),
            Check(.suppression, measured: factors.min(), limit: suppression,
                  passed: !boundaries.isEmpty && report.failed < report.clips && failing.isEmpty,
                  failing: failing.map(\.name)),
            Check(.power, measured: report.power?.totalNW, limit: powerNW),
            Check(.failedClips, measured: Double(report.failed), limit: Double(failedClips)),
        ]
    }
}

/// One target of the report against its limit: what was measured, the limit and the verdict.
public struct Check: Sendable, Equatable, Codable {
    /// Which target (`Kind`).
    public var name: Kind
    /// The measured value (a fraction, a factor, nanowatts or a count, as `Kind` says); nil when nothing
    /// could be measured (no clip simulated), which fails the check.
    public var measured: Double?
    /// The limit, from `ReviewChecks`.
    public var limit: Double
    /// Whether the check passed.
    public var passed: Bool
    /// The cell boundaries that fail it (`suppression` only; `b<block>.u<unit>`).
    public var failing: [String]?

    /// The targets, and whether the measured value must be at least or at most the limit.
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        case clipDecisions = "clip_decisions", stateBits = "state_bits", frameDecisions = "frame_decisions"
        case suppression, power, failedClips = "failed_clips"

        /// True for a lower limit (`>=`), false for an upper one (`<=`).
        public var isMinimum: Bool { self != .power && self != .failedClips }

        /// What the check compares, for a reviewer.
        public var title: String {
            switch self {
            case .clipDecisions: "clip decisions agree"
            case .stateBits: "state bits agree"
            case .frameDecisions: "frame decisions agree (sign of A - B)"
            case .suppression: "suppression factor at every cell boundary, frames with the bit right"
            case .power: "mean power (nW)"
            case .failedClips: "clips failing to simulate"
            }
        }

        /// `value` (a measured value or a limit) as the report prints this kind: a percentage, a factor,
        /// nanowatts or a count.
        public func format(_ value: Double?) -> String {
            guard let value else { return "n/a" }
            switch self {
            case .clipDecisions, .stateBits, .frameDecisions: return String(format: "%.2f %%", 100 * value)
            case .suppression: return String(format: "%.3g", value)
            case .power: return String(format: "%.1f", value)
            case .failedClips: return String(Int(value))
            }
        }
    }

    /// A check of `measured` against `limit` in `name`'s direction, or with the verdict given.
    init(_ name: Kind, measured: Double?, limit: Double, passed: Bool? = nil, failing: [String]? = nil) {
        (self.name, self.measured, self.limit, self.failing) = (name, measured, limit, failing)
        self.passed = passed ?? measured.map { name.isMinimum ? $0 >= limit : $0 <= limit } ?? false
    }

    /// The limit with its direction, e.g. `>= 99.00 %`.
    public var limitText: String { (name.isMinimum ? ">= " : "<= ") + name.format(limit) }

    enum CodingKeys: String, CodingKey {
        case name, title, measured, relation, limit, passed, failing
    }

    /// Reads a check; `title` and `relation` follow from `name` and are not read.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(Kind.self, forKey: .name)
        measured = try c.decodeIfPresent(Double.self, forKey: .measured)
        limit = try c.decode(Double.self, forKey: .limit)
        passed = try c.decode(Bool.self, forKey: .passed)
        failing = try c.decodeIfPresent([String].self, forKey: .failing)
    }

    /// Writes the check with its title and relation (`>=` or `<=`), so that a renderer needs no table of its own.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(name.title, forKey: .title)
        try c.encode(measured, forKey: .measured)
        try c.encode(name.isMinimum ? ">=" : "<=", forKey: .relation)
        try c.encode(limit, forKey: .limit)
        try c.encode(passed, forKey: .passed)
        try c.encodeIfPresent(failing, forKey: .failing)
    }
}

extension Report.Boundary {
    /// The boundary as checks and figures name it: `b<block>.u<unit>`.
    public var name: String { "b\(block).u\(unit)" }
}
