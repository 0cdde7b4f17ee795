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

/// A number as ngspice reads it: the shortest text that reads back as the same double (full
/// precision), in C-locale form whatever the process locale (`1e-16`, `3.5e-10`, `1.8`).
///
/// Shared so that every writer of SPICE text (the session's commands, `Netlist.SpiceWriter`,
/// `SimulationOptions.statement`) prints numbers the same way.
public func spiceNumber(_ value: Double) -> String {
    "\(value)"
}
