import Foundation
import Testing

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
}
