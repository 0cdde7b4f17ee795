import Foundation
import Testing
import TestSupport

@Suite("bmru kws and bmru demo")
struct KWSCommandTests {
    /// One real clip of each class.
    static let files = ["yes/0bac8a71_nohash_0.wav", "no/c7dc7278_nohash_0.wav"].map {
        TestSupport.speechCommands.appendingPathComponent($0).path
    }

    @Test("kws --spice --json: one line per file with the reference's and the circuit's decisions and the energy")
    func spice() throws {
        let run = try CLI.run(["kws", "--model", "results/models/kws-yes-d4", "--spice", "--pdk", "generic180",
                               "--characterization", "results/characterization/generic180", "--jobs", "2", "--json"] + Self.files)
        #expect([0, 2].contains(run.status), "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(lines.count == 2)
        for (line, file) in zip(lines, Self.files) {
            #expect(line["file"] as? String == file)
            #expect(["yes", "other"].contains(line["prediction"] as? String ?? ""))
            #expect(["yes", "other"].contains(line["circuit_prediction"] as? String ?? ""))
            #expect((line["agreement"] as? Bool) == (line["prediction"] as? String == line["circuit_prediction"] as? String))
            // About 180 nJ per 1 s clip at I_u = 1 nA: anything from 10 to 1000 nJ is a plausible circuit.
            #expect((10...1000).contains(line["energy_nJ"] as? Double ?? 0), "\(line)")
            #expect((line["scores"] as? [String: Double])?.count == 2)
        }
        let missing = try CLI.run(["kws", "--model", "results/models/kws-yes-d4", "--spice"] + Self.files)
        #expect(missing.status == 64 && missing.stderr.contains("--spice needs --pdk"), "\(missing.stderr)")
    }

    @Test("demo without clips says how to make them; --clips needs --data")
    func demoErrors() throws {
        let none = try CLI.run(["demo", "--audio", "/nonexistent/demo-audio"])
        #expect(none.status == 1 && none.stderr.contains("scripts/demo-audio.sh"), "\(none.stderr)")
        let orphan = try CLI.run(["demo", "--clips", "3"])
        #expect(orphan.status == 64 && orphan.stderr.contains("--clips needs --data"), "\(orphan.stderr)")
    }
}
