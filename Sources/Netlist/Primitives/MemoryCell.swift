import PDK

/// The 9-transistor current-mode memory cell (a Schmitt trigger: two Heaviside stages in feedback,
/// docs/design/fq-bmru-circuit.md, "The circuit"), with PMOS output mirrors copying its state current.
///
/// - `v0` is the current comparator: M1 (PMOS, gate `in`) sources the candidate current into it,
///   M2 (NMOS, gate `thresh`) sinks I_thresh, M9 (PMOS, gate `vfb`) sources the feedback current.
/// - Output branch: M3 (NMOS switch, gate `v0`) in series with M5 (NMOS, gate `gain`) pulls I_gain
///   through M4 (diode-connected PMOS, node `vout`) when `v0` is high.
/// - Feedback branch: M6 (switch, gate `v0`) and M8 (gate `width`) pull I_width through M7 (PMOS
///   diode, node `vfb`); M9 mirrors it back into `v0`.
///
/// So the cell switches on when I_in > I_thresh, off when I_in < I_thresh - I_width, and its high
/// level is I_gain. Ports: `in`, `thresh`, `width`, `gain`, `out1` ... `outN`, `vdd`, `vss`.
///
/// Interface choice: every input is a gate line, not a current. `in` is the gate of a PMOS diode
/// (a PMOS `ReLU` at the candidate's summing node) that M1 mirrors 1:1; `thresh`, `width` and `gain`
/// are gates of NMOS diodes (NMOS `ReLU`s of the same size) fed by the bias currents. That keeps the
/// cell at 9 transistors (plus its outputs), lets one bias line serve several cells, and lets a
/// calibration trim a bias without touching the cell. The outputs are PMOS devices on `vout` sourcing
/// ratio x I_gain each (sized by `CurrentMirror.outputSize`).
///
/// Measured with all devices at `DeviceSize.unit` (W=1u L=2u), I_thresh 350 pA, I_width 200 pA,
/// I_gain 500 pA, 1.8 V, typical corner, a 0 -> 700 pA -> 0 triangle of 0.2 s each way, output read
/// through one 1:1 output device held at 0.9 V (`NetlistTests`, `memoryCell`):
/// GF180 on at 340.4 pA, off at 150.9 pA (hysteresis 189.5 pA), high 539.8 pA;
/// generic180 on at 319.8 pA, off at 137.0 pA (hysteresis 182.8 pA), high 551.2 pA.
/// A 2 s ramp moves the GF180 thresholds by under 4 pA (a 0.02 s ramp by 10 pA). The offsets (on
/// 3..9 % below I_thresh, high level 8..10 % above I_gain) are what a calibration step must trim.
///
/// The `sampled` variant (13 transistors, `CellTiming.sampled`) compares only while `phi` is high
/// and holds its state while it is low, whatever the input does:
/// - S1 (PMOS, gate `phib`) cuts M1's source and S2 (NMOS, gate `phi`) M2's source while `phi` is
///   low, so the comparator sees neither input nor threshold;
/// - the keeper K1 (NMOS, half the width of M8, on the `width` line) sinks I_width / 2 from `v0`
///   while S4 (NMOS, gate `hold`) grounds its source: an on cell keeps net +I_width / 2 (M9's
///   feedback), an off cell is held low, for any ratio of the three biases. `hold` is high while
///   `phi` is low, but turns off before `phi` rises and on after it falls (`SampleClock`): while
///   the keeper and M2 both sank current during a shared clock edge, an on cell at a small margin
///   above its switch-off current was pulled off.
/// No switch touches `v0`, so clock edges do not kick it. Measured on the way (`PrimitiveTests`,
/// `CompilerTests`, both PDKs): without the keeper an off generic180 cell was held by leakage alone
/// and turned on during the hold; switches between `v0` and M1/M2 left nodes at the rails that
/// kicked `v0` when they reconnected, and steering M1's current to ground through a second switch
/// shorted `v0` while both switches conducted during a clock edge. With `phi` high the switches
/// conduct and it is the 9-transistor cell.
public struct MemoryCell: Sendable, Equatable {
    /// How the cell's two thresholds are made from its biases.
    ///
    /// `feedback` is the published cell above: it sinks I_thresh = beta_hi and, while on, feeds
    /// I_width back, so its reset threshold is I_thresh - I_width, the difference of two bias currents
    /// that reach the comparator through 1:1 mirrors. Under device mismatch of sigma per mirror that
    /// difference spreads by about sigma sqrt(beta_hi^2 + 2 delta^2) while beta_lo is often a small
    /// fraction of beta_hi (`ModelLint`, docs/robustness.md). `switched` makes each threshold its own
    /// bias: the cell always sinks I_thresh = beta_lo (M2) and, only while off, I_width = delta through
    /// a switch (S6, M8), so it switches on at I_thresh + I_width and off at I_thresh; the reset
    /// threshold spreads by sigma beta_lo (and the input mirror's share). Its nine devices:
    /// - comparator `v0`: M1 (PMOS, gate `in`) sources I_in, M2 (NMOS, gate `thresh`) sinks I_thresh,
    ///   S6 (NMOS, gate `v0b`) in series with M8 (NMOS, gate `width`) sinks I_width while off;
    /// - inverter: M7 (PMOS, gate `v0`) against M9 (NMOS, gate `width`, half M8's width, sinking
    ///   I_width / 2): `v0b` is high while `v0` is low; it flips near v0 = vdd - 0.45 V, and only
    ///   M9's current flows through it, during a transition as while the cell is off;
    /// - output: M3 (PMOS switch, gate `v0b`) in series with M4 (PMOS diode, `vout`) and M5 (NMOS,
    ///   gate `gain`): I_gain flows only once `v0b` has fallen. Gating the output with `v0` instead
    ///   (as the feedback cell does) turned it on about 50 pA below the latch threshold on GF180,
    ///   where `v0` already rises but the inverter has not flipped: an output without hysteresis.
    /// Measured on GF180 (typical, unit devices, I_thresh 100 pA, I_width 1.4 nA, I_gain 500 pA,
    /// 200 fF, a 0 -> 2.2 nA -> 0 triangle of 0.5 s each way): on at 1.568 nA, off at 77 pA, high 530 pA.
    public enum Topology: String, Sendable, Equatable, Codable, CaseIterable {
        /// The published cell: reset at I_thresh - I_width.
        case feedback
        /// Each threshold its own bias: on at I_thresh + I_width, off at I_thresh.
        case switched
    }

    /// The subcircuit's name.
    public var name: String
    /// The size of all nine cell devices.
    public var size: DeviceSize
    /// Current ratio (to I_gain) of each state-current output.
    public var outputs: [Double]
    /// Whether the comparator has enable switches and a keeper (ports `phi`, `phib`, `hold`).
    public var sampled: Bool
    /// How the thresholds are made (`feedback` unless told otherwise).
    public var topology: Topology
    /// A capacitor from `v0` to `vss`, farads (`CellTiming.filtered`); nil for none.
    ///
    /// The comparator node integrates the difference of the input and threshold currents, and the
    /// cell switches once it has moved `v0` across the switch point of M3 / M6. Its own capacitance is
    /// a few tens of fF (gates of M3 and M6, drains of M1, M2, M9): an overshoot of a few hundred pA
    /// for tens of microseconds after an input edge moves it far enough (docs/design/cell-variants.md). A
    /// larger capacitance needs a larger charge: it ignores such transients, while a steady margin
    /// still switches the cell well within a frame. On a slow ramp (5 s) the switch points are the
    /// continuous cell's within a few pA; on the characterization's 0.5 s ramp they lag by up to 42 pA
    /// (`CalibrationTests.cell`). Written as an ideal capacitor; `filterCapacitance` would be a 100 um^2
    /// MIM capacitor at GF180's 2 fF/um^2.
    public var comparatorCapacitance: Double?

    /// The comparator capacitance of `CellTiming.filtered` cells: 200 fF.
    public static let filterCapacitance = 200e-15

    /// A cell with the given device size, outputs and timing.
    public init(name: String = "bmru_cell", size: DeviceSize = .unit, outputs: [Double] = [1], sampled: Bool = false,
                comparatorCapacitance: Double? = nil, topology: Topology = .feedback) {
        self.name = name
        self.size = size
        self.outputs = outputs
        self.sampled = sampled
        self.comparatorCapacitance = comparatorCapacitance
        self.topology = topology
    }

    /// The bias currents (I_thresh, I_width) of an ideal cell of this topology that switches on at
    /// `on` amperes with a hysteresis of `width` amperes.
    public func nominalBiases(on: Double, width: Double) -> (threshold: Double, width: Double) {
        topology == .feedback ? (on, width) : (on - width, width)
    }

    /// The port names, in order.
    public var ports: [String] {
        ["in", "thresh", "width", "gain"] + outputs.indices.map { "out\($0 + 1)" } + (sampled ? ["phi", "phib", "hold"] : [])
            + ["vdd", "vss"]
    }

    /// The sampled cell's keeper and the switched cell's inverter load: M8's length, half its width
    /// (each sinks I_width / 2).
    public var keeperSize: DeviceSize { DeviceSize(width: size.width / 2, length: size.length) }

    /// The internal node names: comparator, output diode, feedback diode (feedback cells) and the
    /// comparator's inverse (switched cells).
    public static let comparatorNode = "v0", outputNode = "vout", feedbackNode = "vfb", invertedNode = "v0b"

    /// The cell as a subcircuit of `pdk`.
    public func subcircuit(pdk: PDK) throws(NetlistError) -> Subcircuit {
        try size.check(against: pdk, what: "memory cell \(name) device")
        if sampled { try keeperSize.check(against: pdk, what: "memory cell \(name) keeper") }
        if topology == .switched {
            guard !sampled else { throw .invalidParameter("memory cell \(name): sampled cells have the feedback topology only") }
            try keeperSize.check(against: pdk, what: "memory cell \(name) inverter load")
        }
        let (v0, vout, vfb) = (Self.comparatorNode, Self.outputNode, Self.feedbackNode)
        func device(_ name: String, _ polarity: Polarity, _ drain: String, _ gate: String, _ source: String) -> Element {
            transistor(name, polarity, drain: drain, gate: gate, source: source,
                       bulk: polarity == .nmos ? "vss" : "vdd", size: size, pdk: pdk)
        }
        var elements: [Element] = [.comment("comparator")]
        if sampled {
            elements += [
                device("s1", .pmos, "m1_source", "phib", "vdd"),
                device("m1", .pmos, v0, "in", "m1_source"),
                device("m2", .nmos, v0, "thresh", "m2_source"),
                device("s2", .nmos, "m2_source", "phi", "vss"),
                .comment("keeper: sinks I_width / 2 from v0 while phi is low"),
                transistor("k1", .nmos, drain: v0, gate: "width", source: "keep", bulk: "vss", size: keeperSize, pdk: pdk),
                device("s4", .nmos, "keep", "hold", "vss"),
            ]
        } else {
            elements += [device("m1", .pmos, v0, "in", "vdd"), device("m2", .nmos, v0, "thresh", "vss")]
        }
        if let comparatorCapacitance {
            guard comparatorCapacitance.isFinite, comparatorCapacitance > 0 else {
                throw .invalidParameter("memory cell \(name): comparator capacitance \(comparatorCapacitance) F must be > 0")
            }
            elements += [.comment("filter: integrates the comparator's current imbalance, so input transients do not latch"),
                         .capacitor(name: "filter", positive: v0, negative: "vss", farads: .number(comparatorCapacitance))]
        }
        let filterDoc = comparatorCapacitance.map { [String(format: "%.0f fF on v0: ignores input transients of tens of us", $0 * 1e15)] } ?? []
        if topology == .switched {
            let v0b = Self.invertedNode
            elements += [
                .comment("width sink: I_width through s6 while the cell is off (v0b high)"),
                device("s6", .nmos, v0, v0b, "width_tail"),
                device("m8", .nmos, "width_tail", "width", "vss"),
                .comment("inverter: v0b high while v0 is low; m9 sinks I_width / 2"),
                device("m7", .pmos, v0b, v0, "vdd"),
                transistor("m9", .nmos, drain: v0b, gate: "width", source: "vss", bulk: "vss", size: keeperSize, pdk: pdk),
                .comment("output branch: I_gain through the diode m4 once v0b is low"),
                device("m3", .pmos, "gain_tail", v0b, vout),
                device("m5", .nmos, "gain_tail", "gain", "vss"),
                device("m4", .pmos, vout, vout, "vdd"),
            ]
            return try withOutputs(elements, doc: [
                "9-transistor current-mode memory cell, switched thresholds, all devices \(describe(size)) (m9: \(describe(keeperSize)))",
                "on when I(in) > I_thresh + I_width, off when I(in) < I_thresh, high level I_gain",
            ] + filterDoc,
                pdk: pdk)
        }
        elements += [
            device("m9", .pmos, v0, vfb, "vdd"),
            .comment("output branch: I_gain through the diode m4 when v0 is high"),
            device("m3", .nmos, vout, v0, "gain_tail"),
            device("m5", .nmos, "gain_tail", "gain", "vss"),
            device("m4", .pmos, vout, vout, "vdd"),
            .comment("feedback branch: I_width through the diode m7, mirrored back into v0 by m9"),
            device("m6", .nmos, vfb, v0, "width_tail"),
            device("m8", .nmos, "width_tail", "width", "vss"),
            device("m7", .pmos, vfb, vfb, "vdd"),
        ]
        let doc = [(sampled ? "13-transistor sampled" : "9-transistor") + " current-mode memory cell (Schmitt trigger), all devices \(describe(size))",
                   "on when I(in) > I_thresh, off when I(in) < I_thresh - I_width, high level I_gain"]
            + (sampled ? ["compares only while phi is high (s1, s2 enable m1, m2); holds its state otherwise (keeper k1, enabled by hold)"] : [])
            + filterDoc
        return try withOutputs(elements, doc: doc, pdk: pdk)
    }

    /// The subcircuit of `elements` with the PMOS state-current outputs on `vout` added.
    private func withOutputs(_ cellElements: [Element], doc cellDoc: [String], pdk: PDK) throws(NetlistError) -> Subcircuit {
        var (elements, doc) = (cellElements, cellDoc)
        let vout = Self.outputNode
        for (index, ratio) in outputs.enumerated() {
            let (outputSize, fingers) = try CurrentMirror.outputSize(ratio: ratio, unit: size, pdk: pdk)
            let port = "out\(index + 1)"
            elements.append(transistor(port, .pmos, drain: port, gate: vout, source: "vdd", bulk: "vdd",
                                       size: outputSize, multiplier: fingers, pdk: pdk))
            doc.append("\(port): sources \(ratio) x I_gain, \(describe(outputSize, multiplier: fingers))")
        }
        return Subcircuit(name: name, ports: ports, elements: elements, doc: doc)
    }
}
