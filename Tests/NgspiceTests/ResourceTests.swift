import Foundation
import PDK
import SpiceValues
import Testing
import TestSupport
@testable import Ngspice

@Suite("Resources and start-up")
struct ResourceTests {
    @Test("Resident memory stays flat over 500 re-runs of a parsed GF180 circuit (< 5 MB growth)")
    func memoryFlat() async throws {
        let pdk = try TestSupport.catalog.pdk("gf180mcu", environment: TestSupport.environment())
        // One NMOS mirror (W = 1 um, L = 4 um, 1 nA), its output held at half the supply through vo0.
        let nmos = pdk.descriptor.devices.nmos, prefix = nmos.subcircuit ? "x" : "m"
        let deck = ["* memory check: one \(pdk.name) NMOS mirror"] + (try pdk.modelStatements(corner: "typical")) + [
            SimulationOptions().statement, "vdd vdd 0 1.8", "vhalf half 0 0.9", "iin0 vdd g0 1e-9",
            "\(prefix)in g0 g0 0 0 \(nmos.model) w=1e-06 l=4e-06", "\(prefix)out o0 g0 0 0 \(nmos.model) w=1e-06 l=4e-06",
            "vo0 o0 half 0", ".end",
        ]
        let jobs = (0..<550).map { index in
            SimulationJob(deck: deck, reuseParsedDeck: true,
                          commands: ["alter iin0 = \(Double(1 + index % 7) * 1e-10)"],
                          analysis: "tran 1u 100u", vectors: ["vo0#branch"])
        }
        let outcomes = await WorkerPool(.init(workers: 1)).run(jobs)
        for outcome in outcomes { _ = try outcome.result.get() }
        // The first 50 runs warm up allocator pools and ngspice's tables; growth is counted after them.
        let warm = try #require(outcomes[49].residentBytes)
        let last = try #require(outcomes[549].residentBytes)
        #expect(last - warm < 5_000_000, "grew \(last - warm) bytes over 500 runs")
        // Each run changed the input current, so each answer differs from its neighbour's.
        let currents = try outcomes.prefix(7).map { try -($0.result.get().vectors["vo0#branch"]!.last!) }
        #expect(zip(currents, currents.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test("A user ~/.spiceinit that changes options does not change results")
    func spiceinitIgnored() throws {
        let deck = ["rc", "v1 in 0 pwl(0 0 1n 1)", "r1 in out 1k", "c1 out 0 1u", ".tran 1m 30m"]
        func simulate(_ extra: [String] = []) throws -> [Double] {
            let session = try NgspiceSession()
            for command in extra { try session.command(command) }
            try session.load(lines: deck)
            try session.run()
            return try session.vector("v(out)")
        }
        let reference = try simulate()
        guard let home = getpwuid(getuid())?.pointee.pw_dir.map({ String(cString: $0) }) else {
            Issue.record("no passwd home directory")
            return
        }
        let file = URL(fileURLWithPath: home).appendingPathComponent(".spiceinit")
        let backup = URL(fileURLWithPath: home).appendingPathComponent(".spiceinit.bmrukit-test-backup")
        let hadFile = FileManager.default.fileExists(atPath: file.path)
        if hadFile { try FileManager.default.moveItem(at: file, to: backup) }
        defer {
            try? FileManager.default.removeItem(at: file)
            if hadFile { try? FileManager.default.moveItem(at: backup, to: file) }
        }
        // `interp` makes ngspice store only the print-step grid; `option` lines in a .spiceinit have no
        // effect in ngspice 39 (they need a loaded circuit).
        let settings = ["set interp", "set num_threads=2"]
        try Data(settings.joined(separator: "\n").utf8).write(to: file)
        // The same settings applied on purpose do change the result: the check below can fail.
        let altered = try simulate(settings)
        #expect(altered != reference)
        #expect(try simulate() == reference)
    }
}
