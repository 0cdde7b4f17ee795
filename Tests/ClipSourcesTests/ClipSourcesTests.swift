import BMRU
import ClipSources
import Foundation
import Testing
import TestSupport
import Verify

/// Clips from audio: WAV folders and Speech Commands selections, through the model's MFCC front end.
@Suite("Clip sources")
struct ClipSourcesTests {
    @Test("WAV folders give MFCC clips labelled by their parent folder; features files give labelled clips")
    func inputs() throws {
        let directory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")
        let model = try Model.load(from: directory)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-clips-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for word in ["yes", "no"] {
            let source = TestSupport.speechCommands.appendingPathComponent(word)
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: source.path).sorted().first)
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(word), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source.appendingPathComponent(name),
                                             to: folder.appendingPathComponent("\(word)/\(name)"))
        }
        let clips = try Clip.audio(folder, model: model)
        #expect(clips.map(\.label) == [nil, 0])  // "no" is not a class name of kws-yes; "yes" is class 0
        #expect(clips.allSatisfy { $0.frames.count == 101 && $0.frames[0].count == 13 })
        let golden = try Clip.features(directory.appendingPathComponent(Model.goldenFileName), config: model.config, limit: 3)
        #expect(golden.count == 3 && golden.allSatisfy { $0.label != nil && $0.frames.count == 101 })
    }

    @Test("Speech Commands selections: balanced held-out clips alternate yes and other, named by relative path, from the model's split")
    func speechCommands() throws {
        let directory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")
        let model = try Model.load(from: directory)
        let clips = try Clip.speechCommands(TestSupport.speechCommands, selection: .heldout, balanced: true, model: model,
                                            modelDirectory: directory, limit: 4)
        // The first two "yes" and the first two negatives of the balanced validation set (scripts/train/data.py).
        #expect(clips.map(\.name) == ["yes/1b4c9b89_nohash_0.wav", "no/1b4c9b89_nohash_4.wav", "yes/1b4c9b89_nohash_1.wav",
                                      "up/a60a09cf_nohash_1.wav"])
        #expect(clips.map(\.label) == [0, 1, 0, 1])
        #expect(clips.allSatisfy { $0.frames.count == 101 && $0.frames[0].count == 13 })
        let all = try Clip.speechCommands(TestSupport.speechCommands, selection: .test, balanced: false, model: model,
                                          modelDirectory: directory, limit: 2)
        #expect(all.map(\.label) == [0, 0])
        // The model folder's split.json decides: here one that contradicts the rule.
        let recorded = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-split-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: recorded) }
        try FileManager.default.copyItem(at: directory, to: recorded)
        let split: [String: Any] = [
            "format": "bmru-split", "format_version": 1, "data": "speech_commands_v0.02_test", "keyword": "yes",
            "negative_words": ["no"],
            "clips": ["train": [String](), "validation": ["yes/022cd682_nohash_0.wav", "no/893705bb_nohash_10.wav"], "test": [String]()],
            "balanced": ["train": [String](), "validation": ["no/893705bb_nohash_10.wav", "yes/022cd682_nohash_0.wav"], "test": [String]()],
        ]
        try JSONSerialization.data(withJSONObject: split).write(to: recorded.appendingPathComponent("split.json"))
        let (followed, _) = try ClipSelection(data: TestSupport.speechCommands.path, split: .validation)
            .load(model: model, modelDirectory: recorded)
        #expect(followed.map(\.name) == ["yes/022cd682_nohash_0.wav", "no/893705bb_nohash_10.wav"])
        let latchDirectory = TestSupport.repository.appendingPathComponent("results/models/latch-d4")
        let latch = try Model.load(from: latchDirectory)
        #expect(throws: VerifyError.self) {
            try Clip.speechCommands(TestSupport.speechCommands, selection: .test, balanced: true, model: latch,
                                    modelDirectory: latchDirectory)
        }
    }
}
