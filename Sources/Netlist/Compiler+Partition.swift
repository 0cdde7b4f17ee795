import BMRU
import SpiceValues

/// A compiled network cut at its gate lines into circuits that are simulated one after another
/// (docs/design/partitioned-simulation.md).
///
/// Within a frame the network is a directed graph of current-mode stages: a mirror output's current
/// is set by its gate, the voltage of an upstream diode-connected node, which draws no DC current
/// from downstream. Each partition owns one summing node with its diode, its sign copy and the
/// outputs feeding it, or one cell with its candidate node, bias diodes and state node, or the
/// readout, or the bias reference; it reads the gate lines of the partitions upstream as voltage
/// sources and exports its own gate lines. `stages` orders them so that every partition comes after
/// those it reads (inputs, pre, block 0's cells, post, ..., readout); partitions of one stage are
/// independent of each other.
public struct Partitioning: Sendable, Equatable {
    /// What stands in, on an exported line, for the gates of the devices that read it downstream.
    public enum Load: String, Sendable, Equatable, Codable, CaseIterable {
        /// Nothing: the line sees only its own partition's devices.
        case none
        /// A replica of every downstream device gated on the line, with drain, source and bulk on its
        /// source rail: the same gate capacitance (and its voltage dependence), no current. The bias
        /// reference's lines, which hold one voltage, carry none.
        case replica
    }

    /// The partitions, stage by stage: each reads only lines exported by earlier stages.
    public var stages: [[Partition]]
    /// The loads on the exported lines.
    public var load: Load

    /// Every partition, stage by stage.
    public var partitions: [Partition] { stages.flatMap(\.self) }

    /// The relative tolerance of every partition's transient: the reference's (`SimulationMode.transient`).
    ///
    /// In the whole circuit every node steps at the union of all nodes' time steps, so the fast mode's
    /// loose truncation control (reltol 3e-4, trtol 40) still resolves each node finely. A partition
    /// steps only for its own nodes: with the fast mode's reltol a block-1 cell of kws-yes-d16 crossed
    /// its upper threshold in an input transient that the whole circuit rode out, and 9 of 8,080 state
    /// bits of 5 held-out clips differed from it; with 1e-4, as the mode runs, none did
    /// (docs/notes/2026-12-05-partitioned-simulation.md).
    public static let reltol = 1e-4

    /// What changes a partitioned clip's result beyond its whole-circuit deck: part of the key under
    /// which a partitioned clip's samples are kept and reused.
    public static let revision = "reltol \(reltol), stateless pieces batched per stage, bias lines unloaded, 1 uV tables"

    /// The partition of the bias reference, whose lines every bias output reads.
    public static let biasPartition = "bias"

    /// The 0 V source (and its node) whose PWL corners are the whole circuit's breakpoints, the input
    /// ramps at the frame edges (`InputSource.corners`), in every partition of a deck driven by frames.
    public static let frameEdges = "frame_edges"
}

/// One partition of a `Partitioning`: a circuit of its own with the lines it reads left to be driven.
///
/// A partition is one cut piece (`members` holds its one name) or the stateless pieces of one stage
/// simulated as one deck (`Compiler.partition(_:inputs:load:batched:)`).
public struct Partition: Sendable, Equatable {
    /// Its name: a feedforward node's (`u0_1`), `cell<k>_<i>`, `readout` or `bias`; a batch is named
    /// by its first member and how many follow (`u0_0+7`).
    public var name: String
    /// The cut pieces it holds, by name.
    public var members: [String]
    /// The partition's circuit: its supplies, elements, replica loads, initial conditions, saves and
    /// analysis, without the sources of the lines it reads (`circuit(driving:)`).
    public var circuit: Circuit
    /// The lines it reads from earlier partitions, in order of first use.
    public var imports: [String]
    /// Its lines that later partitions read; their voltages are saved (`Probe.voltage`).
    public var exports: [String]
    /// The signals whose probes it carries, the supplies included: a supply's current in the whole
    /// circuit is the sum of its partitions'.
    public var probes: [NetworkSignal]

    /// The circuit with each imported line driven through the points of its waveform (the upstream
    /// partition's accepted time points) by a time table named `drive_<line>` (`Element.timeTable`).
    ///
    /// A table, not a PWL source: a PWL corner is a breakpoint, after which ngspice restarts from a
    /// small step, so every partition would step at every accepted point of every line it reads and
    /// the points would multiply stage by stage (a block-1 cell of kws-yes-d4 read 147,000 corners
    /// over 12 frames). The partition steps instead at the frame edges (`Partitioning.frameEdges`),
    /// as the whole circuit does, and by its own error control in between.
    public func circuit(driving waveforms: [String: Waveform]) throws(NetlistError) -> Circuit {
        var circuit = circuit
        for line in imports {
            guard let waveform = waveforms[line] else { throw .invalidParameter("partition \(name): no waveform for line \(line)") }
            circuit.elements.append(.timeTable(name: "drive_\(line)", positive: line, negative: "0", points: waveform.points))
        }
        return circuit
    }
}

/// A node voltage over time at a partition's accepted time points: what crosses a cut.
public struct Waveform: Sendable, Equatable {
    /// Strictly increasing times, seconds.
    public var times: [Double]
    /// Volts at each time.
    public var values: [Double]

    /// The waveform through (`times[i]`, `values[i]`).
    public init(times: [Double], values: [Double]) {
        (self.times, self.values) = (times, values)
    }

    /// Its points as PWL corners.
    public var points: [PWLPoint] { zip(times, values).map { PWLPoint($0, $1) } }

    /// The same waveform without the points that lie within `tolerance` volts of the straight line
    /// between the points kept around them: every kept point is an accepted time point (nothing is
    /// resampled), and each one is an entry of a table the reading partition searches, so a line that
    /// sits still while its partition steps (the bias lines, a settled input) shrinks to a few points.
    /// The first and last points are always kept.
    public func thinned(tolerance: Double) -> Waveform {
        guard times.count > 2 else { return self }
        // One pass: the slopes from the last kept point that pass within `tolerance` of every point
        // since form an interval; the next point is kept when the slope to the point after it leaves it.
        var kept = [0]
        var anchor = 0, low = -Double.infinity, high = Double.infinity
        for i in 1..<times.count {
            let dt = times[i] - times[anchor], slope = (values[i] - values[anchor]) / dt
            if slope < low || slope > high {
                anchor = i - 1
                kept.append(anchor)
                let dt = times[i] - times[anchor]
                (low, high) = ((values[i] - tolerance - values[anchor]) / dt, (values[i] + tolerance - values[anchor]) / dt)
            } else {
                (low, high) = (max(low, (values[i] - tolerance - values[anchor]) / dt),
                               min(high, (values[i] + tolerance - values[anchor]) / dt))
            }
        }
        if kept.last != times.count - 1 { kept.append(times.count - 1) }
        return Waveform(times: kept.map { times[$0] }, values: kept.map { values[$0] })
    }
}

extension Compiler {
    /// Compiles `model` and cuts the circuit at its gate lines (`Partitioning`), each exported line
    /// loaded by `load`. The elements are exactly the compiled deck's; sampled cells, whose clock
    /// lines every cell of a block shares, are not partitioned.
    ///
    /// With `batched`, the stateless pieces of each stage (summing nodes, the readout, the bias
    /// reference) are one partition. They settle smoothly after the same frame edges, so the batch
    /// steps about as often as each piece would, and one deck saves the fixed cost of a job (parsing
    /// the PDK's models, the round trip through the pool) for every piece it absorbs. Cells stay
    /// alone: a switching cell forces small steps on whatever shares its deck.
    public func partition(_ model: Model, inputs: Inputs, load: Partitioning.Load = .replica, batched: Bool = false)
        throws(CompileError) -> Partitioning
    {
        guard cellTiming != .sampled else { throw .invalidModel("sampled cells cannot be partitioned: their clock lines are shared") }
        let iu = try validate(model, inputs: inputs)
        return try building(model, unitCurrent: iu) { builder throws in
            let compilation = try builder.build(inputs: inputs)
            var frames: Int?
            if case let .frames(values) = inputs { frames = values.count }
            return try builder.partitioning(of: compilation, load: load, frames: frames, batched: batched)
        }
    }
}

extension Builder {
    /// How a partition touches a node: only through MOSFET gates (it reads the line), or otherwise.
    private struct Use {
        var gate = false, other = false
    }

    /// Cuts `compilation` (just built by this builder) along `placed` into a `Partitioning`.
    /// `frames`: the number of input frames, whose edges become every partition's breakpoints;
    /// `batched`: whether the stateless pieces of a stage are one deck.
    func partitioning(of compilation: Compilation, load: Partitioning.Load, frames: Int?, batched: Bool) throws -> Partitioning {
        var names: [String] = []
        var owned: [String: [Element]] = [:]
        for (partition, element) in placed {
            if owned[partition] == nil { names.append(partition) }
            owned[partition, default: []].append(element)
        }
        // Who touches which node, and how.
        var uses: [String: [String: Use]] = [:]
        var order: [String] = []
        let rails = Set(["0"] + NetworkSignal.supplies)
        for name in names {
            for element in owned[name]! {
                for (node, gate) in Self.terminals(element) where !rails.contains(node) {
                    if uses[node] == nil { order.append(node) }
                    if gate { uses[node, default: [:]][name, default: Use()].gate = true }
                    else { uses[node, default: [:]][name, default: Use()].other = true }
                }
            }
        }
        // A line crosses the cut only into gates: its one driving partition owns it.
        var owner: [String: String] = [:]
        var imports: [String: [String]] = [:], exports: [String: [String]] = [:]
        for node in order {
            let users = uses[node]!
            guard users.count > 1 else { continue }
            let drivers = users.filter(\.value.other).map(\.key).sorted()
            guard drivers.count == 1, let driver = drivers.first else {
                throw NetlistError.invalidParameter("node \(node) is not a gate line between partitions (driven in \(drivers))")
            }
            owner[node] = driver
            exports[driver, default: []].append(node)
            for reader in names where reader != driver && users[reader] != nil { imports[reader, default: []].append(node) }
        }
        // Stage = 1 + the latest stage it reads from.
        var stage: [String: Int] = [:]
        func level(_ name: String, _ visiting: Set<String>) throws -> Int {
            if let known = stage[name] { return known }
            guard !visiting.contains(name) else { throw NetlistError.invalidParameter("partition \(name) reads its own output") }
            let upstream = Set((imports[name] ?? []).map { owner[$0]! })
            let value = try upstream.map { try level($0, visiting.union([name])) }.max().map { $0 + 1 } ?? 0
            stage[name] = value
            return value
        }
        var levels: [[String]] = []
        for name in names {
            let index = try level(name, [])
            while levels.count <= index { levels.append([]) }
            levels[index].append(name)
        }
        // A stage's decks: each cell (a piece with an initial condition) alone; with `batched`, the
        // other pieces together.
        let stateful = Set(placedConditions.map(\.partition))
        let stages = try levels.map { level in
            let stateless = level.filter { !stateful.contains($0) }
            let decks = batched && stateless.count > 1 ? [stateless] + level.filter(stateful.contains).map { [$0] } : level.map { [$0] }
            return try decks.map { members in
                try partition(members, owned: owned, imports: imports, exported: exports, compilation: compilation,
                              load: load, frames: frames)
            }
        }
        return Partitioning(stages: stages, load: load)
    }

    /// The circuit of the pieces `members` (one stage's): supplies, their elements, the loads of
    /// their exported lines, their cells' initial conditions, and the whole deck's models, options and
    /// analysis.
    private func partition(_ members: [String], owned: [String: [Element]], imports: [String: [String]],
                           exported: [String: [String]], compilation: Compilation, load: Partitioning.Load,
                           frames: Int?) throws -> Partition {
        let name = members.count == 1 ? members[0] : "\(members[0])+\(members.count - 1)"
        let elements = members.flatMap { owned[$0]! }
        let exports = members.flatMap { exported[$0] ?? [] }
        // A bias line holds one voltage: what loads it changes nothing, and replicas of every bias
        // output would double the devices of the first stage.
        let moving = Set(members.filter { $0 != Partitioning.biasPartition }.flatMap { exported[$0] ?? [] })
        var seen = Set<String>()
        let imported = members.flatMap { imports[$0] ?? [] }.filter { seen.insert($0).inserted }
        let whole = compilation.circuit
        var options = whole.options
        options?.reltol = min(whole.options?.reltol ?? Partitioning.reltol, Partitioning.reltol)
        var circuit = Circuit(title: whole.title + ", partition \(name)", models: whole.models, options: options,
                              analyses: whole.analyses)
        circuit.initialConditions = placedConditions.filter { members.contains($0.partition) }.map(\.condition)
        circuit.elements = supplySources() + elements
        if let frames {
            let corners = InputSource.corners(values: [Double](repeating: 0, count: frames), frameDuration: compiler.frameDuration,
                                              edge: compiler.mode.inputEdge)
            circuit.elements.append(.voltageSource(name: Partitioning.frameEdges, positive: Partitioning.frameEdges, negative: "0",
                                                   value: .pwl(corners)))
        }
        if load == .replica {
            var replicas: [Element] = []
            for (reader, readerElements) in owned.sorted(by: { $0.key < $1.key }) where !members.contains(reader) {
                for case let .mosfet(device) in readerElements where moving.contains(device.gate) {
                    var copy = device
                    (copy.name, copy.drain) = ("load_\(reader)_\(device.name)", device.source)
                    replicas.append(.mosfet(copy))
                }
            }
            if !replicas.isEmpty {
                circuit.elements += [.comment("replica gate loads of the exported lines (no current: drain on source)")] + replicas
            }
        }
        for case let .instance(instance) in circuit.elements {
            guard let definition = whole.subcircuits.first(where: { $0.name == instance.subcircuit }) else {
                throw NetlistError.unknownSubcircuit(instance.subcircuit, instance: instance.name)
            }
            try circuit.define(definition)
        }
        // The whole deck's probes that sit in this partition, then the supplies, then the exported lines.
        let sources = Set(circuit.elements.compactMap { element -> String? in
            if case let .voltageSource(source, _, _, _) = element { return source }
            return nil
        })
        let nodes = Set(elements.flatMap { Self.terminals($0).map(\.node) })
        let probes = compilation.probes.filter { signal in
            switch signal.probe {
            case let .current(source): sources.contains(source)
            case let .voltage(node, _): nodes.contains(node)
            }
        }
        circuit.saves = probes.map(\.probe) + exports.map { .voltage($0) }
        return Partition(name: name, members: members, circuit: circuit, imports: imported, exports: exports, probes: probes)
    }
}
