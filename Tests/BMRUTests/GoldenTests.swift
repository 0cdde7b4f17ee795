@testable import BMRU
import Foundation
import Testing

/// Model directories committed under results/models/ (none is fine: the self-built model below is
/// always checked).
let committedModels: [URL] = {
    let root = packageRoot.appendingPathComponent("results/models", isDirectory: true)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().map { root.appendingPathComponent($0, isDirectory: true) }
        .filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent(Model.configFileName).path) }
}()

@Suite struct GoldenTests {
    /// Writes a random float32 model and a golden file computed by `NaiveNetwork` from the stored
    /// (rounded) parameters, as the training pipeline does.
    func writeModel(clips: Int = 4, frames: Int = 30) throws -> URL {
        let directory = try temporaryDirectory()
        let config = ModelConfig(name: "built", inputs: 13, hidden: 4, blocks: 2, classes: ["yes", "other"])
        try Model.random(config, seed: 21).write(to: directory, dtype: .f32)
        let stored = try Model.load(from: directory)
        var rng = SplitMix64(seed: 8)
        let batch = FrameBatch(clips: clips, frames: frames, width: 13, values: (0..<(clips * frames * 13)).map { _ in 1.5 * rng.nextGaussian() })
        var candidates: [Double] = [], states: [Double] = [], logits: [Double] = []
        for g in 0..<clips {
            let sequence = (0..<frames).map { t in Array(batch.values[((g * frames + t) * 13)..<((g * frames + t + 1) * 13)]) }
            let naive = NaiveNetwork(stored).run(sequence)
            candidates += naive.candidates.flatMap { $0.flatMap { $0 } }
            states += naive.states.flatMap { $0.flatMap { $0 } }
            logits += naive.logits.flatMap { $0 }
        }
        let golden = GoldenSet(inputs: batch, candidates: candidates, states: states.map { $0 == 1 }, logits: logits, labels: (0..<clips).map { $0 % 2 })
        try SafetensorsFile(tensors: golden.tensors(blocks: 2, hidden: 4, classes: 2)).write(to: directory.appendingPathComponent(Model.goldenFileName))
        return directory
    }

    func check(_ directory: URL) throws -> GoldenComparison {
        let model = try Model.load(from: directory)
        let golden = try GoldenSet.load(from: directory.appendingPathComponent(Model.goldenFileName), config: model.config)
        return try Network(model).compare(with: golden)
    }

    @Test func builtModelPassesItsGoldenCheck() throws {
        let result = try check(try writeModel())
        #expect(result.passed)
        #expect(result.stateMismatches == 0)
        #expect(result.logits.ratio < 1e-3)
        #expect(result.candidates?.withinTolerance == true)
        #expect(result.correctClips != nil)
        #expect(result.sequences == 4 && result.frames == 30)
    }

    /// A linear-readout model trained and exported by the JAX pipeline
    /// (`python -m scripts.train.train --task latch-d4 --readout linear --epochs 6 --golden 4`):
    /// the Swift reference reproduces the numpy reference's golden traces, and the same tensors read
    /// through a ReLU do not, so the fixture's residuals do go negative.
    @Test func linearReadoutModelFromTheTrainingPipelinePassesItsGoldenCheck() throws {
        let directory = packageRoot.appendingPathComponent("Tests/BMRUTests/Fixtures/latch-d4-linear", isDirectory: true)
        let result = try check(directory)
        #expect(result.passed && result.stateMismatches == 0 && result.frames == 100)
        var relu = try Model.load(from: directory)
        #expect(relu.config.readout == .linear && relu.config.formatVersion == 2)
        relu.config.readout = .relu
        let golden = try GoldenSet.load(from: directory.appendingPathComponent(Model.goldenFileName), config: relu.config)
        let mismatched = try Network(relu).compare(with: golden)
        #expect(mismatched.stateMismatches == 0 && !mismatched.logits.withinTolerance)
    }

    @Test func flippedStateBitAndShiftedLogitFailTheCheck() throws {
        let directory = try writeModel()
        let url = directory.appendingPathComponent(Model.goldenFileName)
        var file = try SafetensorsFile(contentsOf: url)
        file.tensors["states"]!.values[37] = 1 - file.tensors["states"]!.values[37]
        let logit = file.tensors["logits"]!.values[11]
        file.tensors["logits"]!.values[11] = logit + max(1e-8, 1e-5 * abs(logit))
        try file.write(to: url)
        let result = try check(directory)
        #expect(!result.passed)
        #expect(result.stateMismatches == 1 && result.firstStateMismatch == 37)
        #expect(!result.logits.withinTolerance && result.logits.index == 11)
    }

    @Test func logitJustWithinToleranceStillPasses() throws {
        let directory = try writeModel(clips: 1, frames: 5)
        let url = directory.appendingPathComponent(Model.goldenFileName)
        var file = try SafetensorsFile(contentsOf: url)
        let logit = file.tensors["logits"]!.values[3]
        file.tensors["logits"]!.values[3] = logit + 0.5 * max(1e-9, 1e-6 * abs(logit))
        try file.write(to: url)
        let result = try check(directory)
        #expect(result.passed && result.logits.ratio > 0.4 && result.logits.ratio < 0.6)
    }

    @Test func invalidGoldenFilesGiveSpecificErrors() throws {
        let directory = try writeModel(clips: 1, frames: 3)
        let url = directory.appendingPathComponent(Model.goldenFileName)
        let original = try SafetensorsFile(contentsOf: url)
        let config = try Model.load(from: directory).config
        func error(_ edit: (inout [String: Tensor]) -> Void) throws -> String? {
            var tensors = original.tensors
            edit(&tensors)
            try SafetensorsFile(tensors: tensors).write(to: url)
            return thrown { () throws(ModelError) in try GoldenSet.load(from: url, config: config) }?.description
        }
        #expect(try error { $0["logits"] = nil }?.hasSuffix("golden.safetensors: missing tensor logits") == true)
        #expect(try error { $0["states"]!.values[2] = 0.5 }?.hasSuffix("tensor states[0, 0, 0, 2] = 0.5: state bits must be 0 or 1") == true)
        #expect(try error { $0["inputs"]!.values[0] = .nan }?.hasSuffix("tensor inputs[0, 0, 0] = nan: must be finite") == true)
        #expect(try error { $0["labels"]!.values[0] = 2 }?.hasSuffix("tensor labels[0] = 2.0: labels must be class indices") == true)
        #expect(try error { $0["logits"] = Tensor(shape: [1, 3, 3], values: [Double](repeating: 0, count: 9)) }?
            .hasSuffix("tensor logits has shape [1, 3, 3], expected [1, 3, 2]") == true)
    }

    @Test(arguments: committedModels)
    func committedModelPassesItsGoldenCheck(directory: URL) throws {
        let model = try Model.load(from: directory)
        #expect(model.config.name == directory.lastPathComponent)
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(Model.goldenFileName).path) else { return }
        let result = try check(directory)
        #expect(result.stateMismatches == 0, "\(directory.lastPathComponent): first mismatch at \(String(describing: result.firstStateMismatch))")
        #expect(result.logits.withinTolerance, "\(directory.lastPathComponent): logits deviate \(result.logits.ratio) x tolerance")
    }
}
