import Foundation
import Testing
import TestSupport

@Suite("bmru kws and bmru demo")
struct KWSCommandTests {
    /// One real clip of each class.
    static let files = ["yes/0bac8a71_nohash_0.wav", "no/c7dc7278_nohash_0.wav"].map {
        TestSupport.speechCommands.appendingPathComponent($0).path
    }

    @Test("kws --spice --json: one line per file with the reference's and the circuit's decisions and the energy; --report keeps one run's report")
    func spice() throws {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-kws-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: report) }
        let arguments = ["kws", "--model", "results/models/kws-yes-d4", "--spice", "--pdk", "generic180",
                         "--characterization", "results/characterization/generic180", "--jobs", "2", "--json", "--report", report.path]
        let run = try CLI.run(arguments + Self.files)
        #expect([0, 2].contains(run.status), "\(run.stderr)")
        #expect(run.stderr.contains("kws: 2/2 clips"), "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        // Each line is printed as its simulation ends, in whichever order they end.
        #expect(Set(lines.compactMap { $0["file"] as? String }) == Set(Self.files) && lines.count == 2)
        for line in lines {
            #expect(["yes", "other"].contains(line["prediction"] as? String ?? ""))
            #expect(["yes", "other"].contains(line["circuit_prediction"] as? String ?? ""))
            #expect((line["agreement"] as? Bool) == (line["prediction"] as? String == line["circuit_prediction"] as? String))
            // About 180 nJ per 1 s clip at I_u = 1 nA: anything from 10 to 1000 nJ is a plausible circuit.
            #expect((10...1000).contains(line["energy_nJ"] as? Double ?? 0), "\(line)")
            #expect((line["scores"] as? [String: Double])?.count == 2)
        }
        let other = try CLI.run(arguments + [Self.files[0]])
        #expect(other.status == 1 && other.stderr.contains("holds a report made with other options or clips"), "\(other.stderr)")
        let forced = try CLI.run(arguments + ["--force", Self.files[0]])
        #expect([0, 2].contains(forced.status) && forced.stdout.split(separator: "\n").count == 1, "\(forced.stderr)")
        let missing = try CLI.run(["kws", "--model", "results/models/kws-yes-d4", "--spice"] + Self.files)
        #expect(missing.status == 1 && missing.stderr.contains("--spice needs --pdk"), "\(missing.stderr)")
    }

    @Test("On a terminal, result lines printed during a run never land on the live progress line")
    func progressOnTerminal() throws {
        // script(1) gives the run a terminal (stdout and stderr both on it), as an interactive user has.
        let command = ([CLI.executable.path, "kws", "--model", "results/models/kws-yes-d4", "--spice", "--pdk", "generic180",
                        "--characterization", "results/characterization/generic180", "--jobs", "2"] + Self.files)
            .map { "'\($0)'" }.joined(separator: " ")
        let run = try CLI.shell("cd '\(TestSupport.repository.path)' && script -qec \"\(command)\" /dev/null")
        #expect([0, 2].contains(run.status), "\(run.stdout)")
        // What the terminal shows of each line: the text after its last carriage return and erase.
        let shown = run.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map {
            String($0.split(separator: "\r", omittingEmptySubsequences: false).last ?? "").replacingOccurrences(of: "\u{1B}[K", with: "")
        }
        for file in Self.files {
            #expect(shown.contains { $0.hasPrefix(file + "\t") }, "\(file) not on a line of its own: \(shown)")
        }
        #expect(shown.contains { $0.hasPrefix("kws: 2/2 clips") }, "\(shown)")
    }

    /// A `.wav` that holds text, a missing file, and the two real clips around them: the files of a
    /// run in which some files fail. The caller removes the text file.
    static func mixedFiles() throws -> (files: [String], garbage: URL, missing: String) {
        let garbage = try CLI.file(String(repeating: "this is not audio\n", count: 200), suffix: ".wav")
        let missing = "/nonexistent/bmrukit/missing.wav"
        return ([files[0], garbage.path, files[1], missing], garbage, missing)
    }

    @Test("kws: unreadable and missing files get an error line each, the others their result, exit 1",
          arguments: [true, false])
    func failingFiles(json: Bool) throws {
        let (files, garbage, missing) = try Self.mixedFiles()
        defer { try? FileManager.default.removeItem(at: garbage) }
        let run = try CLI.run(["kws", "--model", "results/models/kws-yes-d4"] + (json ? ["--json"] : []) + files)
        #expect(run.status == 1)
        #expect(run.stderr.contains("2 of 4 files failed: \(garbage.path), \(missing)"), "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(run.stdout)")
        for (line, file) in zip(lines, files) {
            let failed = file == garbage.path || file == missing
            if json {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(object["file"] as? String == file)
                #expect(failed == (object["error"] != nil), "\(line)")
                #expect(failed == (object["prediction"] == nil), "\(line)")
            } else {
                let columns = line.split(separator: "\t").map(String.init)
                #expect(columns.first == file)
                #expect(failed == (columns.dropFirst().first == "error"), "\(line)")
                if failed { #expect(columns.last?.contains(file) == true, "\(line)") }
            }
        }
    }

    @Test("kws --spice: failed files get their error lines and the others their circuit results, exit 1")
    func failingFilesSpice() throws {
        let (files, garbage, missing) = try Self.mixedFiles()
        defer { try? FileManager.default.removeItem(at: garbage) }
        let run = try CLI.run(["kws", "--model", "results/models/kws-yes-d4", "--spice", "--pdk", "generic180",
                               "--characterization", "results/characterization/generic180", "--jobs", "2", "--json",
                               files[0], garbage.path, missing])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("2 of 3 files failed: \(garbage.path), \(missing)"), "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        // Errors are known on reading, before any simulation ends, so their lines come first.
        #expect(lines.map { $0["file"] as? String } == [garbage.path, missing, files[0]])
        #expect(lines.prefix(2).allSatisfy { $0["error"] is String && $0["prediction"] == nil })
        let good = try #require(lines.last)
        #expect(["yes", "other"].contains(good["circuit_prediction"] as? String ?? ""), "\(good)")
        #expect((10...1000).contains(good["energy_nJ"] as? Double ?? 0), "\(good)")
    }

    @Test("demo without clips says how to make them; --clips needs --data")
    func demoErrors() throws {
        let none = try CLI.run(["demo", "--audio", "/nonexistent/demo-audio"])
        #expect(none.status == 1 && none.stderr.contains("scripts/demo-audio.sh"), "\(none.stderr)")
        let orphan = try CLI.run(["demo", "--clips", "3"])
        #expect(orphan.status == 1 && orphan.stderr.contains("--clips needs --data"), "\(orphan.stderr)")
    }
}
