import Foundation

/// Why a simulated clip's circuit clip decision differs from the reference's, from its report entry and
/// its trace: how many frame decisions differ, how close the reference itself was to the other class in
/// those frames, how close its vote was, and whether the recurrence went wrong (the first wrong state bit)
/// or only the readout's comparison. `bmru demo` prints it under its table.
public struct Disagreement: Sendable, Equatable {
    /// Frames whose circuit frame decision differs from the reference's, and all frames.
    public var wrongFrames: Int, frames: Int
    /// The reference's median |logit 0 - logit 1| over those frames, amperes (the circuit's A - B should
    /// have this sign); nil when no frame decision differs.
    public var medianMargin: Double?
    /// The reference's frames voting for its own clip decision.
    public var referenceVotes: Int
    /// The clip's earliest wrong state bit; nil when every state bit is right.
    public var firstWrongStateBit: ClipReport.StateBit?

    /// The disagreement of `clip` (simulated, with a trace) in the report folder `folder`.
    public init(_ clip: ClipReport, folder: URL) throws(VerifyError) {
        guard let trace = clip.trace else { throw .file(folder.path, "clip \(clip.name) has no trace") }
        let url = folder.appendingPathComponent(trace)
        let table = try TraceTable(url)
        func column(_ name: String) throws(VerifyError) -> Int {
            guard let index = table.header.firstIndex(of: name) else { throw .file(url.path, "no column \(name)") }
            return index
        }
        let (circuit, reference, margin) = (try column("decision_circuit"), try column("decision_reference"),
                                            try column("logit_difference_reference_A"))
        let wrong = table.rows.filter { $0[circuit] != $0[reference] }
        (wrongFrames, frames) = (wrong.count, table.rows.count)
        medianMargin = median(wrong.map { abs($0[margin]) })
        referenceVotes = table.rows.filter { Int($0[reference]) == clip.referenceDecision }.count
        firstWrongStateBit = clip.firstWrongStateBit
    }

    /// One line: e.g. `14 of 101 frame decisions differ, where the reference's logit difference is a median
    /// 6.1 pA; the reference's vote was 52 of 101; every state bit right (the readout's comparison decided)`.
    public var description: String {
        let margin = medianMargin.map { String(format: ", where the reference's logit difference is a median %.3g pA", $0 * 1e12) } ?? ""
        let bit = firstWrongStateBit.map { "first wrong state bit b\($0.block).u\($0.unit) in frame \($0.frame)" }
            ?? "every state bit right (the readout's comparison of A and B decided)"
        return "\(wrongFrames) of \(frames) frame decisions differ\(margin); the reference's vote was \(referenceVotes) of \(frames); \(bit)"
    }
}
