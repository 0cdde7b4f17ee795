import Foundation
import Ngspice
@testable import PDK
import Testing
@testable import Netlist

/// A small circuit using every kind of statement, for the hand-checked text.
let sample = Circuit(
    title: "RC and a divider",
    options: nil,
    parameters: [Parameter("Rload", 1000)],
    subcircuits: [Subcircuit(name: "Div", ports: ["a", "b"], parameters: [Parameter("k", 2)],
                             elements: [.resistor(name: "1", positive: "a", negative: "b", ohms: .parameter("k"))],
                             doc: ["divider"])],
    elements: [
        .voltageSource(name: "in", positive: "In.1", negative: "0", value: .dc(1.8)),
        .resistor(name: "r1", positive: "In.1", negative: "out", ohms: .parameter("rload")),
        .capacitor(name: "load", positive: "out", negative: "0", farads: 1e-15),
        .currentSource(name: "step", positive: "0", negative: "out",
                       value: .pwl([PWLPoint(0, 0), PWLPoint(1e-3, 3.5e-10)])),
        .currentSource(name: "drive", positive: "0", negative: "out", value: .external),
        .voltageSource(name: "clk", positive: "clk", negative: "0",
                       value: .pulse(Pulse(initial: 0, pulsed: 1.8, delay: 1e-3, rise: 1e-5, fall: 1e-5, width: 4e-3, period: 1e-2))),
        .instance(Instance(name: "d", subcircuit: "Div", nodes: ["out", "0"], parameters: [Parameter("k", 4.7e3)])),
        .mosfet(MOSFET(name: "m1", drain: "out", gate: "out", source: "0", bulk: "0",
                       device: .init(model: "nfet_03v3", subcircuit: true), width: 1e-6, length: 2e-6, multiplier: 3)),
        .comment("end"),
    ],
    saves: [.voltage("out"), .current(source: "in"), .voltage("a", path: ["d"])],
    analyses: [.tran(step: 1e-4, stop: 2e-3)])

@Suite("SpiceWriter")
struct WriterTests {
    @Test("A hand-checked circuit is written exactly")
    func exactText() throws {
        let text = try SpiceWriter().text(sample)
        #expect(text == """
            * RC and a divider
            .param rload=1000
            .subckt div a b params: k=2
            * divider
            r1 a b {k}
            .ends div
            vin in_1 0 dc 1.8
            r1 in_1 out {rload}
            cload out 0 1e-15
            istep 0 out pwl( 0 0 0.001 3.5e-10 )
            idrive 0 out external
            vclk clk 0 pulse( 0 1.8 0.001 1e-05 1e-05 0.004 0.01 )
            xd out 0 div k=4700
            xm1 out out 0 0 nfet_03v3 w=1e-06 l=2e-06 m=3
            * end
            *
            * simulation (ngspice): options, initial states, saved vectors, analyses
            .save v(out) i(vin) v(xd.a)
            .tran 0.0001 0.002 0
            .end

            """)
    }

    @Test("A batch output ends the deck with the control block that only ngspice -b runs; a name that is not a plain file name is refused")
    func batchOutput() throws {
        var circuit = sample
        circuit.batchOutput = "deck.raw"
        let lines = try SpiceWriter().lines(circuit)
        #expect(Array(lines.suffix(9).prefix(8)) == [
            "* ngspice only: 'ngspice -b' runs the analyses and writes the saved vectors beside this deck",
            ".control", "if $?batchmode", "  run", "  write $inputdir/deck.raw", "  quit", "end", ".endc",
        ] && lines.last == ".end")
        for name in ["../deck.raw", "a b.raw", ""] {
            circuit.batchOutput = name
            #expect(throws: NetlistError.self) { try SpiceWriter().lines(circuit) }
        }
    }

    @Test("The same circuit gives byte-identical text, primitives included", arguments: ["generic180", "gf180mcu"])
    func deterministic(pdk name: String) throws {
        let pdk = try testPDK(name)
        func build() throws -> Data {
            var circuit = try bench("determinism", pdk: pdk)
            try circuit.define(MemoryCell(outputs: [1, 0.3, 2.5]).subcircuit(pdk: pdk))
            try circuit.define(CurrentMirror(name: "m", polarity: .pmos, ratios: [0.1, 1, 3.7]).subcircuit(pdk: pdk))
            try circuit.define(DifferentialPair().subcircuit(pdk: pdk))
            circuit.elements.append(try InputSource.frames(name: "x", from: "vdd", into: "n", values: [1e-9, 2e-10, 3e-11],
                                                           frameDuration: 0.01, edge: 1e-5))
            return Data(try SpiceWriter().text(circuit).utf8)
        }
        #expect(try build() == build())
    }

    @Test("Names are lowercased, other characters become _, and element letters are added once")
    func sanitising() throws {
        #expect(try SpiceWriter.sanitize("Node A.1(x)") == "node_a_1_x_")
        #expect(try SpiceWriter.elementName("M1", letter: "m") == "m1")
        #expect(try SpiceWriter.elementName("m1", letter: "x") == "xm1")
        #expect(try SpiceWriter.elementName("bias", letter: "i") == "ibias")
        #expect(throws: NetlistError.emptyName) { try SpiceWriter.sanitize("") }
        // "A" and "a" would be one element in ngspice: refused instead.
        let clash = Circuit(title: "clash", elements: [
            .resistor(name: "A", positive: "1", negative: "0", ohms: 1),
            .resistor(name: "ra", positive: "1", negative: "0", ohms: 2),
        ])
        #expect(throws: NetlistError.duplicateName("ra", scope: "top level")) { try SpiceWriter().lines(clash) }
        let undefined = Circuit(title: "undefined", elements: [.instance(Instance(name: "u", subcircuit: "nope", nodes: []))])
        #expect(throws: NetlistError.unknownSubcircuit("nope", instance: "u")) { try SpiceWriter().lines(undefined) }
        var wrongPorts = sample
        wrongPorts.elements.append(.instance(Instance(name: "e", subcircuit: "div", nodes: ["out"])))
        #expect(throws: NetlistError.portMismatch(instance: "e", expected: 2, got: 1)) { try SpiceWriter().lines(wrongPorts) }
        var infinite = sample
        infinite.elements.append(.capacitor(name: "inf", positive: "out", negative: "0", farads: .number(.infinity)))
        #expect(throws: NetlistError.self) { try SpiceWriter().lines(infinite) }
    }

    @Test("A long PWL is wrapped into + lines that ngspice reads back point for point")
    func pwlWrapping() throws {
        let points = (0..<300).map { PWLPoint(Double($0) * 1e-5, 1e-9 * (1 + sin(Double($0) / 7))) }
        let circuit = Circuit(title: "pwl wrap", elements: [
            .currentSource(name: "x", positive: "0", negative: "n", value: .pwl(points)),
            .resistor(name: "load", positive: "n", negative: "0", ohms: 1e6),
        ], saves: [.voltage("n")], analyses: [.tran(step: 1e-5, stop: 3e-3)])
        let lines = try SpiceWriter().lines(circuit)
        #expect(lines.count > 30 && lines.allSatisfy { $0.count <= 100 })
        #expect(lines.filter { $0.hasPrefix("+ ") }.count > 25)
        let session = try simulate(circuit)
        let time = try session.vector("time"), voltage = try session.vector("v(n)")
        for point in points where Int(point.time / 1e-5) % 37 == 0 {
            let index = try #require(time.firstIndex { abs($0 - point.time) < 1e-12 }, "breakpoint at \(point.time)")
            #expect(abs(voltage[index] - point.value * 1e6) < 1e-4 * point.value * 1e6)
        }
    }

    @Test("A long time table is wrapped, read back by ngspice between its points, and sets no breakpoints")
    func timeTable() throws {
        let points = (0..<300).map { PWLPoint(Double($0) * 1e-5, 0.5 + 0.1 * sin(Double($0) / 7)) }
        let circuit = Circuit(title: "time table", elements: [
            .timeTable(name: "drive", positive: "n", negative: "0", points: points),
            .resistor(name: "load", positive: "n", negative: "0", ohms: 1e6),
        ], saves: [.voltage("n")], analyses: [.tran(step: 1e-4, stop: 3e-3)])
        let lines = try SpiceWriter().lines(circuit)
        #expect(lines.contains { $0.hasPrefix("bdrive n 0 v=pwl(time, 0, 0.5, 1e-05, ") })
        #expect(lines.allSatisfy { $0.count <= 100 } && lines.filter { $0.hasPrefix("+ ") }.count > 25)
        let session = try simulate(circuit)
        let time = try session.vector("time"), voltage = try session.vector("v(n)")
        // Far fewer points than the table has: its points are not breakpoints.
        #expect(time.count < points.count / 2)
        for (t, v) in zip(time, voltage) {
            let k = min(Int(t / 1e-5), points.count - 2)
            let line = points[k].value + (points[k + 1].value - points[k].value) * (t - points[k].time) / 1e-5
            #expect(abs(v - line) < 1e-6)
        }
        #expect(throws: NetlistError.self) {
            try SpiceWriter().lines(Circuit(title: "bad", elements: [
                .timeTable(name: "d", positive: "n", negative: "0", points: [PWLPoint(1, 0), PWLPoint(1, 1)])]))
        }
    }

    @Test("Frame inputs hold each value and ramp at frame edges")
    func frames() throws {
        let element = try InputSource.frames(name: "x", from: "vdd", into: "n", values: [1, 2, 3], frameDuration: 0.01,
                                             edge: 0.001)
        #expect(element == .currentSource(name: "x", positive: "vdd", negative: "n", value: .pwl([
            PWLPoint(0, 1), PWLPoint(0.01, 1), PWLPoint(0.011, 2), PWLPoint(0.02, 2), PWLPoint(0.021, 3),
        ])))
        #expect(throws: NetlistError.self) {
            try InputSource.frames(name: "x", from: "a", into: "b", values: [1], frameDuration: 0.01, edge: 0.02)
        }
    }
}

@Suite("SampleClock")
struct SampleClockTests {
    @Test("Windows open in block order, close at the frame's end; hold breaks before the enable makes, in ngspice")
    func windows() throws {
        let clock = SampleClock(blocks: 2, frameDuration: 0.01, supply: 1.8, edge: 1e-5)
        #expect(clock.window(block: 0) == (0.0025, 0.01) && clock.window(block: 1) == (0.005, 0.01))
        #expect(clock.sources(block: 1).count == 3)
        let circuit = Circuit(title: "clock", elements: clock.sources(block: 1) + [
            .resistor(name: "a", positive: "clk1", negative: "0", ohms: 1e6),
            .resistor(name: "b", positive: "clk1_b", negative: "0", ohms: 1e6),
            .resistor(name: "c", positive: "hold1", negative: "0", ohms: 1e6),
        ], saves: [.voltage("clk1"), .voltage("clk1_b"), .voltage("hold1")], analyses: [.tran(step: 1e-4, stop: 0.03)])
        let session = try simulate(circuit)
        let time = try session.vector("time"), enable = try session.vector("v(clk1)"),
            complement = try session.vector("v(clk1_b)"), hold = try session.vector("v(hold1)")
        func at(_ t: Double) -> Int { time.lastIndex { $0 <= t + 1e-12 }! }
        for frame in 0..<3 {
            let start = Double(frame) * 0.01
            let (before, inside) = (at(start + 0.004), at(start + 0.007))
            #expect(abs(enable[before]) < 1e-9 && abs(complement[before] - 1.8) < 1e-9 && abs(hold[before] - 1.8) < 1e-9,
                    "closed and holding before the window")
            #expect(abs(enable[inside] - 1.8) < 1e-9 && abs(complement[inside]) < 1e-9 && abs(hold[inside]) < 1e-9,
                    "open and not holding in the window")
            // Pulse corners are breakpoints (hold's, 10 us before the window, is off the 0.1 ms step
            // grid): hold starts to fall one edge before the window and is down when the enable rises.
            let (holdFalls, opens) = (start + 0.005 - 1e-5, start + 0.005)
            #expect(time.contains { abs($0 - holdFalls) < 1e-12 } && time.contains { abs($0 - opens) < 1e-12 })
            #expect(abs(hold[at(opens)]) < 1e-9 && abs(enable[at(opens)]) < 1e-9, "break before make")
        }
        var bad = Pulse(initial: 0, pulsed: 1, delay: 0, rise: 1e-3, fall: 1e-3, width: 9e-3, period: 1e-2)
        #expect(throws: NetlistError.self) {
            try SpiceWriter().lines(Circuit(title: "bad", elements: [.voltageSource(name: "p", positive: "p", negative: "0", value: .pulse(bad))]))
        }
        bad.width = 7e-3
        #expect(throws: Never.self) {
            try SpiceWriter().lines(Circuit(title: "ok", elements: [.voltageSource(name: "p", positive: "p", negative: "0", value: .pulse(bad))]))
        }
    }
}
