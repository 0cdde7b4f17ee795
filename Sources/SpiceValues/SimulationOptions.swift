/// ngspice tolerances for circuits whose signals are picoamperes to nanoamperes.
///
/// ngspice's defaults suit milliampere circuits: abstol 1 pA and gmin 1e-12 S (1.8 pA at 1.8 V) are
/// as large as the signals here. These defaults keep current errors far below a picoampere; see
/// pdk/README.md for the measurements behind each number.
public struct SimulationOptions: Sendable, Equatable, Codable {
    /// Absolute current tolerance in amperes (ngspice default 1e-12).
    public var abstol: Double = 1e-16
    /// Conductance added across every junction, in siemens (ngspice default 1e-12).
    public var gmin: Double = 1e-18
    /// Absolute voltage tolerance in volts (ngspice default 1e-6).
    public var vntol: Double = 1e-7
    /// Relative tolerance (ngspice default 1e-3).
    public var reltol: Double = 1e-4
    /// Charge tolerance in coulombs (ngspice default 1e-14; a femtofarad at a millivolt is 1e-18).
    public var chgtol: Double = 1e-17
    /// DC iteration limit (ngspice default 100): subthreshold operating points need more.
    public var itl1: Int = 500
    /// Temperature in degrees Celsius.
    public var temperature: Double = 27
    /// Integration method (`trap` or `gear`); nil leaves ngspice's trapezoidal default.
    public var method: String?
    /// Truncation-error overestimate factor of the time-step control (ngspice default 7); nil leaves it.
    public var trtol: Double?
    /// Skip re-evaluating devices whose terminal voltages did not change (ngspice's `bypass`); nil
    /// leaves ngspice's default.
    public var bypass: Bool?

    /// The default options for pA..nA circuits.
    public init() {}

    /// The `.options` statement carrying these settings.
    public var statement: String {
        ".options abstol=\(spiceNumber(abstol)) gmin=\(spiceNumber(gmin)) vntol=\(spiceNumber(vntol))"
            + " reltol=\(spiceNumber(reltol)) chgtol=\(spiceNumber(chgtol)) itl1=\(itl1) temp=\(spiceNumber(temperature))"
            + (method.map { " method=\($0)" } ?? "") + (trtol.map { " trtol=\(spiceNumber($0))" } ?? "")
            + (bypass.map { " bypass=\($0 ? 1 : 0)" } ?? "")
    }
}
