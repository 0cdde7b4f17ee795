import BMRU
import Foundation
import PDK
import SpiceValues

/// A summing node: the diode at it (if this deck owns one) fixes which way is positive.
struct SumNode {
    var name: String
    var direction: Polarity
    var diode: DeviceSize?
    var layer: String
    /// The signal its diode's current is, when the compiler probes it.
    var probe: NetworkSignal?
    /// The partition that owns the node (`Partitioning`): its own name for a feedforward node, the
    /// cell's for a candidate and a state node, `readout` for the class currents.
    var partition: String
}

/// A contribution to a node: a mirror output from a signal's line, or (no source) an ideal bias.
struct Term {
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

/// Builds one compilation: `plan()` lays out the summing nodes and the terms feeding them from the
/// model (this file); `build(inputs:)` emits the layers, cells and top level as elements and
/// records the manifest (Compiler+Emit.swift).
struct Builder {
    let compiler: Compiler
    let model: Model
    let unitCurrent: Double
    var nodes: [SumNode] = []
    var terms: [Term] = []
    var entries: [Manifest.Entry] = []
    var biasCurrent = 0.0, biasSupplyCurrent = 0.0
    /// Every element `build(inputs:)` emits outside the supplies, with the partition it belongs to
    /// (`SumNode.partition`, `Partitioning.biasPartition`), in emission order: what `partitioning()`
    /// cuts the circuit along, so that both views of a compilation hold the same elements.
    var placed: [(partition: String, element: Element)] = []
    /// Each cell's initial condition with its path inside the cell's partition.
    var placedConditions: [(partition: String, condition: InitialCondition)] = []

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
                   comparatorCapacitance: compiler.cellTiming == .filtered ? MemoryCell.filterCapacitance : nil,
                   topology: compiler.cellTopology)
    }
    /// The cells' clocks; nil for continuous cells.
    var clock: SampleClock? {
        guard compiler.cellTiming == .sampled else { return nil }
        return SampleClock(blocks: blocks, frameDuration: compiler.frameDuration, supply: compiler.supply, edge: compiler.clockEdge)
    }

    mutating func node(_ name: String, _ direction: Polarity, layer: String, diode: DeviceSize? = CurrentMirror.mirrorUnit,
                       probe: NetworkSignal? = nil, partition: String? = nil) {
        nodes.append(SumNode(name: name, direction: direction, diode: diode, layer: layer,
                             probe: compiler.probeDiodeCurrents ? probe : nil, partition: partition ?? name))
    }

    /// The partition of a cell: its candidate node, the cell with its bias diodes, and its state node.
    static func cellPartition(block: Int, unit: Int) -> String { "cell\(block)_\(unit)" }

    /// The partition of the readout: the class-current nodes, the readout and its tail.
    static let readoutPartition = "readout"

    /// The partition that owns summing node `node`.
    func partition(of node: String) -> String { nodes.first { $0.name == node }!.partition }

    /// Appends `added` to a layer's `elements` and records them as `partition`'s (`placed`).
    mutating func place(_ added: [Element], in partition: String, into elements: inout [Element]) {
        elements += added
        placed += added.map { (partition, $0) }
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
        // u_B feeds only a ReLU readout: a linear one is folded into the terms that would build it.
        let residuals = model.config.readout == .relu ? 0...blocks : 0...(blocks - 1)
        for k in residuals { for i in 0..<d { node("u\(k)_\(i)", .nmos, layer: "pre") } }
        for k in residuals {
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
                let candidate = NetworkSignal.candidate(block: k, unit: i)
                node(candidate.node, .pmos, layer: cand, diode: cell.size, probe: candidate,
                     partition: Self.cellPartition(block: k, unit: i))
                term(nil, "c\(k)_\(i)", block.cell.candidate.bias[i], layer: cand, "blocks.\(k).cell.bias[\(i)]")
                for j in 0..<d {
                    term("u\(k)_\(j)", "c\(k)_\(i)", block.cell.candidate.weight[i * d + j], layer: cand,
                         "blocks.\(k).cell.weight[\(i)][\(j)]")
                }
            }
            for i in 0..<d { node("h\(k)_\(i)", .nmos, layer: cells, partition: Self.cellPartition(block: k, unit: i)) }
            for i in 0..<d {
                let output = NetworkSignal.blockOutput(block: k, unit: i)
                node(output.node, .nmos, layer: post, probe: output)
                term(nil, "p\(k)_\(i)", block.post.bias[i], layer: post, "blocks.\(k).post.bias[\(i)]")
                for j in 0..<d {
                    term("h\(k)_\(j)", "p\(k)_\(i)", block.post.weight[i * d + j], layer: post,
                         "blocks.\(k).post.weight[\(i)][\(j)]")
                }
                for m in residuals where m > k {
                    term("p\(k)_\(i)", "u\(m)_\(i)", 1, layer: post, "residual.\(k)[\(i)]")
                }
            }
        }
        // A and B of the readout: the readout's own input diodes are the NMOS diodes here.
        let targets = [NetworkSignal.readoutInput(0).node, NetworkSignal.readoutInput(1).node]
        for target in targets { node(target, .nmos, layer: "cls", diode: nil, partition: Self.readoutPartition) }
        for readout in Compiler.readoutTerms(model: model) {
            let source: String? = switch readout.source {
            case .bias: nil
            case let .residual(i): "u\(blocks)_\(i)"
            case let .input(j, negative): "x\(j)\(negative ? "n" : "p")"
            case let .blockOutput(k, i): "p\(k)_\(i)"
            }
            term(source, targets[Compiler.readoutInput(logit: readout.logit, value: readout.weight)], abs(readout.weight),
                 layer: "cls", readout.parameter, value: readout.value)
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
}
