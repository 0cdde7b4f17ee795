import Ngspice
import PDK

/// How the transient over a deck's input frames is run (`Compiler.Inputs.frames`): the reference
/// settings, or measured faster ones that are checked against them (docs/speed.md).
///
/// Both integrate the same circuit through the same frames with the same input edges; they differ only
/// in time-step control and tolerances. `fast` is what the verifier uses by default; `transient` is
/// the reference that `ModeGuard` compares it with.
public enum SimulationMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// The reference: at least 100 points per frame (maximum step = print step = frame / 100),
    /// reltol 1e-4, abstol 1e-16 A, trapezoidal integration. About 160 accepted points and 450 Newton
    /// iterations per 10 ms frame on kws-yes-d4 / gf180mcu.
    case transient
    /// Steps chosen by the simulator (maximum step = one frame; the PWL corners are breakpoints),
    /// reltol 1e-3, abstol 1e-15 A, Gear integration with trtol 40, device bypass. About 27 points and
    /// 135 iterations per frame: 5x faster, same frame-end states. Looser settings (reltol 3e-3,
    /// trtol 100, vntol 1e-6) and slower input edges were measured to change states (docs/speed.md).
    case fast

    /// The simulator options of this mode, from the pA..nA defaults of `SimulationOptions`.
    public var options: SimulationOptions {
        var options = SimulationOptions()
        if self == .fast {
            options.reltol = 1e-3
            options.abstol = 1e-15
            options.method = "gear"
            options.trtol = 40
            options.bypass = true
        }
        return options
    }

    /// The transient over `frames` frames of `period` seconds.
    public func analysis(frames: Int, period: Double) -> Analysis {
        let stop = Double(frames) * period
        return switch self {
        case .transient: .tran(step: period / 100, stop: stop, maxStep: period / 100)
        case .fast: .tran(step: period, stop: stop)
        }
    }
}
