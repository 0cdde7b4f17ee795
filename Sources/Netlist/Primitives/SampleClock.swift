/// When a memory cell looks at its candidate current.
///
/// The reference model updates every state once per frame from settled inputs; a continuous-time
/// cell instead reacts to the candidate at every instant, and the candidate overshoots for tens of
/// microseconds after each input edge (its positive and negative terms arrive through paths of
/// different speed). A cell whose candidate crosses its threshold only during that transient latches
/// the wrong state, and its hysteresis keeps it: on the 226 held-out clips of kws-yes-d4 (GF180)
/// 87 of 180 first state errors happened with the frame-end candidate on the right side of the
/// threshold. Slower edges do not help (a 2 ms ramp made it worse: the candidate of a ReLU network
/// is not monotone along a linear input path). Sampling does: the cell's comparator is cut from its
/// input and threshold while the network settles and decides only in a window at the end of each
/// frame. Measurements and costs: docs/design/cell-variants.md.
public enum CellTiming: String, Sendable, Equatable, Codable, CaseIterable {
    /// The published 9-transistor cell: always comparing.
    case continuous
    /// `MemoryCell.sampled`: switches enable the comparator in `SampleClock`'s window, a keeper
    /// holds the state outside it.
    case sampled
    /// The 9-transistor cell with `MemoryCell.filterCapacitance` on its comparator node: always
    /// comparing, but a transient must carry enough charge to switch it.
    case filtered
}

/// The clocks of sampled memory cells: per block an enable pair and a hold line.
///
/// Block k (of n) compares from `window(block: k).open` to `.close` in every frame: the windows open
/// at (k + 1) / (n + 2) of the frame, so block k + 1 decides after block k's new state has reached
/// its candidates, as in the model (h of block k at step t feeds block k + 1 at step t), and the
/// classifier keeps the last 1 / (n + 2) of the frame to settle. Each window's closing ramp ends
/// where the next frame's input ramp begins (sharing the simulator's breakpoint there: a separate
/// closing edge 0.2 ms earlier cost about 20 more time points per frame). With two blocks and 10 ms
/// frames: 2.5 ms and 5 ms to 10 ms.
public struct SampleClock: Sendable, Equatable {
    /// Number of blocks, frame period (s), clock high level (V) and clock edge time (s).
    public var blocks: Int, frameDuration: Double, supply: Double, edge: Double

    /// The clocks of `blocks` blocks.
    public init(blocks: Int, frameDuration: Double, supply: Double, edge: Double) {
        (self.blocks, self.frameDuration, self.supply, self.edge) = (blocks, frameDuration, supply, edge)
    }

    /// Opening and closing time of block `block`'s window within a frame, seconds: the start of the
    /// enable line's rise and the end of its fall.
    public func window(block: Int) -> (open: Double, close: Double) {
        (frameDuration * Double(block + 1) / Double(blocks + 2), frameDuration)
    }

    /// The enable line of block `block` (high in the window), its complement, and the hold line
    /// (high outside the window widened by one edge on each side: break before make).
    public static func lines(block: Int) -> (enable: String, complement: String, hold: String) {
        ("clk\(block)", "clk\(block)_b", "hold\(block)")
    }

    /// The three ideal voltage sources driving block `block`'s lines. They draw only the gate charge
    /// of the switches (three 2 um^2 gates per cell: about 30 fF x (1.8 V)^2 x 100 Hz = 10 pW per
    /// cell), so they are kept out of the three measured supplies.
    public func sources(block: Int) -> [Element] {
        let (open, close) = window(block: block), lines = Self.lines(block: block)
        func pulse(_ from: Double, _ to: Double) -> SourceValue {
            .pulse(Pulse(initial: from, pulsed: to, delay: open, rise: edge, fall: edge, width: close - open - 2 * edge,
                         period: frameDuration))
        }
        // Falls in the edge before the enable rises and rises in the edge after it has fallen (at the
        // start of the next frame's input ramp: a pulse may run past its period's end if it fits in
        // one period).
        let hold = SourceValue.pulse(Pulse(initial: supply, pulsed: 0, delay: open - edge, rise: edge, fall: edge,
                                           width: close - open, period: frameDuration))
        return [
            .voltageSource(name: lines.enable, positive: lines.enable, negative: "0", value: pulse(0, supply)),
            .voltageSource(name: lines.complement, positive: lines.complement, negative: "0", value: pulse(supply, 0)),
            .voltageSource(name: lines.hold, positive: lines.hold, negative: "0", value: hold),
        ]
    }
}
