import Characterize
import Foundation
import PDK
import Testing
import TestSupport
@testable import Netlist

@Suite("Characterization")
struct CharacterizationTests {
    @Test("Cell biases solve quadratic fits; a hysteresis below the fits' reach keeps its nominal I_width")
    func cellInversion() throws {
        // on = I_thresh; off = I_thresh - I_width - 50 pA - 0.02 I_width^2 / nA; high = 1.05 I_gain.
        let cell = Characterization.CellTable(
            grid: [], gainSweep: [], on: .init(constant: 0, threshold: 1, width: 0, gain: 0),
            off: .init(constant: -50e-12, threshold: 1, width: -1, gain: 0, widthSquared: -0.02e9),
            high: .init(constant: 0, threshold: 0, width: 0, gain: 1.05))
        let table = Characterization(pdk: "t", corner: "c", unitCurrent: 1e-9, supply: 1.8, mirrors: [], cell: cell,
                                     readout: .init(levels: [], offsets: [], tail: 0))
        let biases = try table.cellBiases(on: 2e-9, width: 1.5e-9, high: 1e-9)
        #expect(abs(biases.threshold - 2e-9) < 1e-18 && abs(biases.gain - 1e-9 / 1.05) < 1e-18)
        #expect(abs(cell.off(threshold: biases.threshold, width: biases.width, gain: biases.gain) - 0.5e-9) < 1e-18)
        // A 10 pA hysteresis needs I_width < 0 here: it gets I_width = 10 pA, on and high still land.
        let narrow = try table.cellBiases(on: 1e-9, width: 10e-12, high: 1e-9)
        #expect(narrow.width == 10e-12 && abs(narrow.threshold - 1e-9) < 1e-18 && abs(narrow.gain - 1e-9 / 1.05) < 1e-18)
    }

    @Test("Weights invert the centred table (1.21 and 1.0 x width: 1.1) monotonically, proportionally beyond its ends")
    func inversion() throws {
        let widths = [0.1, 1, 2]
        let mirror = Characterization.MirrorTable(polarity: .nmos, inputs: [1e-10, 1e-9], widths: widths,
                                                  ratio: [widths.map { 1.21 * $0 }, widths.map { $0 }])
        let fit = Characterization.CellFit(constant: 0, threshold: 1, width: 0, gain: 0)
        let cell = Characterization.CellTable(grid: [], gainSweep: [], on: fit, off: fit, high: fit)
        let table = Characterization(pdk: "t", corner: "c", unitCurrent: 1e-9, supply: 1.8, mirrors: [mirror], cell: cell,
                                     readout: .init(levels: [], offsets: [], tail: 0))
        // Over 0.1..1 I_u the table's own inputs: the middle of 1.21 and 1.0 is 1.1.
        let range = 0.1...1.0
        #expect(abs(try table.width(for: 0.55, at: 1e-9, polarity: .nmos, range: range) - 0.5) < 1e-12)
        #expect(abs(try table.width(for: 4.4, at: 1e-9, polarity: .nmos, range: range) - 4) < 1e-12)
        #expect(abs(try table.width(for: 0.011, at: 1e-9, polarity: .nmos, range: range) - 0.01) < 1e-12)
        #expect(throws: CharacterizationError.self) { try table.width(for: 1, at: 1e-9, polarity: .pmos) }
    }

    @Test("The committed tables carry format and version, bias-mirror tables, and re-encode to the committed bytes")
    func committedFormat() throws {
        let cells = ["generic180": DeviceSize.unit, "gf180mcu": .unit, "gf180mcu-cell4": DeviceSize(width: 2e-6, length: 4e-6),
                     "gf180mcu-cell16": DeviceSize(width: 4e-6, length: 8e-6), "gf180mcu-cell64": DeviceSize(width: 8e-6, length: 16e-6),
                     "gf180mcu-switched": .unit, "gf180mcu-switched-cell16": DeviceSize(width: 4e-6, length: 8e-6)]
        for (name, size) in cells {
            let folder = TestSupport.repository.appendingPathComponent("results/characterization/\(name)")
            let table = try Characterization.load(from: folder)
            #expect(table.format == "bmru-characterization" && table.formatVersion == Characterization.currentVersion, "\(name)")
            #expect(table.cellSize == size, "\(name)")
            #expect(table.cellTopology == (name.contains("switched") ? .switched : .feedback), "\(name)")
            #expect(table.biasMirrors.count == CharacterizationSweep.biasGroups.count, "\(name)")
            let committed = try Data(contentsOf: folder.appendingPathComponent(Characterization.fileName))
            #expect(try table.encoded() == committed, "\(name)")
        }
    }

    @Test("A revision-2 file reads without bias-mirror tables, re-encodes to its bytes, and cannot size mirrored biases")
    func versionTwo() throws {
        let folder = TestSupport.repository.appendingPathComponent("Tests/NetlistTests/Fixtures/characterization-gf180mcu-switched-rev2")
        let table = try Characterization.load(from: folder)
        #expect(table.formatVersion == 2 && table.biasMirrors.isEmpty && table.cellTopology == .switched)
        #expect(try table.encoded() == Data(contentsOf: folder.appendingPathComponent(Characterization.fileName)))
        #expect(throws: CharacterizationError.invalid("no table of pmos bias mirrors into cell bias diodes (revision 2 tables "
            + "predate them): measure again with bmru characterize")) {
            try table.biasWidth(for: 1, polarity: .pmos, node: .nmos, cell: true)
        }
    }

    @Test("A file without format fields is revision 0: older field names and missing fields read as before")
    func versionZero() throws {
        let folder = TestSupport.repository.appendingPathComponent("Tests/VerifyTests/Fixtures/characterization-gf180mcu-1nA")
        let table = try Characterization.load(from: folder)
        #expect(table.formatVersion == 0)
        #expect(!table.cell.grid.isEmpty && table.drainFactors.isEmpty && table.narrowestOutput == 0)
        #expect(table.drainFactor(.nmos, into: .pmos) == 1 && table.cell.on.thresholdSquared == 0)
        // A revision-0 table written back reads back the same.
        let data = try table.encoded()
        #expect(try JSONDecoder().decode(Characterization.self, from: data) == table)
    }

    @Test("Another format or a newer revision is refused")
    func refused() throws {
        let folder = TestSupport.repository.appendingPathComponent("results/characterization/generic180")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(Characterization.fileName)))
            as! [String: Any]
        for (key, value) in [("format", "bmru-sweep" as Any), ("format_version", Characterization.currentVersion + 1 as Any)] {
            var changed = json
            changed[key] = value
            let data = try JSONSerialization.data(withJSONObject: changed)
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Characterization.self, from: data) }
        }
        json["drainFactors"] = nil
        let missing = try JSONSerialization.data(withJSONObject: json)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Characterization.self, from: missing) }
    }
}
