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
        let output = try CLI.run(["characterize", "--pdk", "generic180", "--jobs", "2", "--out", folder.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("cell on =") && output.stdout.contains("readout offsets"))
        let data = try Data(contentsOf: folder.appendingPathComponent("characterization.json"))
        let table = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(table["pdk"] as? String == "generic180" && table["corner"] as? String == "typical")
        #expect((table["mirrors"] as? [Any])?.count == 2)
        for chart in ["mirror-nmos.svg", "mirror-pmos.svg", "cell.svg", "readout.svg"] {
            let svg = try String(contentsOf: folder.appendingPathComponent(chart), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("<polyline"), "\(chart)")
        }
    }

    @Test("An unknown corner is a one-line error")
    func unknownCorner() throws {
        let folder = scratch("char")
        let output = try CLI.run(["characterize", "--pdk", "generic180", "--corner", "nope", "--out", folder.path])
        #expect(output.status == 1)
        #expect(output.stderr.split(separator: "\n").count == 1 && output.stderr.contains("nope"))
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }
}

@Suite("bmru netlist")
struct NetlistCommandTests {
    @Test("netlist writes deck.cir and manifest.json; --relative-models writes paths relative to the deck")
    func writes() throws {
        let folder = scratch("netlist")
        defer { try? FileManager.default.removeItem(at: folder) }
        let output = try CLI.run(["netlist", "--model", "results/models/kws-yes-d4", "--pdk", "generic180",
                                  "--relative-models", "--out", folder.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("transistors"))
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
