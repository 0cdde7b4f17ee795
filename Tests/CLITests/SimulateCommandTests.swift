import Foundation
import Testing

@Suite("bmru simulate")
struct SimulateCommandTests {
    let rc = """
        rc
        v1 in 0 pwl(0 0 1n 1)
        r1 in out 1k
        c1 out 0 1u
        .tran 10u 2m
        .end
        """

    @Test("JSON output has the analysis and the vectors, scale included")
    func json() throws {
        let deck = try CLI.file(rc)
        defer { try? FileManager.default.removeItem(at: deck) }
        let output = try CLI.run(["simulate", deck.path, "--save", "v(out)", "--format", "json"])
        #expect(output.status == 0, "\(output.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect(object?["analysis"] as? String == "tran")
        let vectors = try #require(object?["vectors"] as? [String: [Double]])
        #expect(Set(vectors.keys) == ["time", "v(out)"])
        let time = try #require(vectors["time"])
        let out = try #require(vectors["v(out)"])
        #expect(time.count == out.count && time.last! >= 2e-3)
        // v(out) at 1 ms = 1 - 1/e within the integration error.
        let index = try #require(time.firstIndex { $0 >= 1e-3 })
        #expect(abs(out[index] - (1 - exp(-time[index] / 1e-3))) < 0.01)
    }

    @Test("CSV output has a header and one row per point")
    func csv() throws {
        let deck = try CLI.file(rc)
        defer { try? FileManager.default.removeItem(at: deck) }
        let output = try CLI.run(["simulate", deck.path, "--save", "v(out)"])
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.first == "time,v(out)")
        #expect(lines.count > 100)
        #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",").count == 2 })
    }

    @Test("Bad decks give one line on stderr and exit code 1", arguments: [
        ("bad\nv1 1 0 dc 1\nr1 1 0 {rval}\n.op\n.end\n", "undefined parameter"),
        ("bad\nv1 1 0 dc 1\nx1 1 0 nosuchsub\n.op\n.end\n", "nosuchsub"),
        ("bad\nv1 1 0 dc 1\nr1 1 0 abc\n.op\n.end\n", "abc"),
    ])
    func errors(deck text: String, expected: String) throws {
        let deck = try CLI.file(text)
        defer { try? FileManager.default.removeItem(at: deck) }
        let output = try CLI.run(["simulate", deck.path])
        #expect(output.status == 1)
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(output.stderr)")
        #expect(output.stderr.contains(expected))
    }

    @Test("A missing deck file is a one-line error")
    func missingFile() throws {
        let output = try CLI.run(["simulate", "/nonexistent/deck.cir"])
        #expect(output.status != 0)
        #expect(output.stderr.contains("/nonexistent/deck.cir"))
    }

    @Test("Several decks run in the worker pool, each written to the output folder; failures are counted")
    func several() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try CLI.file(rc)
        let bad = try CLI.file("bad\nv1 1 0 dc 1\nx1 1 0 nosuchsub\n.op\n.end\n")
        defer { [good, bad].forEach { try? FileManager.default.removeItem(at: $0) } }
        let output = try CLI.run(["simulate", good.path, bad.path, "--jobs", "2", "--out", folder.path])
        #expect(output.status == 1)
        #expect(output.stderr.contains("1 of 2 decks failed"))
        let written = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(written == [good.deletingPathExtension().lastPathComponent + ".csv"])
    }
}

@Suite("bmru pdk")
struct PDKCommandTests {
    @Test("pdk list names both PDKs")
    func list() throws {
        let output = try CLI.run(["pdk", "list"])
        #expect(output.status == 0)
        #expect(output.stdout.contains("generic180") && output.stdout.contains("gf180mcu"))
    }

    @Test("pdk check prints ratios for every corner and passes", arguments: ["generic180", "gf180mcu"])
    func check(pdk: String) throws {
        let output = try CLI.run(["pdk", "check", pdk, "--json"])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: [[String: Any]]]
        #expect(Set(report?.keys ?? [:].keys) == ["typical", "ff", "ss", "fs", "sf"])
        #expect(report?["typical"]?.count == 12)
    }

    @Test("gf180mcu without PDK_ROOT names the variable, on one line, exit 1")
    func missingRoot() throws {
        let output = try CLI.run(["pdk", "check", "gf180mcu"], environment: ["PDK_ROOT": ""])
        #expect(output.status == 1)
        #expect(output.stderr.contains("PDK_ROOT is not set"))
        #expect(output.stderr.split(separator: "\n").count == 1)
    }
}
