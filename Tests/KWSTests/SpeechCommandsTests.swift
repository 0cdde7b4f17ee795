import Crypto
import Foundation
import Testing
import TestSupport
@testable import KWS

/// Expected values from running scripts/train/data.py (`list_clips`, `balanced_eval_indices`) once
/// on ../shared/data/speech_commands_v0.02_test with the words ["yes"] + NEGATIVE_WORDS.
@Suite("Speech Commands split")
struct SpeechCommandsTests {
    static let words = ["yes", "no", "up", "down", "left", "right", "_silence_"]

    @Test("Clips per split and word match the Python pipeline's, and no speaker is in two splits")
    func splitCounts() throws {
        let data = try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes")
        let expected: [SpeechCommands.Split: [Int]] = [
            .train: [209, 215, 221, 227, 230, 211, 291],
            .validation: [61, 52, 49, 57, 51, 59, 60],
            .test: [52, 50, 70, 41, 53, 48, 57],
        ]
        for (split, counts) in expected {
            let clips = data.clips(in: SpeechCommands.Selection(rawValue: split.rawValue)!)
            #expect(Self.words.map { word in clips.count { $0.word == word } } == counts, "\(split)")
        }
        #expect(data.clips(in: .heldout).count == 389 + 371)
        let speakers = Dictionary(grouping: data.clips.filter { $0.speaker != nil }, by: \.speaker!)
            .mapValues { Set($0.map(\.split)) }
        #expect(speakers.count == 135 + 32 + 33)
        #expect(speakers.values.allSatisfy { $0.count == 1 })
    }

    @Test("The balanced validation and test sets are the Python pipeline's, in its order")
    func balanced() throws {
        let data = try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes")
        let test = try data.balanced(in: .test).map(\.path)
        #expect(test.count == 104 && test.prefix(52).allSatisfy { $0.hasPrefix("yes/") })
        #expect(Self.words.map { word in test.count { $0.hasPrefix("\(word)/") } } == [52, 9, 9, 9, 9, 8, 8])
        #expect(Array(test.prefix(5)) == ["yes/0bac8a71_nohash_0.wav", "yes/1538beb7_nohash_0.wav", "yes/2c6d3924_nohash_0.wav",
                                          "yes/2c6d3924_nohash_1.wav", "yes/4620dc14_nohash_0.wav"])
        #expect(Array(test.suffix(5)) == ["_silence_/971.wav", "no/893705bb_nohash_10.wav", "up/893705bb_nohash_5.wav",
                                          "down/c7dc7278_nohash_0.wav", "left/5f01c798_nohash_0.wav"])
        #expect(Self.sha1(test) == "9efa3c50adcec90a3ca0a2e3e0bd55b250760bec")

        let validation = try data.balanced(in: .validation).map(\.path)
        #expect(validation.count == 122)
        #expect(Self.words.map { word in validation.count { $0.hasPrefix("\(word)/") } } == [61, 11, 10, 10, 10, 10, 10])
        #expect(Array(validation[61..<64]) == ["no/1b4c9b89_nohash_4.wav", "up/a60a09cf_nohash_1.wav", "down/2d82a556_nohash_1.wav"])
        #expect(Array(validation.suffix(5)) == ["down/d103dd6e_nohash_0.wav", "left/d5ca80c6_nohash_0.wav",
                                                "right/a591c2ea_nohash_0.wav", "_silence_/1922.wav", "no/94de6a6a_nohash_2.wav"])
        #expect(Self.sha1(validation) == "4dec2e2b68c243a4c03956443351bd5b74402994")

        #expect(try data.balanced(in: .heldout).map(\.path) == validation + test)
    }

    @Test("validation_list.txt and testing_list.txt, when both exist, define the speech clips' splits")
    func officialLists() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-speech-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = ["yes/aaa_nohash_0.wav", "yes/bbb_nohash_0.wav", "yes/ccc_nohash_0.wav", "no/aaa_nohash_1.wav",
                     "_silence_/1024.wav", "_silence_/971.wav"]
        for file in files {
            let url = folder.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        try Data("yes/aaa_nohash_0.wav\r\n".utf8).write(to: folder.appendingPathComponent("validation_list.txt"))
        try Data("yes/bbb_nohash_0.wav\n\n no/aaa_nohash_1.wav \n".utf8).write(to: folder.appendingPathComponent("testing_list.txt"))
        let data = try SpeechCommands(folder: folder, keyword: "yes")
        // Python: aaa would be train by hash (21), but the list says validation; _silence_ stays on the hash.
        #expect(data.clips.map(\.path) == files)
        #expect(data.clips.map(\.split) == [.validation, .test, .train, .test, .test, .test])
        #expect(data.clips.map(\.speaker) == ["aaa", "bbb", "ccc", "aaa", nil, nil])
    }

    @Test("Speaker ids and hash buckets follow the pipeline's rules")
    func rules() {
        #expect(SpeechCommands.speaker(of: "0a7c2a8d_nohash_0.wav") == "0a7c2a8d")
        #expect(SpeechCommands.speaker(of: "bed_0a7c2a8d_nohash_0.wav") == "0a7c2a8d")
        #expect(SpeechCommands.speaker(of: "1024.wav") == nil)
        // Python: int(sha1(key).hexdigest(), 16) % 100 = 21, 94, 66, 89.
        #expect(["aaa", "bbb", "ccc", "971.wav"].map(SpeechCommands.split(ofKey:)) == [.train, .test, .train, .test])
    }

    @Test("A missing folder, a file for a folder, and a keyword without clips are one-line errors naming the path")
    func errors() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/speech")
        #expect(throws: SpeechCommandsError.missingFolder(missing.path)) { try SpeechCommands(folder: missing, keyword: "yes") }
        let file = TestSupport.speechCommands.appendingPathComponent("README.md")
        #expect(throws: SpeechCommandsError.missingFolder(file.path)) { try SpeechCommands(folder: file, keyword: "yes") }
        let data = try SpeechCommands(folder: TestSupport.speechCommands, keyword: "cat")
        #expect(throws: SpeechCommandsError.noKeywordClips(TestSupport.speechCommands.path, keyword: "cat", split: .validation)) {
            try data.balanced(in: .heldout)
        }
        #expect(SpeechCommandsError.missingFolder(missing.path).description == "/nonexistent/speech: no such Speech Commands folder")
    }

    @Test("The committed models' split.json lists exactly the split computed by the rule", arguments: ["kws-yes-d4", "kws-yes-d16"])
    func committedSplitFiles(model: String) throws {
        let directory = TestSupport.repository.appendingPathComponent("results/models/\(model)")
        let recorded = try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes", modelDirectory: directory)
        let computed = try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes")
        #expect(recorded.splitFile == directory.appendingPathComponent("split.json") && computed.splitFile == nil)
        #expect(recorded.clips == computed.clips)
        for selection in SpeechCommands.Selection.allCases {
            #expect(recorded.clips(in: selection) == computed.clips(in: selection), "\(selection)")
            #expect(try recorded.balanced(in: selection) == computed.balanced(in: selection), "\(selection)")
        }
    }

    @Test("A model folder's split.json is the truth: its splits, balanced sets and orders win over the rule")
    func splitFileWins() throws {
        let model = try Self.modelFolder(Self.record())
        defer { try? FileManager.default.removeItem(at: model) }
        let data = try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes", modelDirectory: model)
        // By the rule, 022cd682 is a train speaker and 0bac8a71 a test speaker; the file says otherwise.
        #expect(data.clips.map(\.path) == ["yes/022cd682_nohash_0.wav", "yes/0bac8a71_nohash_0.wav", "no/893705bb_nohash_10.wav",
                                           "_silence_/971.wav"])
        #expect(data.clips.map(\.split) == [.test, .validation, .validation, .train])
        #expect(data.clips.map(\.speaker) == ["022cd682", "0bac8a71", "893705bb", nil])
        #expect(try data.balanced(in: .heldout).map(\.path) == ["no/893705bb_nohash_10.wav", "yes/0bac8a71_nohash_0.wav",
                                                                "yes/022cd682_nohash_0.wav"])
        #expect(throws: SpeechCommandsError.noKeywordClips(TestSupport.speechCommands.path, keyword: "yes", split: .train)) {
            try data.balanced(in: .train)
        }
    }

    @Test("A split.json that breaks the format or does not fit the task and folder is a one-line error naming the field",
          arguments: [
              ("format", "x", "format is 'x', expected 'bmru-split'"),
              ("keyword", "no", "keyword is 'no', but the model's keyword is 'yes'"),
              ("clips", ["train": ["yes/022cd682_nohash_0.wav"], "validation": ["yes/022cd682_nohash_0.wav"], "test": [String]()],
               "clips.validation[0] 'yes/022cd682_nohash_0.wav' is also listed in train"),
              ("clips", ["train": ["go/022cd682_nohash_0.wav"], "validation": [String](), "test": [String]()],
               "clips.train[0] 'go/022cd682_nohash_0.wav' is not WORD/FILE.wav of the task's words [\"yes\", \"no\", \"_silence_\"]"),
              ("clips", ["train": ["yes/ffffffff_nohash_0.wav"], "validation": [String](), "test": [String]()],
               "clips.train[0] 'yes/ffffffff_nohash_0.wav' is not in \(TestSupport.speechCommands.path)"),
              ("balanced", ["train": [String](), "validation": ["_silence_/971.wav"], "test": [String]()],
               "balanced.validation[0] '_silence_/971.wav' is not in clips.validation"),
          ] as [(String, any Sendable, String)])
    func splitFileErrors(field: String, value: any Sendable, message: String) throws {
        var record = Self.record()
        record[field] = value
        let model = try Self.modelFolder(record)
        defer { try? FileManager.default.removeItem(at: model) }
        let file = model.appendingPathComponent("split.json").path
        let error = #expect(throws: SpeechCommandsError.self) {
            try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes", modelDirectory: model)
        }
        #expect(error?.description == "\(file): \(message)")
        record[field] = nil
        let incomplete = try Self.modelFolder(record)
        defer { try? FileManager.default.removeItem(at: incomplete) }
        #expect(throws: SpeechCommandsError.unreadable(incomplete.appendingPathComponent("split.json").path, "field \(field): missing")) {
            try SpeechCommands(folder: TestSupport.speechCommands, keyword: "yes", modelDirectory: incomplete)
        }
    }

    /// A small split.json over real clips of the test data that contradicts the rule.
    static func record() -> [String: any Sendable] {
        [
            "format": "bmru-split", "format_version": 1, "data": "speech_commands_v0.02_test", "keyword": "yes",
            "negative_words": ["no", "_silence_"],
            "clips": ["train": ["_silence_/971.wav"], "validation": ["yes/0bac8a71_nohash_0.wav", "no/893705bb_nohash_10.wav"],
                      "test": ["yes/022cd682_nohash_0.wav"]],
            "balanced": ["train": ["_silence_/971.wav"], "validation": ["no/893705bb_nohash_10.wav", "yes/0bac8a71_nohash_0.wav"],
                         "test": ["yes/022cd682_nohash_0.wav"]],
            "extra_training_words": [String](), "extra_training_clips": [String](),
        ]
    }

    /// A temporary model folder holding only `record` as split.json.
    static func modelFolder(_ record: [String: any Sendable]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-split-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: record).write(to: folder.appendingPathComponent("split.json"))
        return folder
    }

    /// SHA-1 of the paths joined by newlines (Python: `hashlib.sha1("\n".join(rels).encode())`).
    static func sha1(_ paths: [String]) -> String {
        Insecure.SHA1.hash(data: Data(paths.joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
