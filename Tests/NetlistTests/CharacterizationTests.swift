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
        for line in [table.cell.on, table.cell.hysteresis, table.cell.high] {
            #expect(line.slope > 0.8 && line.slope < 1.2 && abs(line.intercept) < 100e-12, "\(line)")
        }
        #expect(table.readout.offsets.allSatisfy { abs($0) < 0.05 })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-char-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try table.write(to: folder)
        #expect(try Characterization.load(from: folder) == table)
    }

    @Test("Weights invert the table monotonically, proportionally beyond its ends")
    func inversion() throws {
        let widths = [0.1, 1, 2]
        let mirror = Characterization.MirrorTable(polarity: .nmos, inputs: [1e-10, 1e-9], widths: widths,
                                                  ratio: [widths.map { 1.2 * $0 }, widths.map { 1.1 * $0 }])
        let line = Characterization.Line(fitting: [1, 2], [1, 2])
        let cell = Characterization.CellTable(thresholdSweep: [], widthSweep: [], gainSweep: [], on: line,
                                              hysteresis: line, high: line)
        let table = Characterization(pdk: "t", corner: "c", unitCurrent: 1e-9, supply: 1.8, mirrors: [mirror], cell: cell,
                                     readout: .init(levels: [], offsets: [], tail: 0))
        #expect(abs(try table.width(for: 0.55, at: 1e-9, polarity: .nmos) - 0.5) < 1e-12)
        #expect(abs(try table.width(for: 4.4, at: 1e-9, polarity: .nmos) - 4) < 1e-12)
        #expect(abs(try table.width(for: 0.011, at: 1e-9, polarity: .nmos) - 0.01) < 1e-12)
        #expect(throws: CharacterizationError.self) { try table.width(for: 1, at: 1e-9, polarity: .pmos) }
    }
}
