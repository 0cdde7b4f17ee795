import Foundation
import Testing
import TestSupport

/// A fresh folder name under the temporary directory (not created).
private func scratch(_ tag: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-cli-\(tag)-\(UUID().uuidString)")
}

@Suite("bmru characterize")
struct CharacterizeCommandTests {
    @Test("characterize writes characterization.json and one SVG chart per table, and prints the fits")
    func generic180() throws {
        let folder = scratch("char")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try CLI.run(["characterize", "--pdk", "generic180", "--model", "results/models/kws-yes-d4", "--jobs", "2",
                                  "--out", folder.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("cell on =") && output.stdout.contains("readout offsets"))
        let data = try Data(contentsOf: folder.appendingPathComponent("characterization.json"))
        let table = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(table["pdk"] as? String == "generic180" && table["corner"] as? String == "typical")
        #expect(table["unitCurrent"] as? Double == 5e-10)
        #expect((table["mirrors"] as? [Any])?.count == 2)
        for chart in ["mirror-nmos.svg", "mirror-pmos.svg", "cell.svg", "readout.svg"] {
            let svg = try String(contentsOf: folder.appendingPathComponent(chart), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("<polyline"), "\(chart)")
        }
    }

    @Test("An unknown corner is a one-line error")
    func unknownCorner() throws {
        let folder = scratch("char")
        let output = try CLI.run(["characterize", "--pdk", "generic180", "--corner", "nope", "--unit-current", "5e-10",
                                  "--out", folder.path])
        #expect(output.status == 1)
        #expect(output.stderr.split(separator: "\n").count == 1 && output.stderr.contains("nope"))
        #expect(!FileManager.default.fileExists(atPath: folder.path))
        // The unit current is never assumed: the models' is not the same as a round number.
        let unitless = try CLI.run(["characterize", "--pdk", "generic180", "--out", folder.path])
        #expect(unitless.status == 1 && unitless.stderr.contains("--unit-current A, or --model DIR"), "\(unitless.stderr)")
    }
}

@Suite("bmru netlist")
struct NetlistCommandTests {
    @Test("netlist writes deck.cir and manifest.json, warns of what the model asks finer than the deck resolves; --relative-models writes paths relative to the deck")
    func writes() throws {
        let folder = scratch("netlist")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try CLI.run(["netlist", "--model", "results/models/kws-yes-d4", "--pdk", "generic180",
                                  "--relative-models", "--out", folder.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("transistors"))
        // Two pre weights are below the smallest realisable ratio (model lint, as in the report).
        #expect(output.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: pre.weight[") && $0.hasSuffix("the compiler omits it") }.count == 2,
                "\(output.stderr)")
        let deck = try String(contentsOf: folder.appendingPathComponent("deck.cir"), encoding: .utf8)
        let library = try #require(deck.split(separator: "\n").first { $0.hasPrefix(".lib ") })
        #expect(library.hasSuffix("/pdk/generic180/generic180.lib typical") && !library.contains(" /"))
        // EXTERNAL inputs (no --golden): sources driven by the verifier, no analysis.
        #expect(deck.contains(" external") && !deck.contains(".tran"))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
        let totals = try #require((manifest as? [String: Any])?["totals"] as? [String: Any])
        #expect((totals["transistors"] as? Int ?? 0) > 600)
        // snake_case keys, like every JSON file BMRUKit writes.
        #expect(Set(totals.keys) == ["transistors", "gate_area", "bias_current", "bias_power"])
        #expect((manifest as? [String: Any])?["unit_current"] is Double)
    }

    @Test("Decks are calibrated unless --nominal: from the committed tables that match, else measured once into the cache; a characterization of another PDK, corner, unit current or cell size is a one-line error")
    func calibratedByDefault() throws {
        let folder = scratch("netlist")
        defer { try? FileManager.default.removeItem(at: folder) }
        func manifest() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("manifest.json")))
                as? [String: Any])
        }
        let model = ["netlist", "--model", "results/models/kws-yes-d4", "--out", folder.path]
        let committed = try CLI.run(model + ["--pdk", "gf180mcu"])
        #expect(committed.status == 0 && committed.stdout.contains("calibrated from") && committed.stdout.hasSuffix("results/characterization/gf180mcu\n"),
                "\(committed.stdout) \(committed.stderr)")
        #expect(try manifest()["characterized"] as? Bool == true)
        let nominal = try CLI.run(model + ["--pdk", "gf180mcu", "--nominal"])
        #expect(nominal.status == 0 && nominal.stdout.contains("nominal (uncalibrated)"))
        #expect(try manifest()["characterized"] as? Bool == false)
        // Larger cells take the committed tables measured at their size.
        let large = try CLI.run(model + ["--pdk", "gf180mcu", "--cell-area", "16"])
        #expect(large.status == 0 && large.stdout.hasSuffix("results/characterization/gf180mcu-cell16\n"), "\(large.stdout)")
        for (options, reason) in [(["--unit-current", "1e-9"], "measured at unit current 5e-10 A, the deck's is 1e-09 A"),
                                  (["--corner", "ff"], "measured at corner typical, the deck is for ff"),
                                  (["--cell-area", "4"], "its cells were measured at W=1u L=2u, the deck's are W=2u L=4u")] {
            let run = try CLI.run(model + ["--pdk", "gf180mcu", "--characterization", "results/characterization/gf180mcu"] + options)
            #expect(run.status == 1 && run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(reason),
                    "\(options): \(run.stderr)")
        }
        // No stored table at 1 nA on generic180: measured into the test run's cache once, then found there.
        let cache = TestSupport.cache.appendingPathComponent("characterization/generic180-typical-1e-09A-w1e-06-l2e-06")
        let first = try CLI.run(model + ["--pdk", "generic180", "--unit-current", "1e-9"])
        #expect(first.status == 0 && first.stdout.hasSuffix(cache.path + "\n"), "\(first.stdout) \(first.stderr)")
        let again = try CLI.run(model + ["--pdk", "generic180", "--unit-current", "1e-9"])
        #expect(again.status == 0 && !again.stderr.contains("measuring") && again.stdout.hasSuffix(cache.path + "\n"))
        let table = try JSONSerialization.jsonObject(with: Data(contentsOf: cache.appendingPathComponent("characterization.json")))
        #expect((table as? [String: Any])?["unitCurrent"] as? Double == 1e-9)
    }

    @Test("A deck for any clip: --inputs with --index drives it like --golden from the same file; --clip runs a WAV through the model's front end into a deck that simulates; one source at a time")
    func clipDecks() throws {
        let (golden, features, audio) = (scratch("golden"), scratch("features"), scratch("clip"))
        defer { for folder in [golden, features, audio] { try? FileManager.default.removeItem(at: folder) } }
        let base = ["netlist", "--model", "results/models/kws-yes-d4", "--pdk", "gf180mcu", "--frames", "4"]
        #expect(try CLI.run(base + ["--golden", "2", "--out", golden.path]).status == 0)
        #expect(try CLI.run(base + ["--inputs", "results/models/kws-yes-d4/golden.safetensors", "--index", "2",
                                    "--out", features.path]).status == 0)
        let deck = { (folder: URL) in try String(contentsOf: folder.appendingPathComponent("deck.cir"), encoding: .utf8) }
        let (goldenDeck, featuresDeck) = (try deck(golden), try deck(features))
        #expect(goldenDeck == featuresDeck)
        let wav = TestSupport.speechCommands.appendingPathComponent("yes/022cd682_nohash_0.wav").path
        let clip = try CLI.run(base + ["--clip", wav, "--out", audio.path])
        #expect(clip.status == 0, "\(clip.stderr)")
        let text = try deck(audio)
        #expect(text.contains(".tran ") && text.contains(" pwl(") && text != goldenDeck)
        let run = try CLI.run(["simulate", audio.appendingPathComponent("deck.cir").path, "--save", "v(decision)"])
        #expect(run.status == 0 && run.stdout.split(separator: "\n").last?.hasPrefix("0.04,") == true, "\(run.stderr)")
        for (options, message) in [(["--clip", wav, "--golden", "0"], "give one of --golden, --clip and --inputs"),
                                   (["--inputs", "results/models/kws-yes-d4/golden.safetensors"], "--inputs and --index go together"),
                                   (["--inputs", "results/models/kws-yes-d4/golden.safetensors", "--index", "8"], "has 8 sequences")] {
            let refused = try CLI.run(base + options + ["--out", scratch("refused").path])
            #expect(refused.status == 1 && refused.stderr.contains(message), "\(options): \(refused.stderr)")
        }
    }

    @Test("An invalid model folder is a one-line error and writes nothing")
    func invalidModel() throws {
        let model = scratch("model"), folder = scratch("netlist")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: model) }
        try Data("{\"name\": 3}".utf8).write(to: model.appendingPathComponent("config.json"))
        for path in [model.path, "/nonexistent/model"] {
            let output = try CLI.run(["netlist", "--model", path, "--pdk", "generic180", "--out", folder.path])
            #expect(output.status == 1)
            #expect(output.stderr.split(separator: "\n").count == 1, "\(output.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.path))
        }
    }
}

@Suite("bmru model lint")
struct ModelLintCommandTests {
    @Test("lint names every finding on one line with its margin in pA and exits 2; mismatch adds the thresholds the Monte Carlo sweep found failing first")
    func lint() throws {
        let arguments = ["model", "lint", "results/models/kws-yes-d4", "--pdk", "gf180mcu"]
        let plain = try CLI.run(arguments)
        #expect(plain.status == 2, "\(plain.stderr)")
        let lines = plain.stdout.split(separator: "\n")
        #expect(lines.count == 3 && lines[0].hasPrefix("pre.weight[2][12] = 0.003211: 1.6 pA per unit of input"), "\(plain.stdout)")
        let mismatch = try CLI.run(arguments + ["--mismatch-sigma", "0.13", "--json"])
        #expect(mismatch.status == 2)
        let findings = try #require(try JSONSerialization.jsonObject(with: Data(mismatch.stdout.utf8)) as? [[String: Any]])
        let reset = try #require(findings.first { $0["parameter"] as? String == "blocks.1.cell.beta_lo[1]" })
        #expect(reset["kind"] as? String == "threshold" && (reset["resolution_A"] as? Double ?? 0) > 2.5e-10)
        #expect(try CLI.run(arguments + ["--mismatch-sigma", "2"]).status == 1)
    }
}
