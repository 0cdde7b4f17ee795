import Netlist
import Ngspice
import PDK

extension Characterization {
    /// Runs every `CharacterizationSweep` through `pool` and reduces the results to tables; the
    /// memory cells are measured with devices of `cellSize`, in `cellTopology`.
    public static func measure(pdk: PDK, corner: String?, unitCurrent: Double = 1e-9, supply: Double = 1.8,
                               cellSize: DeviceSize = .unit, cellTopology: MemoryCell.Topology = .feedback,
                               pool: WorkerPool) async throws(CharacterizeError)
        -> Characterization
    {
        guard unitCurrent.isFinite, unitCurrent > 0 else { throw .invalid("unit current \(unitCurrent) must be > 0") }
        let cornerName: String
        do { cornerName = try pdk.corner(corner) } catch { throw .pdk(error.description) }
        let sweeps = CharacterizationSweep.allCases
        var jobs: [SimulationJob] = []
        for sweep in sweeps {
            let circuit = try sweep.circuit(pdk: pdk, corner: cornerName, unitCurrent: unitCurrent, supply: supply,
                                              cellSize: cellSize, cellTopology: cellTopology)
            do {
                jobs.append(SimulationJob(deck: try SpiceWriter().lines(circuit),
                                          vectors: try circuit.saves.map(SpiceWriter.expression), timeout: 600))
            } catch { throw .netlist(error) }
        }
        var results: [CharacterizationSweep: SimulationResult] = [:]
        for outcome in await pool.run(jobs) {
            let sweep = sweeps[outcome.index]
            switch outcome.result {
            case let .success(result): results[sweep] = result
            case let .failure(failure): throw .simulation("\(sweep) sweep: \(failure)")
            }
        }
        return try Characterization(pdk: pdk.name, corner: cornerName, unitCurrent: unitCurrent, supply: supply,
                                    cellSize: cellSize, cellTopology: cellTopology, results: results)
    }

    /// Reduces the results of the sweeps, keyed by sweep, to tables (cells of `cellTopology` measured
    /// at `cellSize`).
    public init(pdk: String, corner: String, unitCurrent: Double, supply: Double, cellSize: DeviceSize = .unit,
                cellTopology: MemoryCell.Topology = .feedback,
                results: [CharacterizationSweep: SimulationResult]) throws(CharacterizeError)
    {
        let sweeps = SweepResults(results: results)
        var mirrors: [MirrorTable] = []
        for polarity in Polarity.allCases { mirrors.append(try sweeps.mirrorTable(polarity, unitCurrent: unitCurrent)) }
        self.init(pdk: pdk, corner: corner, unitCurrent: unitCurrent, supply: supply, mirrors: mirrors,
                  cell: try sweeps.cellTable(unitCurrent: unitCurrent, topology: cellTopology),
                  readout: try sweeps.readoutTable(unitCurrent: unitCurrent, supply: supply),
                  drainFactors: try sweeps.drainFactors(), narrowestOutput: CurrentMirror.standardNarrowestOutput,
                  cellSize: cellSize, cellTopology: cellTopology, biasMirrors: try sweeps.biasTables(unitCurrent: unitCurrent))
    }
}

/// The results of a characterization's sweeps, read by sweep name and probe.
private struct SweepResults {
    var results: [CharacterizationSweep: SimulationResult]

    /// The result of `sweep`.
    func result(_ sweep: CharacterizationSweep) throws(CharacterizeError) -> SimulationResult {
        guard let result = results[sweep] else { throw .measurement("no result of the \(sweep) sweep") }
        return result
    }

    /// The values of `probe` in the result of `sweep`.
    func vector(_ sweep: CharacterizationSweep, _ probe: Probe) throws(CharacterizeError) -> [Double] {
        let name: String
        do { name = try SpiceWriter.expression(probe) } catch { throw .netlist(error) }
        guard let values = try result(sweep).vectors[name], !values.isEmpty else {
            throw .measurement("\(sweep) sweep: no vector \(name)")
        }
        return values
    }

    /// The time axis of the transient of `sweep`.
    func time(_ sweep: CharacterizationSweep) throws(CharacterizeError) -> [Double] {
        guard let time = try result(sweep).vectors["time"] else { throw .measurement("\(sweep) sweep has no time vector") }
        return time
    }

    /// Output over input current at every input and width of the `polarity` mirror sweep.
    func mirrorTable(_ polarity: Polarity, unitCurrent: Double) throws(CharacterizeError) -> Characterization.MirrorTable {
        let sweep = CharacterizationSweep.mirrors(polarity)
        var ratio: [[Double]] = []
        for (i, input) in CharacterizationSweep.mirrorInputs.enumerated() {
            var row: [Double] = []
            for w in CharacterizationSweep.mirrorWidths.indices {
                // Current into the + terminal: an NMOS output draws it out (negative).
                let branch = try vector(sweep, .current(source: "o\(i)_\(w)"))[0]
                row.append((polarity == .nmos ? -branch : branch) / (input * unitCurrent))
            }
            ratio.append(row)
        }
        return Characterization.MirrorTable(polarity: polarity, inputs: CharacterizationSweep.mirrorInputs.map { $0 * unitCurrent },
                                            widths: CharacterizationSweep.mirrorWidths, ratio: ratio)
    }

    /// Output current over I_u at every width of every bias group of the bias-mirror sweep.
    func biasTables(unitCurrent: Double) throws(CharacterizeError) -> [Characterization.BiasTable] {
        var tables: [Characterization.BiasTable] = []
        for (group, (polarity, node, cell)) in CharacterizationSweep.biasGroups.enumerated() {
            var ratio: [Double] = []
            for w in CharacterizationSweep.biasWidths.indices {
                ratio.append(abs(try vector(.biasMirrors, .current(source: "b\(group)_\(w)"))[0]) / unitCurrent)
            }
            tables.append(.init(polarity: polarity, node: node, cell: cell, widths: CharacterizationSweep.biasWidths, ratio: ratio))
        }
        return tables
    }

    /// The switching points of every cell of the cell sweep, and their fits.
    func cellTable(unitCurrent: Double, topology: MemoryCell.Topology) throws(CharacterizeError) -> Characterization.CellTable {
        typealias Point = Characterization.CellPoint
        let time = try time(.cell), ramp = CharacterizationSweep.cellRamp
        let input = { (biases: (Double, Double, Double), t: Double) in
            CharacterizationSweep.cellPeak(threshold: biases.0, width: biases.1, topology: topology)
                * (t <= ramp ? t / ramp : (2 * ramp - t) / ramp)
        }
        var grid: [Point] = [], gainSweep: [Point] = []
        let gridCount = CharacterizationSweep.gridCount(topology)
        for (index, biases) in CharacterizationSweep.cellBiasSets(unitCurrent: unitCurrent, topology: topology).enumerated() {
            let output = try vector(.cell, .current(source: "out\(index)"))
            guard let switching = CharacterizationSweep.switching(time: time, output: output) else {
                // A grid cell whose hysteresis reaches below zero input never switches off: not a
                // cell the compiler builds, so it is left out; the gain sweep must switch.
                if index < gridCount { continue }
                throw .measurement("cell \(index) (I_thresh \(biases.0) A) did not switch on and off")
            }
            let point = Point(threshold: biases.0, width: biases.1, gain: biases.2, on: input(biases, switching.on),
                              off: input(biases, switching.off), high: switching.high)
            if index < gridCount { grid.append(point) } else { gainSweep.append(point) }
        }
        guard grid.count >= gridCount / 2 else {
            throw .measurement("only \(grid.count) of \(gridCount) grid cells switched on and off")
        }
        let points = grid + gainSweep
        func fit(_ y: (Point) -> Double) throws(CharacterizeError) -> Characterization.CellFit {
            guard let fit = Characterization.CellFit(fitting: points, y, scale: unitCurrent) else {
                throw .measurement("cell sweeps do not determine a fit")
            }
            return fit
        }
        return Characterization.CellTable(grid: grid, gainSweep: gainSweep, on: try fit(\.on), off: try fit(\.off),
                                          high: try fit(\.high))
    }

    /// The readout's offset at every level of the readout sweep.
    func readoutTable(unitCurrent: Double, supply: Double) throws(CharacterizeError) -> Characterization.ReadoutTable {
        let time = try time(.readout)
        var offsets: [Double] = []
        for index in CharacterizationSweep.readoutLevels.indices {
            let out = try vector(.readout, .voltage("out\(index)"))
            guard let flip = crossing(time, out, level: supply / 2, rising: true) else {
                throw .measurement("readout \(index) never flipped within +-10 %")
            }
            offsets.append(0.9 + 0.2 * flip.time / CharacterizationSweep.readoutRamp - 1)
        }
        return Characterization.ReadoutTable(levels: CharacterizationSweep.readoutLevels.map { $0 * unitCurrent },
                                             offsets: offsets, tail: Characterization.readoutTail(unitCurrent))
    }

    /// Every output polarity's current into each node type over its current at half the supply.
    func drainFactors() throws(CharacterizeError) -> [Characterization.DrainFactor] {
        var factors: [Characterization.DrainFactor] = []
        for polarity in Polarity.allCases {
            let tag = polarity.rawValue
            let half = try vector(.drainFactors, .current(source: "o_\(tag)_half"))[0]
            for node in Polarity.allCases {
                let current = try vector(.drainFactors, .current(source: "o_\(tag)_\(node.rawValue)"))[0]
                guard half != 0, (current / half).isFinite, current / half > 0 else {
                    throw .measurement("\(tag) output into a \(node.rawValue) node: \(current) A against \(half) A")
                }
                factors.append(Characterization.DrainFactor(polarity: polarity, node: node, factor: current / half))
            }
        }
        return factors
    }
}

extension CharacterizationSweep {
    /// A cell's output under a rising-then-falling input: the times it crossed half its held level
    /// going up and coming down, and the high level it held in between (the median). Not the peak:
    /// switching on overshoots, by a third at I_width = 3 I_u in a feedback cell and about 2x in a
    /// switched one, and a fit to peaks set every cell's I_gain low (cell 1/1 of kws-yes-d4 held 0.56
    /// units for alpha 0.90). Nil when the output never switched on and off.
    public static func switching(time: [Double], output: [Double]) -> (on: Double, off: Double, high: Double)? {
        // Half the held level, not half the peak: a switched cell's output overshoots about 2x for
        // a few microseconds as it switches on, which would put a peak-based level above the held one.
        guard let peak = output.max(), peak > 0 else { return nil }
        let above = output.filter { $0 > peak / 10 }.sorted(), level = above[above.count / 2] / 2
        guard let on = crossing(time, output, level: level, rising: true),
              let off = crossing(time, output, level: level, rising: false, from: on.index), off.index > on.index
        else { return nil }
        let held = output[on.index..<off.index].sorted()
        return (on.time, off.time, held[held.count / 2])
    }
}

/// The first time at which `values` crosses `level` in the given direction after index `from`,
/// linearly interpolated between samples, with the index after the crossing.
func crossing(_ time: [Double], _ values: [Double], level: Double, rising: Bool, from: Int = 1)
    -> (time: Double, index: Int)?
{
    for index in max(from, 1)..<values.count {
        let (a, b) = (values[index - 1] - level, values[index] - level)
        if rising ? (a < 0 && b >= 0) : (a > 0 && b <= 0) {
            return (time[index - 1] + (time[index] - time[index - 1]) * a / (a - b), index)
        }
    }
    return nil
}
