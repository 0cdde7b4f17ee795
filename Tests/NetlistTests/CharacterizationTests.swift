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
        // Each level follows its own bias with a slope near 1 (at I_thresh = I_u, I_width = 0.4 I_u,
        // I_gain = I_u); the switch-off current falls with I_width.
        let cell = table.cell
        // Every grid cell switches but perhaps those whose hysteresis is 0.9 I_thresh (beta_lo ~ 0).
        #expect(cell.grid.count >= Characterization.gridThresholds.count * (Characterization.gridWidthFractions.count - 1))
        for (index, sign, fit) in [(0, 1.0, cell.on), (1, -1.0, cell.off), (2, 1.0, cell.high)] {
            let slope = sign * fit.gradient(threshold: 1e-9, width: 0.4e-9, gain: 1e-9)[index]
            #expect(slope > 0.8 && slope < 1.2 && abs(fit.constant) < 100e-12, "\(fit)")
        }
        // The quadratic fits follow the grid closer than 5 pA (at 1 nA) where beta_lo >= 0.15 I_u.
        for point in cell.grid where point.off >= 0.15e-9 {
            #expect(abs(cell.off(threshold: point.threshold, width: point.width, gain: point.gain) - point.off) < 5e-12, "\(point)")
            #expect(abs(cell.on(threshold: point.threshold, width: point.width, gain: point.gain) - point.on) < 5e-12, "\(point)")
        }
        // The fits invert: biases for a target land back on it.
        let biases = try table.cellBiases(on: 0.8e-9, width: 0.5e-9, high: 1e-9)
        #expect(abs(cell.on(threshold: biases.threshold, width: biases.width, gain: biases.gain) - 0.8e-9) < 1e-15)
        #expect(abs(cell.off(threshold: biases.threshold, width: biases.width, gain: biases.gain) - 0.3e-9) < 1e-15)
        // A 1 pA hysteresis: on and high land, with a positive I_width.
        let narrow = try table.cellBiases(on: 0.1e-9, width: 1e-12, high: 1.2e-9)
        #expect(narrow.width > 0)
        #expect(abs(cell.on(threshold: narrow.threshold, width: narrow.width, gain: narrow.gain) - 0.1e-9) < 1e-15)
        #expect(abs(cell.high(threshold: narrow.threshold, width: narrow.width, gain: narrow.gain) - 1.2e-9) < 1e-15)
        #expect(table.readout.offsets.allSatisfy { abs($0) < 0.05 })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-char-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try table.write(to: folder)
        #expect(try Characterization.load(from: folder) == table)
    }

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
}
