import Foundation
import Ngspice
import PDK
import Testing
@testable import Netlist

@Suite("Characterization")
struct CharacterizationTests {
    @Test("The sweeps run through the pool and give sane tables that survive a JSON round trip")
    func measure() async throws {
        let table = try await Characterization.measure(pdk: testPDK("generic180"), corner: nil,
                                                       pool: WorkerPool(.init(workers: 2)))
        for mirror in table.mirrors {
            let unit = mirror.column(at: 1e-9)[Characterization.mirrorWidths.firstIndex(of: 1)!]
            #expect(abs(unit - 1) < 0.1, "\(mirror.polarity) 1:1 ratio \(unit)")
            // The inversion lands on a width whose tabulated ratio is the weight.
            for weight in [0.1, 0.5, 1, 3] {
                let width = try table.width(for: weight, at: 1e-9, polarity: mirror.polarity)
                #expect(abs(width / weight - 1) < 0.2, "\(mirror.polarity) weight \(weight) -> width \(width)")
            }
        }
        // Each level follows its own bias with a slope near 1; the switch-off current falls with I_width.
        let cell = table.cell
        for (slope, plane) in [(cell.on.threshold, cell.on), (-cell.off.width, cell.off), (cell.high.gain, cell.high)] {
            #expect(slope > 0.8 && slope < 1.2 && abs(plane.constant) < 100e-12, "\(plane)")
        }
        // The fits invert: biases for a target land back on it.
        let biases = try table.cellBiases(on: 0.8e-9, width: 0.5e-9, high: 1e-9)
        #expect(abs(cell.on(threshold: biases.threshold, width: biases.width, gain: biases.gain) - 0.8e-9) < 1e-15)
        #expect(abs(cell.off(threshold: biases.threshold, width: biases.width, gain: biases.gain) - 0.3e-9) < 1e-15)
        // A hysteresis below the fits' reach keeps its nominal I_width; on and high still land.
        let narrow = try table.cellBiases(on: 0.1e-9, width: 1e-12, high: 1.2e-9)
        #expect(narrow.width == 1e-12)
        #expect(abs(cell.on(threshold: narrow.threshold, width: narrow.width, gain: narrow.gain) - 0.1e-9) < 1e-15)
        #expect(abs(cell.high(threshold: narrow.threshold, width: narrow.width, gain: narrow.gain) - 1.2e-9) < 1e-15)
        #expect(table.readout.offsets.allSatisfy { abs($0) < 0.05 })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-char-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try table.write(to: folder)
        #expect(try Characterization.load(from: folder) == table)
    }

    @Test("Weights invert the centred table (1.21 and 1.0 x width: 1.1) monotonically, proportionally beyond its ends")
    func inversion() throws {
        let widths = [0.1, 1, 2]
        let mirror = Characterization.MirrorTable(polarity: .nmos, inputs: [1e-10, 1e-9], widths: widths,
                                                  ratio: [widths.map { 1.21 * $0 }, widths.map { $0 }])
        let plane = Characterization.Plane(constant: 0, threshold: 1, width: 0, gain: 0)
        let cell = Characterization.CellTable(thresholdSweep: [], widthSweep: [], gainSweep: [], on: plane, off: plane,
                                              high: plane)
        let table = Characterization(pdk: "t", corner: "c", unitCurrent: 1e-9, supply: 1.8, mirrors: [mirror], cell: cell,
                                     readout: .init(levels: [], offsets: [], tail: 0))
        #expect(abs(try table.width(for: 0.55, at: 1e-9, polarity: .nmos) - 0.5) < 1e-12)
        #expect(abs(try table.width(for: 4.4, at: 1e-9, polarity: .nmos) - 4) < 1e-12)
        #expect(abs(try table.width(for: 0.011, at: 1e-9, polarity: .nmos) - 0.01) < 1e-12)
        #expect(throws: CharacterizationError.self) { try table.width(for: 1, at: 1e-9, polarity: .pmos) }
    }
}
