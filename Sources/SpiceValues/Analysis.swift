import Foundation

/// An analysis to run, or the analysis lines already in the deck.
public enum Analysis: Sendable, Equatable {
    /// Whatever analysis statements the loaded deck contains (`run`).
    case deck
    /// DC operating point.
    case op
    /// DC sweep of a source from `start` to `stop` in steps of `step`.
    case dc(source: String, start: Double, stop: Double, step: Double)
    /// Small-signal AC sweep, `points` per decade from `start` to `stop` hertz.
    case ac(pointsPerDecade: Int, start: Double, stop: Double)
    /// Transient to `stop` seconds with print step `step` and an optional maximum internal step.
    case tran(step: Double, stop: Double, start: Double = 0, maxStep: Double? = nil)
    /// Any other analysis command, as ngspice spells it (`noise v(out) v1 dec 10 1 1e6`).
    case command(String)

    /// The ngspice command for this analysis.
    public var command: String {
        switch self {
        case .deck: "run"
        case .op: "op"
        case let .dc(source, start, stop, step): "dc \(source) \(spiceNumber(start)) \(spiceNumber(stop)) \(spiceNumber(step))"
        case let .ac(points, start, stop): "ac dec \(points) \(spiceNumber(start)) \(spiceNumber(stop))"
        case let .tran(step, stop, start, maxStep):
            "tran \(spiceNumber(step)) \(spiceNumber(stop)) \(spiceNumber(start))" + (maxStep.map { " \(spiceNumber($0))" } ?? "")
        case let .command(text): text
        }
    }
}

/// A number as ngspice reads it: at most nine significant digits, C-locale, without float debris
/// (`1e-16`, `3.5e-10`, `1.8`, `4.725e-06` rather than `4.7250000000000005e-06`). Nine digits keep
/// every current and ratio to a part per billion, far below what any simulation resolves, and make
/// decks readable and diff-stable.
///
/// Shared so that every writer of SPICE text (the session's commands, `Netlist.SpiceWriter`,
/// `SimulationOptions.statement`) prints numbers the same way.
///
/// Formatted by C's `vsnprintf`, not `String(format:)`: a partition's imported waveforms are tables of
/// thousands of numbers, and Foundation's formatter was most of the deck writer's time.
public func spiceNumber(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
        _ = withVaList([value]) { vsnprintf(buffer.baseAddress!, 32, "%.9g", $0) }
        return String(cString: buffer.baseAddress!)
    }
}
