import Foundation
import Testing
import TestSupport

@Suite("bmru verify")
struct VerifyCommandTests {
    /// A checks file no run fails (tests of the report folder, not of the verdict).
    static let noLimits = TestSupport.repository.appendingPathComponent("Tests/CLITests/Fixtures/no-limits.json")

    @Test("One failing check (a power budget below what the circuit draws) exits 2 with the verdict; the checks file sets the rest; a bad checks file exits 1")
    func failingCheck() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-checks-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--clips", "1",
                         "--frames", "6", "--jobs", "1", "--checks", Self.noLimits.path, "--out", out.path]
        let passed = try CLI.run(arguments)
        #expect(passed.status == 0 && passed.stdout.contains("PASSED: all 6 checks met."), "\(passed.stdout) \(passed.stderr)")
        let failed = try CLI.run(arguments + ["--max-power", "0.001", "--force"])
        #expect(failed.status == 2, "\(failed.stderr)")
        #expect(failed.stdout.contains("FAILED 1 of 6 checks: mean power (nW) "), "\(failed.stdout)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.filter { $0["passed"] as? Bool == false }.compactMap { $0["name"] as? String } == ["power"])
        #expect(report["passed"] as? Bool == false && report["format_version"] as? Int == 2)
        // The limits recorded: the file's, and the flag over it.
        let limits = try #require(report["limits"] as? [String: Any])
        #expect(limits["max_power_nW"] as? Double == 0.001 && limits["min_suppression"] as? Double == 0)
        // The provenance names no absolute path of this machine, and the trace links resolve from the report folder.
        let provenance = try #require(report["provenance"] as? [String: Any])
        let commandLine = try #require(provenance["command_line"] as? [String])
        #expect(commandLine.first == "bmru" && !commandLine.contains { $0.hasPrefix("/") }, "\(commandLine)")
        #expect((provenance["bmrukit_commit"] as? String).map { $0 == "unknown" || $0.prefix(40).allSatisfy(\.isHexDigit) } == true)
        let clip = try #require((report["per_clip"] as? [[String: Any]])?.first?["trace"] as? String)
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(clip).path))
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(!markdown.contains(TestSupport.repository.path) && markdown.contains("| mean power (nW) |"))
        let bad = try CLI.file(#"{"min_state_bit": 0.9}"#, suffix: ".json")
        defer { try? FileManager.default.removeItem(at: bad) }
        let refused = try CLI.run(Array(arguments.dropLast(4)) + ["--checks", bad.path, "--out", out.path])
        #expect(refused.status == 1 && refused.stdout.isEmpty, "\(refused.stdout)")
        #expect(refused.stderr.contains("Error: \(bad.path): field min_state_bit: unknown (known: "), "\(refused.stderr)")
    }

    @Test("--mode partitioned: the report names the mode and carries ngspice's statistics per clip; netlist refuses the mode")
    func partitionedMode() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-partitioned-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try CLI.run(["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--clips", "1",
                               "--frames", "6", "--jobs", "1", "--checks", Self.noLimits.path, "--mode", "partitioned",
                               "--out", out.path])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        #expect((report["provenance"] as? [String: Any])?["mode"] as? String == "partitioned-replica")
        let statistics = try #require((report["per_clip"] as? [[String: Any]])?.first?["simulator_statistics"] as? [String: Any])
        #expect((statistics["accepted_points"] as? Int ?? 0) > 0 && (statistics["newton_iterations"] as? Int ?? 0) > 0)
        let netlist = try CLI.run(["netlist", "--model", "results/models/latch-d4", "--pdk", "generic180", "--mode", "partitioned",
                                   "--out", out.appendingPathComponent("deck").path])
        #expect(netlist.status == 1 && netlist.stderr.contains("--mode partitioned is a way to simulate"), "\(netlist.stderr)")
    }

    @Test("bmru demo: the verdict in the table footer, the exit status following it")
    func demo() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["demo", "--pdk", "generic180", "--data", TestSupport.speechCommands.path, "--clips", "1", "--jobs", "1",
                         "--checks", Self.noLimits.path, "--out", out.path]
        let passed = try CLI.run(arguments)
        #expect(passed.status == 0 && passed.stdout.hasSuffix("PASSED: all 6 checks met.\n"), "\(passed.stdout) \(passed.stderr)")
        let failed = try CLI.run(arguments + ["--max-failed-clips", "0", "--max-power", "0.001"])
        #expect(failed.status == 2, "\(failed.stderr)")
        #expect(failed.stdout.hasSuffix("\n") && failed.stdout.split(separator: "\n").last?.hasPrefix("FAILED 1 of 6 checks: mean power (nW) ") == true,
                "\(failed.stdout)")
    }
    @Test("latch-d4, one short golden clip on generic180: the report files, exit 2 on the suppression check alone; clips timing out exit 2, a bad --spice-command exit 1")
    func verify() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-verify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--clips", "1",
                         "--frames", "6", "--jobs", "1", "--out", out.path]
        // Every bit and decision agrees, but latch-d4's calibrated candidates are within about 1 pA of the
        // reference, no better than its held levels: the suppression factor is near 1 at every boundary.
        let passed = try CLI.run(arguments)
        #expect(passed.status == 2, "\(passed.stderr)")
        #expect(passed.stdout.contains("prediction agreement 100.0 %")
                && passed.stdout.contains("FAILED 1 of 6 checks: suppression factor at every cell boundary"), "\(passed.stdout)")
        // No committed table is at latch-d4's 1 nA: the tables are measured into the cache and named.
        #expect(passed.stdout.contains("calibrated from " + TestSupport.cache.path + "/characterization/generic180-typical-1e-09A"),
                "\(passed.stdout)")
        let provenance = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json")))
            as? [String: Any])?["provenance"] as? [String: Any])
        #expect((provenance["characterization_hash"] as? String)?.count == 64 && provenance["characterized"] as? Bool == true)
        for file in ["report.json", "report.md", "traces/clip-0.csv"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        // --keep-decks: the clip's deck, named in the report, runs by hand and leaves its raw file beside it.
        let kept = try CLI.run(arguments + ["--keep-decks"])
        #expect(kept.status == 2, "\(kept.stderr)")
        let perClip = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json")))
            as? [String: Any])?["per_clip"] as? [[String: Any]])
        #expect(perClip.first?["deck"] as? String == "decks/clip-0.cir")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/ngspice") {
            let batch = Process()
            batch.executableURL = URL(fileURLWithPath: "/usr/bin/ngspice")
            batch.arguments = ["-b", out.appendingPathComponent("decks/clip-0.cir").path]
            batch.currentDirectoryURL = FileManager.default.temporaryDirectory
            batch.standardOutput = FileHandle.nullDevice
            batch.standardError = FileHandle.nullDevice
            try batch.run()
            batch.waitUntilExit()
            #expect(batch.terminationStatus == 0)
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("decks/clip-0.raw").path))
        }
        // compare: --json prints the figures (snake_case keys), --out writes them to a file.
        let figures = out.appendingPathComponent("figures.json")
        let compared = try CLI.run(["compare", out.path, out.path, "--json", "--out", figures.path])
        #expect(compared.status == 0, "\(compared.stderr)")
        #expect(compared.stdout.contains("\"state_bit_agreement\" : 1") && !compared.stdout.contains("stateBit"), "\(compared.stdout)")
        #expect(try String(contentsOf: figures, encoding: .utf8) == compared.stdout)
        // A circuit that does not simulate (every clip times out) is a negative verdict with a report.
        let slow = out.appendingPathComponent("slow")
        let failing = try CLI.run(Array(arguments.dropLast()) + [slow.path, "--timeout", "0.001"])
        #expect(failing.status == 2, "\(failing.stderr)")
        #expect(failing.stdout.contains("1 clips (1 failed to simulate, 0 disagree): prediction agreement 0.0 %"), "\(failing.stdout)")
        let report = try String(contentsOf: slow.appendingPathComponent("report.json"), encoding: .utf8)
        #expect(report.contains("\"failure_kind\" : \"circuit\"") && report.contains("\"disagreed\" : 0"))
        // A bad --spice-command fails every clip outside the circuit: an error, no agreement figure, no report.
        let setup = out.appendingPathComponent("setup")
        let broken = try CLI.run(Array(arguments.dropLast()) + [setup.path, "--spice-command", "alter @i.no_such_source[dc] = 1"])
        #expect(broken.status == 1 && broken.stdout.isEmpty, "\(broken.stdout)")
        #expect(broken.stderr.contains("no clip could be simulated: ngspice command 'alter @i.no_such_source[dc] = 1' failed"),
                "\(broken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: setup.appendingPathComponent("report.json").path))
        // So does a temporary folder the workers cannot use.
        let noTemporary = try CLI.run(Array(arguments.dropLast()) + [setup.path], environment: ["TMPDIR": "/nonexistent"])
        #expect(noTemporary.status == 1 && noTemporary.stdout.isEmpty, "\(noTemporary.stdout)")
        #expect(noTemporary.stderr.contains("no clip could be simulated: cannot load libngspice")
                && noTemporary.stderr.contains("cannot make a private copy in the temporary folder /nonexistent (TMPDIR): No such file or directory\n"),
                "\(noTemporary.stderr)")
    }

    @Test("One run per report folder: a second run is refused while the first runs, other options need --force, resume works")
    func reportFolder() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-folder-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["verify", "--model", "results/models/kws-yes-d4", "--pdk", "generic180", "--clips", "3",
                         "--frames", "12", "--jobs", "1", "--checks", Self.noLimits.path, "--report", out.path]
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        process.currentDirectoryURL = TestSupport.repository
        process.environment = TestSupport.environment()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let lock = out.appendingPathComponent(".lock")
        func holder() -> String { (try? String(contentsOf: lock, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(120)
        while holder() != "\(process.processIdentifier)\n", process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let second = try CLI.run(arguments)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(second.status == 1, "\(second.stderr)")
        #expect(second.stderr.contains("\(out.path): another run (pid \(process.processIdentifier)) is writing to this report folder"),
                "\(second.stderr)")
        // The kernel released the killed run's lock: the same command resumes and finishes.
        let resumed = try CLI.run(arguments)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let again = try CLI.run(arguments)
        #expect(again.status == 0, "\(again.stderr)")
        let other = try CLI.run(Array(arguments.dropLast(2)) + ["--clips", "2", "--report", out.path])
        #expect(other.status == 1 && other.stderr.contains(
            "\(out.path): holds a report made with other options or clips; use another folder, or --force to replace it"),
                "\(other.stderr)")
        let forced = try CLI.run(Array(arguments.dropLast(2)) + ["--clips", "2", "--report", out.path, "--force"])
        #expect(forced.status == 0 && forced.stdout.hasPrefix("2 clips"), "\(forced.stderr)")
    }

    @Test("A corrupt PDK model file fails every clip outside the circuit: exit 1 with ngspice's reason, no report")
    func corruptPDK() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-pdk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: TestSupport.repository.appendingPathComponent("pdk/generic180"), to: folder)
        let library = folder.appendingPathComponent("generic180.lib")
        let text = try String(contentsOf: library, encoding: .utf8)
        let card = try #require(text.range(of: ".model nmos_g180 nmos level=54 version=4.8\n"))
        try (text[..<card.upperBound] + "+ vth0=@@garbage@@\n" + text[card.upperBound...]).write(to: library, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("report")
        // Nominal decks: a calibrated run would measure the corrupt PDK first and fail there.
        let run = try CLI.run(["verify", "--model", "results/models/latch-d4", "--pdk", folder.appendingPathComponent("pdk.json").path,
                               "--nominal", "--clips", "2", "--frames", "4", "--jobs", "1", "--report", out.path])
        #expect(run.status == 1 && run.stdout.isEmpty, "\(run.stdout)")
        #expect(run.stderr.contains("Error: no clip could be simulated: netlist error: Expression err: @@garbage@@"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("report.json").path))
        // A corner .param that ngspice cannot evaluate is named by file and line, not as "Cannot compute substitute".
        let corner = try #require(text.range(of: ".param g180_dvtn=0     "))
        try (text[..<corner.lowerBound] + ".param g180_dvtn='0.04*' " + text[corner.upperBound...])
            .write(to: library, atomically: true, encoding: .utf8)
        let line = text[..<corner.lowerBound].filter { $0 == "\n" }.count + 1
        let param = try CLI.run(["verify", "--model", "results/models/latch-d4", "--pdk", folder.appendingPathComponent("pdk.json").path,
                                 "--nominal", "--clips", "1", "--frames", "4", "--jobs", "1", "--out", out.path])
        #expect(param.status == 1 && param.stderr.split(separator: "\n").filter { !$0.hasPrefix("verify: ") }.count == 1,
                "\(param.stderr)")
        #expect(param.stderr.contains("no clip could be simulated: netlist error: \(library.path) line \(line): g180_dvtn = 0.04*: Expression err"),
                "\(param.stderr)")
    }

    @Test("An unwritable report folder fails before anything is simulated, naming the folder and the reason")
    func unwritableFolder() throws {
        let file = try CLI.file("not a folder", suffix: ".txt")
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try CLI.run(["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--clips", "1",
                               "--report", file.appendingPathComponent("report").path])
        #expect(run.status == 1 && run.stdout.isEmpty)
        #expect(run.stderr.contains("Error: \(file.path)/report: Not a directory\n"), "\(run.stderr)")
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
        #expect(both.status == 1 && both.stderr.contains("--inputs and --data are mutually exclusive"), "\(both.stderr)")
        let orphan = try CLI.run(arguments + ["--no-balanced"])
        #expect(orphan.status == 1 && orphan.stderr.contains("need --data"), "\(orphan.stderr)")
    }

    @Test("A killed run resumes: finished clips are kept, and the report equals an uninterrupted run's")
    func resume() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let (killed, fresh) = (root.appendingPathComponent("killed"), root.appendingPathComponent("fresh"))
        let clips = 4
        let arguments = ["verify", "--model", "results/models/kws-yes-d4", "--pdk", "generic180", "--clips", "\(clips)",
                         "--frames", "12", "--jobs", "1", "--checks", Self.noLimits.path]
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments + ["--report", killed.path]
        process.currentDirectoryURL = TestSupport.repository
        process.environment = TestSupport.environment()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let samples = killed.appendingPathComponent("samples")
        func saved() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: samples.path))?.count ?? 0 }
        let deadline = Date().addingTimeInterval(300)
        while saved() < 1, process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let kept = saved()
        #expect(kept >= 1 && kept < clips, "\(kept) clips saved before the kill")
        #expect(!FileManager.default.fileExists(atPath: killed.appendingPathComponent("report.json").path))
        let resumed = try CLI.run(arguments + ["--report", killed.path])
        let full = try CLI.run(arguments + ["--report", fresh.path])
        #expect(resumed.status == 0 && full.status == 0, "\(resumed.stderr) \(full.stderr)")
        func figures(_ folder: URL) throws -> [String] {
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("report.json")))
            let clips = (report as? [String: Any])?["per_clip"] as? [[String: Any]] ?? []
            return clips.map { clip in
                let power = (clip["power"] as? [String: Any])?["total_nW"] as? Double
                return "\(clip["name"] ?? "") \(clip["circuit_decision"] ?? "") \(clip["frame_state_agreement"] ?? "") \(power ?? -1)"
            }
        }
        let (a, b) = (try figures(killed), try figures(fresh))
        #expect(a.count == clips && a == b)
    }
}
