import Foundation
import Ngspice
import PDK
import Testing
@testable import Netlist

@Suite("Primitives")
struct PrimitiveTests {
    /// The biases of the brief's cell check.
    static let (threshold, width, gain) = (350e-12, 200e-12, 500e-12)

    @Test("The memory cell latches: on near I_thresh, off near I_thresh - I_width, high near I_gain",
          arguments: ["generic180", "gf180mcu"])
    func memoryCell(pdk name: String) throws {
        let session = try simulate(cellBench(pdk: testPDK(name), threshold: Self.threshold, width: Self.width,
                                             gain: Self.gain, input: triangle(peak: 700e-12, ramp: 0.2), step: 0.2 / 500))
        let response = try CellResponse(session, peak: 700e-12, ramp: 0.2)
        let (onCurrent, offCurrent, high) = (response.on, response.off, response.high)
        let (time, output) = (response.time, response.output)
        print("\(name) cell: on \(onCurrent) A, off \(offCurrent) A, high \(high) A")
        #expect(abs(onCurrent / Self.threshold - 1) < 0.15)
        #expect(abs(offCurrent / (Self.threshold - Self.width) - 1) < 0.25)
        #expect(abs((onCurrent - offCurrent) / Self.width - 1) < 0.25)
        #expect(abs(high / Self.gain - 1) < 0.15)
        // Hysteresis: at 250 pA, inside the band, the output is low on the way up and high on the way down.
        let up = try #require(time.firstIndex { $0 >= 250.0 / 700 * 0.2 })
        let down = try #require(time.firstIndex { $0 >= 0.4 - 250.0 / 700 * 0.2 })
        #expect(output[up] < 0.05 * high && output[down] > 0.9 * high)
    }

    @Test("The switched cell latches: on near I_thresh + I_width, off near I_thresh, high near I_gain, with or without its filter",
          arguments: ["generic180", "gf180mcu"], [nil, MemoryCell.filterCapacitance])
    func switchedCell(pdk name: String, filter: Double?) throws {
        // beta_lo 100 pA, beta_hi 1.5 nA: the reset threshold is the small bias itself.
        let (threshold, width, gain, peak) = (100e-12, 1.4e-9, 500e-12, 2.2e-9)
        let session = try simulate(cellBench(pdk: testPDK(name), threshold: threshold, width: width, gain: gain,
                                             input: triangle(peak: peak, ramp: 0.5), step: 0.5 / 500, filter: filter,
                                             topology: .switched))
        let response = try CellResponse(session, peak: peak, ramp: 0.5)
        print("\(name) switched cell (filter \(filter ?? 0) F): on \(response.on) A, off \(response.off) A, high \(response.high) A")
        #expect(abs(response.on / (threshold + width) - 1) < 0.1)
        #expect(abs(response.off - threshold) < 40e-12)
        #expect(abs(response.high / gain - 1) < 0.15)
        // Held on from 300 pA up to 1.4 nA on the way down, off there on the way up.
        let up = try #require(response.time.firstIndex { $0 >= 0.3e-9 / peak * 0.5 })
        let down = try #require(response.time.firstIndex { $0 >= 1 - 0.3e-9 / peak * 0.5 })
        #expect(response.output[up] < 0.05 * response.high && response.output[down] > 0.9 * response.high)
    }

    /// The output current over time of a cell with the brief's biases, starting off, driven by `input`
    /// (`cellBench`'s `enable` and `filter`).
    static func output(pdk: PDK, input: [PWLPoint], step: Double,
                       enable: (phi: SourceValue, phib: SourceValue, hold: SourceValue)? = nil,
                       filter: Double? = nil) throws -> (Double) -> Double {
        var circuit = try cellBench(pdk: pdk, threshold: threshold, width: width, gain: gain, input: input, step: step,
                                    enable: enable, filter: filter)
        circuit.initialConditions = [InitialCondition(.voltage(MemoryCell.comparatorNode, path: ["cell"]), volts: 0)]
        let session = try simulate(circuit)
        let (time, output) = (try session.vector("time"), try session.vector("i(vout)"))
        return { t in output[time.lastIndex { $0 <= t }!] }
    }

    @Test("A sampled cell decides only while enabled and holds its state otherwise; a continuous one latches a glitch",
          arguments: ["generic180", "gf180mcu"])
    func sampledCell(pdk name: String) throws {
        let pdk = try testPDK(name)
        // One block's clock: enabled from 3.33 to 10 ms of every 10 ms frame.
        let lines = SampleClock(blocks: 1, frameDuration: 1e-2, supply: supply, edge: 1e-5).sources(block: 0).map {
            if case let .voltageSource(_, _, _, value) = $0 { value } else { SourceValue.dc(0) }
        }
        let (high, band) = (600e-12, 250e-12)
        // Inside the hysteresis band, with a 2 ms pulse above I_thresh while disabled; above I_thresh
        // from 11 ms; zero from 21 ms.
        let input = [PWLPoint(0, band), PWLPoint(1e-3, band), PWLPoint(1.01e-3, high), PWLPoint(3e-3, high),
                     PWLPoint(3.01e-3, band), PWLPoint(11e-3, band), PWLPoint(11.01e-3, high), PWLPoint(21e-3, high),
                     PWLPoint(21.01e-3, 0), PWLPoint(30e-3, 0)]
        let sampled = try Self.output(pdk: pdk, input: input, step: 2e-5, enable: (lines[0], lines[1], lines[2]))
        let level = 0.5 * Self.gain
        print("\(name) sampled cell output at 3.2/9.9/12.9/19.9/22.9/29.9 ms: "
              + [3.2, 9.9, 12.9, 19.9, 22.9, 29.9].map { String(format: "%.1f pA", sampled($0 * 1e-3) * 1e12) }.joined(separator: ", "))
        #expect(sampled(3.2e-3) < 0.1 * level && sampled(9.9e-3) < 0.1 * level, "the pulse while disabled was ignored")
        #expect(sampled(12.9e-3) < 0.1 * level, "input above threshold but not yet enabled")
        #expect(sampled(19.9e-3) > level, "switched on in the window")
        #expect(sampled(22.9e-3) > level, "held on with zero input while disabled")
        #expect(sampled(29.9e-3) < 0.1 * level, "switched off in the window")
        let continuous = try Self.output(pdk: pdk, input: input, step: 2e-5)
        #expect(continuous(3.2e-3) > level && continuous(9.9e-3) > level, "the continuous cell latched the pulse")
    }

    @Test("A filtered cell ignores a 40 us pulse that latches the continuous cell, and still switches on a 50 pA margin",
          arguments: ["generic180", "gf180mcu"])
    func filteredCell(pdk name: String) throws {
        let pdk = try testPDK(name)
        let (pulse, band, margin) = (Self.threshold + 250e-12, 250e-12, Self.threshold + 50e-12)
        // Inside the hysteresis band with a 40 us pulse 250 pA above I_thresh at 1 ms (an input edge's
        // overshoot), then 50 pA above I_thresh from 5 ms.
        let input = [PWLPoint(0, band), PWLPoint(1e-3, band), PWLPoint(1.001e-3, pulse), PWLPoint(1.04e-3, pulse),
                     PWLPoint(1.041e-3, band), PWLPoint(5e-3, band), PWLPoint(5.001e-3, margin), PWLPoint(15e-3, margin)]
        let level = 0.5 * Self.gain
        let (continuous, filtered) = (try Self.output(pdk: pdk, input: input, step: 2e-6),
                                      try Self.output(pdk: pdk, input: input, step: 2e-6, filter: MemoryCell.filterCapacitance))
        let on = { (cell: (Double) -> Double) in stride(from: 5e-3, through: 15e-3, by: 1e-4).first { cell($0) > level } }
        print("\(name): output at 4.9 ms continuous \(continuous(4.9e-3)) A, filtered \(filtered(4.9e-3)) A; "
              + "on after the 50 pA step at \(on(continuous).map { "\($0)" } ?? "never") / \(on(filtered).map { "\($0)" } ?? "never") s")
        #expect(continuous(4.9e-3) > level, "the continuous cell latched the pulse")
        #expect(filtered(4.9e-3) < 0.1 * level, "the filtered cell ignored it")
        #expect(try #require(on(filtered)) < 8e-3, "and switched on within 3 ms of a 50 pA margin")
    }

    @Test("Mirrors follow their ratios within 10 % from 100 pA to 3 nA; the ReLU passes only positive net current",
          arguments: ["generic180", "gf180mcu"])
    func mirrors(pdk name: String) throws {
        let pdk = try testPDK(name)
        let ratios = [0.5, 1, 2.5], currents = [100e-12, 1e-9, 3e-9]
        var circuit = try bench("mirror ratios", pdk: pdk)
        try addMirrors(to: &circuit, pdk: pdk, widths: [.nmos: ratios, .pmos: ratios], currents: currents)
        // ReLU: an NMOS diode at a summing node fed 1 nA in and 0.4 nA out (and the reverse), read by an
        // output-only mirror.
        let relu = ReLU(name: "relu", polarity: .nmos)
        let bank = CurrentMirror(name: "bank", polarity: .nmos, ratios: [1], diode: false)
        try circuit.define(relu.subcircuit(pdk: pdk))
        try circuit.define(bank.subcircuit(pdk: pdk))
        for (tag, into, outOf) in [("pos", 1e-9, 0.4e-9), ("neg", 0.4e-9, 1e-9)] {
            circuit.elements += [
                .instance(Instance(name: "relu_\(tag)", subcircuit: "relu", nodes: ["sum_\(tag)", "0"])),
                .currentSource(name: "into_\(tag)", positive: "vdd", negative: "sum_\(tag)", value: .dc(.number(into))),
                .currentSource(name: "outof_\(tag)", positive: "sum_\(tag)", negative: "0", value: .dc(.number(outOf))),
                .instance(Instance(name: "bank_\(tag)", subcircuit: "bank", nodes: ["sum_\(tag)", "relu_out_\(tag)", "0"])),
                .voltageSource(name: "relu_\(tag)", positive: "relu_out_\(tag)", negative: "half", value: .dc(0)),
            ]
        }
        let session = try simulate(circuit, .op)
        var report: [String] = []
        for polarity in Polarity.allCases {
            for index in currents.indices {
                for output in ratios.indices {
                    let ratio = try mirrorRatio(session, polarity, currents: currents, index: index, output: output)
                    report.append(String(format: "%@ %.0e x%.1f: %.3f", polarity.rawValue, currents[index],
                                         ratios[output], ratio))
                    #expect(abs(ratio / ratios[output] - 1) < 0.10, "\(name) \(report.last!)")
                }
            }
        }
        print("\(name) mirrors: " + report.joined(separator: ", "))
        let positive = -(try session.vector("i(vrelu_pos)")[0]), negative = -(try session.vector("i(vrelu_neg)")[0])
        print("\(name) ReLU: net +0.6 nA -> \(positive) A, net -0.6 nA -> \(negative) A")
        #expect(abs(positive / 0.6e-9 - 1) < 0.10)
        #expect(abs(negative) < 5e-12)
    }

    @Test("Fractional mirror outputs: by width down to 0.4 um, then lengthened to 20 um, then narrowed; a zero floor is the PDK minimum")
    func mirrorOutputGeometry() throws {
        let pdk = try testPDK("gf180mcu"), unit = CurrentMirror.mirrorUnit, wmin = pdk.descriptor.wmin
        func size(_ ratio: Double, narrowest: Double = CurrentMirror.standardNarrowestOutput) throws -> DeviceSize {
            let (size, fingers) = try CurrentMirror.outputSize(ratio: ratio, unit: unit, narrowest: narrowest, pdk: pdk)
            #expect(fingers == 1)
            // Every rule keeps W/L at the ratio.
            #expect(abs(size.width / size.length / (ratio * unit.width / unit.length) - 1) < 1e-12)
            return size
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-15 }
        for (ratio, width) in [(0.3, 1.2e-6), (0.1, 0.4e-6)] {
            let byWidth = try size(ratio)
            #expect(close(byWidth.width, width) && byWidth.length == unit.length)
        }
        let lengthened = try size(0.05)
        #expect(close(lengthened.width, 0.4e-6) && close(lengthened.length, 4e-6))
        // 0.4 um reaches 20 um at a ratio of 0.01; below it the output narrows at 20 um.
        let narrowed = try size(0.008)
        #expect(narrowed.length == CurrentMirror.maximumLength && narrowed.width < 0.4e-6 && narrowed.width >= wmin)
        #expect(close(try size(Compiler.minimumRatio(pdk: pdk)).width, wmin))
        // The rule before the floor (tables without `narrowestOutput`): minimum width, lengthened.
        let legacy = try size(0.05, narrowest: 0)
        #expect(legacy.width == wmin && close(legacy.length, unit.length * wmin / (0.05 * unit.width)))
        #expect(throws: NetlistError.self) { try CurrentMirror.outputSize(ratio: 0.1, unit: unit, narrowest: -1, pdk: pdk) }
    }

    @Test("The differential-pair readout decides correctly for 5 % current differences from 100 pA to 3 nA",
          arguments: ["generic180", "gf180mcu"])
    func readout(pdk name: String) throws {
        let pdk = try testPDK(name)
        let readout = DifferentialPair(), bias = ReLU(name: "bias_diode", polarity: .nmos, size: readout.size)
        var circuit = try bench("readout", pdk: pdk)
        try circuit.define(readout.subcircuit(pdk: pdk))
        try circuit.define(bias.subcircuit(pdk: pdk))
        circuit.elements += [
            .instance(Instance(name: "tail", subcircuit: bias.name, nodes: ["tail", "0"])),
            .currentSource(name: "tail", positive: "vdd", negative: "tail", value: .dc(100e-12)),
        ]
        var cases: [(tag: String, aWins: Bool)] = []
        for (index, level) in [100e-12, 1e-9, 3e-9].enumerated() {
            for aWins in [true, false] {
                let tag = "c\(index)\(aWins ? "a" : "b")"
                let (a, b) = aWins ? (1.05 * level, level) : (level, 1.05 * level)
                circuit.elements += [
                    .currentSource(name: "a_\(tag)", positive: "vdd", negative: "a_\(tag)", value: .dc(.number(a))),
                    .currentSource(name: "b_\(tag)", positive: "vdd", negative: "b_\(tag)", value: .dc(.number(b))),
                    .instance(Instance(name: tag, of: try readout.subcircuit(pdk: pdk),
                                       connections: ["a": "a_\(tag)", "b": "b_\(tag)", "out": "out_\(tag)", "vss": "0"])),
                ]
                cases.append((tag, aWins))
            }
        }
        let session = try simulate(circuit, .op)
        var report: [String] = []
        for (tag, aWins) in cases {
            let out = try session.vector("v(out_\(tag))")[0]
            report.append(String(format: "%@ %.3f V", tag, out))
            #expect(aWins ? out > 0.9 * supply : out < 0.1 * supply, "\(name) \(tag): \(out) V")
        }
        print("\(name) readout: " + report.joined(separator: ", "))
    }
}
