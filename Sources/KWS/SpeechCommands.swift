import Crypto
import Foundation

/// The clips of a Speech Commands folder for a two-class keyword task, split by speaker exactly as
/// the training pipeline splits them (`scripts/train/data.py`), so that the held-out clips used
/// here are those the models were selected and tested on.
///
/// Layout: `DATA/WORD/SPEAKER_nohash_N.wav` and `DATA/_silence_/*.wav` (noise clips, no speaker).
/// When `validation_list.txt` and `testing_list.txt` both exist they define the validation and test
/// clips (the full download); otherwise the speaker id's SHA-1 modulo 100 does: below 70 train,
/// below 85 validation, else test; a `_silence_` clip uses its file name instead. Unlike the
/// pipeline, the long `_background_noise_` files are not cut into `_silence_` crops: the test data
/// has none, so the folder is skipped.
public struct SpeechCommands: Sendable {
    /// The words of the task's negative class ("other"), in the pipeline's group order; mirrors
    /// `NEGATIVE_WORDS` in `scripts/train/data.py`.
    public static let negativeWords = ["no", "up", "down", "left", "right", "_silence_"]

    /// A part of the speaker-disjoint split.
    public enum Split: String, Sendable, CaseIterable {
        /// Speakers the models were trained on (70 %).
        case train
        /// Speakers the models were selected on (15 %; the pipeline's "val").
        case validation
        /// Speakers the models' test accuracy is quoted on (15 %).
        case test
    }

    /// The clips a run draws from: one split, or `heldout`, the validation and test splits whose
    /// speakers were never used for training.
    public enum Selection: String, Sendable, CaseIterable, Codable {
        /// The train split.
        case train
        /// The validation split.
        case validation
        /// The test split.
        case test
        /// The validation then the test split.
        case heldout

        /// The splits selected, in order.
        public var splits: [Split] {
            switch self {
            case .train: [.train]
            case .validation: [.validation]
            case .test: [.test]
            case .heldout: [.validation, .test]
            }
        }
    }

    /// One audio file of the folder.
    public struct Clip: Sendable, Hashable {
        /// The path relative to the data folder, `word/file.wav`.
        public var path: String
        /// The folder name.
        public var word: String
        /// The speaker id, nil for `_silence_` clips.
        public var speaker: String?
        /// The split the clip belongs to.
        public var split: Split
    }

    /// The data folder.
    public let folder: URL
    /// The task's keyword (class 0).
    public let keyword: String
    /// The clips of the keyword's folder then of each negative word's, each folder in file-name order
    /// (missing folders contribute none).
    public let clips: [Clip]

    /// Lists the keyword's and the negative words' clips of `folder`, with their splits.
    public init(folder: URL, keyword: String) throws(SpeechCommandsError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw .missingFolder(folder.path)
        }
        let official = try Self.officialLists(folder)
        var clips: [Clip] = []
        for word in [keyword] + Self.negativeWords.filter({ $0 != keyword }) {
            let wordFolder = folder.appendingPathComponent(word)
            guard FileManager.default.fileExists(atPath: wordFolder.path, isDirectory: &isFolder), isFolder.boolValue
            else { continue }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: wordFolder.path) } catch {
                throw .unreadable(wordFolder.path, error.localizedDescription)
            }
            // Python sorts by code point, which is the order of the UTF-8 bytes.
            for name in names.filter({ $0.hasSuffix(".wav") }).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                let path = "\(word)/\(name)"
                let speaker = Self.speaker(of: name)
                let split: Split = if let official, speaker != nil {
                    official.validation.contains(path) ? .validation : official.test.contains(path) ? .test : .train
                } else {
                    Self.split(ofKey: speaker ?? name)
                }
                clips.append(Clip(path: path, word: word, speaker: speaker, split: split))
            }
        }
        self.folder = folder
        self.keyword = keyword
        self.clips = clips
    }

    /// The clips of the selected splits, in listing order (all of them, unbalanced).
    public func clips(in selection: Selection) -> [Clip] {
        clips.filter { selection.splits.contains($0.split) }
    }

    /// The fixed balanced evaluation set of each selected split, concatenated: all keyword clips of
    /// the split, then as many negatives taken round-robin over the negative words, each word's clips
    /// ordered by the SHA-1 of their relative path (lowest first). The pipeline's
    /// `balanced_eval_indices`, so the test selection is the set the models' test accuracy is quoted on.
    public func balanced(in selection: Selection) throws(SpeechCommandsError) -> [Clip] {
        var chosen: [Clip] = []
        for split in selection.splits {
            let inSplit = clips.filter { $0.split == split }
            let keywordClips = inSplit.filter { $0.word == keyword }
            guard !keywordClips.isEmpty else { throw .noKeywordClips(folder.path, keyword: keyword, split: split) }
            let groups = Self.negativeWords.filter { $0 != keyword }.map { word in
                inSplit.filter { $0.word == word }.map { (clip: $0, hash: Self.sha1($0.path)) }
                    .sorted { $0.hash.lexicographicallyPrecedes($1.hash) }.map(\.clip)
            }
            var negatives: [Clip] = []
            var round = 0
            while negatives.count < keywordClips.count, groups.contains(where: { round < $0.count }) {
                for group in groups where round < group.count && negatives.count < keywordClips.count {
                    negatives.append(group[round])
                }
                round += 1
            }
            chosen += keywordClips + negatives
        }
        return chosen
    }

    /// The split of a speaker id (or a `_silence_` file name): its SHA-1, read as a big-endian
    /// 160-bit number, modulo 100; below 70 train, below 85 validation, else test.
    static func split(ofKey key: String) -> Split {
        let bucket = sha1(key).reduce(0) { ($0 * 256 + Int($1)) % 100 }
        return bucket < 70 ? .train : bucket < 85 ? .validation : .test
    }

    /// The speaker id of `SPEAKER_nohash_N.wav` or `WORD_SPEAKER_nohash_N.wav`; nil without `_nohash_`.
    static func speaker(of name: String) -> String? {
        guard let marker = name.range(of: "_nohash_") else { return nil }
        let head = name[..<marker.lowerBound]
        return String(head.split(separator: "_", omittingEmptySubsequences: false).last ?? head)
    }

    /// The SHA-1 digest of a string's UTF-8 bytes.
    private static func sha1(_ text: String) -> [UInt8] {
        Array(Insecure.SHA1.hash(data: Data(text.utf8)))
    }

    /// The relative paths in `validation_list.txt` and `testing_list.txt`, nil unless both exist.
    private static func officialLists(_ folder: URL) throws(SpeechCommandsError) -> (validation: Set<String>, test: Set<String>)? {
        var lists: [Set<String>] = []
        for name in ["validation_list.txt", "testing_list.txt"] {
            let file = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: file.path) else { return nil }
            let text: String
            do { text = try String(contentsOf: file, encoding: .utf8) } catch {
                throw .unreadable(file.path, error.localizedDescription)
            }
            lists.append(Set(text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }))
        }
        return (lists[0], lists[1])
    }
}

/// Why a Speech Commands selection could not be made; each description is one line naming the path.
public enum SpeechCommandsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The data folder does not exist or is not a folder.
    case missingFolder(String)
    /// A folder or list file could not be read.
    case unreadable(String, String)
    /// A split holds no clip of the keyword, so no balanced set can be drawn from it.
    case noKeywordClips(String, keyword: String, split: SpeechCommands.Split)

    public var description: String {
        switch self {
        case let .missingFolder(path): "\(path): no such Speech Commands folder"
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .noKeywordClips(path, keyword, split): "\(path): no '\(keyword)' clips in the \(split.rawValue) split"
        }
    }
}
