import Foundation
import Testing
import TestSupport

/// Bad numbers from files and flags: one line naming the file, field or flag, a non-zero exit, never a crash.
@Suite("bmru input validation")
struct InputValidationTests {
    static let model = "results/models/kws-yes-d4"
    static let clip = TestSupport.speechCommands.appendingPathComponent("yes/022cd682_nohash_0.wav").path

    /// A copy of the kws-yes-d4 model whose config.json `features` get the fields of the JSON object `change`.
    static func model(features change: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-model-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: TestSupport.repository.appendingPathComponent(model), to: folder)
        let url = folder.appendingPathComponent("config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var features = try #require(config["features"] as? [String: Any])
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(change.utf8)) as? [String: Any])
        features.merge(fields) { $1 }
        config["features"] = features
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        return folder
    }

    /// The run failed with one error line containing `text` and did not crash.
    static func failed(_ run: CLI.Output, with text: String, status: Int32 = 1) -> Bool {
        run.status == status && run.stderr.contains(text) && run.stdout.isEmpty
    }

    @Test("kws: config values the front end does not implement, or that are nonsense, name config.json and the field",
          arguments: [
              (#"{"window": "hamming", "mel_norm": "htk"}"#, "features.mel_norm: is \"htk\""),
              (#"{"n_fft": 1}"#, "features.n_fft: is 1, must be in 16...65536"),
              (#"{"n_fft": 1073741824}"#, "features.n_fft: is 1073741824"),
              (#"{"n_mels": 0}"#, "features.n_mels: is 0"),
              (#"{"n_mels": 1e12}"#, "features.n_mels: is 1000000000000"),
              (#"{"fmin": 9000.0}"#, "features.fmin: is 9000.0 Hz, must be below fmax"),
              (#"{"fmax": 12000.0}"#, "features.fmax: is 12000.0 Hz, above the Nyquist frequency"),
              (#"{"hop_length": 1000000}"#, "features.hop_length: is 1000000"),
              (#"{"db_top_db": -1}"#, "features.db_top_db: is -1"),
              (#"{"clip_samples": 1e20}"#, "features.clip_samples: is 1e+20"),
              (#"{"clip_samples": -5}"#, "features.clip_samples: is -5"),
              (#"{"frames": 1000000000}"#, "features.frames: is 1000000000"),
              (#"{"sample_rate": 1}"#, "features.sample_rate: is 1, must be in 1000...384000"),
              (#"{"lifter": "22"}"#, "features.lifter: is \"22\", expected a number"),
          ])
    func badRecipe(change: String, message: String) throws {
        let folder = try Self.model(features: change)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLI.run(["kws", "--model", folder.path, Self.clip])
        #expect(Self.failed(run, with: "\(folder.path)/config.json: field \(message)"), "\(run.status) \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    @Test("kws: an implemented recipe change changes the scores; the committed recipe reproduces the committed model's")
    func implementedRecipe() throws {
        let folder = try Self.model(features: #"{"window": "hamming", "lifter": 22}"#)
        defer { try? FileManager.default.removeItem(at: folder) }
        let changed = try CLI.run(["kws", "--model", folder.path, "--json", Self.clip])
        let committed = try CLI.run(["kws", "--model", Self.model, "--json", Self.clip])
        #expect(changed.status == 0 && committed.status == 0, "\(changed.stderr) \(committed.stderr)")
        #expect(!changed.stdout.isEmpty && changed.stdout != committed.stdout)
    }

    @Test("kws: a float WAV with a NaN sample is an error; a long or truncated WAV is classified with a warning naming it")
    func audioFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-audio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try Data(contentsOf: URL(fileURLWithPath: Self.clip))
        // 16-bit PCM: 44-byte header, then the samples; repeated ten times for a 10 s recording.
        let header = original.prefix(44), samples = original.dropFirst(44)
        var long = Data(header)
        for _ in 0..<10 { long.append(samples) }
        long.replaceSubrange(40..<44, with: withUnsafeBytes(of: UInt32(samples.count * 10).littleEndian) { Data($0) })
        long.replaceSubrange(4..<8, with: withUnsafeBytes(of: UInt32(long.count - 8).littleEndian) { Data($0) })
        let longURL = folder.appendingPathComponent("long.wav"), truncatedURL = folder.appendingPathComponent("truncated.wav")
        try long.write(to: longURL)
        try original.prefix(original.count / 2).write(to: truncatedURL)
        let run = try CLI.run(["kws", "--model", Self.model, longURL.path, truncatedURL.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").count == 2)
        #expect(run.stderr.contains("warning: \(longURL.path): \(samples.count / 2 * 10) samples"), "\(run.stderr)")
        #expect(run.stderr.contains("only the first 16000 (1 s) are used"), "\(run.stderr)")
        #expect(run.stderr.contains("warning: \(truncatedURL.path): truncated: its header announces"), "\(run.stderr)")

        var float = Data("RIFF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { float.append(contentsOf: $0) } }
        append(UInt32(36 + 16000 * 4)); float.append(contentsOf: Array("WAVEfmt ".utf8)); append(UInt32(16)); append(UInt16(3))
        append(UInt16(1)); append(UInt32(16000)); append(UInt32(64000)); append(UInt16(4)); append(UInt16(32))
        float.append(contentsOf: Array("data".utf8)); append(UInt32(16000 * 4))
        for index in 0..<16000 { append((index == 500 ? Float.infinity : 0.01).bitPattern) }
        let floatURL = folder.appendingPathComponent("inf.wav")
        try float.write(to: floatURL)
        let bad = try CLI.run(["kws", "--model", Self.model, floatURL.path])
        // kws answers each file: the unreadable one gets its error line, and the run exits 1.
        #expect(bad.status == 1 && bad.stdout.contains("\(floatURL.path): sample 500 of channel 0 is inf; audio samples must be finite"),
                "\(bad.stdout)")
        #expect(bad.stderr.contains("1 of 1 files failed: \(floatURL.path)"), "\(bad.stderr)")
    }

    @Test("simulate and verify: --timeout nan, inf, 1e300, 0 and -1 are refused before anything runs",
          arguments: ["nan", "inf", "1e300", "0", "-1"])
    func timeouts(value: String) throws {
        let simulate = try CLI.run(["simulate", "spice/examples/rc.cir", "--timeout", value])
        #expect(simulate.status == 1 && simulate.stderr.contains("--timeout is"), "\(simulate.stderr)")
        let verify = try CLI.run(["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--timeout", value,
                                  "--report", "/tmp/bmru-never-written"])
        #expect(verify.status == 1 && verify.stderr.contains("--timeout is"), "\(verify.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/bmru-never-written"))
    }

    @Test("Other numeric flags: --frame-period, --unit-current, --tolerance, --jobs, --golden and --frames are range-checked")
    func flags() throws {
        let cases: [([String], String)] = [
            (["verify", "--model", "results/models/latch-d4", "--pdk", "generic180", "--frame-period", "inf", "--report", "/tmp/x"],
             "--frame-period is inf"),
            (["netlist", "--model", Self.model, "--pdk", "generic180", "--unit-current", "1e300", "--out", "/tmp/x"],
             "--unit-current is 1e+300"),
            (["characterize", "--pdk", "generic180", "--unit-current", "nan", "--out", "/tmp/x"], "--unit-current is nan"),
            (["pdk", "check", "generic180", "--tolerance", "nan"], "--tolerance is nan"),
            (["simulate", "spice/examples/rc.cir", "--jobs", "0"], "--jobs must be >= 1"),
            (["netlist", "--model", Self.model, "--pdk", "generic180", "--golden", "0", "--frames", "0", "--out", "/tmp/x"],
             "--frames must be >= 1"),
            // Negative numbers are values, checked like any other.
            (["netlist", "--model", Self.model, "--pdk", "generic180", "--golden", "-1", "--out", "/tmp/x"], "--golden must be >= 0"),
            (["verify", "--model", Self.model, "--pdk", "generic180", "--clips", "-3", "--report", "/tmp/x"], "--clips must be >= 1"),
            (["verify", "--model", Self.model, "--pdk", "generic180", "--min-agreement", "-0.5", "--report", "/tmp/x"],
             "--min-agreement must be in 0...1"),
            (["kws", "--model", Self.model, "--jobs", "-2", Self.clip], "--jobs must be >= 1"),
            (["pdk", "check", "generic180", "--tolerance", "-0.1"], "--tolerance is -0.1"),
            (["characterize", "--pdk", "generic180", "--unit-current", "-1e-9", "--out", "/tmp/x"], "--unit-current is -1e-09"),
            (["characterize", "--pdk", "generic180", "--cell-area", "0.5", "--unit-current", "5e-10", "--out", "/tmp/x"],
             "--cell-area is 0.5, must be in 1...1000"),
            // A missing file is named as the system names it, not by Foundation's wording.
            (["netlist", "--model", Self.model, "--pdk", "/nonexistent/pdk.json", "--out", "/tmp/x"],
             "/nonexistent/pdk.json: cannot read: no such file"),
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            #expect(run.status == 1 && run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }

    @Test("Usage errors exit 1 with the message and the usage hint on stderr, nothing on stdout")
    func usageErrors() throws {
        let cases: [([String], String)] = [
            (["pdk", "list", "--no-such-option"], "Unknown option '--no-such-option'"),
            (["netlist", "--model", Self.model, "--out", "/tmp/x"], "Missing expected argument '--pdk <pdk>'"),
            (["netlist", "--model", Self.model, "--pdk", "generic180", "--golden"], "Missing value for '--golden <golden>'"),
            (["no-such-command"], "Unexpected argument 'no-such-command'"),
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            #expect(run.status == 1 && run.stdout.isEmpty, "\(arguments): \(run.status) \(run.stdout)")
            #expect(run.stderr.contains("Error: \(message)") && run.stderr.contains("Usage: bmru"), "\(arguments): \(run.stderr)")
        }
        let help = try CLI.run(["verify", "--help"])
        #expect(help.status == 0 && help.stdout.contains("USAGE: bmru verify"), "\(help.stderr)")
    }

    @Test("File errors of simulate --out, netlist, compare and verify --report are one line naming the path and the reason")
    func fileErrors() throws {
        let missing = "/tmp/bmru-no-such-folder-\(UUID().uuidString)"
        let file = try CLI.file("not a folder", suffix: ".txt")
        defer { try? FileManager.default.removeItem(at: file) }
        let cases: [([String], String)] = [
            (["simulate", "spice/examples/rc.cir", "--out", "\(missing)/rc.csv"],
             "cannot write \(missing)/rc.csv: No such file or directory"),
            (["netlist", "--model", Self.model, "--pdk", "generic180", "--characterization", missing, "--out", "/tmp/x"],
             "\(missing)/characterization.json: No such file or directory"),
            (["netlist", "--model", Self.model, "--pdk", "generic180", "--out", file.appendingPathComponent("deck").path],
             "\(file.path)/deck: Not a directory"),
            (["compare", missing, missing], "\(missing)/report.json: No such file or directory"),
            (["verify", "--model", Self.model, "--pdk", "generic180", "--clips", "1", "--report", file.appendingPathComponent("r").path],
             "\(file.path)/r: Not a directory"),
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            let errors = run.stderr.split(separator: "\n").filter { !$0.hasPrefix("verify: ") }
            #expect(run.status == 1 && errors == ["Error: \(message)"[...]], "\(arguments): \(run.stderr)")
        }
    }

    @Test("A temporary folder (TMPDIR) that is a file or does not exist is one line naming it and the reason")
    func unusableTemporaryFolder() throws {
        let file = try CLI.file("not a folder", suffix: ".txt")
        defer { try? FileManager.default.removeItem(at: file) }
        let missing = "/tmp/bmru-no-such-folder-\(UUID().uuidString)"
        for (folder, reason) in [(file.path, "Not a directory"), (missing, "No such file or directory")] {
            let run = try CLI.run(["simulate", "spice/examples/rc.cir"], environment: ["TMPDIR": folder])
            let lines = run.stderr.split(separator: "\n")
            #expect(run.status == 1 && run.stdout.isEmpty && lines.count == 1, "\(run.stderr)")
            #expect(lines.first?.hasPrefix("Error: cannot load libngspice") == true
                    && lines.first?.hasSuffix(": cannot make a private copy in the temporary folder \(folder) (TMPDIR): \(reason)") == true,
                    "\(run.stderr)")
        }
    }

    @Test("Numeric options of sweep take negative values, to name the bound they break",
          arguments: [["sweep", "run", "/tmp/x", "--jobs", "-1"], ["sweep", "plan", "--out", "/tmp/x", "--shards", "-1"]])
    func sweepNegativeNumbers(arguments: [String]) throws {
        let run = try CLI.run(arguments)
        #expect(run.status == 1 && run.stderr.contains("must be >= 1") && !run.stderr.contains("Missing value"), "\(run.stderr)")
    }

    @Test("Every subcommand writes files with --out (old spellings only as deprecated aliases) and has --json only as a switch")
    func outputFlags() throws {
        let commands = [["simulate"], ["pdk", "list"], ["pdk", "check"], ["model", "info"], ["model", "check"], ["model", "bench"],
                        ["kws"], ["netlist"], ["characterize"], ["verify"], ["sweep"], ["sweep", "plan"], ["sweep", "run"],
                        ["sweep", "status"], ["sweep", "merge"], ["sweep", "submit"], ["sweep", "software"], ["compare"], ["demo"]]
        for command in commands {
            let help = try CLI.run(command + ["--help"])
            #expect(help.status == 0, "\(command): \(help.stderr)")
            #expect(!help.stdout.contains("--json <"), "\(command): --json takes a value")
            for old in ["--report", "--export"] {
                let uses = help.stdout.components(separatedBy: old + " ").count - 1
                let aliases = help.stdout.components(separatedBy: "--out, \(old) ").count - 1
                #expect(uses == aliases, "\(command): \(old) is not only an alias of --out")
            }
        }
    }

    @Test("netlist: a weight of 3e38 is refused with the parameter named, not a crash")
    func hugeWeight() throws {
        let folder = try Self.model(features: "{}")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: url)
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<8 + headerLength)) as? [String: Any])
        let entry = try #require(header["blocks.0.cell.weight"] as? [String: Any])
        #expect(entry["dtype"] as? String == "F32")
        let begin = try #require((entry["data_offsets"] as? [Int])?.first)
        let offset = 8 + headerLength + begin + 4 * 5
        data.replaceSubrange(offset..<offset + 4, with: withUnsafeBytes(of: Float(3e38).bitPattern.littleEndian) { Data($0) })
        try data.write(to: url)
        let out = folder.appendingPathComponent("deck")
        let run = try CLI.run(["netlist", "--model", folder.path, "--pdk", "generic180", "--out", out.path])
        #expect(Self.failed(run, with: "blocks.0.cell.weight[1][1] cannot be realised: 3.0000000054977558e+38 is beyond the compiler's bound of 1000.0 units"),
                "\(run.status) \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("pdk list with BMRUKIT_PDK_DIR set to a folder without descriptors is an error naming it")
    func emptyCatalog() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-pdk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLI.run(["pdk", "list"], environment: ["BMRUKIT_PDK_DIR": folder.path])
        #expect(Self.failed(run, with: "no PDK descriptors found (looked in \(folder.path) (BMRUKIT_PDK_DIR))"), "\(run.stderr)")
    }

    @Test("verify --inputs: a WAV file and a features file with NaN are named as such, not as a compile failure")
    func verifyInputs() throws {
        let run = try CLI.run(["verify", "--model", Self.model, "--pdk", "generic180", "--inputs", Self.clip, "--report", "/tmp/bmru-never-written"])
        #expect(Self.failed(run, with: "\(Self.clip): is WAV audio, not a features file"), "\(run.stderr)")
    }
}
