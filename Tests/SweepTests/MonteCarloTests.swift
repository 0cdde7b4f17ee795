import Foundation
import Netlist
import Ngspice
import PDK
import Testing
import TestSupport

/// The PDKs' statistical models driven through `SimulationJob.seed`, on 1:1 NMOS mirrors (W 1 um,
/// L 2 um, 1 nA: weak inversion, where a threshold offset dV scales the output by exp(-dV / n U_T)).
@Suite("Monte Carlo with the PDKs' statistical models")
struct MonteCarloTests {
    static let mirrors = 4, input = 1e-9, size = DeviceSize(width: 1e-6, length: 2e-6)

    /// `mirrors` separate 1:1 mirrors fed `input` amperes each, outputs held at 0.9 V; an operating point.
    func deck(_ pdk: PDK, _ statistics: StatisticalVariation, input: Double = input) throws -> [String] {
        let device = Polarity.nmos.device(in: pdk.varied(statistics))
        func mosfet(_ name: String, drain: String, gate: String) -> Element {
            .mosfet(MOSFET(name: name, drain: drain, gate: gate, source: "0", bulk: "0", device: device,
                           width: .number(Self.size.width), length: .number(Self.size.length)))
        }
        var elements: [Element] = [
            .voltageSource(name: "vdd", positive: "vdd", negative: "0", value: .dc(1.8)),
            .voltageSource(name: "mid", positive: "mid", negative: "0", value: .dc(0.9)),
        ]
        for k in 0..<Self.mirrors {
            elements += [
                .currentSource(name: "in\(k)", positive: "vdd", negative: "g\(k)", value: .dc(.number(input))),
                mosfet("d\(k)", drain: "g\(k)", gate: "g\(k)"),
                mosfet("o\(k)", drain: "o\(k)", gate: "g\(k)"),
                .voltageSource(name: "s\(k)", positive: "mid", negative: "o\(k)", value: .dc(0)),
            ]
        }
        let circuit = Circuit(title: "1:1 mirrors", models: try pdk.modelStatements(corner: "typical", statistics: statistics),
                              elements: elements, analyses: [.op])
        return try SpiceWriter().lines(circuit)
    }

    /// The mirrors' output currents and gate voltages.
    static let outputs = (0..<mirrors).map { "i(vs\($0))" }
    static let gates = (0..<mirrors).map { "v(g\($0))" }

    /// Runs `deck` once per seed; per seed, each mirror's output/input ratio and its gate voltage.
    func run(_ deck: [String], seeds: [Int?]) async throws -> [(ratios: [Double], gates: [Double])] {
        let jobs = seeds.map { SimulationJob(deck: deck, seed: $0, vectors: Self.outputs + Self.gates) }
        let outcomes = await WorkerPool(.init(workers: 2)).run(jobs)
        return try outcomes.map { outcome in
            let result = try outcome.result.get()
            return (Self.outputs.map { abs(result.vectors[$0]![0]) / Self.input }, Self.gates.map { result.vectors[$0]![0] })
        }
    }

    /// A PDK's mismatch model as its files state it: Pelgrom coefficients of a pair (threshold,
    /// volt-metres; current factor, metres) and the effective area of a drawn size.
    struct Pelgrom: Sendable, CustomStringConvertible {
        var pdk: String, thresholdCoefficient: Double, betaCoefficient: Double
        var area: @Sendable (DeviceSize) -> Double
        var description: String { pdk }
    }

    static let models = [
        // sm141064.ngspice: mis_vth = agauss(0, 0.7071 par_vth 1e-6 / sqrt(Leff Weff), 1) per instance,
        // par_vth = 0.007148, Leff = L - 0.15 um, Weff = W + 0.1 um; its mis_k is drawn but not applied.
        Pelgrom(pdk: "gf180mcu", thresholdCoefficient: 7.148e-9, betaCoefficient: 0) {
            ($0.length - 0.15e-6) * ($0.width + 0.1e-6)
        },
        // generic180.lib, section mismatch: A_VT 5.0 mV um, A_beta 1 % um on drawn W L.
        Pelgrom(pdk: "generic180", thresholdCoefficient: 5.0e-9, betaCoefficient: 0.01e-6) { $0.width * $0.length },
    ]

    @Test("Mismatch: devices of one sample differ, the same seed repeats bit for bit, and 100 samples spread a 1:1 mirror's ratio by the sigma the model files imply (within 20 %)",
          arguments: models)
    func mismatch(_ model: Pelgrom) async throws {
        let pdk = try TestSupport.catalog.pdk(model.pdk, environment: TestSupport.environment())
        // The slope factor n U_T of the nominal device at this current, from two operating points.
        let nominal = try await run(deck(pdk, .none), seeds: [nil])[0]
        let higher = try await run(deck(pdk, .none, input: Self.input * 1.1), seeds: [nil])[0]
        let slope = (higher.gates[0] - nominal.gates[0]) / log(1.1)
        #expect((0.025...0.06).contains(slope), "n U_T = \(slope) V: not weak inversion")
        // A 1:1 mirror's ln(ratio) carries a pair's threshold and current-factor differences.
        let root = model.area(Self.size).squareRoot()
        let expected = ((model.thresholdCoefficient / root / slope) * (model.thresholdCoefficient / root / slope)
            + (model.betaCoefficient / root) * (model.betaCoefficient / root)).squareRoot()

        let samples = try await run(deck(pdk, .mismatch), seeds: Array(1...100))
        let logs = samples.flatMap { $0.ratios.map { log($0) } }
        let mean = logs.reduce(0, +) / Double(logs.count)
        let sigma = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logs.count - 1)).squareRoot()
        print("\(model.pdk) 1:1 mirror ln(ratio): sigma \(sigma) measured over \(logs.count) mirrors, \(expected) implied (n U_T \(slope) V)")
        #expect(abs(sigma / expected - 1) < 0.2, "sigma \(sigma) vs \(expected)")
        // Within one sample the identically drawn mirrors differ.
        #expect(Set(samples[0].ratios).count == Self.mirrors)
        #expect(samples[0].ratios.allSatisfy { abs($0 - nominal.ratios[0]) > 1e-4 })
        // The same seed gives the same circuit, whatever ran before in the worker.
        let again = try await run(deck(pdk, .mismatch), seeds: [7, 3, 7])
        #expect(again[0].ratios == again[2].ratios && again[0].gates == again[2].gates)
        #expect(again[0].ratios == samples[6].ratios)
        #expect(again[1].ratios != again[0].ratios)
    }

    @Test("Global variation moves every device of a sample together, and differs between samples")
    func global() async throws {
        let pdk = try TestSupport.catalog.pdk("gf180mcu", environment: TestSupport.environment())
        let samples = try await run(deck(pdk, .global), seeds: [1, 2, 3, 4])
        for sample in samples {
            #expect(sample.gates.allSatisfy { abs($0 - sample.gates[0]) < 1e-9 }, "\(sample.gates)")
            #expect(sample.ratios.allSatisfy { abs($0 - sample.ratios[0]) < 1e-9 }, "\(sample.ratios)")
        }
        let spread = samples.map { $0.gates[0] }
        #expect((spread.max()! - spread.min()!) > 1e-3, "gate voltages \(spread) barely move")
    }
}
