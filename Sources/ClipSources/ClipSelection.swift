import BMRU
import Foundation
import KWS
import Verify

/// Which clips a run uses: the selectors of `bmru verify`, also written into sweep files
/// (`docs/robustness.md`), so that a verification and a sweep over the same selection see the same
/// clips in the same order.
public struct ClipSelection: Sendable, Equatable, Codable {
    /// A Speech Commands folder, split as the model folder's `split.json` records (else by the
    /// training pipeline's rule) (instead of `inputs`).
    public var data: String?
    /// With `data`: the split to draw from (default heldout = validation + test).
    public var split: SpeechCommands.Selection?
    /// With `data`: the pipeline's balanced evaluation sets, keyword and other alternately (default),
    /// or every clip of the task.
    public var balanced: Bool?
    /// A features file (`inputs` [G, T, n]) or a folder of WAV files; nil with no `data` is the
    /// model's golden.safetensors.
    public var inputs: String?
    /// Only the first N clips.
    public var clips: Int?
    /// Only the first K frames of every clip.
    public var frames: Int?

    /// A selection with the given selectors.
    public init(data: String? = nil, split: SpeechCommands.Selection? = nil, balanced: Bool? = nil,
                inputs: String? = nil, clips: Int? = nil, frames: Int? = nil) {
        (self.data, self.split, self.balanced, self.inputs, self.clips, self.frames) = (data, split, balanced, inputs, clips, frames)
    }

    /// Throws when the selectors contradict each other or a count is not positive.
    public func validate() throws(VerifyError) {
        if inputs != nil, data != nil { throw .inputs("inputs and data are mutually exclusive") }
        if data == nil, split != nil || balanced != nil { throw .inputs("split and balanced need data") }
        if let clips, clips < 1 { throw .inputs("clips must be >= 1, got \(clips)") }
        if let frames, frames < 1 { throw .inputs("frames must be >= 1, got \(frames)") }
    }

    /// The selected clips of `model` (read from `modelDirectory`), and a description of where they
    /// come from for the provenance. Relative paths are resolved against `base` (nil: the working
    /// directory); `warn` receives the audio front end's warnings (a truncated or over-long file).
    public func load(model: Model, modelDirectory: URL, relativeTo base: URL? = nil,
                     warn: (String) -> Void = { _ in }) throws(VerifyError) -> (clips: [Clip], description: String)
    {
        try validate()
        func resolve(_ path: String) -> URL { URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL }
        var selected: [Clip]
        let description: String
        if let data {
            let selection = split ?? .heldout, balanced = balanced ?? true
            selected = try Clip.speechCommands(resolve(data), selection: selection, balanced: balanced, model: model,
                                               modelDirectory: modelDirectory, limit: clips, warn: warn)
            description = "\(data) (\(selection.rawValue), \(balanced ? "balanced" : "all clips"))"
        } else {
            let source = inputs.map(resolve) ?? modelDirectory.appendingPathComponent(Model.goldenFileName)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source.path, isDirectory: &isFolder) else {
                throw .inputs("\(source.path): no such file or folder")
            }
            selected = isFolder.boolValue ? try Clip.audio(source, model: model, limit: clips, warn: warn)
                : try Clip.features(source, config: model.config, limit: clips)
            description = inputs ?? Model.goldenFileName
        }
        if let frames { selected = selected.map { Clip(name: $0.name, frames: Array($0.frames.prefix(frames)), label: $0.label) } }
        return (selected, description)
    }
}
