import Characterize
import Foundation
import Ngspice
import PDK
import SpiceValues
import TestSupport
import Testing
@testable import Netlist

/// The PDK `name` from the repository's `pdk/` folder (PDK_ROOT as `TestSupport` resolves it).
func testPDK(_ name: String) throws -> PDK {
    try TestSupport.catalog.pdk(name, environment: TestSupport.environment())
}

/// Supply of every test bench: the circuit's 1.8 V (GF180's 3.3 V devices run at it too).
let supply = 1.8

/// A bench with the typical-corner models, the pA options, a 1.8 V `vdd` and a `half` node at 0.9 V.
func bench(_ title: String, pdk: PDK) throws -> Circuit {
    Circuit(title: title, models: try pdk.modelStatements(corner: "typical"),
            elements: [.voltageSource(name: "dd", positive: "vdd", negative: "0", value: .dc(.number(supply))),
                       .voltageSource(name: "half", positive: "half", negative: "0", value: .dc(.number(supply / 2)))])
}

/// Loads `circuit` through the writer, runs it and returns the session for reading vectors.
func simulate(_ circuit: Circuit, _ analysis: Analysis = .deck) throws -> NgspiceSession {
    let session = try NgspiceSession()
    try session.load(lines: try SpiceWriter().lines(circuit))
    try session.run(analysis, timeout: .seconds(120))
    return session
}

/// Adds, for each polarity and each input current, a weight mirror with outputs of nominal width
/// ratios `widths[polarity]`, each output held at half the supply through a 0 V source (read with
/// `mirrorRatio`).
func addMirrors(to circuit: inout Circuit, pdk: PDK, widths: [Polarity: [Double]], currents: [Double]) throws {
    for polarity in Polarity.allCases {
        guard let ratios = widths[polarity] else { continue }
        let mirror = CurrentMirror(name: "mirror_\(polarity)", polarity: polarity, ratios: ratios)
        try circuit.define(mirror.subcircuit(pdk: pdk))
        for (index, current) in currents.enumerated() {
            let tag = "\(polarity)\(index)"
            var connections = ["in": "in_\(tag)", "rail": polarity == .nmos ? "0" : "vdd"]
            for output in ratios.indices {
                connections["out\(output + 1)"] = "out_\(tag)_\(output)"
                circuit.elements.append(.voltageSource(name: "o_\(tag)_\(output)", positive: "out_\(tag)_\(output)",
                                                       negative: "half", value: .dc(0)))
            }
            circuit.elements.append(.instance(Instance(name: tag, of: try mirror.subcircuit(pdk: pdk),
                                                       connections: connections)))
            // Into the NMOS diode from vdd; out of the PMOS diode to ground.
            circuit.elements.append(.currentSource(name: tag, positive: polarity == .nmos ? "vdd" : "in_\(tag)",
                                                   negative: polarity == .nmos ? "in_\(tag)" : "0",
                                                   value: .dc(.number(current))))
        }
    }
}

/// The measured output/input current ratio of output `output` of the `polarity` mirror fed
/// `currents[index]` in a circuit built by `addMirrors`.
func mirrorRatio(_ session: NgspiceSession, _ polarity: Polarity, currents: [Double], index: Int, output: Int) throws
    -> Double
{
    let branch = try session.vector(try SpiceWriter.expression(.current(source: "o_\(polarity)\(index)_\(output)")))[0]
    // Current into the + terminal: positive when a PMOS output sources, negative when an NMOS sinks.
    return (polarity == .nmos ? -branch : branch) / currents[index]
}

/// A 0 -> `peak` -> 0 triangle, `ramp` seconds each way.
func triangle(peak: Double, ramp: Double) -> [PWLPoint] { [PWLPoint(0, 0), PWLPoint(ramp, peak), PWLPoint(2 * ramp, 0)] }

/// The memory cell between a PMOS input diode drawing `input` (amperes; the transient ends at its last
/// point, maximum step `step`) and an output held at half the supply, biases from NMOS diodes fed by
/// ideal sources. With `enable` the cell is the sampled one, its `phi`, `phib` and `hold` driven by them;
/// with `filter` it has that capacitance on its comparator node (`CellTiming.filtered`).
func cellBench(pdk: PDK, threshold: Double, width: Double, gain: Double, input: [PWLPoint], step: Double,
               enable: (phi: SourceValue, phib: SourceValue, hold: SourceValue)? = nil, filter: Double? = nil,
               topology: MemoryCell.Topology = .feedback) throws -> Circuit {
    let cell = MemoryCell(outputs: [1], sampled: enable != nil, comparatorCapacitance: filter, topology: topology)
    // The input diode and the bias references are the size of the cell devices they drive.
    let diode = ReLU(name: "input_diode", polarity: .pmos, size: cell.size)
    let bias = ReLU(name: "bias_diode", polarity: .nmos, size: cell.size)
    var circuit = try bench("memory cell hysteresis", pdk: pdk)
    for subcircuit in [try cell.subcircuit(pdk: pdk), try diode.subcircuit(pdk: pdk), try bias.subcircuit(pdk: pdk)] {
        try circuit.define(subcircuit)
    }
    circuit.elements += [
        .instance(Instance(name: "input", subcircuit: diode.name, nodes: ["cin", "vdd"])),
        .currentSource(name: "input", positive: "cin", negative: "0", value: .pwl(input)),
    ]
    if let enable {
        circuit.elements += [.voltageSource(name: "phi", positive: "phi", negative: "0", value: enable.phi),
                             .voltageSource(name: "phib", positive: "phib", negative: "0", value: enable.phib),
                             .voltageSource(name: "hold", positive: "hold", negative: "0", value: enable.hold)]
    }
    for (node, current) in [("thresh", threshold), ("width", width), ("gain", gain)] {
        circuit.elements += [
            .instance(Instance(name: node, subcircuit: bias.name, nodes: [node, "0"])),
            .currentSource(name: node, positive: "vdd", negative: node, value: .dc(.number(current))),
        ]
    }
    circuit.elements += [
        .instance(Instance(name: "cell", of: try cell.subcircuit(pdk: pdk),
                           connections: ["in": "cin", "out1": "out", "vss": "0", "phi": "phi", "phib": "phib", "hold": "hold"])),
        .voltageSource(name: "out", positive: "out", negative: "half", value: .dc(0)),
    ]
    circuit.saves = [.current(source: "out")]
    circuit.analyses = [.tran(step: step, stop: input.last!.time, maxStep: step)]
    return circuit
}

/// What a `cellBench` run shows: the input currents at which the output crossed half its held level
/// going up and coming down, the high level held in between (`CharacterizationSweep.switching`, as the
/// characterization measures it), and the traces.
struct CellResponse {
    var on, off, high: Double
    /// The output when the input is at its peak (time `ramp`).
    var top: Double
    var time, output: [Double]

    /// Reads the run of a `cellBench` with the same `peak` and `ramp`.
    init(_ session: NgspiceSession, peak: Double, ramp: Double) throws {
        time = try session.vector("time")
        output = try session.vector("i(vout)")
        let input = { (t: Double) in peak * (t <= ramp ? t / ramp : (2 * ramp - t) / ramp) }
        let switching = try #require(CharacterizationSweep.switching(time: time, output: output))
        #expect(switching.on < ramp && switching.off > ramp)
        (on, off, high) = (input(switching.on), input(switching.off), switching.high)
        let after = try #require(time.firstIndex { $0 >= ramp })
        top = output[after]
    }
}
