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

    @Test("A binary or non-UTF-8 file given as a deck is a one-line error naming it, alone or among good decks")
    func binaryDeck() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-binary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = folder.appendingPathComponent("noise.wav"), latin1 = folder.appendingPathComponent("latin1.cir")
        try Data((0..<2000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }).write(to: binary)
        try Data("rc \u{B5}F\nr1 1 0 1k\n.op\n.end\n".data(using: .isoLatin1)!).write(to: latin1)
        for deck in [binary, latin1] {
            let output = try CLI.run(["simulate", deck.path])
            #expect(output.status == 1)
            #expect(output.stderr == "Error: netlist error: \(deck.path): not a SPICE deck (a binary file, or text that is not UTF-8)\n",
                    "\(output.stderr)")
        }
        let good = folder.appendingPathComponent("rc.cir")
        try Data(rc.utf8).write(to: good)
        let several = try CLI.run(["simulate", binary.path, good.path, "--out", folder.appendingPathComponent("out").path])
        #expect(several.status == 1 && several.stderr.contains("noise.wav") && several.stderr.contains("not a SPICE deck"),
                "\(several.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/rc.csv").path))
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

    /// `rc` with its resistor set to `resistance`, so each deck's answer is its own.
    func rc(resistance: Int) -> String {
        rc.replacingOccurrences(of: "r1 in out 1k", with: "r1 in out \(resistance)")
    }

    @Test("Decks that share a file name get one output each; every failed or missing deck is named")
    func sharedNamesAndFailures() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let files: [(String, String)] = [
            ("a/rc.cir", rc(resistance: 1000)), ("b/rc.cir", rc(resistance: 2000)), ("c/rc-1.cir", rc(resistance: 500)),
            ("a/bad.cir", "bad\nv1 1 0 dc 1\nr1 1 0 {rval}\n.op\n.end\n"),
            ("b/bad.cir", "bad\nv1 1 0 dc 1\nx1 1 0 nosuchsub\n.op\n.end\n"),
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        let decks = files.map { root.appendingPathComponent($0.0).path } + [root.appendingPathComponent("d/missing.cir").path]
        let out = root.appendingPathComponent("out")
        let run = try CLI.run(["simulate"] + decks + ["--save", "v(out)", "--jobs", "2", "--out", out.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("3 of 6 decks failed: \(decks[3]), \(decks[4]), \(decks[5])"), "\(run.stderr)")
        for deck in decks[3...] { #expect(run.stderr.contains("simulate: \(deck): "), "\(run.stderr)") }
        let written = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(written == ["rc-1-1.csv", "rc-1-3.csv", "rc-2.csv"])
        // Each file holds its own deck's answer: v(out) at 1 ms is 1 - exp(-1 ms / RC).
        for (name, resistance) in [("rc-1-1.csv", 1000.0), ("rc-2.csv", 2000), ("rc-1-3.csv", 500)] {
            let rows = try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
                .dropFirst().map { $0.split(separator: ",").compactMap { Double($0) } }
            let row = try #require(rows.first { $0[0] >= 1e-3 })
            #expect(abs(row[1] - (1 - exp(-row[0] / (resistance * 1e-6)))) < 0.01, "\(name): \(row)")
        }
    }

    @Test("Each result is on disk as soon as its deck ends, while other decks still run")
    func streamed() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let fast = root.appendingPathComponent("fast.cir"), slow = root.appendingPathComponent("slow.cir")
        try Data(rc.utf8).write(to: fast)
        // Ten seconds of a 1 MHz sine at 1 ns steps: stopped by --timeout long after the fast deck ends.
        try Data("slow\nv1 1 0 sin(0 1 1meg)\nr1 1 2 1k\nc1 2 0 1n\n.tran 1n 10\n.end\n".utf8).write(to: slow)
        let out = root.appendingPathComponent("out")
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["simulate", slow.path, fast.path, "--jobs", "2", "--timeout", "8", "--out", out.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let written = out.appendingPathComponent("fast.csv").path
        let start = Date()
        while !FileManager.default.fileExists(atPath: written), process.isRunning, Date().timeIntervalSince(start) < 30 {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let presentWhileRunning = FileManager.default.fileExists(atPath: written) && process.isRunning
        process.waitUntilExit()
        #expect(presentWhileRunning, "fast.csv was not written before the run ended")
        #expect(process.terminationStatus == 1)
        let text = try String(contentsOfFile: written, encoding: .utf8)
        #expect(text.hasPrefix("time,") && text.split(separator: "\n").count > 100)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("slow.csv").path))
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

    @Test("pdk check prints ratios for every corner and passes; --json keys are snake_case", arguments: ["generic180", "gf180mcu"])
    func check(pdk: String) throws {
        let output = try CLI.run(["pdk", "check", pdk, "--json"])
        #expect(output.status == 0, "\(output.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: [[String: Any]]]
        #expect(Set(report?.keys ?? [:].keys) == ["typical", "ff", "ss", "fs", "sf"])
        #expect(report?["typical"]?.count == 12)
        #expect(Set(report?["typical"]?.first?.keys ?? [:].keys) == ["polarity", "input", "width_ratio", "output", "gate_voltage"])
    }

    @Test("gf180mcu without PDK_ROOT names the variable, on one line, exit 1")
    func missingRoot() throws {
        let output = try CLI.run(["pdk", "check", "gf180mcu"], environment: ["PDK_ROOT": ""])
        #expect(output.status == 1)
        #expect(output.stderr.contains("PDK_ROOT is not set"))
        #expect(output.stderr.split(separator: "\n").count == 1)
    }
}
