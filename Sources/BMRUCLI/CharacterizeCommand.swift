import ArgumentParser
import BMRU
import Characterize
import Foundation
import Netlist
import Ngspice
import PDK

/// `bmru characterize`: measures the primitives of a PDK corner and writes the tables the compiler uses.
struct CharacterizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "characterize",
        abstract: "Measure weight mirrors, the memory cell and the readout with ngspice; write characterization.json.",
        discussion: """
            Mirror current ratio against input current (0.05..5 I_u) and width; the cell's switch-on and \
            switch-off currents, hysteresis and high level against its three biases (slow triangles); \
            the readout's offset. The sweeps run in parallel worker processes.

            Example: bmru characterize --pdk gf180mcu --corner typical --model results/models/kws-yes-d4 \
            --out results/characterization/gf180mcu
            """
    )

    @Option(help: "PDK name (see 'bmru pdk list') or path to a pdk.json.")
    var pdk: String

    @Option(help: "Process corner (default: the PDK's).")
    var corner: String?

    @Option(parsing: .unconditional, help: "Unit current I_u in amperes (or --model).")
    var unitCurrent: Double?

    @Option(help: "Model folder whose unit_current to measure at (instead of --unit-current).", completion: .directory)
    var model: String?

    @Option(parsing: .unconditional, help: "Gate area of every memory-cell device, in multiples of the 1 um x 2 um unit (width and length each times its square root): less mismatch, the same power (docs/robustness.md).")
    var cellArea = 1.0

    @Option(help: "Memory-cell thresholds to measure: 'feedback' (the published cell) or 'switched' (docs/robustness.md).")
    var cellTopology: MemoryCell.Topology = .feedback

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    @Option(parsing: .unconditional, help: "Worker processes (default: number of cores).")
    var jobs: Int?

    func validate() throws {
        switch (unitCurrent, model) {
        case let (amperes?, nil): try validateUnitCurrent(amperes)
        case (nil, nil): throw ValidationError("give the unit current to measure at: --unit-current A, or --model DIR (its unit_current)")
        case (_?, _?): throw ValidationError("--unit-current and --model do not go together")
        case (nil, _?): break
        }
        try validateCellArea(cellArea)
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be >= 1") }
    }

    func run() async throws {
        let pdk = try PDKCatalog.locate().pdk(pdk)
        var unitCurrent = self.unitCurrent ?? 0
        if let model { unitCurrent = try Model.load(from: URL(fileURLWithPath: model)).config.unitCurrent }
        let pool = WorkerPool(.init(workers: jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        let table = try await Characterization.measure(pdk: pdk, corner: corner, unitCurrent: unitCurrent,
                                                           cellSize: DeviceSize.unit.scaled(area: cellArea),
                                                           cellTopology: cellTopology, pool: pool)
        try table.write(to: URL(fileURLWithPath: out))
        let cell = table.cell
        print("mirrors at I_u: " + table.mirrors.map { mirror in
            "\(mirror.polarity.rawValue) width 1 -> ratio \(String(format: "%.3f", mirror.column(at: unitCurrent)[mirror.widths.firstIndex(of: 1)!]))"
        }.joined(separator: ", "))
        for (name, fit) in [("on", cell.on), ("off", cell.off), ("high", cell.high)] {
            let iu = unitCurrent
            print(String(format: "cell %@ = %.3f I_thresh %+.3f I_width %+.3f I_gain %+.4f I_thresh^2/I_u %+.4f I_width^2/I_u "
                    + "%+.4f I_thresh I_width/I_u %+.1f pA (%d grid points)", name, fit.threshold, fit.width, fit.gain,
                         fit.thresholdSquared * iu, fit.widthSquared * iu, fit.thresholdWidth * iu, fit.constant * 1e12,
                         cell.grid.count))
        }
        print("readout offsets: " + table.readout.offsets.map { String(format: "%+.2f %%", 100 * $0) }.joined(separator: ", "))
        print("mirror outputs at a summing node / at half supply: " + table.drainFactors.map {
            "\($0.polarity.rawValue) into \($0.node.rawValue) " + String(format: "%.3f", $0.factor)
        }.joined(separator: ", "))
    }
}
