import BMRU
import Foundation
import KWS
import Verify

/// The audio loaders: clips from WAV folders and Speech Commands, through the model's MFCC front end
/// (`KeywordSpotter`). They live above `Verify` so that the verifier knows no audio.
extension Clip {
    /// The WAV files under `folder` (recursively, sorted by path), turned into the model's MFCC
    /// features. A file whose parent folder is named like a class gets that class as its label
    /// (the Speech Commands layout, `yes/0a7c2a8d_nohash_0.wav`); others are unlabelled. `warn`
    /// receives `KeywordSpotter.features(_:)`'s warnings (a truncated file, a recording longer than
    /// the model's clip).
    public static func audio(_ folder: URL, model: Model, limit: Int? = nil,
                             warn: (String) -> Void = { _ in }) throws(VerifyError) -> [Clip] {
        let root = folder.standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw .inputs("\(folder.path): not a readable folder")
        }
        let files = walker.compactMap { $0 as? URL }.filter { $0.pathExtension.lowercased() == "wav" }
            .map(\.standardizedFileURL).sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw .inputs("\(folder.path): no .wav files") }
        let classes = model.config.classes
        return try mfcc(files.prefix(limit ?? files.count).map { file in
            (file, String(file.path.dropFirst(root.path.count + 1)),
             classes.firstIndex(of: file.deletingLastPathComponent().lastPathComponent))
        }, model: model, warn: warn)
    }

    /// Clips of a Speech Commands folder for a two-class keyword model (classes: the keyword, then
    /// "other" for the negative words), labelled by class index and named by their relative path
    /// (`yes/0a7c2a8d_nohash_0.wav`). The split is the one `modelDirectory`'s `split.json` records,
    /// else the pipeline's rule (`SpeechCommands`).
    ///
    /// `balanced` takes the pipeline's fixed balanced sets of the selected splits, ordered keyword
    /// and other alternately so that any first `limit` clips stay balanced; otherwise every clip of
    /// the task in the selected splits, in listing order (keyword folder first).
    public static func speechCommands(
        _ folder: URL, selection: SpeechCommands.Selection, balanced: Bool, model: Model, modelDirectory: URL,
        limit: Int? = nil, warn: (String) -> Void = { _ in }
    ) throws(VerifyError) -> [Clip] {
        let classes = model.config.classes
        guard classes.count == 2, classes[1] == "other" else {
            throw .inputs("\(folder.path): the model's classes \(classes) are not [keyword, \"other\"]")
        }
        let keyword = classes[0]
        let selected: [SpeechCommands.Clip]
        do {
            let data = try SpeechCommands(folder: folder, keyword: keyword, modelDirectory: modelDirectory)
            selected = try balanced ? alternating(data.balanced(in: selection), keyword: keyword) : data.clips(in: selection)
        } catch { throw .inputs(error.description) }
        guard !selected.isEmpty else { throw .inputs("\(folder.path): no clips in the \(selection.rawValue) selection") }
        return try mfcc(selected.prefix(limit ?? selected.count).map { clip in
            (folder.appendingPathComponent(clip.path), clip.path, clip.word == keyword ? 0 : 1)
        }, model: model, warn: warn)
    }

    /// Keyword and other clips taken in turn, each in its given order; the longer list's rest last.
    private static func alternating(_ clips: [SpeechCommands.Clip], keyword: String) -> [SpeechCommands.Clip] {
        let positives = clips.filter { $0.word == keyword }, negatives = clips.filter { $0.word != keyword }
        return (0..<max(positives.count, negatives.count)).flatMap { index in
            [positives, negatives].compactMap { index < $0.count ? $0[index] : nil }
        }
    }

    /// One audio file (any format libsndfile reads) as a clip of the model's MFCC features, named by
    /// its path and unlabelled: the clip `bmru netlist --clip` drives a deck with.
    public static func audioFile(_ file: URL, model: Model, warn: (String) -> Void = { _ in }) throws(VerifyError) -> Clip {
        try mfcc([(file, file.path, nil)], model: model, warn: warn)[0]
    }

    /// The model's MFCC features of each audio file, as a clip with the given name and label.
    private static func mfcc(_ files: [(url: URL, name: String, label: Int?)], model: Model,
                             warn: (String) -> Void) throws(VerifyError) -> [Clip] {
        let spotter: KeywordSpotter
        do { spotter = try KeywordSpotter(model: model) } catch { throw .inputs(error.description) }
        var clips: [Clip] = []
        for file in files {
            let features: [[Double]], warnings: [String]
            do { (features, warnings) = try spotter.features(file.url) } catch { throw .inputs(error.description) }
            warnings.forEach(warn)
            clips.append(Clip(name: file.name, frames: features, label: file.label))
        }
        return clips
    }
}
