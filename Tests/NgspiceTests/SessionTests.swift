import Foundation
import Testing
@testable import Ngspice

/// A first-order RC low-pass driven by a 1 V step at t = 0: v(out) = 1 - exp(-t / RC), RC = 1 ms.
let rcDeck = [
    "rc step",
    "v1 in 0 pwl(0 0 1n 1)",
    "r1 in out 1k",
    "c1 out 0 1u",
    ".options reltol=1e-6 abstol=1e-15 vntol=1e-9",
    ".tran 1u 6m 0 1u",
    ".end",
]

/// Linear interpolation of `values` sampled at `scale`, at `x`.
func interpolate(_ scale: [Double], _ values: [Double], at x: Double) -> Double {
    guard let upper = scale.firstIndex(where: { $0 >= x }), upper > 0 else { return values.first ?? .nan }
    let (x0, x1) = (scale[upper - 1], scale[upper])
    return values[upper - 1] + (values[upper] - values[upper - 1]) * (x - x0) / (x1 - x0)
}

@Suite("NgspiceSession")
struct SessionTests {
    @Test("RC step response matches the analytic exponential within 0.5 %")
    func rcStep() throws {
        let session = try NgspiceSession()
        try session.load(lines: rcDeck)
        let plot = try session.run()
        #expect(plot.hasPrefix("tran"))
        let time = try session.vector("time")
        let out = try session.vector("v(out)")
        #expect(time.count == out.count && time.count > 100)
        for multiple in [1.0, 2.0, 5.0] {
            let t = multiple * 1e-3
            let expected = 1 - exp(-multiple)
            let measured = interpolate(time, out, at: t)
            #expect(abs(measured - expected) / expected < 0.005, "at \(multiple) RC: \(measured) vs \(expected)")
        }
    }

    @Test("Named analyses run without deck statements; op, dc and ac give their scales")
    func analyses() throws {
        let session = try NgspiceSession()
        try session.load(lines: ["divider", "v1 in 0 dc 1 ac 1", "r1 in out 1k", "r2 out 0 3k", "c1 out 0 1n"])
        try session.run(.op)
        #expect(abs(try session.vector("v(out)")[0] - 0.75) < 1e-9)
        try session.run(.dc(source: "v1", start: 0, stop: 2, step: 0.5))
        let sweep = try session.result(vectors: ["v(out)"])
        #expect(sweep.scale == "v-sweep")
        #expect(sweep.vectors["v(out)"]?.count == 5)
        #expect(abs((sweep.vectors["v(out)"]?.last ?? 0) - 1.5) < 1e-9)
        try session.run(.ac(pointsPerDecade: 10, start: 1, stop: 1e6))
        let ac = try session.complexVector("v(out)")
        #expect(abs(ac.real[0] - 0.75) < 1e-6)
        #expect(session.scaleName() == "frequency")
    }

    @Test("A parse error is a typed error carrying ngspice's message")
    func parseError() throws {
        let session = try NgspiceSession()
        #expect {
            try session.load(lines: ["bad", "v1 1 0 dc 1", "r1 1 0 abc", ".op"])
        } throws: { error in
            guard case let .parse(message) = error as? NgspiceError else { return false }
            return message.contains("r1 1 0 abc") && message.contains("unknown parameter")
        }
    }

    @Test("An unknown model or subcircuit is a typed error naming it")
    func unknownModel() throws {
        let session = try NgspiceSession()
        for (line, name) in [("m1 1 1 0 0 nosuchmodel w=1u l=1u", "nosuchmodel"), ("x1 1 0 nosuchsub", "nosuchsub")] {
            #expect {
                try session.load(lines: ["bad", "v1 1 0 dc 1", line, ".op"])
            } throws: { error in
                guard case let .unknownModel(message) = error as? NgspiceError else { return false }
                return message.contains(name)
            }
        }
    }

    @Test("An undefined parameter is typed, and the next good circuit runs in the same session")
    func undefinedParameterThenRecovery() throws {
        let session = try NgspiceSession()
        #expect {
            try session.load(lines: ["bad", "v1 1 0 dc 1", "r1 1 0 {rval}", ".op"])
        } throws: { error in
            guard case let .undefinedParameter(message) = error as? NgspiceError else { return false }
            return message.contains("rval")
        }
        try session.load(lines: rcDeck)
        try session.run()
        #expect(abs(interpolate(try session.vector("time"), try session.vector("v(out)"), at: 1e-3) - (1 - exp(-1))) < 0.005)
    }

    @Test("A .param ngspice cannot evaluate in an included model file names that file and line, as given or nested",
          arguments: ["'0.5*'", "garbage"])
    func parameterInIncludedFile(value: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-param-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("models"), withIntermediateDirectories: true)
        // A model file with CRLF line ends, included from a corner section of another, as PDKs are laid out.
        let cards = ["* cards", ".param k_scale=1", ".subckt load a b r=1k", ".param", "+ k=1",
                     "+ g=\(value)", "r1 a b {r*g*k_scale}", ".ends load"]
        try Data(cards.joined(separator: "\r\n").utf8).write(to: folder.appendingPathComponent("models/cards.lib"))
        try Data(".lib tt\n.include 'cards.lib'\n.endl tt\n".utf8).write(to: folder.appendingPathComponent("models/corners.lib"))
        let deck = ["bad card", ".lib models/corners.lib tt", "v1 1 0 dc 1", "x1 1 0 load r=2k", ".op"]
        let file = folder.appendingPathComponent("deck.cir")
        try Data(deck.joined(separator: "\n").utf8).write(to: file)
        let session = try NgspiceSession()
        let expected = "\(folder.path)/models/cards.lib line 6: g = \(value.replacingOccurrences(of: "'", with: ""))"
        for load in [{ try session.load(file: file) },
                     { try session.load(lines: deck.map { $0.replacingOccurrences(of: "models/", with: folder.path + "/models/") }) }] {
            #expect { try load() } throws: { error in
                "\(error)".contains(expected) && !"\(error)".contains("\n")
            }
        }
        // Without the file, the message is ngspice's own.
        #expect(ParameterSource(lines: ["x"], folder: folder.path).locate(["Formula() error.", "|g=0.5*| : |g|=|0.5*|"]) == nil)
        try session.load(lines: rcDeck)
        try session.run()
    }

    @Test("A circuit that cannot converge is a convergence error")
    func convergence() throws {
        let session = try NgspiceSession()
        try session.load(lines: ["loop", "v1 1 0 1", "v2 1 0 2", "r1 1 0 1k"])
        #expect {
            try session.run(.op)
        } throws: { error in
            guard case let .convergence(message) = error as? NgspiceError else { return false }
            return message.lowercased().contains("timestep too small")
        }
    }

    @Test("A run past its timeout is halted with .timeout and the session stays usable")
    func timeout() throws {
        let session = try NgspiceSession()
        try session.load(lines: ["slow", "v1 1 0 sin(0 1 1meg)", "r1 1 2 1k", "c1 2 0 1n", ".tran 1n 10"])
        let start = ContinuousClock.now
        #expect(throws: NgspiceError.timeout(seconds: 0.3)) {
            try session.run(timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - start < .seconds(5))
        try session.load(lines: rcDeck)
        try session.run()
        #expect(try session.vector("v(out)").count > 100)
    }

    @Test("Cancelling the calling task halts the run")
    func cancellation() async throws {
        let task = Task.detached {
            let session = try NgspiceSession()
            try session.load(lines: ["slow", "v1 1 0 sin(0 1 1meg)", "r1 1 2 1k", "c1 2 0 1n", ".tran 1n 10"])
            try session.run()
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: NgspiceError.cancelled) { try await task.value }
    }

    @Test("Streaming delivers every accepted point in order, matching the stored vector")
    func streaming() async throws {
        let session = try NgspiceSession()
        try session.load(lines: Array(rcDeck.dropLast(2)) + [".save v(out)"])
        var times: [Double] = []
        var outs: [Double] = []
        var names: [String] = []
        for try await point in try session.stream(.tran(step: 1e-5, stop: 2e-3)) {
            names = point.names
            times.append(point.scale)
            outs.append(point["v(out)"] ?? .nan)
        }
        #expect(times.count > 50)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 < $1 })
        let stored = try session.vector("v(out)")
        #expect(stored == outs, "names \(names); \(stored.count) stored vs \(outs.count) streamed; \(stored.prefix(3)) vs \(outs.prefix(3))")
    }

    @Test("Two runs of the same deck give identical vectors")
    func deterministic() throws {
        let first = try NgspiceSession()
        try first.load(lines: rcDeck)
        try first.run()
        let second = try NgspiceSession()
        try second.load(lines: rcDeck)
        try second.run()
        #expect(try first.vector("v(out)") == second.vector("v(out)"))
        #expect(try first.vector("time") == second.vector("time"))
    }

    @Test("Errors and vectors that do not exist are reported, not crashed on")
    func missing() throws {
        let session = try NgspiceSession()
        #expect(throws: NgspiceError.noCircuit) { try session.run() }
        try session.load(lines: rcDeck)
        try session.run()
        #expect(throws: NgspiceError.noSuchVector("v(nowhere)")) { try session.vector("v(nowhere)") }
        #expect(throws: NgspiceError.self) { try session.command("alter nosuchdevice = 3") }
        #expect(throws: NgspiceError.self) { try session.load(file: URL(fileURLWithPath: "/nonexistent/deck.cir")) }
    }
}
