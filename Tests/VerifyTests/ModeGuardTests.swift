import BMRU
import Foundation
import Netlist
import Testing
import TestSupport
@testable import Verify

/// The CI-sized version of the speed guard (docs/speed.md): the fast mode against the reference
/// transient on real clips of kws-yes-d4 on gf180mcu; the full guard (20 clips, 101 frames) is
/// scripts/bench/speed.sh.
@Suite("Simulation-mode guard", .serialized)
struct ModeGuardTests {
    static let modelDirectory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")
    static let characterization = TestSupport.repository.appendingPathComponent("results/characterization/gf180mcu")
    /// Golden clips 0 and 1 (a "yes" and an "other"), first 30 frames: several state switches each.
    static let clips = 2, frames = 30

    func run(_ mode: SimulationMode, _ clips: [Clip], into folder: URL) async throws -> Report {
        let model = try Model.load(from: Self.modelDirectory)
        let pdk = try TestSupport.catalog.pdk("gf180mcu", environment: TestSupport.environment())
        var compiler = try Compiler(pdk: pdk, characterization: try Characterization.load(from: Self.characterization))
        compiler.mode = mode
        let verifier = Verifier(model: model, modelDirectory: Self.modelDirectory, compiler: compiler)
        return try await verifier.run(clips, writingTo: folder, context: .init(inputs: "golden", commandLine: ["test"], version: "test"))
    }

    @Test("fast reproduces transient: same decisions, state bits, candidates within 1 % or 5 pA, power within 2 %")
    func fastAgainstTransient() async throws {
        let model = try Model.load(from: Self.modelDirectory)
        let clips = try Clip.features(Self.modelDirectory.appendingPathComponent(Model.goldenFileName), config: model.config,
                                      limit: Self.clips)
            .map { Clip(name: $0.name, frames: Array($0.frames.prefix(Self.frames)), label: $0.label) }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-guard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let (reference, candidate) = (root.appendingPathComponent("transient"), root.appendingPathComponent("fast"))
        let slow = try await run(.transient, clips, into: reference)
        let fast = try await run(.fast, clips, into: candidate)
        #expect(slow.failed == 0 && fast.failed == 0)
        #expect(slow.provenance.mode == "transient" && fast.provenance.mode == "fast")
        let agreement = try ModeAgreement(reference: reference, candidate: candidate)
        print(agreement.summary)
        #expect(agreement.clips == Self.clips)
        #expect(agreement.passed)
        #expect(agreement.candidateMode == "fast" && agreement.referenceMode == "transient")
        // The fast mode is measured at about 5x; 2x leaves room for a loaded machine.
        #expect(agreement.speedup > 2)
    }

    @Test("A run that differs is caught, and a missing clip is an error")
    func detectsDifferences() async throws {
        let model = try Model.load(from: Self.modelDirectory)
        let clip = try #require(try Clip.features(Self.modelDirectory.appendingPathComponent(Model.goldenFileName),
                                                  config: model.config, limit: 1).first)
        let short = Clip(name: clip.name, frames: Array(clip.frames.prefix(12)), label: clip.label)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-guard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let (reference, candidate) = (root.appendingPathComponent("a"), root.appendingPathComponent("b"))
        _ = try await run(.fast, [short], into: reference)
        _ = try await run(.fast, [short], into: candidate)
        #expect(try ModeAgreement(reference: reference, candidate: candidate).stateBitAgreement == 1)
        // Rewrite the candidate's trace with every candidate current 10 % higher.
        let report = try Report.load(from: candidate.appendingPathComponent("report.json"))
        let trace = candidate.appendingPathComponent(try #require(report.perClip[0].trace))
        var table = try TraceTable(trace)
        for column in table.columns(suffix: "_circuit_A") where table.header[column].hasPrefix("c") {
            for row in table.rows.indices { table.rows[row][column] *= 1.1 }
        }
        let text = ([table.header.joined(separator: ",")] + table.rows.map { $0.map { "\($0)" }.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: trace)
        let changed = try ModeAgreement(reference: reference, candidate: candidate)
        #expect(!changed.passed && changed.candidateAgreement < 0.999)
        #expect(throws: VerifyError.self) { try ModeAgreement(reference: reference, candidate: root.appendingPathComponent("none")) }
    }
}
