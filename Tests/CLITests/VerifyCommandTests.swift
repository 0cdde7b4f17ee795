import Foundation
import Testing
import TestSupport

@Suite("bmru verify")
struct VerifyCommandTests {
    @Test("latch-d4, one short golden clip on generic180: exit 0 and the report files; a failing clip gives exit 2")
    func verify() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-verify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--clips", "1",
                         "--frames", "6", "--jobs", "1", "--report", out.path]
        let passed = try CLI.run(arguments)
        #expect(passed.status == 0, "\(passed.stderr)")
        #expect(passed.stdout.contains("prediction agreement 100.0 %"))
        for file in ["report.json", "report.md", "traces/clip-0.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        let failing = try CLI.run(arguments + ["--spice-command", "alter @i.no_such_source[dc] = 1"])
        #expect(failing.status == 2, "\(failing.stderr)")
    }

    @Test("--data verifies balanced Speech Commands clips; it excludes --inputs and --split needs it")
    func speechCommands() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-verify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let data = TestSupport.speechCommands.path
        let arguments = ["verify", "--model", "results/models/kws-yes-d4", "--pdk", "generic180", "--clips", "2",
                         "--frames", "3", "--jobs", "1", "--report", out.path]
        let run = try CLI.run(arguments + ["--data", data, "--split", "test"])
        #expect([0, 2].contains(run.status), "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json")))
        let clips = (report as? [String: Any])?["per_clip"] as? [[String: Any]] ?? []
        #expect(clips.compactMap { $0["name"] as? String } == ["yes/0bac8a71_nohash_0.wav", "no/c7dc7278_nohash_0.wav"])
        #expect(clips.compactMap { $0["label"] as? Int } == [0, 1])
        let both = try CLI.run(arguments + ["--data", data, "--inputs", "x.safetensors"])
        #expect(both.status == 64 && both.stderr.contains("--inputs and --data are mutually exclusive"), "\(both.stderr)")
        let orphan = try CLI.run(arguments + ["--no-balanced"])
        #expect(orphan.status == 64 && orphan.stderr.contains("need --data"), "\(orphan.stderr)")
    }
}
