import ArgumentParser
import ClipSources
import KWS

/// The clip selectors of `bmru verify` and of a sweep built from flags (`ClipSelection`).
struct ClipOptions: ParsableArguments {
    @Option(help: "Features file (.safetensors) or folder of WAV files (default: the model's golden.safetensors).",
            completion: .file())
    var inputs: String?

    @Option(help: "Speech Commands folder: its clips of the model's keyword task (instead of --inputs).",
            completion: .directory)
    var data: String?

    @Option(help: "With --data: the split to draw from (heldout = validation + test, the default).")
    var split: SpeechCommands.Selection?

    @Flag(inversion: .prefixedNo,
          help: "With --data: the training pipeline's balanced evaluation sets (default) or every clip of the task.")
    var balanced: Bool?

    @Option(parsing: .unconditional, help: "Only the first N clips.")
    var clips: Int?

    @Option(parsing: .unconditional, help: "Only the first K frames of every clip.")
    var frames: Int?

    func validate() throws {
        if inputs != nil, data != nil { throw ValidationError("--inputs and --data are mutually exclusive") }
        if data == nil, split != nil || balanced != nil {
            throw ValidationError("--split and --balanced/--no-balanced need --data")
        }
        if let clips, clips < 1 { throw ValidationError("--clips must be >= 1") }
        if let frames, frames < 1 { throw ValidationError("--frames must be >= 1") }
    }

    /// The clips these options select.
    var selection: ClipSelection {
        ClipSelection(data: data, split: split, balanced: balanced, inputs: inputs, clips: clips, frames: frames)
    }
}

extension SpeechCommands.Selection: ExpressibleByArgument {}
