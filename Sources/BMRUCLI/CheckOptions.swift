import ArgumentParser
import Foundation
import Verify

/// The limits of a verification's verdict (`ReviewChecks`): a checks file, then single flags over it.
/// Shared by `verify` and `demo`, so that both judge a report the same way.
struct CheckOptions: ParsableArguments {
    @Option(help: "A JSON checks file with some of min_clip_decisions, min_state_bits, min_frame_decisions, min_suppression, max_failed_clips, max_power_nW (docs/reference/report-format.md); the flags below override it.",
            completion: .file())
    var checks: String?

    @Option(parsing: .unconditional, help: "Least fraction of clip decisions that agree (default 0.99).")
    var minAgreement: Double?

    @Option(parsing: .unconditional, help: "Least fraction of state bits that agree (default 0.995).")
    var minStateBits: Double?

    @Option(parsing: .unconditional, help: "Least fraction of frame decisions that agree (default 0.99).")
    var minFrameDecisions: Double?

    @Option(parsing: .unconditional, help: "Least suppression factor at every cell boundary over its frames with the state bit right (default 20).")
    var minSuppression: Double?

    @Option(parsing: .unconditional, help: "Most clips whose simulation may fail (default 0).")
    var maxFailedClips: Int?

    @Option(parsing: .unconditional, help: "Most mean power in nW (default 100, the published keyword spotter's).")
    var maxPower: Double?

    /// The flag that sets each checks-file field.
    static let flags = ["min_clip_decisions": "--min-agreement", "min_state_bits": "--min-state-bits",
                        "min_frame_decisions": "--min-frame-decisions", "min_suppression": "--min-suppression",
                        "max_failed_clips": "--max-failed-clips", "max_power_nW": "--max-power"]

    /// Refuses a flag out of range, by the rules the checks file is read with (`ReviewChecks.problem`).
    func validate() throws {
        var flagged = ReviewChecks()
        apply(to: &flagged)
        if let problem = flagged.problem { throw ValidationError("\(Self.flags[problem.field] ?? problem.field) \(problem.rule)") }
    }

    /// The limits: the defaults, replaced by the checks file's and then by the flags given.
    func limits() throws -> ReviewChecks {
        var limits = try checks.map { path throws(VerifyError) in try ReviewChecks.load(from: URL(fileURLWithPath: path)) }
            ?? ReviewChecks()
        apply(to: &limits)
        return limits
    }

    /// Replaces `limits` by the flags given.
    private func apply(to limits: inout ReviewChecks) {
        if let minAgreement { limits.clipDecisions = minAgreement }
        if let minStateBits { limits.stateBits = minStateBits }
        if let minFrameDecisions { limits.frameDecisions = minFrameDecisions }
        if let minSuppression { limits.suppression = minSuppression }
        if let maxFailedClips { limits.failedClips = maxFailedClips }
        if let maxPower { limits.powerNW = maxPower }
    }
}
