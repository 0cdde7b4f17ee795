import BMRU
import Foundation
import Testing
import TestSupport
@testable import Netlist

/// The cut of a compiled network into partitions (`Compiler.partition`): every element in exactly one
/// partition, lines crossing only into gates, stages in signal order, replica loads, thinning.
@Suite("Partitioning")
struct PartitionTests {
    static let modelDirectory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")

    func compiler() throws -> Compiler {
        var compiler = try Compiler(pdk: try testPDK("gf180mcu"), characterization: try Characterization.load(
            from: TestSupport.repository.appendingPathComponent("results/characterization/gf180mcu")))
        compiler.mode = .fast
        compiler.probeDiodeCurrents = true
        return compiler
    }

    /// The transistors of `elements`, through the instances of `circuit`, by written name path.
    func devices(_ elements: [Element], in circuit: Circuit, prefix: String = "") -> [String] {
        elements.flatMap { element -> [String] in
            switch element {
            case let .mosfet(m): [prefix + m.name]
            case let .instance(i):
                devices(circuit.subcircuits.first { $0.name == i.subcircuit }!.elements, in: circuit, prefix: prefix + i.name + ".")
            default: []
            }
        }
    }

    @Test("kws-yes-d4: every element of the deck in one partition, stages in signal order, lines into gates only")
    func cut() throws {
        let model = try Model.load(from: Self.modelDirectory)
        let frames = [[Double]](repeating: [Double](repeating: 0.5, count: model.config.inputs), count: 3)
        let compiler = try compiler()
        let whole = try compiler.compile(model, inputs: .frames(frames))
        let partitioning = try compiler.partition(model, inputs: .frames(frames), load: .none)
        let partitions = partitioning.partitions
        let d = model.config.hidden
        // Feedforward nodes, one cell per unit and block, the readout and the bias reference.
        #expect(partitions.count == 2 * model.config.inputs + (model.config.blocks + 1) * d + 2 * model.config.blocks * d + 2)
        #expect(Set(partitions.map(\.name)).count == partitions.count)
        // The same transistors, once each (whole: through its layer instances; partitions: flat).
        let wholeCount = devices(whole.circuit.elements, in: whole.circuit).count
        #expect(partitions.map { devices($0.circuit.elements, in: $0.circuit).count }.reduce(0, +) == wholeCount)
        // Stages: bias and inputs first, u0 next, then block 0's cells, its post nodes, u1 ..., readout last.
        let stage = Dictionary(uniqueKeysWithValues: partitioning.stages.enumerated().flatMap { index, stage in
            stage.map { ($0.name, index) } })
        #expect(stage["bias"] == 0 && stage["x0p"] == 0)
        #expect(stage["u0_0"]! == 1 && stage["cell0_0"]! == 2 && stage["p0_0"]! == 3 && stage["u1_0"]! == 4)
        #expect(stage["cell1_3"]! == 5 && stage["readout"]! == partitioning.stages.count - 1)
        // Every import is exported by exactly one partition of an earlier stage and is only a gate there.
        let exporters = Dictionary(grouping: partitions.flatMap { p in p.exports.map { ($0, p.name) } }, by: \.0)
        for partition in partitions {
            for line in partition.imports {
                let owner = try #require(exporters[line]?.first?.1)
                #expect(exporters[line]!.count == 1)
                #expect(stage[owner]! < stage[partition.name]!)
                for element in partition.circuit.elements {
                    for (node, gate) in Builder.terminals(element) where node == line { #expect(gate) }
                }
            }
        }
        // Every probe of the whole deck is carried by one partition; the supplies by all.
        for signal in whole.probes {
            let carriers = partitions.filter { $0.probes.contains(signal) }.count
            if case .supply = signal { #expect(carriers == partitions.count) } else { #expect(carriers == 1) }
        }
        // A cell partition starts its cell in the model's initial state.
        let cell = try #require(partitions.first { $0.name == "cell0_0" })
        #expect(cell.circuit.initialConditions.count == 1 && cell.imports.contains("u0_0"))
        #expect(cell.exports.contains("h0_0"))
    }

    @Test("replica loads copy every downstream gate on an exported line but the static bias lines, with no current path")
    func replicas() throws {
        let model = try Model.load(from: Self.modelDirectory)
        let frames = [[Double]](repeating: [Double](repeating: 0.5, count: model.config.inputs), count: 2)
        let compiler = try compiler()
        let bare = try compiler.partition(model, inputs: .frames(frames), load: .none).partitions
        let loaded = try compiler.partition(model, inputs: .frames(frames), load: .replica).partitions
        for (plain, partition) in zip(bare, loaded) {
            let gates = plain.name == Partitioning.biasPartition ? [] : bare.flatMap { reader in
                reader.circuit.elements.compactMap { element -> String? in
                    guard case let .mosfet(m) = element, reader.name != plain.name, plain.exports.contains(m.gate) else { return nil }
                    return m.gate
                }
            }
            let replicas = partition.circuit.elements.compactMap { element -> MOSFET? in
                guard case let .mosfet(m) = element, m.name.hasPrefix("load_") else { return nil }
                return m
            }
            #expect(replicas.count == gates.count)
            #expect(replicas.allSatisfy { $0.drain == $0.source && plain.exports.contains($0.gate) })
        }
        let x0p = try #require(loaded.first { $0.name == "x0p" })
        // u0_0's positive pre weight on x0 is a PMOS output on the sign copy x0p_c.
        #expect(try SpiceWriter().text(x0p.circuit).contains("xload_u0_0_w_x0p_u0_0 vdd_ff x0p_c vdd_ff vdd_ff pfet_03v3"))
    }

    @Test("batched: a stage's stateless pieces in one deck, each cell alone, the same devices and lines")
    func batched() throws {
        let model = try Model.load(from: Self.modelDirectory)
        let frames = [[Double]](repeating: [Double](repeating: 0.5, count: model.config.inputs), count: 2)
        let compiler = try compiler()
        let pieces = try compiler.partition(model, inputs: .frames(frames))
        let batched = try compiler.partition(model, inputs: .frames(frames), batched: true)
        #expect(batched.stages.count == pieces.stages.count)
        for (stage, merged) in zip(pieces.stages, batched.stages) {
            #expect(Set(merged.flatMap(\.members)) == Set(stage.map(\.name)))
            let cells = stage.filter { !$0.circuit.initialConditions.isEmpty }.map(\.name)
            #expect(merged.filter { $0.members.count == 1 && cells.contains($0.members[0]) }.count == cells.count)
            #expect(merged.count == cells.count + (stage.count > cells.count ? 1 : 0))
            #expect(Set(merged.flatMap(\.imports)) == Set(stage.flatMap(\.imports)))
            #expect(merged.flatMap(\.exports).sorted() == stage.flatMap(\.exports).sorted())
            for partition in merged {
                let circuit = partition.circuit
                let expected = stage.filter { partition.members.contains($0.name) }
                #expect(devices(circuit.elements, in: circuit).sorted()
                        == expected.flatMap { devices($0.circuit.elements, in: $0.circuit) }.sorted())
                // One set of supplies and one frame-edge source per deck; every line imported once.
                #expect(circuit.elements.filter { if case .voltageSource = $0 { true } else { false } }.count
                        == expected.map { $0.circuit.elements.filter { if case .voltageSource = $0 { true } else { false } }.count - 4 }
                            .reduce(4, +))
                #expect(Set(partition.imports).count == partition.imports.count)
            }
        }
        // kws-yes-d4: 56 pieces become 15 decks.
        #expect(pieces.partitions.count == 56 && batched.stages.map(\.count) == [1, 1, 4, 1, 1, 4, 1, 1, 1])
    }

    @Test("a partition's imports are driven by PWL sources through the waveform's points")
    func driving() throws {
        let model = try Model.load(from: Self.modelDirectory)
        let frames = [[Double]](repeating: [Double](repeating: 0.5, count: model.config.inputs), count: 2)
        let partition = try #require(try compiler().partition(model, inputs: .frames(frames)).partitions.first { $0.name == "u0_0" })
        let waveforms = Dictionary(uniqueKeysWithValues: partition.imports.map {
            ($0, Waveform(times: [0, 0.01, 0.02], values: [0.3, 0.31, 0.3]))
        })
        let text = try SpiceWriter().text(try partition.circuit(driving: waveforms))
        #expect(text.contains("bdrive_x0p_c x0p_c 0 v=pwl(time, 0, 0.3, 0.01, 0.31, 0.02, 0.3)"))
        // The frame edges are its breakpoints, as in the whole circuit.
        #expect(text.contains("vframe_edges frame_edges 0 pwl( 0 0 0.01 0 0.0101 0 )"))
        #expect(throws: NetlistError.self) { try partition.circuit(driving: [:]) }
    }

    @Test("thinning keeps the ends and corners and drops points within the tolerance of a line")
    func thinning() {
        let times = (0...100).map { Double($0) * 1e-4 }
        // Flat, a ramp from point 40 to 60, flat again, with noise below the tolerance.
        let values = times.indices.map { i in 0.3 + 0.1 * Double(min(max(i - 40, 0), 20)) / 20 + (i % 2 == 0 ? 2e-8 : -2e-8) }
        let thinned = Waveform(times: times, values: values).thinned(tolerance: 1e-7)
        #expect(thinned.times.first == times.first && thinned.times.last == times.last)
        #expect(thinned.times.count <= 6)
        #expect(thinned.times.contains(times[40]) && thinned.times.contains(times[60]))
        // Every dropped point lies within the tolerance of the kept polyline.
        for (t, v) in zip(times, values) {
            let k = thinned.times.lastIndex { $0 <= t }!
            let next = min(k + 1, thinned.times.count - 1)
            let (t0, v0, t1, v1) = (thinned.times[k], thinned.values[k], thinned.times[next], thinned.values[next])
            let line = t1 > t0 ? v0 + (v1 - v0) * (t - t0) / (t1 - t0) : v0
            #expect(abs(line - v) <= 1e-7 + 1e-15)
        }
        #expect(Waveform(times: [0, 1], values: [1, 2]).thinned(tolerance: 1) == Waveform(times: [0, 1], values: [1, 2]))
    }

    @Test("sampled cells are refused")
    func sampled() throws {
        let model = try Model.load(from: Self.modelDirectory)
        var compiler = try compiler()
        compiler.cellTiming = .sampled
        #expect(throws: CompileError.self) { try compiler.partition(model, inputs: .frames([[Double](repeating: 0, count: 13)])) }
    }
}
