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
/// - biases: mirror outputs of one reference current (`BiasReference`), sized from the
///   characterization's bias tables, or (`idealBiases`) ideal current sources on the bias supply;
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
///   two-class models are compiled: the readout is a two-input comparator. A ReLU readout reads the
///   last residual's node u_B; a linear one is folded into the mirrors that would build u_B
///   (`readoutTerms`), so the signed u_B is never formed.
///
/// Supplies: `vdd_cell` (memory cells), `vdd_ff` (feedforward mirrors, converters, readout) and
/// `vdd_bias` (every ideal bias source), all at `supply`, so power splits by source current. State
/// currents pass through 0 V sense sources, the class currents too; `Compilation.probes` lists the
/// `NetworkSignal`s a deck carries probes for.
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
    /// How the memory cells make their thresholds (`MemoryCell.Topology`): `feedback` (the published
    /// cell) unless a characterization measured `switched` cells, whose reset threshold is a bias of
    /// its own rather than a difference of two. A characterization measures one topology.
    public var cellTopology: MemoryCell.Topology = .feedback
    /// Time-step control and tolerances of the transient over `Inputs.frames` (decks with EXTERNAL
    /// inputs keep the default options and get no analysis).
    public var mode: SimulationMode = .transient
    /// The folder the deck will be written to, to write the PDK's model paths relative to it
    /// (`PDK.modelStatements(relativeTo:)`: a deck that can be committed and still runs in
    /// `ngspice -b`); nil writes absolute paths, which decks loaded through the library need.
    public var modelsRelativeTo: URL?
    /// Whether bias currents come from ideal sources, one per bias, exact: a what-if for separating
    /// bias errors from the rest. False (the default) builds them as a chip does: mirror outputs of
    /// the one reference current I_u (`BiasReference`), sized from the characterization's bias tables
    /// (`Characterization.biasWidth`) when given, nominally otherwise; biases below `minimumRatio` I_u
    /// are omitted.
    public var idealBiases = false

    /// For a deck with its own inputs (`Inputs.frames`) that is run by hand: the raw file that
    /// `ngspice -b` writes beside it, through the control block `Circuit.batchOutput` adds. Nil (the
    /// decks the library loads and runs itself): no block.
    public var rawFile: String?

    /// Operating temperature in degrees Celsius (the deck's `.options temp`).
    public var temperature: Double = 27
    /// Which statistical variation of the PDK's models the deck turns on (Monte Carlo): the draws
    /// themselves come from the simulator's seed (`SimulationJob.seed`), so one deck text stands
    /// for every sample.
    public var statistics: StatisticalVariation = .none
    /// Whether the candidate and block-output currents get probes too (`NetworkSignal.candidate`,
    /// `.blockOutput`): each of those ReLU diodes' sources moves to a port of its layer, tied to its
    /// rail by a top-level 0 V source, so the same current flows from the same rail. Off by default:
    /// a deck for review carries only the state and readout probes.
    public var probeDiodeCurrents = false
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
        if let characterization { (cellSize, cellTopology) = (characterization.cellSize, characterization.cellTopology) }
    }

    /// Where the deck's input currents come from.
    public enum Inputs: Sendable, Equatable {
        /// PWL sources holding each frame (model units, `[frame][feature]`) for `frameDuration`, and a
        /// transient over all frames.
        case frames([[Double]])
        /// EXTERNAL sources driven by the host program; no analysis statement.
        case external
    }

    /// The smallest current ratio an output of the weight-mirror unit can realise in `pdk`: a
    /// minimum-width device of `CurrentMirror.maximumLength`. Smaller weights are omitted (listed in the
    /// manifest as `omitted`): their current is below that ratio times the input, a few picoamperes at
    /// 1 nA.
    public static func minimumRatio(pdk: PDK) -> Double {
        let unit = CurrentMirror.mirrorUnit
        return pdk.descriptor.wmin / unit.width * unit.length / CurrentMirror.maximumLength
    }

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
        let iu = try validate(model, inputs: inputs)
        return try building(model, unitCurrent: iu) { builder throws in try builder.build(inputs: inputs) }
    }

    /// Checks everything `compile` requires of `model` and `inputs` and returns the unit current.
    func validate(_ model: Model, inputs: Inputs) throws(CompileError) -> Double {
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
        // Corner and unit current may differ on purpose (a chip trimmed once, swept over PVT); a cell
        // of another size has other thresholds than the tables' fits.
        if let reason = characterization?.cellDisagreement(cellSize: cellSize, cellTopology: cellTopology) {
            throw .characterization(.invalid(reason + ": characterize those cells (bmru characterize --cell-area, --cell-topology)"))
        }
        return iu
    }

    /// Runs `body` on a builder of `model` (the PDK varied by `statistics`) and maps what it throws
    /// to `CompileError`: the one place `compile` and `partition` build through.
    func building<T>(_ model: Model, unitCurrent iu: Double,
                     _ body: (inout Builder) throws -> T) throws(CompileError) -> T {
        do {
            // With variation on, the PDK's statistical devices (if it names some) are instantiated.
            var compiler = self
            compiler.pdk = pdk.varied(statistics)
            var builder = Builder(compiler: compiler, model: model, unitCurrent: iu)
            return try body(&builder)
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
    /// The signals the deck carries probes for (`NetworkSignal.probe`), in the order it saves them.
    public var probes: [NetworkSignal]

    /// The deck's text.
    public func deck() throws(NetlistError) -> String { try SpiceWriter().text(circuit) }

    /// File names written by `write(to:)`.
    public static let deckFileName = "deck.cir", manifestFileName = "manifest.json"
    /// The raw file `bmru netlist`'s decks write beside themselves when run by `ngspice -b` (`Compiler.rawFile`).
    public static let rawFileName = "deck.raw"

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
