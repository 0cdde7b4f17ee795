import Characterize
import Foundation
import Ngspice
import PDK
import Testing
@testable import Netlist

/// One characterization per PDK (typical corner, I_u = 1 nA), measured once for all calibration tests.
actor MeasuredTables {
    static let shared = MeasuredTables()
    private var tasks: [String: Task<Characterization, any Error>] = [:]

    /// The freshly measured table of the PDK `name`.
    func table(_ name: String) async throws -> Characterization {
        if let task = tasks[name] { return try await task.value }
        let task = Task { try await Characterization.measure(pdk: try testPDK(name), corner: "typical",
                                                             unitCurrent: CalibrationTests.unitCurrent,
                                                             pool: WorkerPool(.init(workers: 2))) }
        tasks[name] = task
        return try await task.value
    }
}

/// The issue's function checks after calibration: circuits sized and biased from a fresh
/// characterization, simulated afresh, meet their targets within 5 %.
@Suite("Calibration", .serialized)
struct CalibrationTests {
    static let unitCurrent = 1e-9

    /// The issue's 5 % over 0.1..3 I_u, with the table centred on that range; and the same 5 % over the
    /// network's default signal range (`Characterization.signalRange`, 0.5..5 I_u) with the table
    /// centred there, as the compiler sizes. Since narrow outputs stop at 0.4 um and are lengthened
    /// (`CurrentMirror.outputSize`) every GF180 weight meets 4 % over 0.1..3 I_u; at the minimum width
    /// weights below 0.3 drifted ~8 % and reached 5.7 % at the ends.
    @Test("Mirrors sized from the table give their weight within 5 % over the range they are centred on: 0.1..3 I_u, and the default 0.5..5 I_u",
          arguments: ["generic180", "gf180mcu"])
    func mirrors(pdk name: String) async throws {
        let pdk = try testPDK(name), table = try await MeasuredTables.shared.table(name)
        let weights = [0.05, 0.1, 0.3, 1, 2.5, 8], levels = [0.1, 0.3, 0.5, 1, 2, 3, 5]
        let ranges = [0.1...3.0, Characterization.signalRange]
        var widths: [Polarity: [Double]] = [:]
        for polarity in Polarity.allCases {
            widths[polarity] = try ranges.flatMap { range in
                try weights.map { try table.width(for: $0, at: Self.unitCurrent, polarity: polarity, range: range) }
            }
        }
        var circuit = try bench("calibrated mirrors", pdk: pdk)
        let currents = levels.map { $0 * Self.unitCurrent }
        try addMirrors(to: &circuit, pdk: pdk, widths: widths, currents: currents)
        let session = try simulate(circuit, .op)
        for polarity in Polarity.allCases {
            for (r, range) in ranges.enumerated() {
                var report: [String] = []
                for (w, weight) in weights.enumerated() {
                    let output = r * weights.count + w
                    let ratios = try currents.indices.map {
                        try mirrorRatio(session, polarity, currents: currents, index: $0, output: output)
                    }
                    report.append(String(format: "w %g (width %.3f): ", weight, widths[polarity]![output])
                        + ratios.map { String(format: "%.3f", $0) }.joined(separator: "/"))
                    for (index, ratio) in ratios.enumerated() where range.contains(levels[index]) {
                        #expect(abs(ratio / weight - 1) < 0.05,
                                "\(name) \(polarity) weight \(weight) centred on \(range) at \(levels[index]) I_u: \(ratio)")
                    }
                }
                print("\(name) \(polarity) mirrors centred on \(range) I_u, at " + levels.map { "\($0)" }.joined(separator: "/")
                      + " I_u: " + report.joined(separator: ", "))
            }
        }
    }

    /// A summing node as the compiler builds them: a ReLU diode of type `node`, a +1 term (an output
    /// against the diode: sourcing into an NMOS-diode node) and a -0.5 term (with it), both mirrors fed
    /// I_u; the diode should carry 0.5 I_u. Returns that current over I_u, with the widths sized for
    /// the node's drain voltage (`node`) or, with `plain`, for the tables' half-supply drain.
    static func summingNode(_ node: Polarity, pdk: PDK, table: Characterization, plain: Bool) throws -> Double {
        let iu = unitCurrent
        var circuit = try bench("summing node", pdk: pdk)
        let diode = ReLU(name: "sum_diode", polarity: node)
        try circuit.define(diode.subcircuit(pdk: pdk))
        circuit.elements += [
            .voltageSource(name: "sense", positive: "sum", negative: "d", value: .dc(0)),
            .instance(Instance(name: "d", subcircuit: diode.name, nodes: ["d", node == .nmos ? "0" : "vdd"])),
        ]
        for (polarity, weight) in [(node.opposite, 1.0), (node, 0.5)] {
            let width = try table.width(for: weight, at: iu, polarity: polarity, node: plain ? nil : node)
            let mirror = CurrentMirror(name: "m_\(polarity)", polarity: polarity, ratios: [width])
            try circuit.define(mirror.subcircuit(pdk: pdk))
            let input = "in_\(polarity)"
            circuit.elements += [
                .instance(Instance(name: "m_\(polarity)", of: try mirror.subcircuit(pdk: pdk), connections: [
                    "in": input, "rail": polarity == .nmos ? "0" : "vdd", "out1": "sum"])),
                .currentSource(name: input, positive: polarity == .nmos ? "vdd" : input,
                               negative: polarity == .nmos ? input : "0", value: .dc(.number(iu))),
            ]
        }
        let session = try simulate(circuit, .op)
        // Current into the + terminal (sum -> diode): what an NMOS diode conducts; a PMOS one the reverse.
        let current = try session.vector("i(vsense)")[0]
        return (node == .nmos ? current : -current) / iu
    }

    @Test("A summing node of +1 and -0.5 terms sized for its drain voltage carries 0.5 I_u within 2 %, closer than sized at half supply",
          arguments: ["generic180", "gf180mcu"])
    func drainFactors(pdk name: String) async throws {
        let pdk = try testPDK(name), table = try await MeasuredTables.shared.table(name)
        for node in Polarity.allCases {
            let sized = try Self.summingNode(node, pdk: pdk, table: table, plain: false)
            let plain = try Self.summingNode(node, pdk: pdk, table: table, plain: true)
            print(String(format: "%@ %@-diode node, +1 -0.5 at I_u: %.4f sized for the node, %.4f sized at half supply",
                         name, node.rawValue, sized, plain))
            #expect(abs(sized / 0.5 - 1) < 0.02)
            #expect(abs(sized - 0.5) < abs(plain - 0.5))
        }
    }

    /// Bias ratios: the smallest kws-yes-d4 uses, ratios inside finger counts and in the jumps just
    /// above 2 and 3 fingers (`Characterization.invert`), and the largest cell biases.
    static let biasRatios = [0.05, 0.1, 0.37, 1, 1.6, 2.05, 2.12, 3.05, 4.4]

    @Test("Bias outputs of the bias reference sized from the bias tables carry their ratio of I_u within 1 % in every group",
          arguments: ["generic180", "gf180mcu"])
    func biasMirrors(pdk name: String) async throws {
        let pdk = try testPDK(name), table = try await MeasuredTables.shared.table(name), iu = Self.unitCurrent
        var circuit = try bench("calibrated bias mirrors", pdk: pdk)
        let groups = CharacterizationSweep.biasGroups
        let widths = try groups.map { group in
            try Self.biasRatios.map { try table.biasWidth(for: $0, polarity: group.polarity, node: group.node, cell: group.cell) }
        }
        try CharacterizationSweep.addBiasMirrors(to: &circuit, pdk: pdk, unitCurrent: iu, cellSize: table.cellSize, widths: widths)
        let session = try simulate(circuit, .op)
        for (g, group) in groups.enumerated() {
            var report: [String] = []
            for (r, ratio) in Self.biasRatios.enumerated() {
                let measured = abs(try session.vector("i(vb\(g)_\(r))")[0]) / iu
                report.append(String(format: "%g: %.4f", ratio, measured / ratio))
                #expect(abs(measured / ratio - 1) < 0.01, "\(name) \(group) ratio \(ratio): \(measured)")
            }
            print("\(name) bias mirrors \(group.polarity.rawValue) into \(group.cell ? "cell" : group.node.rawValue) diodes, measured / target: "
                + report.joined(separator: ", "))
        }
    }

    /// Cell targets (beta_hi, beta_lo, alpha) in units of I_u: the issue's example, a small and a
    /// large cell, and a wide hysteresis (kws-yes-d4's cell 1/1), where the overshoot at switch-on is
    /// largest and beta_lo is 7 % of beta_hi.
    static let cellTargets = [[0.8, 0.3, 1.0], [0.4, 0.15, 0.5], [2.0, 1.2, 2.5], [3.0, 0.2, 0.9]]

    @Test("A cell biased from the fits switches on at beta_hi, off at beta_lo and rises to alpha, within 5 %",
          arguments: ["generic180", "gf180mcu"], cellTargets)
    func cell(pdk name: String, targets: [Double]) async throws {
        let pdk = try testPDK(name), table = try await MeasuredTables.shared.table(name)
        let iu = Self.unitCurrent
        let (betaHi, betaLo, alpha) = (targets[0] * iu, targets[1] * iu, targets[2] * iu)
        let biases = try table.cellBiases(on: betaHi, width: betaHi - betaLo, high: alpha)
        let peak = 1.3 * betaHi
        // The table is measured on the 9-transistor cell; the sampled one, enabled, and the filtered one
        // must meet the same targets. The filtered cell switches once its imbalance has charged 200 fF
        // (about 0.1 pC): on the characterization's 0.5 s ramp that lags by up to 42 pA (the wide
        // cell's switch-off), so its static switch points are read on a ramp ten times slower.
        let enabled = (phi: SourceValue.dc(.number(supply)), phib: SourceValue.dc(0), hold: SourceValue.dc(0))
        for (timing, enable, filter) in [(CellTiming.continuous, nil, nil), (.sampled, enabled, nil),
                                         (.filtered, nil, MemoryCell.filterCapacitance)] {
            let ramp = CharacterizationSweep.cellRamp * (timing == .filtered ? 10 : 1)
            let session = try simulate(cellBench(pdk: pdk, threshold: biases.threshold, width: biases.width,
                                                 gain: biases.gain, input: triangle(peak: peak, ramp: ramp),
                                                 step: ramp / 500, enable: enable, filter: filter))
            let response = try CellResponse(session, peak: peak, ramp: ramp)
            print(String(format: "%@ calibrated %@ cell: biases %.1f/%.1f/%.1f pA -> on %.1f pA (target %.0f), off %.1f pA (%.0f), "
                    + "high %.1f pA (%.0f)", name, timing.rawValue, biases.threshold * 1e12,
                         biases.width * 1e12, biases.gain * 1e12, response.on * 1e12, betaHi * 1e12, response.off * 1e12,
                         betaLo * 1e12, response.high * 1e12, alpha * 1e12))
            #expect(abs(response.on / betaHi - 1) < 0.05)
            #expect(abs(response.off / betaLo - 1) < 0.05)
            #expect(abs(response.high / alpha - 1) < 0.05)
            // Independently of how `high` is read: the output at the top of the ramp, long after switching.
            #expect(abs(response.top / alpha - 1) < 0.05)
        }
    }
}
