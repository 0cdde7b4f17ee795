import BMRU
import Foundation
import PDK
import SpiceValues

/// Compiles a trained FQ-BMRU model into a hierarchical transistor-level deck and its manifest
/// (`bmru netlist`), one circuit element per learned parameter (docs/design/fq-bmru-circuit.md, "The circuit").
///
/// Signals are non-negative currents, each carried by the gate line of a diode-connected device (its
/// *native* line); a 1:1 converter (a native output into a diode of the other type) adds the other
/// line only where a consumer needs it. At a summing node whose diode is NMOS (current flowing in is
/// what it conducts), a positive term is a PMOS output sourcing into the node and a negative term an
/// NMOS output sinking from it; at a PMOS-diode node (the candidate nodes: the cell's M1 mirrors a
/// PMOS diode) the roles swap. The diode is the ReLU. Mapping:
/// - signed inputs: each feature x_j is two non-negative currents x_j+ = max(x_j, 0) and
///   x_j- = max(-x_j, 0), the second with negated weights: exact for any input range, no offset;
/// - residual stream: u_k = W_pre x + b_pre + p_0 + ... + p_(k-1) is summed afresh at its own node
///   for every k (the pre-projection terms and bias are replicated, each p_m is copied 1:1 into every
///   later u node), so the signed u_k is never clipped before its own ReLU;
/// - W_c, W_post, W_cls: mirror outputs sized from the characterization table (`width(for:at:)`,
///   centred on `calibrationRange`, with the table's `narrowestOutput` rule) when one is given, else
///   nominally (width ratio = |weight|); zero weights get no element;
/// - biases: ideal current sources on the bias supply, or (`mirroredBiases`) mirror outputs of one
///   reference current;
/// - alpha, beta_hi = beta_lo + delta, delta: I_gain, I_thresh, I_width of the cell, corrected by the
///   characterization's joint fits when given (`cellBiases`: on at beta_hi, off at beta_lo, high at
///   alpha over the state node's drain factor). beta_lo = 0 (never resets: c >= 0) gets I_width =
///   I_thresh + I_u/4, so the cell cannot switch off;
/// - s0: `.ic` on each cell's comparator node;
/// - cell timing (`cellTiming`): filtered cells (default) are the published 9-transistor cell with
///   a capacitor at its comparator node, which integrates a candidate's transient after an input
///   edge instead of latching it; continuous cells are the published cell as it is; sampled cells
///   compare only in their block's window of each frame (`SampleClock`) (docs/design/cell-variants.md);
/// - classifier: the readout compares A = (positive parts of logit 0) + (negative parts of logit 1)
///   with B (the rest), so A - B = logit_0 - logit_1 exactly and every current is non-negative. Only
///   two-class models are compiled: the readout is a two-input comparator.
///
/// Supplies: `vdd_cell` (memory cells), `vdd_ff` (feedforward mirrors, converters, readout) and
/// `vdd_bias` (every ideal bias source), all at `supply`, so power splits by source current. State
/// currents pass through 0 V sense sources (`stateProbe`), the class currents too (`classProbes`).
public struct Compiler: Sendable {
    /// The target PDK.
    public var pdk: PDK
    /// The model corner (resolved).
    public var corner: String
    /// Amperes per model unit; nil takes the model's `unit_current`.
    public var unitCurrent: Double?
    /// Measured tables for sizing and bias correction; nil sizes nominally.
    public var characterization: Characterization?
    /// Supply voltage of all three supplies, volts.
    public var supply: Double = 1.8
    /// Duration of one input frame, seconds (the paper's 10 ms).
    public var frameDuration: Double = 0.01
    /// Rise and fall time of the sampled cells' clock lines, seconds (input ramps are the mode's
    /// `SimulationMode.inputEdge`).
    public var clockEdge: Double = 1e-5
    /// Whether the memory cells compare continuously or only in a window of each frame.
    public var cellTiming: CellTiming = .filtered
    /// The size of every memory-cell device: the cell's, its bias diodes' and its candidate diode's
    /// (`DeviceSize.unit` unless a characterization measured another; `DeviceSize.scaled(area:)`).
    ///
    /// The cell's thresholds are differences of bias currents copied by 1:1 mirrors of this size,
    /// so device mismatch moves them by a sigma proportional to 1 / sqrt(W L) (Pelgrom): a larger
    /// cell is the compiler's mismatch-aware design option, paid for in gate area at the same power
    /// (docs/robustness.md). A characterization measures one size; compiling another with it is an error.
    public var cellSize: DeviceSize = .unit
    /// Time-step control and tolerances of the transient over `Inputs.frames` (decks with EXTERNAL
    /// inputs keep the default options and get no analysis).
    public var mode: SimulationMode = .transient
    /// The folder the deck will be written to, to write the PDK's model paths relative to it
    /// (`PDK.modelStatements(relativeTo:)`: a deck that can be committed and still runs in
    /// `ngspice -b`); nil writes absolute paths, which decks loaded through the library need.
    public var modelsRelativeTo: URL?
    /// Whether bias currents are transistor-level: mirror outputs of one reference current I_u (an
    /// ideal source on `vdd_bias` into an NMOS diode, copied once into a PMOS diode), sized like
    /// weights (from the table when given; biases below `minimumRatio` I_u are omitted). False: one
    /// ideal source per bias, exact.
    public var mirroredBiases = false

    /// Operating temperature in degrees Celsius (the deck's `.options temp`).
    public var temperature: Double = 27
    /// Which statistical variation of the PDK's models the deck turns on (Monte Carlo): the draws
    /// themselves come from the simulator's seed (`SimulationJob.seed`), so one deck text stands
    /// for every sample.
    public var statistics: StatisticalVariation = .none
    /// Shot noise sources in parallel with every input, bias and mirror output (nil: none).
    /// Mirror outputs carry the noise of their current at one unit of input, inputs that of their
    /// clip's mean current.
    public var noise: ShotNoise?

    /// The signal levels, in units of the unit current, that weight mirrors are calibrated for
    /// (`Characterization.width(for:at:polarity:node:range:)`).
    public var calibrationRange = Characterization.signalRange

    /// The narrowest weight-mirror output drawn before lengthening (`CurrentMirror.outputSize`),
    /// metres: the characterization's, since its tables describe only outputs sized by its rule.
    public var narrowestOutput: Double {
        characterization.map(\.narrowestOutput) ?? CurrentMirror.standardNarrowestOutput
    }

    /// A compiler for `pdk` in `corner` (default: the PDK's).
    public init(pdk: PDK, corner: String? = nil, unitCurrent: Double? = nil,
                characterization: Characterization? = nil) throws(CompileError) {
        self.pdk = pdk
        do { self.corner = try pdk.corner(corner) } catch { throw .pdk(error.description) }
        self.unitCurrent = unitCurrent
        self.characterization = characterization
        if let characterization { cellSize = characterization.cellSize }
    }

    /// Where the deck's input currents come from.
    public enum Inputs: Sendable, Equatable {
        /// PWL sources holding each frame (model units, `[frame][feature]`) for `frameDuration`, and a
        /// transient over all frames.
        case frames([[Double]])
        /// EXTERNAL sources driven by the host program; no analysis statement.
        case external
    }

    /// The 0 V source carrying unit `unit`'s state current of block `block`.
    public static func stateProbe(block: Int, unit: Int) -> Probe { .current(source: "sense_h\(block)_\(unit)") }
    /// The 0 V sources carrying the readout's two input currents A and B.
    public static let classProbes: [Probe] = [.current(source: "sense_cls_a"), .current(source: "sense_cls_b")]
    /// The readout's decision node: high when class 0 wins.
    public static let decisionNode = "decision"
    /// The smallest current ratio an output of the weight-mirror unit can realise in `pdk`: a
    /// minimum-width device of `CurrentMirror.maximumLength`. Smaller weights are omitted (listed in the
    /// manifest as `omitted`): their current is below that ratio times the input, a few picoamperes at
    /// 1 nA.
    public static func minimumRatio(pdk: PDK) -> Double {
        let unit = CurrentMirror.mirrorUnit
        return pdk.descriptor.wmin / unit.width * unit.length / CurrentMirror.maximumLength
    }

    /// The readout input (0: A, 1: B) that carries the term of logit `logit` (0 or 1) with weight or
    /// bias `value`: A takes the positive parts of logit 0 and the negative parts of logit 1, B the
    /// rest, so that A - B = logit 0 - logit 1 with every current non-negative.
    public static func readoutInput(logit: Int, value: Double) -> Int { value >= 0 ? logit : 1 - logit }

    /// What the readout's inputs A and B carry in an exact circuit, model units: the classifier's
    /// terms of a two-class `model` on its input `features` (ReLU of the last residual u_B), each on
    /// its `readoutInput`. Compared with the measured class currents it splits an error of A - B by
    /// input.
    public static func readoutCurrents(model: Model, features: some Collection<Double>) -> [Double] {
        let d = model.config.hidden
        var currents = [0.0, 0.0]
        for c in 0..<2 {
            let bias = model.classifier.bias[c]
            currents[readoutInput(logit: c, value: bias)] += abs(bias)
            for (j, x) in features.enumerated() {
                let w = model.classifier.weight[c * d + j]
                currents[readoutInput(logit: c, value: w)] += abs(w) * max(x, 0)
            }
        }
        return currents
    }

    /// The three supplies, in the manifest's order.
    public static let supplies = ["vdd_cell", "vdd_ff", "vdd_bias"]

    /// The amperes per model unit in a compilation of `model`: the override, else the model's own.
    /// Whoever reads the deck's currents back in model units must use this, not the model's value.
    public func unitCurrent(for model: Model) -> Double { unitCurrent ?? model.config.unitCurrent }

    /// The largest magnitude of a parameter or input the compiler maps, in units: one unit is one
    /// mirror unit, so a weight of 1000 is already a 1000-finger output (docs/model-format.md).
    public static let maximumMagnitude = 1e3

    /// Compiles `model`; every check happens before anything is returned, so an invalid model
    /// produces nothing. The unit current must lie in `ModelConfig.unitCurrentRange`, and every
    /// parameter and input value within `maximumMagnitude` units.
    public func compile(_ model: Model, inputs: Inputs = .external) throws(CompileError) -> Compilation {
        let iu = unitCurrent(for: model)
        guard ModelConfig.unitCurrentRange.contains(iu) else {
            let range = ModelConfig.unitCurrentRange
            throw .invalidModel("unit current \(iu) A must be in \(range.lowerBound)...\(range.upperBound) A")
        }
        guard model.config.cell == ModelConfig.fqCell else { throw .invalidModel("cell '\(model.config.cell)' is not fq-bmru") }
        guard model.config.classes.count == 2 else {
            throw .invalidModel("\(model.config.classes.count) classes: the readout compares exactly two")
        }
        for (name, tensor) in model.tensors().sorted(by: { $0.key < $1.key }) {
            if let flat = tensor.values.firstIndex(where: { !(abs($0) <= Self.maximumMagnitude) }) {
                let index = Model.index(flat, tensor.shape).map { "[\($0)]" }.joined()
                throw .unrealizable(parameter: name + index, reason: "\(tensor.values[flat]) is beyond the compiler's bound "
                    + "of \(Self.maximumMagnitude) units")
            }
        }
        if case let .frames(frames) = inputs {
            guard !frames.isEmpty else { throw .invalidModel("no input frames") }
            for (t, frame) in frames.enumerated() {
                guard frame.count == model.config.inputs else {
                    throw .invalidModel("input frame \(t) has \(frame.count) values, expected \(model.config.inputs)")
                }
                if let j = frame.firstIndex(where: { !(abs($0) <= Self.maximumMagnitude) }) {
                    throw .invalidModel("input frame \(t) feature \(j) is \(frame[j]), must be finite and within "
                        + "\(Self.maximumMagnitude) units")
                }
            }
        }
        if let table = characterization, table.cellSize != cellSize {
            throw .characterization(.invalid("its cells were measured at \(describe(table.cellSize)), the deck's are "
                + "\(describe(cellSize)): characterize at that cell size (bmru characterize --cell-area)"))
        }
        do {
            // With variation on, the PDK's statistical devices (if it names some) are instantiated.
            var compiler = self
            compiler.pdk = pdk.varied(statistics)
            var builder = Builder(compiler: compiler, model: model, unitCurrent: iu)
            return try builder.build(inputs: inputs)
        } catch let error as CompileError {
            throw error
        } catch let error as NetlistError {
            throw .netlist(error)
        } catch let error as CharacterizationError {
            throw .characterization(error)
        } catch let error as PDKError {
            throw .pdk(error.description)
        } catch {
            throw .invalidModel("\(error)")
        }
    }
}

/// A compiled model: the deck and its manifest.
public struct Compilation: Sendable, Equatable {
    /// The deck.
    public var circuit: Circuit
    /// What each parameter became.
    public var manifest: Manifest

    /// The deck's text.
    public func deck() throws(NetlistError) -> String { try SpiceWriter().text(circuit) }

    /// File names written by `write(to:)`.
    public static let deckFileName = "deck.cir", manifestFileName = "manifest.json"

    /// Writes `deck.cir` and `manifest.json` into `directory` (created if needed). Both texts are made
    /// before either file is written.
    public func write(to directory: URL) throws(CompileError) {
        let text: String
        do { text = try deck() } catch { throw .netlist(error) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let json = try encoder.encode(manifest)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: directory.appendingPathComponent(Self.deckFileName))
            try (json + Data("\n".utf8)).write(to: directory.appendingPathComponent(Self.manifestFileName))
        } catch {
            throw .file(directory.path, fileErrorReason(error))
        }
    }
}

/// What the compiler made of each parameter, and totals.
public struct Manifest: Sendable, Equatable, Codable {
    /// The model's name.
    public var model: String
    /// PDK and corner.
    public var pdk: String, corner: String
    /// Amperes per unit and supply volts.
    public var unitCurrent: Double, supply: Double
    /// Whether sizes and biases come from a characterization (else nominal).
    public var characterized: Bool
    /// Continuous or sampled memory cells.
    public var cells: CellTiming
    /// With sampled cells, each block's comparison window within a frame.
    public var sampleWindows: [SampleWindow]?
    /// Every learned parameter (and s0) with its elements, in tensor order.
    public var parameters: [Entry]
    /// Device and bias totals.
    public var totals: Totals

    enum CodingKeys: String, CodingKey {
        case model, pdk, corner, unitCurrent = "unit_current", supply, characterized, cells
        case sampleWindows = "sample_windows", parameters, totals
    }

    /// When block `block`'s cells compare: from `open` to `close` seconds after each frame starts.
    public struct SampleWindow: Sendable, Equatable, Codable {
        /// The block.
        public var block: Int
        /// Window start and end within the frame, seconds.
        public var open, close: Double
    }

    /// One parameter and the elements realising it.
    public struct Entry: Sendable, Equatable, Codable {
        /// Tensor name and index, e.g. `pre.weight[2][5]`.
        public var parameter: String
        /// Its value in model units.
        public var value: Double
        /// Its elements (several when replicated; none for a zero weight).
        public var elements: [ElementInfo]
    }

    /// One element: a transistor output, a bias source or an initial condition.
    public struct ElementInfo: Sendable, Equatable, Codable {
        /// Path of the element: subcircuit instance and element name as written.
        public var name: String
        /// `mirror output`, `omitted` (a weight below `Compiler.minimumRatio`), `bias source`, `cell bias`
        /// or `initial condition`.
        public var kind: String
        /// Transistor type, for outputs.
        public var polarity: Polarity?
        /// Drawn width and length in metres and multiplier, for outputs.
        public var width: Double?, length: Double?, multiplier: Int?
        /// Nominal width ratio chosen for the weight, for outputs.
        public var widthRatio: Double?
        /// Current in amperes (nominal for outputs at one unit of input), for sources; volts for `.ic`.
        public var current: Double?

        enum CodingKeys: String, CodingKey {
            case name, kind, polarity, width, length, multiplier, widthRatio = "width_ratio", current
        }
    }

    /// Totals over the whole deck.
    public struct Totals: Sendable, Equatable, Codable {
        /// Transistors (fingers counted).
        public var transistors: Int
        /// Sum of W L over all transistors, m^2.
        public var gateArea: Double
        /// Sum of the magnitudes of all bias currents as designed (ideal or mirrored; the mirrored
        /// reference not included), amperes.
        public var biasCurrent: Double
        /// Power drawn from `vdd_bias` by those biases and the mirrored reference, watts (the rest depends on the signals:
        /// measure it from the supply currents of a transient).
        public var biasPower: Double

        enum CodingKeys: String, CodingKey {
            case transistors, gateArea = "gate_area", biasCurrent = "bias_current", biasPower = "bias_power"
        }
    }
}

/// Why a model could not be compiled; one line each.
public enum CompileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The model (or the inputs given with it) cannot be compiled.
    case invalidModel(String)
    /// A parameter has no circuit realisation (a non-positive corrected bias).
    case unrealizable(parameter: String, reason: String)
    /// The PDK or corner cannot be used.
    case pdk(String)
    /// The netlist could not be built or written.
    case netlist(NetlistError)
    /// The characterization cannot be used.
    case characterization(CharacterizationError)
    /// An output file could not be written.
    case file(String, String)

    public var description: String {
        switch self {
        case let .invalidModel(reason): "model cannot be compiled: \(reason)"
        case let .unrealizable(parameter, reason): "\(parameter) cannot be realised: \(reason)"
        case let .pdk(reason): reason
        case let .netlist(error): error.description
        case let .characterization(error): error.description
        case let .file(path, reason): "\(path): \(reason)"
        }
    }
}

// MARK: - Building

/// A summing node: the diode at it (if this deck owns one) fixes which way is positive.
private struct SumNode {
    var name: String
    var direction: Polarity
    var diode: DeviceSize?
    var layer: String
}

/// A contribution to a node: a mirror output from a signal's line, or (no source) an ideal bias.
private struct Term {
    var source: String?
    var target: String
    var weight: Double
    var layer: String
    var parameter: String
    var value: Double
}

extension Polarity {
    /// The other transistor type: the polarity of a node's opposite-direction terms and converters.
    var opposite: Polarity { self == .nmos ? .pmos : .nmos }
}

private struct Builder {
    let compiler: Compiler
    let model: Model
    let unitCurrent: Double
    var nodes: [SumNode] = []
    var terms: [Term] = []
    var entries: [Manifest.Entry] = []
    var biasCurrent = 0.0, biasSupplyCurrent = 0.0

    init(compiler: Compiler, model: Model, unitCurrent: Double) {
        self.compiler = compiler
        self.model = model
        self.unitCurrent = unitCurrent
    }

    var pdk: PDK { compiler.pdk }
    var d: Int { model.config.hidden }
    var blocks: Int { model.config.blocks }
    var cell: MemoryCell {
        MemoryCell(size: compiler.cellSize, outputs: [1], sampled: clock != nil,
                   comparatorCapacitance: compiler.cellTiming == .filtered ? MemoryCell.filterCapacitance : nil)
    }
    /// The cells' clocks; nil for continuous cells.
    var clock: SampleClock? {
        guard compiler.cellTiming == .sampled else { return nil }
        return SampleClock(blocks: blocks, frameDuration: compiler.frameDuration, supply: compiler.supply, edge: compiler.clockEdge)
    }

    mutating func node(_ name: String, _ direction: Polarity, layer: String, diode: DeviceSize? = CurrentMirror.mirrorUnit) {
        nodes.append(SumNode(name: name, direction: direction, diode: diode, layer: layer))
    }

    mutating func term(_ source: String?, _ target: String, _ weight: Double, layer: String, _ parameter: String,
                       value: Double? = nil) {
        terms.append(Term(source: source, target: target, weight: weight, layer: layer, parameter: parameter,
                          value: value ?? weight))
    }

    /// Fills `nodes` and `terms` from the model (the plan), layer by layer.
    mutating func plan() {
        let n = model.config.inputs
        for j in 0..<n { for sign in ["p", "n"] { node("x\(j)\(sign)", .nmos, layer: "inputs") } }
        for k in 0...blocks { for i in 0..<d { node("u\(k)_\(i)", .nmos, layer: "pre") } }
        for k in 0...blocks {
            for i in 0..<d {
                term(nil, "u\(k)_\(i)", model.pre.bias[i], layer: "pre", "pre.bias[\(i)]")
                for j in 0..<n {
                    let w = model.pre.weight[i * n + j], parameter = "pre.weight[\(i)][\(j)]"
                    term("x\(j)p", "u\(k)_\(i)", w, layer: "pre", parameter)
                    term("x\(j)n", "u\(k)_\(i)", -w, layer: "pre", parameter, value: w)
                }
            }
        }
        for (k, block) in model.blocks.enumerated() {
            let (cand, cells, post) = ("b\(k)_cand", "b\(k)_cells", "b\(k)_post")
            for i in 0..<d {
                node("c\(k)_\(i)", .pmos, layer: cand, diode: cell.size)
                term(nil, "c\(k)_\(i)", block.cell.candidate.bias[i], layer: cand, "blocks.\(k).cell.bias[\(i)]")
                for j in 0..<d {
                    term("u\(k)_\(j)", "c\(k)_\(i)", block.cell.candidate.weight[i * d + j], layer: cand,
                         "blocks.\(k).cell.weight[\(i)][\(j)]")
                }
            }
            for i in 0..<d { node("h\(k)_\(i)", .nmos, layer: cells) }
            for i in 0..<d {
                node("p\(k)_\(i)", .nmos, layer: post)
                term(nil, "p\(k)_\(i)", block.post.bias[i], layer: post, "blocks.\(k).post.bias[\(i)]")
                for j in 0..<d {
                    term("h\(k)_\(j)", "p\(k)_\(i)", block.post.weight[i * d + j], layer: post,
                         "blocks.\(k).post.weight[\(i)][\(j)]")
                }
                for m in (k + 1)...blocks {
                    term("p\(k)_\(i)", "u\(m)_\(i)", 1, layer: post, "residual.\(k)[\(i)]")
                }
            }
        }
        // A and B of the readout: the readout's own input diodes are the NMOS diodes here.
        node("cls_a", .nmos, layer: "cls", diode: nil)
        node("cls_b", .nmos, layer: "cls", diode: nil)
        let targets = ["cls_a", "cls_b"]
        for c in 0..<2 {
            let bias = model.classifier.bias[c]
            term(nil, targets[Compiler.readoutInput(logit: c, value: bias)], abs(bias), layer: "cls",
                 "classifier.bias[\(c)]", value: bias)
            for j in 0..<d {
                let w = model.classifier.weight[c * d + j]
                term("u\(blocks)_\(j)", targets[Compiler.readoutInput(logit: c, value: w)], abs(w), layer: "cls",
                     "classifier.weight[\(c)][\(j)]", value: w)
            }
        }
    }

    func direction(of node: String) -> Polarity { nodes.first { $0.name == node }!.direction }
    func native(_ signal: String) -> Polarity { direction(of: signal) }

    /// The transistor type realising a term: against the node's diode when positive, with it when negative.
    func polarity(_ term: Term) -> Polarity {
        term.weight > 0 ? direction(of: term.target).opposite : direction(of: term.target)
    }

    /// The gate line of `signal` for a device of `polarity`.
    func line(_ signal: String, _ polarity: Polarity) -> String {
        polarity == native(signal) ? signal : signal + "_c"
    }

    func rail(_ polarity: Polarity, supply: String = "vdd_ff") -> String { polarity == .nmos ? "0" : supply }

    /// The nominal width ratio realising current ratio `ratio` on a `polarity` output that drives a
    /// node with a `node` diode (its drain voltage: `Characterization.DrainFactor`).
    func widthRatio(_ ratio: Double, _ polarity: Polarity, node: Polarity) throws -> Double {
        try compiler.characterization?.width(for: ratio, at: unitCurrent, polarity: polarity, node: node,
                                             range: compiler.calibrationRange) ?? ratio
    }

    mutating func record(_ parameter: String, _ value: Double, _ info: Manifest.ElementInfo?) {
        if let index = entries.firstIndex(where: { $0.parameter == parameter }) {
            if let info { entries[index].elements.append(info) }
        } else {
            entries.append(Manifest.Entry(parameter: parameter, value: value, elements: info.map { [$0] } ?? []))
        }
    }

    /// The shot noise source of a current of `amperes` between `positive` and `negative`, when the
    /// compiler adds noise.
    func noise(_ name: String, _ positive: String, _ negative: String, amperes: Double) -> [Element] {
        compiler.noise?.source(for: name, between: positive, negative, current: amperes).map { [$0] } ?? []
    }

    /// An output transistor of `polarity` on `gate`, sizing `ratio`, into `drain` (a node whose
    /// diode is of type `node`; a PMOS output from `supply`) and its noise source; no element when
    /// the ratio is below `Compiler.minimumRatio`.
    func output(_ name: String, _ polarity: Polarity, gate: String, drain: String, node: Polarity, ratio: Double,
                layer: String, supply: String = "vdd_ff", kind: String = "mirror output")
        throws -> ([Element], Manifest.ElementInfo)
    {
        let chosen = try widthRatio(ratio, polarity, node: node)
        guard chosen >= Compiler.minimumRatio(pdk: pdk) else {
            return ([], Manifest.ElementInfo(name: "x\(layer).\(name)", kind: "omitted", polarity: polarity,
                                              widthRatio: chosen, current: ratio * unitCurrent))
        }
        let (size, fingers) = try CurrentMirror.outputSize(ratio: chosen, unit: CurrentMirror.mirrorUnit,
                                                           narrowest: compiler.narrowestOutput, pdk: pdk)
        let element = transistor(name, polarity, drain: drain, gate: gate, source: rail(polarity, supply: supply),
                                 bulk: rail(polarity, supply: supply), size: size, multiplier: fingers, pdk: pdk)
        let info = Manifest.ElementInfo(name: "x\(layer).\(try SpiceWriter.elementName(name, letter: polarity.device(in: pdk).subcircuit ? "x" : "m"))",
                                        kind: kind, polarity: polarity, width: size.width,
                                        length: size.length, multiplier: fingers, widthRatio: chosen,
                                        current: ratio * unitCurrent)
        return ([element] + noise(name, drain, rail(polarity, supply: supply), amperes: ratio * unitCurrent), info)
    }

    /// The gate lines of the mirrored bias reference: PMOS outputs source from `vdd_bias` on the
    /// first, NMOS outputs sink on the second.
    static let biasReference = (pmos: "bias_refp", nmos: "bias_refn")

    /// A bias of `amperes` in the positive direction of `node` (negative: the other way): an ideal
    /// source, or a mirror output of the reference (`Compiler.mirroredBiases`; none when omitted), and
    /// its noise source.
    mutating func biasSource(_ name: String, node: String, amperes: Double, direction: Polarity, layer: String,
                             kind: String = "bias source") throws -> ([Element], Manifest.ElementInfo) {
        // Into an NMOS-diode node (or out of a PMOS-diode node) is the positive direction.
        let into = (amperes > 0) == (direction == .nmos)
        biasCurrent += abs(amperes)
        if into { biasSupplyCurrent += abs(amperes) }
        if compiler.mirroredBiases {
            let polarity: Polarity = into ? .pmos : .nmos
            return try output(name, polarity, gate: polarity == .pmos ? Self.biasReference.pmos : Self.biasReference.nmos,
                              drain: node, node: direction, ratio: abs(amperes) / unitCurrent, layer: layer,
                              supply: "vdd_bias", kind: kind + " (mirrored)")
        }
        let element = Element.currentSource(name: name, positive: into ? "vdd_bias" : node, negative: into ? node : "0",
                                            value: .dc(.number(abs(amperes))))
        return ([element] + noise(name, node, "0", amperes: amperes),
                Manifest.ElementInfo(name: "x\(layer).i\(name)", kind: kind, current: amperes))
    }

    mutating func build(inputs: Compiler.Inputs) throws -> Compilation {
        plan()
        // Which converted lines are needed.
        var converted = Set<String>()
        for term in terms {
            if let source = term.source, term.weight != 0, line(source, polarity(term)) != source { converted.insert(source) }
        }
        var circuit = Circuit(title: "BMRUKit: \(model.config.name) on \(pdk.name) (\(compiler.corner)), "
                                  + "I_u = \(spiceNumber(unitCurrent)) A" + (compiler.characterization == nil ? ", nominal sizing" : ", characterized"),
                              models: try pdk.modelStatements(corner: compiler.corner, statistics: compiler.statistics,
                                                              relativeTo: compiler.modelsRelativeTo))
        try circuit.define(cell.subcircuit(pdk: pdk))
        let readout = DifferentialPair()
        try circuit.define(readout.subcircuit(pdk: pdk))
        var layers = ["inputs", "pre"]
        for k in 0..<blocks { layers += ["b\(k)_cand", "b\(k)_cells", "b\(k)_post"] }
        layers.append("cls")
        var top: [Element] = []
        for layer in layers {
            var elements: [Element] = []
            var counts: [String: Int] = [:]
            for node in nodes where node.layer == layer {
                if let size = node.diode {
                    elements.append(transistor("d_\(node.name)", node.direction, drain: node.name, gate: node.name,
                                               source: rail(node.direction), bulk: rail(node.direction), size: size, pdk: pdk))
                }
                if converted.contains(node.name) {
                    let other = node.direction.opposite
                    let (copy, _) = try output("conv_\(node.name)", node.direction, gate: node.name, drain: node.name + "_c",
                                               node: other, ratio: 1, layer: layer)
                    // A 1:1 copy is always realisable.
                    elements += copy + [transistor("d_\(node.name)_c", other, drain: node.name + "_c", gate: node.name + "_c",
                                                  source: rail(other), bulk: rail(other), size: CurrentMirror.mirrorUnit, pdk: pdk)]
                }
            }
            if layer.hasSuffix("_cells") { elements += try cellElements(layer: layer, &circuit) }
            if layer == "cls" {
                let tail = Characterization.readoutTail(unitCurrent)
                elements.append(transistor("d_ro_tail", .nmos, drain: "ro_tail", gate: "ro_tail", source: "0", bulk: "0",
                                           size: readout.size, pdk: pdk))
                elements += try biasSource("ro_tail", node: "ro_tail", amperes: tail, direction: .nmos, layer: layer).0
            }
            for term in terms where term.layer == layer {
                guard term.weight != 0 else {
                    record(term.parameter, term.value, nil)
                    continue
                }
                let base = term.source.map { "w_\($0)_\(term.target)" } ?? "b_\(term.target)"
                let count = counts[base, default: 0]
                counts[base] = count + 1
                let name = count == 0 ? base : "\(base)_\(count)"
                if let source = term.source {
                    let q = polarity(term)
                    let (added, info) = try output(name, q, gate: line(source, q), drain: term.target,
                                                   node: direction(of: term.target), ratio: abs(term.weight), layer: layer)
                    elements += added
                    record(term.parameter, term.value, info)
                } else {
                    let (added, info) = try biasSource(name, node: term.target, amperes: term.weight * unitCurrent,
                                                       direction: direction(of: term.target), layer: layer)
                    elements += added
                    record(term.parameter, term.value, info)
                }
            }
            let subcircuit = Subcircuit(name: layer, ports: ports(of: elements, in: circuit), elements: elements,
                                        doc: ["layer \(layer) of \(model.config.name)"])
            try circuit.define(subcircuit)
            top.append(.instance(Instance(name: layer, of: subcircuit, connections: [:])))
        }
        circuit.elements = try topLevel(inputs: inputs, readout: readout, circuit: circuit) + top
        if compiler.mirroredBiases {
            // The reference: I_u into an NMOS diode, copied 1:1 into a PMOS diode, both from vdd_bias.
            let (p, n) = Self.biasReference, unit = CurrentMirror.mirrorUnit
            circuit.elements += [
                .currentSource(name: "bias_ref", positive: "vdd_bias", negative: n, value: .dc(.number(unitCurrent))),
                transistor("d_\(n)", .nmos, drain: n, gate: n, source: "0", bulk: "0", size: unit, pdk: pdk),
                transistor("copy_\(n)", .nmos, drain: p, gate: n, source: "0", bulk: "0", size: unit, pdk: pdk),
                transistor("d_\(p)", .pmos, drain: p, gate: p, source: "vdd_bias", bulk: "vdd_bias", size: unit, pdk: pdk),
            ]
            biasSupplyCurrent += 2 * unitCurrent
        }
        circuit.initialConditions = model.blocks.enumerated().flatMap { k, block in
            (0..<d).map { i in
                InitialCondition(.voltage(MemoryCell.comparatorNode, path: ["b\(k)_cells", "u\(i)"]),
                                 volts: block.cell.s0[i] ? compiler.supply : 0)
            }
        }
        for (k, block) in model.blocks.enumerated() {
            for i in 0..<d {
                record("blocks.\(k).cell.s0[\(i)]", block.cell.s0[i] ? 1 : 0, Manifest.ElementInfo(
                    name: "v(xb\(k)_cells.xu\(i).\(MemoryCell.comparatorNode))", kind: "initial condition",
                    current: block.cell.s0[i] ? compiler.supply : 0))
            }
        }
        circuit.saves = (0..<blocks).flatMap { k in (0..<d).map { Compiler.stateProbe(block: k, unit: $0) } }
            + Compiler.classProbes + [.voltage(Compiler.decisionNode)] + Compiler.supplies.map { .current(source: $0) }
        if case let .frames(frames) = inputs {
            circuit.options = compiler.mode.options
            circuit.analyses = [compiler.mode.analysis(frames: frames.count, period: compiler.frameDuration,
                                                                cells: compiler.cellTiming)]
        }
        circuit.options?.temperature = compiler.temperature
        let (count, area) = try devices(in: circuit)
        let manifest = Manifest(model: model.config.name, pdk: pdk.name, corner: compiler.corner, unitCurrent: unitCurrent,
                                supply: compiler.supply, characterized: compiler.characterization != nil,
                                cells: compiler.cellTiming,
                                sampleWindows: clock.map { clock in (0..<blocks).map {
                                    let window = clock.window(block: $0)
                                    return .init(block: $0, open: window.open, close: window.close)
                                } },
                                parameters: entries,
                                totals: .init(transistors: count, gateArea: area, biasCurrent: biasCurrent,
                                              biasPower: biasSupplyCurrent * compiler.supply))
        return Compilation(circuit: circuit, manifest: manifest)
    }

    /// The memory cells of a block with their bias diodes and sources.
    mutating func cellElements(layer: String, _ circuit: inout Circuit) throws -> [Element] {
        let k = Int(layer.dropFirst().prefix { $0.isNumber })!
        let block = model.blocks[k].cell
        var elements: [Element] = []
        for i in 0..<d {
            let iu = unitCurrent
            let (on, width, high) = (block.betaHi[i] * iu, block.delta[i] * iu, block.alpha[i] * iu)
            // The cell's high level is measured with its PMOS output at half the supply; in the network
            // it drives the state node's diode, where it carries the drain factor more (GF180: 1 %).
            var biases = (threshold: on, width: width, gain: high)
            if let table = compiler.characterization {
                let factor = table.drainFactor(.pmos, into: direction(of: "h\(k)_\(i)"))
                biases = try table.cellBiases(on: on, width: width, high: high / factor)
            }
            if block.betaLo[i] == 0 { biases.width = biases.threshold + iu / 4 }
            let named = [("thresh", biases.threshold, "blocks.\(k).cell.beta_lo[\(i)]", block.betaLo[i]),
                         ("width", biases.width, "blocks.\(k).cell.delta[\(i)]", block.delta[i]),
                         ("gain", biases.gain, "blocks.\(k).cell.alpha[\(i)]", block.alpha[i])]
            var connections = ["in": "c\(k)_\(i)", "out1": "s\(k)_\(i)", "vdd": "vdd_cell", "vss": "0"]
            if clock != nil { (connections["phi"], connections["phib"], connections["hold"]) = SampleClock.lines(block: k) }
            for (port, amperes, parameter, value) in named {
                guard amperes.isFinite, amperes > 0 else {
                    throw CompileError.unrealizable(parameter: parameter, reason: "I_\(port) = \(amperes) A after correction")
                }
                let node = "\(port)\(k)_\(i)"
                connections[port] = node
                elements.append(transistor("d_\(node)", .nmos, drain: node, gate: node, source: "0", bulk: "0",
                                           size: cell.size, pdk: pdk))
                let (sources, info) = try biasSource(node, node: node, amperes: amperes, direction: .nmos, layer: layer,
                                                     kind: "cell bias")
                elements += sources
                record(parameter, value, info)
            }
            elements.append(.instance(Instance(name: "u\(i)", of: try cell.subcircuit(pdk: pdk), connections: connections)))
        }
        return elements
    }

    /// Supplies, inputs, sense sources and the readout.
    func topLevel(inputs: Compiler.Inputs, readout: DifferentialPair, circuit: Circuit) throws -> [Element] {
        var elements: [Element] = Compiler.supplies.map {
            .voltageSource(name: $0, positive: $0, negative: "0", value: .dc(.number(compiler.supply)))
        }
        if let clock { elements += (0..<blocks).flatMap(clock.sources) }
        for j in 0..<model.config.inputs {
            for (sign, part) in [("p", 1.0), ("n", -1.0)] {
                let name = "x\(j)\(sign)"
                switch inputs {
                case .external:
                    elements.append(InputSource.external(name: name, from: "0", into: name))
                case let .frames(frames):
                    let values = frames.map { max(part * $0[j], 0) * unitCurrent }
                    elements.append(try InputSource.frames(name: name, from: "0", into: name, values: values,
                                                           frameDuration: compiler.frameDuration,
                                                           edge: compiler.mode.inputEdge))
                    elements += noise(name, "0", name, amperes: values.reduce(0, +) / Double(values.count))
                }
            }
        }
        for k in 0..<blocks {
            for i in 0..<d {
                elements.append(.voltageSource(name: "sense_h\(k)_\(i)", positive: "s\(k)_\(i)", negative: "h\(k)_\(i)",
                                               value: .dc(0)))
            }
        }
        elements += [
            .voltageSource(name: "sense_cls_a", positive: "cls_a", negative: "ro_a", value: .dc(0)),
            .voltageSource(name: "sense_cls_b", positive: "cls_b", negative: "ro_b", value: .dc(0)),
            .instance(Instance(name: "readout", of: try readout.subcircuit(pdk: pdk), connections: [
                "a": "ro_a", "b": "ro_b", "tail": "ro_tail", "out": Compiler.decisionNode, "vdd": "vdd_ff", "vss": "0",
            ])),
        ]
        return elements
    }

    /// Every node the elements touch except ground, in order of first use: a layer's ports.
    func ports(of elements: [Element], in circuit: Circuit) -> [String] {
        var seen = Set<String>(), ports: [String] = []
        func add(_ node: String) {
            if node != "0", seen.insert(node).inserted { ports.append(node) }
        }
        for element in elements {
            switch element {
            case let .mosfet(m): [m.drain, m.gate, m.source, m.bulk].forEach(add)
            case let .currentSource(_, positive, negative, _), let .voltageSource(_, positive, negative, _),
                 let .resistor(_, positive, negative, _), let .capacitor(_, positive, negative, _):
                add(positive)
                add(negative)
            case let .instance(instance): instance.nodes.forEach(add)
            case .comment: break
            }
        }
        return ports
    }

    /// Transistor count (fingers counted) and total gate area of the top level, through every instance.
    func devices(in circuit: Circuit) throws -> (Int, Double) {
        func walk(_ elements: [Element]) -> (Int, Double) {
            var total = (0, 0.0)
            for element in elements {
                switch element {
                case let .mosfet(m):
                    if case let .number(w) = m.width, case let .number(l) = m.length {
                        total.0 += m.multiplier
                        total.1 += Double(m.multiplier) * w * l
                    }
                case let .instance(instance):
                    if let sub = circuit.subcircuits.first(where: { $0.name == instance.subcircuit }) {
                        let inner = walk(sub.elements)
                        total.0 += inner.0
                        total.1 += inner.1
                    }
                default: break
                }
            }
            return total
        }
        return walk(circuit.elements)
    }
}
