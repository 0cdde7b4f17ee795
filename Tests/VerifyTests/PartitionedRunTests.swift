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

    @Test("Partition seeds: every partition of a clip its own, in 1...Int32.max, the same for the same (seed, partition)")
    func partitionSeeds() throws {
        let verifier = try verifier(.replica)
        let clip = try #require(try Clip.features(Self.modelDirectory.appendingPathComponent(Model.goldenFileName),
                                                  config: verifier.model.config, limit: 1).first)
        let names = try verifier.partitioning(for: clip, load: .replica).partitions.map(\.name)
        #expect(names.count > 10 && Set(names).count == names.count)
        for seed in [1, 3, Int(Int32.max)] {
            let seeds = names.map { PartitionedRun.seed(seed, partition: $0) }
            #expect(Set(seeds).count == names.count)
            #expect(seeds.allSatisfy { (1...Int(Int32.max)).contains($0) })
            #expect(seeds == names.map { PartitionedRun.seed(seed, partition: $0) })
        }
        #expect(PartitionedRun.seed(1, partition: "cell0_0") != PartitionedRun.seed(2, partition: "cell0_0"))
        // SHA-256: the same on every platform and build, so a die's partitions are the same circuits anywhere.
        #expect(PartitionedRun.seed(3, partition: Partitioning.biasPartition) == 64_174_066)
    }

    /// A real held-out clip on which kws-yes-d16's cells switch in the input transients of the first
    /// frames: with the fast mode's reltol (3e-4) in the partitions, cell b1.u12 once crossed its
    /// upper threshold (1.16 nA) in frame 6 where the whole circuit did not, the case that set
    /// `Partitioning.reltol`; with 1e-3 it latches from frame 1 (docs/design/partitioned-simulation.md).
    /// Frame 7 is left out: a block-0 cell is still switching at its end, so the block-1 candidates
    /// there depend on the switching's exact timing.
    static let sensitiveClip = "up/a60a09cf_nohash_1.wav"

    @Test("kws-yes-d16, 7 frames of a sensitive real clip: partitioned reproduces the whole circuit; with reltol 1e-3 in the partitions a cell latches and the guard catches it")
    func guardSensitive() async throws {
        let directory = TestSupport.repository.appendingPathComponent("results/models/kws-yes-d16")
        let model = try Model.load(from: directory)
        let full = try Clip.audioFile(TestSupport.speechCommands.appendingPathComponent(Self.sensitiveClip), model: model)
        let clip = Clip(name: full.name, frames: Array(full.frames.prefix(7)), label: full.label)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-partitioned-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let agreement = try await compare([clip], load: .replica, root: root, model: directory)
        #expect(agreement.stateBitAgreement == 1 && agreement.passed)
        var loose = try verifier(.replica, model: directory)
        loose.commands = ["option reltol=1e-3"]
        let looseFolder = root.appendingPathComponent("loose")
        _ = try await loose.run([clip], writingTo: looseFolder, context: Self.context)
        let caught = try ModeAgreement(reference: root.appendingPathComponent("whole"), candidate: looseFolder)
        print(caught.summary)
        #expect(caught.stateBitAgreement < 1 && !caught.passed)
    }
}
