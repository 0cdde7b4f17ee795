import ArgumentParser
import BMRU
import Foundation
import Netlist
import PDK

/// How a model becomes a circuit and how it is simulated: PDK, corner, sizing, mode. Shared by
/// `netlist` and `verify` (through `CompilerOptions`, which require `--pdk`) and `kws --spice`.
struct CircuitOptions: ParsableArguments {
    @Option(help: "PDK name (see 'bmru pdk list') or path to a pdk.json.")
    var pdk: String?

    @Option(help: "Process corner (default: the PDK's).")
    var corner: String?

    @Option(parsing: .unconditional, help: "Amperes per model unit (default: the model's unit_current).")
    var unitCurrent: Double?

    @Option(help: "Folder holding characterization.json (default: nominal sizing).", completion: .directory)
    var characterization: String?

    @Option(help: "Transient of PWL input frames: 'fast' (5x faster, guarded against the reference) or 'transient' (the reference settings; docs/design/simulation-modes.md).")
    var mode: SimulationMode = .fast

    @Option(help: "Memory cells: 'filtered' (the 9-transistor cell with 200 fF on its comparator node, which input transients cannot charge), 'continuous' (the published 9-transistor cell as it is) or 'sampled' (compare only in a window at the end of each frame; about 6x slower to simulate); docs/design/cell-variants.md.")
    var cells: CellTiming = .filtered

    @Flag(help: "Generate the biases at transistor level: mirror outputs of one reference current (default: ideal sources).")
    var mirroredBiases = false

    @Option(parsing: .unconditional, help: "Gate area of every memory-cell device, in multiples of the 1 um x 2 um unit (default: the characterization's, else 1). A characterization measured at another area is refused.")
    var cellArea: Double?

    func validate() throws {
        if let unitCurrent { try validateUnitCurrent(unitCurrent) }
        if let cellArea { try validateCellArea(cellArea) }
    }

    /// A compiler for these options; `--pdk` must have been given.
    func compiler() throws -> Compiler {
        guard let pdk else { throw ValidationError("--pdk is required") }
        let table = try characterization.map { try Characterization.load(from: URL(fileURLWithPath: $0)) }
        var compiler = try Compiler(pdk: try PDKCatalog.locate().pdk(pdk), corner: corner, unitCurrent: unitCurrent,
                                    characterization: table)
        compiler.mode = mode
        compiler.cellTiming = cells
        compiler.mirroredBiases = mirroredBiases
        if let cellArea { compiler.cellSize = DeviceSize.unit.scaled(area: cellArea) }
        return compiler
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

    /// The loaded model and a compiler for it.
    func load() throws -> (model: Model, compiler: Compiler) {
        (try Model.load(from: directory), try circuit.compiler())
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

extension SimulationMode: ExpressibleByArgument {}
extension CellTiming: ExpressibleByArgument {}
