import Netlist
import PDK

/// One sweep of a characterization: one deck, run as one job of the worker pool, whose result is
/// reduced by the sweep's name (`Characterization.init(pdk:corner:unitCurrent:supply:results:)`).
///
/// - `mirrors`: weight mirrors (`CurrentMirror.mirrorUnit` diode, outputs held at half the supply):
///   output current against input current (0.05..5 I_u) and nominal width ratio, one operating point;
/// - `cell`: the memory cell under a slow triangle input (transient: a DC sweep cannot show
///   hysteresis), a grid of I_thresh x I_width / I_thresh and a sweep of I_gain; switch-on, switch-off
///   and high level are each fitted jointly over all points (`Characterization.CellFit`);
/// - `readout`: the input current at which the differential pair flips, against a fixed other
///   input, at three levels (its offset);
/// - `drainFactors`: a unit output at I_u into a summing node of each diode type, against the same
///   output held at half the supply as in the tables;
/// - `biasMirrors`: bias outputs of every width of `biasWidths` on the `BiasReference`'s gate lines
///   into the diodes they drive in the network (`biasGroups`), one operating point.
public enum CharacterizationSweep: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The weight mirrors of one polarity.
    case mirrors(Polarity)
    /// The memory cell's bias grid and gain sweep.
    case cell
    /// The readout's offset.
    case readout
    /// The weight mirrors' drain factors.
    case drainFactors
    /// The bias mirrors.
    case biasMirrors

    /// Every sweep, in the order the jobs are submitted.
    public static let allCases: [CharacterizationSweep] = Polarity.allCases.map(mirrors) + [.cell, .readout, .drainFactors, .biasMirrors]

    /// The sweep's name in messages (`nmos mirrors`, `cell`).
    public var description: String {
        switch self {
        case let .mirrors(polarity): "\(polarity.rawValue) mirrors"
        case .cell: "cell"
        case .readout: "readout"
        case .drainFactors: "drain factors"
        case .biasMirrors: "bias mirrors"
        }
    }

    // MARK: Sweep parameters

    /// Input-current multiples of I_u and nominal width ratios of the mirror sweep.
    public static let mirrorInputs = [0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    /// See `mirrorInputs`.
    public static let mirrorWidths = [0.006, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 1.9, 2, 2.5, 2.9, 3, 4, 5]
    /// I_thresh of the cell grid (multiples of I_u) and I_width as fractions of I_thresh: they span
    /// the trained models' cells (beta_hi up to 3 I_u, hysteresis up to 2.8 I_u, beta_lo down to a
    /// few percent of beta_hi) so the fits interpolate rather than extrapolate.
    public static let gridThresholds = [0.25, 0.5, 1, 2, 3.5, 5.0], gridWidthFractions = [0.1, 0.3, 0.5, 0.7, 0.9]
    /// I_gain of the gain sweep, multiples of I_u (I_thresh I_u, I_width 0.4 I_u).
    static let gains = [0.25, 1, 2, 4.0]
    /// Readout reference levels, multiples of I_u.
    static let readoutLevels = [0.1, 1, 3.0]
    /// Duration of each cell ramp (up, then down), seconds.
    public static let cellRamp = 0.5
    /// Duration of the readout's input ramp (0.9 -> 1.1 of the reference), seconds.
    static let readoutRamp = 0.05

    /// Every cell of the grid and the gain sweep, (threshold, width, gain) in amperes, in deck order.
    static func cellBiasSets(unitCurrent iu: Double, topology: MemoryCell.Topology) -> [(Double, Double, Double)] {
        switch topology {
        case .feedback:
            gridThresholds.flatMap { t in gridWidthFractions.map { (t * iu, $0 * t * iu, iu) } } + gains.map { (iu, 0.4 * iu, $0 * iu) }
        case .switched:
            switchedThresholds.flatMap { t in switchedWidths.map { (t * iu, $0 * iu, iu) } } + gains.map { (0.3 * iu, iu, $0 * iu) }
        }
    }

    /// Nominal width ratios of the bias-mirror sweep: from the smallest bias the trained models use
    /// to the largest cell bias, denser than the weight tables (a bias's error lands on one node at
    /// full weight), with points just below 2, 3 and 4 where `CurrentMirror.outputSize` adds a finger.
    public static let biasWidths = [0.01, 0.015, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.85,
                                    1, 1.25, 1.5, 1.75, 1.9, 2, 2.5, 2.9, 3, 3.5, 3.9, 4, 5, 6, 8]
    /// The bias outputs as the network has them: (output type, type of the diode driven, whether that
    /// is a memory cell's bias diode). PMOS outputs source into NMOS diodes (cell biases and
    /// positive terms of NMOS-diode nodes) and subtract from PMOS-diode nodes; NMOS outputs the other
    /// way round.
    public static let biasGroups: [(polarity: Polarity, node: Polarity, cell: Bool)] = [
        (.pmos, .nmos, true), (.pmos, .nmos, false), (.pmos, .pmos, false), (.nmos, .pmos, false), (.nmos, .nmos, false),
    ]

    /// I_thresh (beta_lo) and I_width (delta) of the switched cell's grid, multiples of I_u: they span
    /// the trained models' beta_lo (0.15..0.5) and hysteresis widths (0.7..2.8).
    public static let switchedThresholds = [0.05, 0.15, 0.3, 0.6, 1.2], switchedWidths = [0.25, 0.75, 1.5, 2.5, 3.5]

    /// The number of grid cells of `topology` (the rest of `cellBiasSets` is the gain sweep).
    static func gridCount(_ topology: MemoryCell.Topology) -> Int {
        topology == .feedback ? gridThresholds.count * gridWidthFractions.count : switchedThresholds.count * switchedWidths.count
    }

    /// Peak of the input triangle of a cell with biases `threshold` and `width` (amperes): 1.3 times its
    /// switch-on current, I_thresh (feedback) or I_thresh + I_width (switched).
    ///
    /// Each I_thresh has its own input, so every cell is swept at the same rate relative to its own
    /// currents (2.6 I_thresh per second), as `CalibrationTests` sweeps a calibrated cell (2.6 beta_hi
    /// per second). A switching cell lags its input (by about 0.6 ms, estimated from how the four
    /// checked cells' errors grew with the difference of ramp rates): with one triangle to 6.5 I_u
    /// for all, small cells were swept 10 times faster than in that check and their hysteresis read
    /// about 18 pA wider (at I_u = 1 nA: a cell calibrated to 400 / 150 pA switched at 393 / 161 pA).
    static func cellPeak(threshold: Double, width: Double, topology: MemoryCell.Topology) -> Double {
        1.3 * (topology == .feedback ? threshold : threshold + width)
    }

    // MARK: Decks

    /// The sweep's circuit in `corner` of `pdk`, scaled to `unitCurrent`, with memory cells of
    /// `cellSize` and `cellTopology`; it saves what is measured.
    public func circuit(pdk: PDK, corner: String?, unitCurrent: Double, supply: Double = 1.8,
                        cellSize: DeviceSize = .unit, cellTopology: MemoryCell.Topology = .feedback)
        throws(CharacterizeError) -> Circuit
    {
        do {
            var circuit = Circuit(title: "characterization: " + title, models: try pdk.modelStatements(corner: corner), elements: [
                .voltageSource(name: "dd", positive: "vdd", negative: "0", value: .dc(.number(supply))),
                .voltageSource(name: "half", positive: "half", negative: "0", value: .dc(.number(supply / 2))),
            ])
            switch self {
            case let .mirrors(polarity): try Self.addMirrors(polarity, to: &circuit, pdk: pdk, unitCurrent: unitCurrent)
            case .cell: try Self.addCells(to: &circuit, pdk: pdk, unitCurrent: unitCurrent,
                                          cell: MemoryCell(size: cellSize, outputs: [1], topology: cellTopology))
            case .readout: try Self.addReadouts(to: &circuit, pdk: pdk, unitCurrent: unitCurrent)
            case .drainFactors: try Self.addDrainMirrors(to: &circuit, pdk: pdk, unitCurrent: unitCurrent)
            case .biasMirrors: try Self.addBiasMirrors(to: &circuit, pdk: pdk, unitCurrent: unitCurrent, cellSize: cellSize,
                                                       widths: Self.biasGroups.map { _ in Self.biasWidths })
            }
            return circuit
        } catch {
            throw CharacterizeError(building: error)
        }
    }

    /// The deck's title after `characterization: `.
    private var title: String {
        switch self {
        case let .mirrors(polarity): "\(polarity.rawValue) weight mirrors"
        case .cell: "memory cell"
        case .readout: "readout"
        case .drainFactors: "mirror outputs at summing nodes"
        case .biasMirrors: "bias mirrors of the bias reference"
        }
    }

    /// One mirror per input current with an output of every width, each held at half the supply.
    private static func addMirrors(_ polarity: Polarity, to circuit: inout Circuit, pdk: PDK, unitCurrent: Double) throws {
        let mirror = CurrentMirror(name: "mirror", polarity: polarity, ratios: mirrorWidths)
        try circuit.define(mirror.subcircuit(pdk: pdk))
        for (i, input) in mirrorInputs.enumerated() {
            var connections = ["in": "in\(i)", "rail": polarity == .nmos ? "0" : "vdd"]
            for w in mirrorWidths.indices {
                connections["out\(w + 1)"] = "o\(i)_\(w)"
                circuit.elements.append(.voltageSource(name: "o\(i)_\(w)", positive: "o\(i)_\(w)", negative: "half",
                                                       value: .dc(0)))
                circuit.saves.append(.current(source: "o\(i)_\(w)"))
            }
            circuit.elements.append(.instance(Instance(name: "m\(i)", of: try mirror.subcircuit(pdk: pdk),
                                                       connections: connections)))
            let current = Value.number(input * unitCurrent)
            circuit.elements.append(polarity == .nmos
                ? .currentSource(name: "in\(i)", positive: "0", negative: "in\(i)", value: .dc(current))
                : .currentSource(name: "in\(i)", positive: "in\(i)", negative: "0", value: .dc(current)))
        }
        circuit.analyses = [.op]
    }

    /// Every cell of `cellBiasSets` of `cell`'s topology, its biases fed into NMOS diodes, its input
    /// mirrored from the PMOS diode of the triangle of its peak (`cellPeak`), its output held at half
    /// the supply.
    private static func addCells(to circuit: inout Circuit, pdk: PDK, unitCurrent: Double, cell: MemoryCell) throws {
        let input = ReLU(name: "input_diode", polarity: .pmos, size: cell.size)
        let bias = ReLU(name: "bias_diode", polarity: .nmos, size: cell.size)
        for subcircuit in [try cell.subcircuit(pdk: pdk), try input.subcircuit(pdk: pdk), try bias.subcircuit(pdk: pdk)] {
            try circuit.define(subcircuit)
        }
        let biasSets = cellBiasSets(unitCurrent: unitCurrent, topology: cell.topology)
        // One input diode per peak drives the M1 of every cell swept to that peak.
        let peaks = Array(Set(biasSets.map { cellPeak(threshold: $0.0, width: $0.1, topology: cell.topology) })).sorted()
        for (k, peak) in peaks.enumerated() {
            circuit.elements += [
                .instance(Instance(name: "input\(k)", subcircuit: input.name, nodes: ["cin\(k)", "vdd"])),
                .currentSource(name: "input\(k)", positive: "cin\(k)", negative: "0",
                               value: .pwl([PWLPoint(0, 0), PWLPoint(cellRamp, peak), PWLPoint(2 * cellRamp, 0)])),
            ]
        }
        for (index, biases) in biasSets.enumerated() {
            let nodes = ["thresh", "width", "gain"].map { "\($0)\(index)" }
            for (node, current) in zip(nodes, [biases.0, biases.1, biases.2]) {
                circuit.elements += [
                    .instance(Instance(name: node, subcircuit: bias.name, nodes: [node, "0"])),
                    .currentSource(name: node, positive: "vdd", negative: node, value: .dc(.number(current))),
                ]
            }
            circuit.elements += [
                .instance(Instance(name: "cell\(index)", of: try cell.subcircuit(pdk: pdk), connections: [
                    "in": "cin\(peaks.firstIndex(of: cellPeak(threshold: biases.0, width: biases.1, topology: cell.topology))!)", "thresh": nodes[0], "width": nodes[1], "gain": nodes[2], "out1": "out\(index)", "vss": "0",
                ])),
                .voltageSource(name: "out\(index)", positive: "out\(index)", negative: "half", value: .dc(0)),
            ]
            circuit.saves.append(.current(source: "out\(index)"))
        }
        circuit.analyses = [.tran(step: cellRamp / 1000, stop: 2 * cellRamp, maxStep: cellRamp / 1000)]
    }

    /// One readout per level: input b held at the reference, input a ramped from 0.9 to 1.1 times it.
    private static func addReadouts(to circuit: inout Circuit, pdk: PDK, unitCurrent: Double) throws {
        let readout = DifferentialPair(), bias = ReLU(name: "bias_diode", polarity: .nmos, size: readout.size)
        try circuit.define(readout.subcircuit(pdk: pdk))
        try circuit.define(bias.subcircuit(pdk: pdk))
        circuit.elements += [
            .instance(Instance(name: "tail", subcircuit: bias.name, nodes: ["tail", "0"])),
            .currentSource(name: "tail", positive: "vdd", negative: "tail",
                           value: .dc(.number(Characterization.readoutTail(unitCurrent)))),
        ]
        for (index, level) in readoutLevels.enumerated() {
            let reference = level * unitCurrent
            circuit.elements += [
                .currentSource(name: "a\(index)", positive: "0", negative: "a\(index)",
                               value: .pwl([PWLPoint(0, 0.9 * reference), PWLPoint(readoutRamp, 1.1 * reference)])),
                .currentSource(name: "b\(index)", positive: "0", negative: "b\(index)", value: .dc(.number(reference))),
                .instance(Instance(name: "ro\(index)", of: try readout.subcircuit(pdk: pdk), connections: [
                    "a": "a\(index)", "b": "b\(index)", "out": "out\(index)", "vss": "0",
                ])),
            ]
            circuit.saves.append(.voltage("out\(index)"))
        }
        circuit.analyses = [.tran(step: readoutRamp / 2000, stop: readoutRamp, maxStep: readoutRamp / 2000)]
    }

    /// Unit mirrors at I_u, one per output polarity, each with three unit outputs: held at half the
    /// supply (as in the tables), into an NMOS-diode node and into a PMOS-diode node (ReLU diodes of
    /// the network's size). A node whose diode has the output's own type also gets 2 I_u from an
    /// ideal source, so its diode carries about I_u, as at a real node where that term subtracts.
    private static func addDrainMirrors(to circuit: inout Circuit, pdk: PDK, unitCurrent: Double) throws {
        for polarity in Polarity.allCases {
            let mirror = CurrentMirror(name: "unit_\(polarity.rawValue)", polarity: polarity, ratios: [1, 1, 1])
            try circuit.define(mirror.subcircuit(pdk: pdk))
            let tag = polarity.rawValue, input = "in_\(tag)"
            var connections = ["in": input, "rail": polarity == .nmos ? "0" : "vdd", "out1": "o_\(tag)_half"]
            circuit.elements.append(.voltageSource(name: "o_\(tag)_half", positive: "o_\(tag)_half", negative: "half",
                                                   value: .dc(0)))
            circuit.saves.append(.current(source: "o_\(tag)_half"))
            for (index, node) in Polarity.allCases.enumerated() {
                let (drain, sum) = ("o_\(tag)_\(node.rawValue)", "n_\(tag)_\(node.rawValue)")
                let diode = ReLU(name: "node_\(tag)_\(node.rawValue)", polarity: node)
                try circuit.define(diode.subcircuit(pdk: pdk))
                connections["out\(index + 2)"] = drain
                circuit.elements += [
                    .voltageSource(name: drain, positive: drain, negative: sum, value: .dc(0)),
                    .instance(Instance(name: "d_\(tag)_\(node.rawValue)", subcircuit: diode.name,
                                       nodes: [sum, node == .nmos ? "0" : "vdd"])),
                ]
                if node == polarity {
                    let extra = Value.number(2 * unitCurrent)
                    circuit.elements.append(node == .nmos
                        ? .currentSource(name: "x_\(tag)", positive: "vdd", negative: sum, value: .dc(extra))
                        : .currentSource(name: "x_\(tag)", positive: sum, negative: "0", value: .dc(extra)))
                }
                circuit.saves.append(.current(source: drain))
            }
            circuit.elements.append(.instance(Instance(name: "m_\(tag)", of: try mirror.subcircuit(pdk: pdk),
                                                       connections: connections)))
            let current = Value.number(unitCurrent)
            circuit.elements.append(polarity == .nmos
                ? .currentSource(name: input, positive: "0", negative: input, value: .dc(current))
                : .currentSource(name: input, positive: input, negative: "0", value: .dc(current)))
        }
        circuit.analyses = [.op]
    }

    /// Adds the `BiasReference` fed I_u, and per `biasGroups` entry g an output of every nominal width
    /// ratio `widths[g]` on its gate line, each into its own diode (network size: `cellSize` for cell
    /// biases, a summing node's otherwise) through a sense source `b<g>_<index>`. A diode of the
    /// output's own type also gets (ratio + 1) I_u from an ideal source, so it carries about I_u as at
    /// a real node where the bias subtracts. The bias sweep measures `biasWidths`; a test measures
    /// the widths the tables choose the same way.
    public static func addBiasMirrors(to circuit: inout Circuit, pdk: PDK, unitCurrent: Double, cellSize: DeviceSize,
                                      widths: [[Double]]) throws {
        let reference = BiasReference()
        try circuit.define(reference.subcircuit(pdk: pdk))
        circuit.elements += [
            .currentSource(name: "ref", positive: "vdd", negative: "refn", value: .dc(.number(unitCurrent))),
            .instance(Instance(name: "reference", of: try reference.subcircuit(pdk: pdk),
                               connections: ["refn": "refn", "refp": "refp", "vdd": "vdd", "vss": "0"])),
        ]
        for (group, (polarity, node, cell)) in biasGroups.enumerated() {
            let diode = ReLU(name: "diode\(group)", polarity: node, size: cell ? cellSize : CurrentMirror.mirrorUnit)
            try circuit.define(diode.subcircuit(pdk: pdk))
            let mirror = CurrentMirror(name: "bias\(group)", polarity: polarity, ratios: widths[group], diode: false)
            try circuit.define(mirror.subcircuit(pdk: pdk))
            var connections = ["in": polarity == .pmos ? "refp" : "refn", "rail": polarity == .nmos ? "0" : "vdd"]
            for (w, width) in widths[group].enumerated() {
                let (drain, sum) = ("o\(group)_\(w)", "n\(group)_\(w)")
                connections["out\(w + 1)"] = drain
                circuit.elements += [
                    .voltageSource(name: "b\(group)_\(w)", positive: drain, negative: sum, value: .dc(0)),
                    .instance(Instance(name: "d\(group)_\(w)", subcircuit: diode.name, nodes: [sum, node == .nmos ? "0" : "vdd"])),
                ]
                if node == polarity {
                    let extra = Value.number((width + 1) * unitCurrent)
                    circuit.elements.append(node == .nmos
                        ? .currentSource(name: "x\(group)_\(w)", positive: "vdd", negative: sum, value: .dc(extra))
                        : .currentSource(name: "x\(group)_\(w)", positive: sum, negative: "0", value: .dc(extra)))
                }
                circuit.saves.append(.current(source: "b\(group)_\(w)"))
            }
            circuit.elements.append(.instance(Instance(name: "m\(group)", of: try mirror.subcircuit(pdk: pdk),
                                                       connections: connections)))
        }
        circuit.analyses = [.op]
    }
}
