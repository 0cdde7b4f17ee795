import BMRU
import ClipSources
import Foundation
@testable import Sweep
import Testing
import TestSupport
import Verify

@Suite struct ParameterNoiseStudyTests {
    static let modelDirectory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")

    /// The committed model and its golden clips (labelled).
    static func fixture() throws -> (Model, [Clip], ParameterNoiseReport.Provenance) {
        let model = try Model.load(from: modelDirectory)
        let (clips, inputs) = try ClipSelection().load(model: model, modelDirectory: modelDirectory)
        return (model, clips, .init(model: model, modelDirectory: modelDirectory, inputs: inputs, version: "test"))
    }

    @Test func tinyNoiseAgreesEverywhere() throws {
        let (model, clips, provenance) = try Self.fixture()
        let report = try ParameterNoiseStudy(sigmas: [1e-9], draws: 3, seed: 1).run(model, clips: clips, provenance: provenance)
        let level = try #require(report.levels.first)
        #expect(level.clipEvaluations == 3 * clips.count)
        #expect(level.decisionAgreement.pooled == 1 && level.decisionAgreement.mean == 1)
        #expect(level.decisionAgreement.low == 1 && level.decisionAgreement.high == 1)
        #expect(level.frameDecisionAgreement.pooled == 1)
        #expect(level.stateBitAgreement.pooled == 1)
        #expect(level.stateBitAgreement.count == 3 * clips.count * 101 * 2 * 4)
        #expect(report.labelled == clips.count && level.accuracy?.mean == report.noiselessAccuracy)
    }

    @Test func agreementFallsAsSigmaGrows() throws {
        let (model, clips, provenance) = try Self.fixture()
        let sigmas = [0.05, 0.1, 0.2, 0.3]
        let report = try ParameterNoiseStudy(sigmas: sigmas, draws: 12, seed: 7).run(model, clips: clips, provenance: provenance)
        let bits = report.levels.map(\.stateBitAgreement.mean), frames = report.levels.map(\.frameDecisionAgreement.mean)
        let decisions = report.levels.map(\.decisionAgreement.mean)
        for k in 1..<sigmas.count {
            #expect(bits[k] <= bits[k - 1], "state bits at sigma \(sigmas[k]): \(bits)")
            #expect(frames[k] <= frames[k - 1], "frame decisions at sigma \(sigmas[k]): \(frames)")
        }
        #expect(decisions[sigmas.count - 1] < decisions[0], "clip decisions: \(decisions)")
        #expect(bits[sigmas.count - 1] < 1)
    }

    @Test func sameSeedSameBytesOtherSeedOtherReport() throws {
        let (model, clips, provenance) = try Self.fixture()
        func bytes(seed: UInt64) throws -> Data {
            let report = try ParameterNoiseStudy(sigmas: [0.1, 0.2], draws: 2, seed: seed).run(model, clips: clips, provenance: provenance)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-noise-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try report.write(to: folder)
            let markdown = try String(contentsOf: folder.appendingPathComponent(ParameterNoiseReport.markdownFileName), encoding: .utf8)
            #expect(markdown.contains("| 0.1 | 2 | \(2 * clips.count) |"))
            return try Data(contentsOf: folder.appendingPathComponent(ParameterNoiseReport.jsonFileName))
        }
        let first = try bytes(seed: 1)
        #expect(try bytes(seed: 1) == first)
        #expect(try bytes(seed: 2) != first)
        let json = String(decoding: first, as: UTF8.self)
        #expect(json.contains("\"format\" : \"bmru-parameter-noise-study\"") && json.contains("\"format_version\" : 1"))
        #expect(!json.contains("\\/"))
    }

    @Test func seedsDependOnBaseSigmaAndDraw() {
        let study = ParameterNoiseStudy(seed: 1)
        let seeds = [(0, 0), (0, 1), (1, 0), (1, 1)].map { study.drawSeed(sigma: $0.0, draw: $0.1) }
        #expect(Set(seeds).count == 4)
        #expect(ParameterNoiseStudy(seed: 2).drawSeed(sigma: 0, draw: 0) != seeds[0])
        #expect(study.drawSeed(sigma: 1, draw: 1) == seeds[3])
    }

    @Test(arguments: [
        (ParameterNoiseStudy(sigmas: [0], draws: 1), "sigma must be finite and in (0, 1], got 0.0"),
        (ParameterNoiseStudy(sigmas: [.nan], draws: 1), "sigma must be finite and in (0, 1], got nan"),
        (ParameterNoiseStudy(sigmas: [1.5], draws: 1), "sigma must be finite and in (0, 1], got 1.5"),
        (ParameterNoiseStudy(sigmas: [0.1], draws: 0), "draws must be >= 1, got 0"),
        (ParameterNoiseStudy(sigmas: [], draws: 1), "give at least one sigma"),
        (ParameterNoiseStudy(sigmas: [0.1, 0.1], draws: 1), "sigmas must differ, got [0.1, 0.1]"),
    ])
    func invalidSettingsAreRefused(study: ParameterNoiseStudy, message: String) {
        #expect(throws: SweepError.setup(message)) { try study.validate() }
    }

    @Test func studentQuantiles() {
        #expect(ParameterNoiseReport.Estimate.t975(degreesOfFreedom: 4) == 2.776)
        #expect(abs(ParameterNoiseReport.Estimate.t975(degreesOfFreedom: 31) - 2.0395) < 2e-4)
        #expect(abs(ParameterNoiseReport.Estimate.t975(degreesOfFreedom: 120) - 1.9799) < 1e-4)
    }
}
