import BMRU
import Foundation

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
    /// Every value of `inputs` must be finite. An audio file (RIFF, FORM, fLaC, OggS or MPEG
    /// header) is refused with a pointer to folders of WAV files (`Clip.audio`, module `ClipSources`).
    public static func features(_ url: URL, config: ModelConfig, limit: Int? = nil) throws(VerifyError) -> [Clip] {
        if let format = audioFormat(url) {
            throw .inputs("\(url.path): is \(format) audio, not a features file (.safetensors); give audio as a folder of WAV files")
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: url) } catch { throw .inputs(error.description) }
        guard let inputs = file.tensors["inputs"] else { throw .inputs("\(url.path): no tensor 'inputs'") }
        guard inputs.shape.count == 3, inputs.shape[2] == config.inputs, inputs.shape[1] >= 1 else {
            throw .inputs("\(url.path): inputs has shape \(inputs.shape), expected [G, T, \(config.inputs)]")
        }
        if let flat = inputs.values.firstIndex(where: { !$0.isFinite }) {
            let (clip, rest) = flat.quotientAndRemainder(dividingBy: inputs.shape[1] * inputs.shape[2])
            let (frame, feature) = rest.quotientAndRemainder(dividingBy: inputs.shape[2])
            throw .inputs("\(url.path): tensor inputs[\(clip), \(frame), \(feature)] = \(inputs.values[flat]): must be finite")
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

    /// The audio format whose magic bytes start `url`'s file, if any.
    private static func audioFormat(_ url: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        let magic: [(String, [UInt8])] = [("WAV", Array("RIFF".utf8)), ("AIFF", Array("FORM".utf8)),
                                          ("FLAC", Array("fLaC".utf8)), ("Ogg", Array("OggS".utf8)), ("MP3", Array("ID3".utf8))]
        return magic.first { head.starts(with: $0.1) }?.0
    }
}
