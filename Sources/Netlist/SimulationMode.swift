import PDK
import SpiceValues

/// How the transient over a deck's input frames is run (`Compiler.Inputs.frames`): the reference
/// settings, or measured faster ones that are checked against them (docs/design/simulation-modes.md).
///
/// Both integrate the same circuit through the same frames; they differ in time-step control,
/// tolerances and the ramp time of the input changes. `fast` is what the verifier uses by default;
/// `transient` is the reference that `ModeGuard` compares it with.
public enum SimulationMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// The reference: at least 100 points per frame (maximum step = print step = frame / 100),
    /// reltol 1e-4, abstol 1e-16 A, trapezoidal integration, 10 us input ramps. About 150 accepted
    /// points and 410 Newton iterations per 10 ms frame on kws-yes-d4 / gf180mcu.
    case transient
    /// Steps chosen by the simulator (maximum step = one frame; the PWL corners are breakpoints),
    /// reltol 3e-4, abstol 1e-15 A, Gear integration with trtol 40, device bypass, 100 us input ramps:
    /// about 27 points and 134 iterations per frame, 5.1x to 5.2x faster than `transient` in two runs
    /// on 20 real clips (6.8 and 7.2 against 35 and 37 core-s per clip) with the guard's state bits
    /// equal. reltol 1e-3 changed the states of 7 of 20 clips of the first kws-yes-d4, as did trtol
    /// 100, vntol 1e-6 and 1 ms input ramps on a golden clip (docs/design/simulation-modes.md).
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

    /// Ramp time of an input change at a frame boundary, seconds (`InputSource.frames`).
    ///
    /// After each PWL corner ngspice restarts from a step of a tenth of the time to the next corner
    /// and at most doubles it per point, so a longer ramp starts the climb from a larger step. On
    /// golden clip 0 of kws-yes-d4 (GF180, fast settings) ramps of 10 / 30 / 100 / 300 us took
    /// 14,889 / 14,416 / 13,980 / 14,205 Newton iterations with every frame-end state equal and class
    /// currents within 0.02 %; 1 ns took 16,362 (docs/design/simulation-modes.md).
    public var inputEdge: Double {
        switch self {
        case .transient: 1e-5
        case .fast: 1e-4
        }
    }

    /// The transient over `frames` frames of `period` seconds of a deck whose memory cells are `cells`.
    ///
    /// ngspice's first step is a hundredth of min(print step, stop / 100) (measured, `CompilerTests`),
    /// and the first point is not checked for truncation error. In `fast` that is 100 us for a
    /// 101-frame clip: with filtered cells (200 fF on the comparator node) a cell started on against
    /// its initial condition on 2 of 226 real clips (docs/design/cell-variants.md). Their print step is
    /// therefore a thousandth of a frame (first step 0.1 us), which keeps them in their initial state
    /// (and passed the 20-clip guard against `transient`); every accepted point is written whatever
    /// the print step, so nothing else changes. Continuous and sampled decks keep the step they were
    /// guarded with.
    public func analysis(frames: Int, period: Double, cells: CellTiming) -> Analysis {
        let stop = Double(frames) * period
        return switch self {
        case .transient: .tran(step: period / 100, stop: stop, maxStep: period / 100)
        // An explicit maximum step of one frame: ngspice's default, min(step, stop / 50), would
        // make clips shorter than 50 frames step differently from the 101-frame clips of the guard.
        case .fast: .tran(step: cells == .filtered ? period / 1000 : period, stop: stop, maxStep: period)
        }
    }
}
