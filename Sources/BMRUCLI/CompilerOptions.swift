import ArgumentParser
import BMRU
import Foundation
import Netlist
import PDK

/// The options that choose a model and how it is compiled, shared by `netlist` and `verify`.
struct CompilerOptions: ParsableArguments {
    @Option(help: "Model folder (config.json, model.safetensors).", completion: .directory)
    var model: String

    @Option(help: "PDK name (see 'bmru pdk list') or path to a pdk.json.")
    var pdk: String

    @Option(help: "Process corner (default: the PDK's).")
    var corner: String?

    @Option(help: "Amperes per model unit (default: the model's unit_current).")
    var unitCurrent: Double?

    @Option(help: "Folder holding characterization.json (default: nominal sizing).", completion: .directory)
    var characterization: String?

    /// The model folder as a URL.
    var directory: URL { URL(fileURLWithPath: model) }

    /// The loaded model and a compiler for it.
    func load() throws -> (model: Model, compiler: Compiler) {
        let loaded = try Model.load(from: directory)
        let table = try characterization.map { try Characterization.load(from: URL(fileURLWithPath: $0)) }
        let compiler = try Compiler(pdk: try PDKCatalog.locate().pdk(pdk), corner: corner, unitCurrent: unitCurrent,
                                    characterization: table)
        return (loaded, compiler)
    }
}
