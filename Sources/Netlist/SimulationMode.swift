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
    /// reltol 3e-4, abstol 1e-15 A, Gear integration with trtol 40, device bypass: about 32-34 points
    /// and 150-160 iterations per frame, 4.1x to 4.7x faster than `transient` in three runs on 20 real
    /// clips (8.3-8.5 against 34-39 core-s per clip) with the guard's state bits equal. reltol 1e-3 (a
    /// further 1.3x) changed the states of 7 of 20 clips of the first kws-yes-d4, as did trtol 100,
    /// vntol 1e-6 and slower input edges on a golden clip (docs/speed.md).
    case fast

    /// The simulator options of this mode, from the pA..nA defaults of `SimulationOptions`.
    public var options: SimulationOptions {
        var options = SimulationOptions()
        if self == .fast {
            options.reltol = 3e-4
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
        // An explicit maximum step of one frame: ngspice's default, min(step, stop / 50), would
        // make clips shorter than 50 frames step differently from the 101-frame clips of the guard.
        case .fast: .tran(step: period, stop: stop, maxStep: period)
        }
    }
}
