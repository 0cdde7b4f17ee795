import BMRU
import Foundation
import PDK
import SpiceValues

extension Builder {
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

    /// An output transistor of `polarity` on `gate` carrying `ratio` times its input, drawn at
    /// nominal width ratio `chosen`, into `drain` (a PMOS output from `supply`) and its noise source;
    /// no element when the width ratio is below `Compiler.minimumRatio`.
    func output(_ name: String, _ polarity: Polarity, gate: String, drain: String, ratio: Double, chosen: Double,
                layer: String, supply: String = "vdd_ff", kind: String = "mirror output")
        throws -> ([Element], Manifest.ElementInfo)
    {
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

    /// A weight mirror's output: `output` at the width ratio that gives `ratio` at a node whose diode
    /// is of type `node`.
    func weightOutput(_ name: String, _ polarity: Polarity, gate: String, drain: String, node: Polarity, ratio: Double,
                      layer: String) throws -> ([Element], Manifest.ElementInfo) {
        try output(name, polarity, gate: gate, drain: drain, ratio: ratio,
                   chosen: try widthRatio(ratio, polarity, node: node), layer: layer)
    }

    /// The gate lines of the mirrored bias reference (`BiasReference`): PMOS outputs source from
    /// `vdd_bias` on the first, NMOS outputs sink on the second.
    static let biasReference = (pmos: "bias_refp", nmos: "bias_refn")

    /// The manifest kind of a memory cell's bias, whose diode is the cell's (`Characterization.BiasTable.cell`).
    static let cellBias = "cell bias"

    /// A bias of `amperes` in the positive direction of `node` (negative: the other way): a mirror
    /// output of the reference sized from the characterization's bias tables, or an ideal source
    /// (`Compiler.idealBiases`; none when omitted), and its noise source. `kind` "cell bias" marks a
    /// memory cell's bias diode.
    mutating func biasSource(_ name: String, node: String, amperes: Double, direction: Polarity, layer: String,
                             kind: String = "bias source") throws -> ([Element], Manifest.ElementInfo) {
        // Into an NMOS-diode node (or out of a PMOS-diode node) is the positive direction.
        let into = (amperes > 0) == (direction == .nmos)
        biasCurrent += abs(amperes)
        if into { biasSupplyCurrent += abs(amperes) }
        if !compiler.idealBiases {
            let polarity: Polarity = into ? .pmos : .nmos, ratio = abs(amperes) / unitCurrent
            let chosen = try compiler.characterization?.biasWidth(for: ratio, polarity: polarity, node: direction,
                                                                  cell: kind == Self.cellBias) ?? ratio
            return try output(name, polarity, gate: polarity == .pmos ? Self.biasReference.pmos : Self.biasReference.nmos,
                              drain: node, ratio: ratio, chosen: chosen, layer: layer, supply: "vdd_bias",
                              kind: kind + " (mirrored)")
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
        // Each layer's elements and probe ports; made into subcircuits once every node's users are known.
        var built: [(layer: String, elements: [Element], probePorts: [String])] = []
        // Each probed diode current: its signal and the 0 V source from its rail to its port.
        var probed: [(signal: NetworkSignal, sense: Element, partition: String)] = []
        for layer in layers {
            var elements: [Element] = []
            var counts: [String: Int] = [:]
            var probePorts: [String] = []
            for node in nodes where node.layer == layer {
                if let size = node.diode {
                    var source = rail(node.direction)
                    if let signal = node.probe, let port = signal.diodePort {
                        // Positive node first in the current's direction: i(sense) is the diode's current.
                        let (positive, negative) = node.direction == .pmos ? (source, port) : (port, source)
                        probed.append((signal, signal.sense(from: positive, to: negative), node.partition))
                        probePorts.append(port)
                        source = port
                    }
                    place([transistor("d_\(node.name)", node.direction, drain: node.name, gate: node.name,
                                      source: source, bulk: rail(node.direction), size: size, pdk: pdk)],
                          in: node.partition, into: &elements)
                }
                if converted.contains(node.name) {
                    let other = node.direction.opposite
                    let (copy, _) = try weightOutput("conv_\(node.name)", node.direction, gate: node.name,
                                                     drain: node.name + "_c", node: other, ratio: 1, layer: layer)
                    // A 1:1 copy is always realisable.
                    place([.comment("\(node.name)_c: \(node.name) copied 1:1 into a \(other.rawValue) diode, for terms of the other sign")]
                            + copy + [transistor("d_\(node.name)_c", other, drain: node.name + "_c", gate: node.name + "_c",
                                                 source: rail(other), bulk: rail(other), size: CurrentMirror.mirrorUnit, pdk: pdk)],
                          in: node.partition, into: &elements)
                }
            }
            if layer.hasSuffix("_cells") { try cellElements(layer: layer, into: &elements) }
            if layer == "cls" {
                let tail = Characterization.readoutTail(unitCurrent)
                place([.comment("readout tail: \(spiceNumber(tail / unitCurrent)) I_u"),
                       transistor("d_ro_tail", .nmos, drain: "ro_tail", gate: "ro_tail", source: "0", bulk: "0",
                                  size: readout.size, pdk: pdk)]
                          + (try biasSource("ro_tail", node: "ro_tail", amperes: tail, direction: .nmos, layer: layer).0),
                      in: Self.readoutPartition, into: &elements)
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
                let (added, info) = try term.source.map { source in
                    let q = polarity(term)
                    return try weightOutput(name, q, gate: line(source, q), drain: term.target,
                                            node: direction(of: term.target), ratio: abs(term.weight), layer: layer)
                } ?? biasSource(name, node: term.target, amperes: term.weight * unitCurrent,
                                direction: direction(of: term.target), layer: layer)
                if !added.isEmpty {
                    place([Self.parameterComment(term.parameter, term.value, "\(term.source ?? "bias") -> \(term.target)")] + added,
                          in: partition(of: term.target), into: &elements)
                }
                record(term.parameter, term.value, info)
            }
            built.append((layer, elements, probePorts))
        }
        circuit.elements = try topLevel(inputs: inputs, readout: readout, circuit: circuit)
        if !compiler.idealBiases {
            // The bias domain's one reference current, the only ideal source besides the inputs.
            let reference = BiasReference(), (p, n) = Self.biasReference
            try circuit.define(reference.subcircuit(pdk: pdk))
            place([
                .comment("bias reference: I_u from vdd_bias, every bias a mirror output of \(n) or \(p)"),
                .currentSource(name: "bias_ref", positive: "vdd_bias", negative: n, value: .dc(.number(unitCurrent))),
                .instance(Instance(name: "bias_reference", of: try reference.subcircuit(pdk: pdk),
                                   connections: ["refn": n, "refp": p, "vdd": "vdd_bias", "vss": "0"])),
            ], in: Partitioning.biasPartition, into: &circuit.elements)
            biasSupplyCurrent += 2 * unitCurrent
        }
        circuit.initialConditions = model.blocks.enumerated().flatMap { k, block in
            (0..<d).map { i in
                InitialCondition(.voltage(MemoryCell.comparatorNode, path: ["b\(k)_cells", "u\(i)"]),
                                 volts: block.cell.s0[i] ? compiler.supply : 0)
            }
        }
        // In its partition a cell is a top-level instance.
        placedConditions = model.blocks.enumerated().flatMap { k, block in
            (0..<d).map { i in
                (Self.cellPartition(block: k, unit: i),
                 InitialCondition(.voltage(MemoryCell.comparatorNode, path: ["u\(i)"]), volts: block.cell.s0[i] ? compiler.supply : 0))
            }
        }
        for (k, block) in model.blocks.enumerated() {
            for i in 0..<d {
                record("blocks.\(k).cell.s0[\(i)]", block.cell.s0[i] ? 1 : 0, Manifest.ElementInfo(
                    name: "v(xb\(k)_cells.xu\(i).\(MemoryCell.comparatorNode))", kind: "initial condition",
                    current: block.cell.s0[i] ? compiler.supply : 0))
            }
        }
        // Candidates first, then block outputs, each block by block.
        probed = probed.filter(\.signal.isCandidate) + probed.filter { !$0.signal.isCandidate }
        for probe in probed { place([probe.sense], in: probe.partition, into: &circuit.elements) }
        // A layer's ports are the nodes it shares with the top level or another layer.
        let users = built.map { Set(nodes(of: $0.elements)) }
        let topNodes = Set(nodes(of: circuit.elements))
        var instances: [Element] = []
        for (index, layer) in built.enumerated() {
            let shared = nodes(of: layer.elements).filter { node in
                topNodes.contains(node) || users.indices.contains { $0 != index && users[$0].contains(node) }
            }
            let subcircuit = Subcircuit(name: layer.layer, ports: portOrder(shared, layer: layer.layer, probePorts: layer.probePorts),
                                        elements: layer.elements, doc: ["layer \(layer.layer) of \(model.config.name)"])
            try circuit.define(subcircuit)
            instances.append(.instance(Instance(name: layer.layer, of: subcircuit, connections: [:])))
        }
        circuit.elements += instances
        let probes = (0..<blocks).flatMap { k in (0..<d).map { NetworkSignal.state(block: k, unit: $0) } }
            + [.readoutInput(0), .readoutInput(1), .decision] + NetworkSignal.supplies.map(NetworkSignal.supply)
            + probed.map(\.signal)
        circuit.saves = probes.map(\.probe)
        if case let .frames(frames) = inputs {
            circuit.batchOutput = compiler.rawFile
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
        return Compilation(circuit: circuit, manifest: manifest, probes: probes)
    }

    /// The memory cells of a block with their bias diodes and sources, appended to the layer's `elements`.
    mutating func cellElements(layer: String, into layerElements: inout [Element]) throws {
        let k = Int(layer.dropFirst().prefix { $0.isNumber })!
        let block = model.blocks[k].cell
        for i in 0..<d {
            var elements: [Element] = []
            let iu = unitCurrent
            let (on, width, high) = (block.betaHi[i] * iu, block.delta[i] * iu, block.alpha[i] * iu)
            // The cell's high level is measured with its PMOS output at half the supply; in the network
            // it drives the state node's diode, where it carries the drain factor more (GF180: 1 %).
            let nominal = cell.nominalBiases(on: on, width: width)
            var biases = (threshold: nominal.threshold, width: nominal.width, gain: high)
            if let table = compiler.characterization {
                let factor = table.drainFactor(.pmos, into: direction(of: "h\(k)_\(i)"))
                biases = try table.cellBiases(on: on, width: width, high: high / factor)
            }
            var connections = ["in": NetworkSignal.candidate(block: k, unit: i).node,
                               "out1": NetworkSignal.state(block: k, unit: i).node, "vdd": "vdd_cell", "vss": "0"]
            // beta_lo = 0 never resets (c >= 0): a feedback cell's I_width exceeds I_thresh, a switched
            // cell sinks no I_thresh at all (its M2 is off).
            var named = [("thresh", biases.threshold, "blocks.\(k).cell.beta_lo[\(i)]", block.betaLo[i]),
                         ("width", biases.width, "blocks.\(k).cell.delta[\(i)]", block.delta[i]),
                         ("gain", biases.gain, "blocks.\(k).cell.alpha[\(i)]", block.alpha[i])]
            if block.betaLo[i] == 0 {
                switch cell.topology {
                case .feedback: named[1].1 = biases.threshold + iu / 4
                case .switched:
                    named[1].1 = on
                    named.removeFirst()
                    connections["thresh"] = "0"
                    record("blocks.\(k).cell.beta_lo[\(i)]", 0, nil)
                }
            }
            if clock != nil { (connections["phi"], connections["phib"], connections["hold"]) = SampleClock.lines(block: k) }
            for (port, amperes, parameter, value) in named {
                guard amperes.isFinite, amperes > 0 else {
                    throw CompileError.unrealizable(parameter: parameter, reason: "I_\(port) = \(amperes) A after correction")
                }
                let node = "\(port)\(k)_\(i)"
                connections[port] = node
                elements.append(Self.parameterComment(parameter, value, "I_\(port) of cell u\(i)"))
                elements.append(transistor("d_\(node)", .nmos, drain: node, gate: node, source: "0", bulk: "0",
                                           size: cell.size, pdk: pdk))
                let (sources, info) = try biasSource(node, node: node, amperes: amperes, direction: .nmos, layer: layer,
                                                     kind: Self.cellBias)
                elements += sources
                record(parameter, value, info)
            }
            elements.append(.instance(Instance(name: "u\(i)", of: try cell.subcircuit(pdk: pdk), connections: connections)))
            place(elements, in: Self.cellPartition(block: k, unit: i), into: &layerElements)
        }
    }

    /// The three supplies, each at `Compiler.supply`: the whole circuit's, and each partition's own.
    func supplySources() -> [Element] {
        NetworkSignal.supplies.map { .voltageSource(name: $0, positive: $0, negative: "0", value: .dc(.number(compiler.supply))) }
    }

    /// Supplies, inputs, sense sources and the readout.
    mutating func topLevel(inputs: Compiler.Inputs, readout: DifferentialPair, circuit: Circuit) throws -> [Element] {
        var elements = supplySources()
        if let clock { elements += (0..<blocks).flatMap(clock.sources) }
        for j in 0..<model.config.inputs {
            for (sign, part) in [("p", 1.0), ("n", -1.0)] {
                let name = "x\(j)\(sign)"
                switch inputs {
                case .external:
                    place([InputSource.external(name: name, from: "0", into: name)], in: partition(of: name), into: &elements)
                case let .frames(frames):
                    let values = frames.map { max(part * $0[j], 0) * unitCurrent }
                    place([try InputSource.frames(name: name, from: "0", into: name, values: values,
                                                  frameDuration: compiler.frameDuration, edge: compiler.mode.inputEdge)]
                              + noise(name, "0", name, amperes: values.reduce(0, +) / Double(values.count)),
                          in: partition(of: name), into: &elements)
                }
            }
        }
        for k in 0..<blocks {
            for i in 0..<d {
                let state = NetworkSignal.state(block: k, unit: i)
                place([state.sense(from: state.node, to: "h\(k)_\(i)")], in: Self.cellPartition(block: k, unit: i),
                      into: &elements)
            }
        }
        place([
            NetworkSignal.readoutInput(0).sense(from: NetworkSignal.readoutInput(0).node, to: "ro_a"),
            NetworkSignal.readoutInput(1).sense(from: NetworkSignal.readoutInput(1).node, to: "ro_b"),
            .instance(Instance(name: "readout", of: try readout.subcircuit(pdk: pdk), connections: [
                "a": "ro_a", "b": "ro_b", "tail": "ro_tail", "out": NetworkSignal.decisionNode, "vdd": "vdd_ff", "vss": "0",
            ])),
        ], in: Self.readoutPartition, into: &elements)
        return elements
    }

    /// The comment above the elements of one model parameter: its name, value and what it connects.
    static func parameterComment(_ parameter: String, _ value: Double, _ connects: String) -> Element {
        .comment("\(parameter) = \(String(format: "%.6g", value)): \(connects)")
    }

    /// `shared` in the documented port order of a layer subcircuit (docs/reference/netlist.md): the
    /// nodes the layer drives (its summing, candidate or state nodes, each followed by its converted
    /// copy) in model order; the nodes it reads from earlier layers and the inputs, in model order;
    /// the supplies; any other line (bias reference, sample clock) by name; then its probe ports,
    /// so that a probed deck differs from an unprobed one only by them.
    func portOrder(_ shared: [String], layer: String, probePorts: [String]) -> [String] {
        func rank(_ node: String) -> (Int, Int, String) {
            if probePorts.contains(node) { return (4, probePorts.firstIndex(of: node)!, node) }
            let base = node.hasSuffix("_c") ? String(node.dropLast(2)) : node
            if let index = nodes.firstIndex(where: { $0.name == base }) {
                return (nodes[index].layer == layer ? 0 : 1, 2 * index + (base == node ? 0 : 1), node)
            }
            if let index = NetworkSignal.supplies.firstIndex(of: node) { return (2, index, node) }
            return (3, 0, node)
        }
        return shared.sorted { rank($0) < rank($1) }
    }

    /// Every node the elements touch except ground, in order of first use.
    func nodes(of elements: [Element]) -> [String] {
        var seen = Set<String>(), ports: [String] = []
        for (node, _) in elements.flatMap(Self.terminals) where node != "0" && seen.insert(node).inserted {
            ports.append(node)
        }
        return ports
    }

    /// The nodes an element connects, each with whether it is a MOSFET's gate (what a partition's
    /// cut may cross: `partitioning(of:load:frames:)`).
    static func terminals(_ element: Element) -> [(node: String, gate: Bool)] {
        switch element {
        case let .mosfet(m): [(m.drain, false), (m.gate, true), (m.source, false), (m.bulk, false)]
        case let .currentSource(_, positive, negative, _), let .voltageSource(_, positive, negative, _),
             let .resistor(_, positive, negative, _), let .capacitor(_, positive, negative, _),
             let .timeTable(_, positive, negative, _):
            [(positive, false), (negative, false)]
        case let .instance(instance): instance.nodes.map { ($0, false) }
        case .comment: []
        }
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
