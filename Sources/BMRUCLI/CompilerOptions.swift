import ArgumentParser
import BMRU
import Characterize
import Foundation
import Netlist
import Ngspice
import PDK
import Verify

/// How a model becomes a circuit and how it is simulated: PDK, corner, sizing, mode. Shared by
/// `netlist` and `verify` (through `CompilerOptions`, which require `--pdk`) and `kws --spice`.
struct CircuitOptions: ParsableArguments {
    @Option(help: "PDK name (see 'bmru pdk list') or path to a pdk.json.")
    var pdk: String?

    @Option(help: "Process corner (default: the PDK's).")
    var corner: String?

    @Option(parsing: .unconditional, help: "Amperes per model unit (default: the model's unit_current).")
    var unitCurrent: Double?

    @Option(help: "Folder holding characterization.json (default: the committed or cached tables of this PDK, corner, unit current and cell size, measured and cached when there are none).", completion: .directory)
    var characterization: String?

    @Flag(help: "Build the nominal, uncalibrated circuit (no characterization).")
    var nominal = false

    @Option(help: "Transient of PWL input frames: 'fast' (5x faster, guarded against the reference), 'transient' (the reference settings; docs/design/simulation-modes.md) or 'partitioned' (fast settings on the network cut at its gate lines, run stage by stage: for d >= 16; docs/design/partitioned-simulation.md).")
    var mode: RunMode = .fast

    @Option(help: "Memory cells: 'filtered' (the 9-transistor cell with 200 fF on its comparator node, which input transients cannot charge), 'continuous' (the published 9-transistor cell as it is) or 'sampled' (compare only in a window at the end of each frame; about 6x slower to simulate); docs/design/cell-variants.md.")
    var cells: CellTiming = .filtered

    @Flag(help: "Feed every bias from its own ideal current source instead of a mirror output of the one reference current (a what-if: the default deck builds biases at transistor level).")
    var idealBiases = false

    @Flag(help: .hidden)
    var mirroredBiases = false

    @Option(parsing: .unconditional, help: "Gate area of every memory-cell device, in multiples of the 1 um x 2 um unit (default: the characterization's, else 1). A characterization measured at another area is refused.")
    var cellArea: Double?

    @Option(help: "Memory-cell thresholds: 'feedback' (the published cell: reset at I_thresh - I_width) or 'switched' (each threshold its own bias: less spread under mismatch; docs/robustness.md). Default: the characterization's, else feedback.")
    var cellTopology: MemoryCell.Topology?

    func validate() throws {
        if let unitCurrent { try validateUnitCurrent(unitCurrent) }
        if let cellArea { try validateCellArea(cellArea) }
        if nominal, characterization != nil { throw ValidationError("--nominal and --characterization do not go together") }
        if idealBiases, mirroredBiases { throw ValidationError("--ideal-biases and --mirrored-biases (the default) do not go together") }
    }

    /// A compiler of `model` for these options (`--pdk` must have been given), calibrated unless
    /// `--nominal`: from `--characterization`, which must match the deck's PDK, corner, unit current
    /// and cell (size, topology), else from the matching stored tables, measured on `jobs` workers and cached
    /// when there are none (`CharacterizationStore`). Also the folder of the tables used.
    func compiler(for model: Model, jobs: Int? = nil) async throws -> (compiler: Compiler, characterization: URL?) {
        guard let pdk else { throw ValidationError("--pdk is required") }
        let catalog = try PDKCatalog.locate()
        var compiler = try Compiler(pdk: try catalog.pdk(pdk), corner: corner, unitCurrent: unitCurrent)
        compiler.mode = mode.simulation
        compiler.cellTiming = cells
        compiler.idealBiases = idealBiases
        if let cellArea { compiler.cellSize = DeviceSize.unit.scaled(area: cellArea) }
        if let cellTopology { compiler.cellTopology = cellTopology }
        if nominal { return (compiler, nil) }
        let (iu, size) = (compiler.unitCurrent(for: model), compiler.cellSize)
        if let characterization {
            let folder = URL(fileURLWithPath: characterization)
            let table = try Characterization.load(from: folder)
            // Without --cell-area and --cell-topology the tables choose the cell.
            if let reason = table.disagreement(pdk: compiler.pdk.name, corner: compiler.corner, unitCurrent: iu,
                                               cellSize: cellArea == nil ? table.cellSize : size,
                                               cellTopology: cellTopology ?? table.cellTopology) {
                throw ValidationFailure("\(folder.appendingPathComponent(Characterization.fileName).path): \(reason)")
            }
            compiler.characterization = table
            (compiler.cellSize, compiler.cellTopology) = (table.cellSize, table.cellTopology)
            return (compiler, folder)
        }
        let store = CharacterizationStore.standard(catalog: catalog)
        let pool = WorkerPool(.init(workers: jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        let (table, folder) = try await store.tables(for: compiler.pdk, corner: compiler.corner, unitCurrent: iu, cellSize: size,
                                                     cellTopology: compiler.cellTopology, pool: pool) { folder in
            Console.shared.error("no characterization of \(compiler.pdk.name) \(compiler.corner) at \(iu) A is stored: "
                + "measuring it (about 20 s) into \(folder.path)")
        }
        compiler.characterization = table
        return (compiler, folder)
    }
}

/// The options that choose a model and how it is compiled, shared by `netlist` and `verify`.
struct CompilerOptions: ParsableArguments {
    @Option(help: "Model folder (config.json, model.safetensors).", completion: .directory)
    var model: String

    @OptionGroup var circuit: CircuitOptions

    func validate() throws {
        guard circuit.pdk != nil else { throw ValidationError("Missing expected argument '--pdk <pdk>'") }
    }

    /// The model folder as a URL.
    var directory: URL { URL(fileURLWithPath: model) }

    /// The loaded model and a compiler for it (`CircuitOptions.compiler(for:jobs:)`), with the folder
    /// of its characterization.
    func load(jobs: Int? = nil) async throws -> (model: Model, compiler: Compiler, characterization: URL?) {
        let model = try Model.load(from: directory)
        let (compiler, folder) = try await circuit.compiler(for: model, jobs: jobs)
        return (model, compiler, folder)
    }
}

/// Refuses a `--unit-current` outside `ModelConfig.unitCurrentRange` (NaN and infinity included).
func validateUnitCurrent(_ amperes: Double) throws {
    let range = ModelConfig.unitCurrentRange
    guard range.contains(amperes) else {
        throw ValidationError("--unit-current is \(amperes), must be in \(range.lowerBound)...\(range.upperBound) A")
    }
}

/// Refuses a `--cell-area` outside 1...1000: smaller cells fall below the unit size the cell was
/// designed at, larger ones cost more than any mismatch budget justifies (docs/robustness.md).
func validateCellArea(_ area: Double) throws {
    guard (1.0...1000).contains(area) else { throw ValidationError("--cell-area is \(area), must be in 1...1000") }
}

extension RunMode: ExpressibleByArgument {}
extension CellTiming: ExpressibleByArgument {}
extension MemoryCell.Topology: ExpressibleByArgument {}
