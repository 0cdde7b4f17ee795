import BMRU
import Crypto
import Foundation

/// The clips of a Speech Commands folder for a two-class keyword task, split exactly as the model
/// was trained and evaluated on, so that the held-out clips used here are those the model was
/// selected and tested on.
///
/// The training pipeline owns the split: it writes the clips of each split and its balanced sets
/// into the model folder (`split.json`, docs/reference/model-format.md), and when the model folder
/// has that file it is the truth. For a model without it, the split is computed by the pipeline's
/// rule (`scripts/train/data.py`):
///
/// Layout: `DATA/WORD/SPEAKER_nohash_N.wav` and `DATA/_silence_/*.wav` (noise clips, no speaker).
/// When `validation_list.txt` and `testing_list.txt` both exist they define the validation and test
/// clips (the full download); otherwise the speaker id's SHA-1 modulo 100 does: below 70 train,
/// below 85 validation, else test; a `_silence_` clip uses its file name instead. Unlike the
/// pipeline, the long `_background_noise_` files are not cut into `_silence_` crops: the test data
/// has none, so the folder is skipped.
public struct SpeechCommands: Sendable {
    /// The words of the task's negative class ("other"), in the pipeline's group order, for models
    /// without `split.json` (which records its own); mirrors `NEGATIVE_WORDS` in `scripts/train/data.py`.
    public static let negativeWords = ["no", "up", "down", "left", "right", "_silence_"]

    /// The name of the file in a model folder that records the model's split.
    public static let splitFileName = "split.json"

    /// A part of the speaker-disjoint split; the raw value is its key in `split.json`.
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
    /// The clips of the task (those `split.json` lists, else every file of the word folders), the
    /// keyword's folder then each negative word's, each folder in file-name order.
    public let clips: [Clip]
    /// The `split.json` the clips and balanced sets were read from; nil when they were computed.
    public let splitFile: URL?
    /// The balanced set of each split as `split.json` lists it; nil when computed.
    private let recordedBalanced: [Split: [Clip]]?

    /// Lists the keyword's and the negative words' clips of `folder`, with their splits: those of
    /// `modelDirectory`'s `split.json` when it has one, else computed by the pipeline's rule.
    public init(folder: URL, keyword: String, modelDirectory: URL? = nil) throws(SpeechCommandsError) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw .missingFolder(folder.path)
        }
        self.folder = folder
        self.keyword = keyword
        if let file = modelDirectory?.appendingPathComponent(Self.splitFileName), FileManager.default.fileExists(atPath: file.path) {
            (clips, recordedBalanced) = try Self.recorded(file, folder: folder, keyword: keyword)
            splitFile = file
        } else {
            clips = try Self.computed(folder, keyword: keyword)
            (recordedBalanced, splitFile) = (nil, nil)
        }
    }

    /// The clips of `folder` split by the pipeline's rule.
    private static func computed(_ folder: URL, keyword: String) throws(SpeechCommandsError) -> [Clip] {
        let official = try Self.officialLists(folder)
        var clips: [Clip] = []
        var isFolder: ObjCBool = false
        for word in [keyword] + Self.negativeWords.filter({ $0 != keyword }) {
            let wordFolder = folder.appendingPathComponent(word)
            guard FileManager.default.fileExists(atPath: wordFolder.path, isDirectory: &isFolder), isFolder.boolValue
            else { continue }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: wordFolder.path) } catch {
                throw .unreadable(wordFolder.path, fileErrorReason(error))
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
        return clips
    }

    /// The clips and balanced sets listed in `split.json`, checked against the task and the data
    /// folder; the clips in listing order (the keyword's then each negative word's, by file name).
    private static func recorded(_ file: URL, folder: URL, keyword: String) throws(SpeechCommandsError)
        -> (clips: [Clip], balanced: [Split: [Clip]])
    {
        let record: SplitRecord
        do { record = try JSONDecoder().decode(SplitRecord.self, from: Data(contentsOf: file)) } catch {
            throw .unreadable(file.path, fileErrorReason(error))
        }
        guard record.format == "bmru-split" else {
            throw .invalidSplitFile(file.path, field: "format", "is '\(record.format)', expected 'bmru-split'")
        }
        guard record.formatVersion == 1 else {
            throw .invalidSplitFile(file.path, field: "format_version", "is \(record.formatVersion), expected 1")
        }
        guard record.keyword == keyword else {
            throw .invalidSplitFile(file.path, field: "keyword", "is '\(record.keyword)', but the model's keyword is '\(keyword)'")
        }
        let words = [keyword] + record.negativeWords.filter { $0 != keyword }
        var byPath: [String: Clip] = [:]
        for split in Split.allCases {
            for (index, path) in record.clips[split].enumerated() {
                let field = "clips.\(split.rawValue)[\(index)]"
                let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, words.contains(parts[0]), parts[1].hasSuffix(".wav") else {
                    throw .invalidSplitFile(file.path, field: field, "'\(path)' is not WORD/FILE.wav of the task's words \(words)")
                }
                if let listed = byPath[path] {
                    throw .invalidSplitFile(file.path, field: field, "'\(path)' is also listed in \(listed.split.rawValue)")
                }
                guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(path).path) else {
                    throw .invalidSplitFile(file.path, field: field, "'\(path)' is not in \(folder.path)")
                }
                byPath[path] = Clip(path: path, word: parts[0], speaker: speaker(of: parts[1]), split: split)
            }
        }
        var balanced: [Split: [Clip]] = [:]
        for split in Split.allCases {
            var set: [Clip] = []
            for (index, path) in record.balanced[split].enumerated() {
                guard let clip = byPath[path], clip.split == split else {
                    throw .invalidSplitFile(file.path, field: "balanced.\(split.rawValue)[\(index)]",
                                            "'\(path)' is not in clips.\(split.rawValue)")
                }
                set.append(clip)
            }
            balanced[split] = set
        }
        let order = Dictionary(words.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let clips = byPath.values.sorted { a, b in
            a.word == b.word ? a.path.utf8.lexicographicallyPrecedes(b.path.utf8) : order[a.word]! < order[b.word]!
        }
        return (clips, balanced)
    }

    /// The clips of the selected splits, in listing order (all of them, unbalanced).
    public func clips(in selection: Selection) -> [Clip] {
        clips.filter { selection.splits.contains($0.split) }
    }

    /// The fixed balanced evaluation set of each selected split, concatenated: as `split.json` lists
    /// it, else all keyword clips of the split, then as many negatives taken round-robin over the
    /// negative words, each word's clips ordered by the SHA-1 of their relative path (lowest first).
    /// The pipeline's `balanced_eval_indices`, so the test selection is the set the models' test
    /// accuracy is quoted on.
    public func balanced(in selection: Selection) throws(SpeechCommandsError) -> [Clip] {
        var chosen: [Clip] = []
        for split in selection.splits {
            if let recordedBalanced {
                let set = recordedBalanced[split] ?? []
                guard set.contains(where: { $0.word == keyword }) else {
                    throw .noKeywordClips(folder.path, keyword: keyword, split: split)
                }
                chosen += set
                continue
            }
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
                throw .unreadable(file.path, fileErrorReason(error))
            }
            lists.append(Set(text.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }))
        }
        return (lists[0], lists[1])
    }
}

/// The fields of `split.json` that `SpeechCommands` reads (docs/reference/model-format.md); the
/// training-only negatives it also records are provenance and not read.
private struct SplitRecord: Decodable {
    /// Clip paths relative to the data folder, one list per split.
    struct Lists: Decodable {
        var train: [String]
        var validation: [String]
        var test: [String]

        subscript(split: SpeechCommands.Split) -> [String] {
            switch split {
            case .train: train
            case .validation: validation
            case .test: test
            }
        }
    }

    var format: String
    var formatVersion: Int
    var keyword: String
    var negativeWords: [String]
    var clips: Lists
    var balanced: Lists

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", keyword, negativeWords = "negative_words", clips, balanced
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
    /// A model's `split.json` breaks a rule of the format or does not fit the data folder: the
    /// file, the field and the problem.
    case invalidSplitFile(String, field: String, String)

    public var description: String {
        switch self {
        case let .missingFolder(path): "\(path): no such Speech Commands folder"
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .noKeywordClips(path, keyword, split): "\(path): no '\(keyword)' clips in the \(split.rawValue) split"
        case let .invalidSplitFile(path, field, problem): "\(path): \(field) \(problem)"
        }
    }
}
