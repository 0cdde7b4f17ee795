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

    /// SHA-1 of the paths joined by newlines (Python: `hashlib.sha1("\n".join(rels).encode())`).
    static func sha1(_ paths: [String]) -> String {
        Insecure.SHA1.hash(data: Data(paths.joined(separator: "\n").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
