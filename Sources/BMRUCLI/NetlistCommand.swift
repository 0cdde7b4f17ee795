import ArgumentParser
import BMRU
import ClipSources
import Foundation
import Netlist
import PDK
import Verify

/// `bmru netlist`: compiles a trained model into a transistor-level deck and its manifest.
struct NetlistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netlist",
        abstract: "Compile a trained FQ-BMRU model into a hierarchical ngspice deck (deck.cir) and manifest.json.",
        discussion: """
            Inputs are EXTERNAL sources (driven by the verifier) unless --golden selects a stored input \
            sequence, --clip an audio file (through the model's own MFCC front end) or --inputs with \
            --index a sequence of a features file: its frames become PWL sources of 10 ms frames with a \
            transient over them, the deck a reviewer reruns by hand for that clip ('ngspice -b deck.cir' \
            writes deck.raw beside it). The deck is calibrated (the stored characterization of its PDK, \
            corner, unit current and cell, or --characterization): weights are sized from the measured \
            mirror tables, every bias is a mirror output of the one reference current sized from the \
            bias tables, and the cell biases are corrected for the measured offsets. With \
            --relative-models the deck names the PDK's model files relative to its own folder, so it \
            can be committed and still runs with 'ngspice -b deck.cir' while the models stay in place.

            Example: bmru netlist --model results/models/kws-yes-d4 --pdk gf180mcu --out spice/kws-yes-d4/gf180mcu
            """
    )

    @OptionGroup var options: CompilerOptions

    @Option(parsing: .unconditional, help: "Drive the inputs with golden sequence N (PWL) instead of EXTERNAL sources.")
    var golden: Int?

    @Option(help: "Drive the inputs with this audio file's features (the model's MFCC front end).", completion: .file())
    var clip: String?

    @Option(help: "Drive the inputs with sequence --index of this features file (.safetensors, as verify's --inputs).",
            completion: .file())
    var inputs: String?

    @Option(parsing: .unconditional, help: "With --inputs: the sequence.")
    var index: Int?

    @Option(parsing: .unconditional, help: "With --golden, --clip or --inputs: only the first K frames.")
    var frames: Int?

    @Option(help: "Output folder.", completion: .directory)
    var out: String

    @Flag(help: "Write the PDK model paths relative to the output folder (a deck to commit; ngspice -b resolves them against the deck's folder) instead of absolute.")
    var relativeModels = false

    func validate() throws {
        if let golden, golden < 0 { throw ValidationError("--golden must be >= 0") }
        if let index, index < 0 { throw ValidationError("--index must be >= 0") }
        if let frames, frames < 1 { throw ValidationError("--frames must be >= 1") }
        let sources = [golden != nil, clip != nil, inputs != nil].filter { $0 }.count
        if sources > 1 { throw ValidationError("give one of --golden, --clip and --inputs") }
        if (inputs == nil) != (index == nil) { throw ValidationError("--inputs and --index go together") }
        if frames != nil, sources == 0 { throw ValidationError("--frames needs --golden, --clip or --inputs") }
        if options.circuit.mode == .partitioned {
            throw ValidationError("--mode partitioned is a way to simulate; the deck is the whole circuit (give fast or transient)")
        }
    }

    func run() async throws {
        let directory = options.directory
        var (network, compiler, characterization) = try await options.load()
        if relativeModels { compiler.modelsRelativeTo = URL(fileURLWithPath: out) }
        // The frames of the clip that drives the deck, if one does.
        var sequence: [[Double]]?
        if let golden {
            let set = try GoldenSet.load(from: directory.appendingPathComponent(Model.goldenFileName), config: network.config)
            let batch = set.inputs
            guard (0..<batch.clips).contains(golden) else {
                throw ValidationFailure("--golden \(golden): the golden file has \(batch.clips) sequences")
            }
            sequence = batch.sequence(golden)
        } else if let clip {
            sequence = try Clip.audioFile(URL(fileURLWithPath: clip), model: network, warn: printWarning).frames
        } else if let inputs, let index {
            let clips = try Clip.features(URL(fileURLWithPath: inputs), config: network.config)
            guard clips.indices.contains(index) else {
                throw ValidationFailure("--index \(index): \(inputs) has \(clips.count) sequences")
            }
            sequence = clips[index].frames
        }
        let sources = sequence.map { Compiler.Inputs.frames(Array($0.prefix(frames ?? $0.count))) } ?? .external
        compiler.rawFile = Compilation.rawFileName
        let compilation = try compiler.compile(network, inputs: sources)
        try compilation.write(to: URL(fileURLWithPath: out))
        // What the deck cannot resolve: over the driving clip's frames when there is one.
        let traces = try sequence.map { [try Network(network).run(Array($0.prefix(frames ?? $0.count)))] } ?? []
        for finding in ModelLint(model: network, compiler: compiler).findings(traces: traces) {
            printWarning("\(finding)")
        }
        let totals = compilation.manifest.totals
        print("\(network.config.name) -> \(out)/\(Compilation.deckFileName): \(totals.transistors) transistors, "
            + String(format: "gate area %.0f um^2, bias %.1f nA (%.1f nW from vdd_bias), ", totals.gateArea * 1e12,
                     totals.biasCurrent * 1e9, totals.biasPower * 1e9)
            + (characterization.map { "calibrated from \($0.path)" } ?? "nominal (uncalibrated)"))
    }
}
