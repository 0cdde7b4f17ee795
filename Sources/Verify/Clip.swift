import BMRU
import Foundation
import KWS

/// One input sequence to verify: frames in model units and, when known, the clip's class.
public struct Clip: Sendable, Equatable {
    /// A name unique within a run (`golden-3`, a WAV file's relative path); names the trace file.
    public var name: String
    /// `[frame][feature]`, model units.
    public var frames: [[Double]]
    /// The class index the clip belongs to, if known.
    public var label: Int?

    /// A clip with the given contents.
    public init(name: String, frames: [[Double]], label: Int? = nil) {
        self.name = name
        self.frames = frames
        self.label = label
    }

    /// The sequences of a features file: a safetensors file with `inputs` [G, T, n] (a model's
    /// `golden.safetensors`, or any file with that tensor) and optionally `labels` [G]. Other
    /// tensors are ignored. At most `limit` clips, first ones first.
    public static func features(_ url: URL, config: ModelConfig, limit: Int? = nil) throws(VerifyError) -> [Clip] {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: url) } catch { throw .inputs(error.description) }
        guard let inputs = file.tensors["inputs"] else { throw .inputs("\(url.path): no tensor 'inputs'") }
        guard inputs.shape.count == 3, inputs.shape[2] == config.inputs, inputs.shape[1] >= 1 else {
            throw .inputs("\(url.path): inputs has shape \(inputs.shape), expected [G, T, \(config.inputs)]")
        }
        let (g, t, n) = (inputs.shape[0], inputs.shape[1], inputs.shape[2])
        var labels: [Int]?
        if let tensor = file.tensors["labels"] {
            guard tensor.shape == [g], tensor.values.allSatisfy({ $0 == $0.rounded() && (0..<config.classes.count).contains(Int($0)) })
            else { throw .inputs("\(url.path): labels must be [\(g)] class indices") }
            labels = tensor.values.map { Int($0) }
        }
        let count = min(limit ?? g, g)
        return (0..<count).map { clip in
            let frames = (0..<t).map { frame in
                let start = (clip * t + frame) * n
                return Array(inputs.values[start..<start + n])
            }
            return Clip(name: "clip-\(clip)", frames: frames, label: labels?[clip])
        }
    }

    /// The WAV files under `folder` (recursively, sorted by path), turned into the model's MFCC
    /// features. A file whose parent folder is named like a class gets that class as its label
    /// (the Speech Commands layout, `yes/0a7c2a8d_nohash_0.wav`); others are unlabelled.
    public static func audio(_ folder: URL, model: Model, limit: Int? = nil) throws(VerifyError) -> [Clip] {
        let spotter: KeywordSpotter
        do { spotter = try KeywordSpotter(model: model) } catch { throw .inputs(error.description) }
        let root = folder.standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw .inputs("\(folder.path): not a readable folder")
        }
        let files = walker.compactMap { $0 as? URL }.filter { $0.pathExtension.lowercased() == "wav" }
            .map(\.standardizedFileURL).sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw .inputs("\(folder.path): no .wav files") }
        let classes = model.config.classes
        var clips: [Clip] = []
        for file in files.prefix(limit ?? files.count) {
            let audio: Audio
            do { audio = try Audio.read(file, sampleRate: spotter.mfcc.settings.sampleRate) } catch {
                throw .inputs(error.description)
            }
            let name = String(file.path.dropFirst(root.path.count + 1))
            let parent = file.deletingLastPathComponent().lastPathComponent
            clips.append(Clip(name: name, frames: spotter.mfcc.features(audio.samples), label: classes.firstIndex(of: parent)))
        }
        return clips
    }
}
