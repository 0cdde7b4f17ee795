import BMRU
import ClipSources
import Foundation
import Netlist
import Testing
import TestSupport
@testable import Verify

/// The partitioned simulation (`Verifier.partitioned`, `PartitionedRun`) against the whole-circuit
/// transient in the same step control, on real libngspice and GF180 (docs/design/partitioned-simulation.md).
@Suite("Partitioned simulation", .serialized)
struct PartitionedRunTests {
    static let modelDirectory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4")

    func verifier(_ partitioned: Partitioning.Load?, model directory: URL = modelDirectory) throws -> Verifier {
        let model = try Model.load(from: directory)
        let pdk = try TestSupport.catalog.pdk("gf180mcu", environment: TestSupport.environment())
        var compiler = try Compiler(pdk: pdk, characterization: try Characterization.load(
            from: TestSupport.repository.appendingPathComponent("results/characterization/gf180mcu")))
        compiler.mode = .fast
        var verifier = Verifier(model: model, modelDirectory: directory, compiler: compiler)
        verifier.partitioned = partitioned
        verifier.workers = 2
        return verifier
    }

    static let context = Verifier.Context(inputs: "test", commandLine: ["test"], version: "test", commit: "test")

    /// Runs `clips` whole and partitioned with `load` into `root` and compares them with the guard's limits.
    func compare(_ clips: [Clip], load: Partitioning.Load, root: URL, model directory: URL = modelDirectory) async throws
        -> ModeAgreement
    {
        let (whole, parts) = (root.appendingPathComponent("whole"), root.appendingPathComponent("partitioned-\(load.rawValue)"))
        let a = try await verifier(nil, model: directory).run(clips, writingTo: whole, context: Self.context)
        let b = try await verifier(load, model: directory).run(clips, writingTo: parts, context: Self.context)
        #expect(a.failed == 0 && b.failed == 0)
        #expect(b.provenance.mode == "partitioned-\(load.rawValue)")
        let agreement = try ModeAgreement(reference: whole, candidate: parts)
        print(agreement.summary)
        return agreement
    }

    @Test("a golden clip of kws-yes-d4, 12 frames: partitioned with replica loads reproduces the whole circuit")
    func guardSmall() async throws {
        let model = try Model.load(from: Self.modelDirectory)
        let clip = try #require(try Clip.features(Self.modelDirectory.appendingPathComponent(Model.goldenFileName),
                                                  config: model.config, limit: 1).first)
        let short = Clip(name: clip.name, frames: Array(clip.frames.prefix(12)), label: clip.label)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-partitioned-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let agreement = try await compare([short], load: .replica, root: root)
        #expect(agreement.identicalDecisions == 1 && agreement.stateBitAgreement == 1)
        #expect(agreement.passed)
    }

    /// The measurement of docs/notes/2026-12-05-partitioned-simulation.md: with
    /// `BMRUKIT_PARTITION_CLIPS=N` (and optionally `BMRUKIT_PARTITION_OUT`, `BMRUKIT_PARTITION_LOAD`,
    /// `BMRUKIT_PARTITION_FRAMES`, `BMRUKIT_PARTITION_MODEL`, a model folder), N real held-out clips run
    /// whole and partitioned, and the guard's figures are printed; the report folders stay for `bmru compare`.
    @Test("measurement on real held-out clips", .enabled(if: ProcessInfo.processInfo.environment["BMRUKIT_PARTITION_CLIPS"] != nil))
    func measure() async throws {
        let environment = ProcessInfo.processInfo.environment
        let directory = environment["BMRUKIT_PARTITION_MODEL"].map { URL(fileURLWithPath: $0) } ?? Self.modelDirectory
        let model = try Model.load(from: directory)
        let selection = ClipSelection(data: TestSupport.speechCommands.path, clips: Int(environment["BMRUKIT_PARTITION_CLIPS"]!),
                                      frames: environment["BMRUKIT_PARTITION_FRAMES"].flatMap { Int($0) })
        let clips = try selection.load(model: model, modelDirectory: directory).clips
        let root = URL(fileURLWithPath: environment["BMRUKIT_PARTITION_OUT"] ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("bmru-partitioned-\(UUID().uuidString)").path)
        let loads = (environment["BMRUKIT_PARTITION_LOAD"] ?? "replica").split(separator: ",").compactMap { Partitioning.Load(rawValue: String($0)) }
        for load in loads {
            let agreement = try await compare(clips, load: load, root: root, model: directory)
            let json = try JSONEncoder().encode(agreement)
            try json.write(to: root.appendingPathComponent("agreement-\(load.rawValue).json"))
        }
    }
}
