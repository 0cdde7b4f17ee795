import Characterize
import Foundation
import Netlist
import Ngspice
import Testing
import TestSupport

@Suite("Characterization sweeps")
struct CharacterizationTests {
    @Test("The sweeps run through the pool and give sane tables that survive a JSON round trip")
    func measure() async throws {
        let table = try await Characterization.measure(pdk: TestSupport.catalog.pdk("generic180"), corner: nil,
                                                       pool: WorkerPool(.init(workers: 2)))
        for mirror in table.mirrors {
            let unit = mirror.column(at: 1e-9)[CharacterizationSweep.mirrorWidths.firstIndex(of: 1)!]
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
        #expect(cell.grid.count >= CharacterizationSweep.gridThresholds.count * (CharacterizationSweep.gridWidthFractions.count - 1))
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

    @Test("Every sweep builds a deck; the six decks save what their reduction reads")
    func decks() throws {
        let pdk = try TestSupport.catalog.pdk("generic180")
        #expect(CharacterizationSweep.allCases == [.mirrors(.nmos), .mirrors(.pmos), .cell, .readout, .drainFactors, .biasMirrors])
        for sweep in CharacterizationSweep.allCases {
            let circuit = try sweep.circuit(pdk: pdk, corner: nil, unitCurrent: 1e-9)
            #expect(!circuit.saves.isEmpty && circuit.analyses.count == 1, "\(sweep)")
            _ = try SpiceWriter().lines(circuit)
        }
    }

    @Test("A missing sweep result is named in the error")
    func missingSweep() throws {
        #expect(throws: CharacterizeError.measurement("no result of the nmos mirrors sweep")) {
            try Characterization(pdk: "p", corner: "c", unitCurrent: 1e-9, supply: 1.8, results: [:])
        }
    }
}
