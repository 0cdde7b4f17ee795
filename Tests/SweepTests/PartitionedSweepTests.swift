import ClipSources
import Foundation
import Sweep
import Testing
import TestSupport
import Verify

/// Sweeps in `partitioned` mode (`SweepDefinition.mode`): kws-yes-d4 on GF180, calibrated, one golden
/// clip cut to 6 frames, against the whole-circuit fast mode (docs/design/partitioned-simulation.md).
@Suite("Sweeps: partitioned mode", .serialized)
struct PartitionedSweepTests {
    init() {
        // The sweep's setup reads PDK_ROOT from the process environment.
        setenv("PDK_ROOT", TestSupport.environment()["PDK_ROOT"]!, 0)
    }

    /// The sweep of `SweepTests` on one clip of 6 frames in `mode`, with 2 Monte Carlo dies or nominal.
    static func definition(mode: RunMode?, monteCarlo: Bool) -> SweepDefinition {
        var definition = SweepTests.definition
        definition.mode = mode
        definition.clips = ClipSelection(clips: 1, frames: 6)
        definition.axes = monteCarlo ? .init(monteCarlo: .init(samples: 2, seed: 3)) : .init()
        return definition
    }

    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bmru-sweep-partitioned-\(UUID().uuidString)")
    }

    /// Plans `definition` into `folder` (one shard).
    func plan(_ definition: SweepDefinition, _ folder: URL) throws -> SweepPlan {
        let plan = try SweepPlan.make(definition, relativeTo: folder, shards: 1, folder: folder, version: SweepTests.version)
        try plan.write(to: folder)
        return plan
    }

    /// Runs every job of the sweep in `folder` on 2 workers.
    func run(_ folder: URL) async throws -> SweepRunner.Summary {
        var runner = SweepRunner(folder: folder, version: SweepTests.version)
        runner.workers = 2
        return try await runner.run()
    }

    /// Jobs run, failed and skipped.
    func counts(_ summary: SweepRunner.Summary) -> [Int] { [summary.ran, summary.failed, summary.skipped] }

    @Test("A sweep file's mode: fast, transient and partitioned load, as does a file without one; another name, or sampled cells partitioned, is one line naming the file and the field")
    func definitionModes() throws {
        let out = folder()
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let file = out.appendingPathComponent("sweep.json")
        for mode in [nil] + RunMode.allCases {
            try Self.definition(mode: mode, monteCarlo: true).write(to: file)
            #expect(try SweepDefinition.load(from: file).mode == mode)
        }
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(#""mode" : "partitioned""#))
        try Data(text.replacingOccurrences(of: #""partitioned""#, with: #""slow""#).utf8).write(to: file)
        #expect(throws: SweepError.definition(file.path, "field mode: 'slow' is not a mode (transient, fast or partitioned)")) {
            try SweepDefinition.load(from: file)
        }
        var sampled = Self.definition(mode: .partitioned, monteCarlo: true)
        sampled.cells = .sampled
        try sampled.write(to: file)
        #expect(throws: SweepError.definition(file.path, "mode: partitioned cannot run sampled cells (their clock lines are shared by a block)")) {
            try SweepDefinition.load(from: file)
        }
    }

    @Test("A partitioned Monte Carlo sweep, 2 dies: both jobs run, their circuits differ, a rerun skips them, another folder repeats them, the report names the mode")
    func monteCarlo() async throws {
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let plan = try plan(Self.definition(mode: .partitioned, monteCarlo: true), out)
        #expect(plan.jobs.count == 2 && plan.jobs[0].seed != plan.jobs[1].seed)
        let first = try await run(out)
        #expect(counts(first) == [2, 0, 0])
        let dies = try plan.jobs.map { try #require(JobResult.load(JobResult.url(job: $0.id, in: out))).report }
        #expect(dies.allSatisfy { $0.status == "ok" && $0.frames == 6 }, "\(dies.map(\.failure))")
        // Mismatch draws differ between the dies: their currents do.
        #expect(dies[0].candidateDiscrepancy != dies[1].candidateDiscrepancy)
        #expect(dies[0].power?.totalNW != dies[1].power?.totalNW)
        let again = try await run(out)
        #expect(counts(again) == [0, 0, 2])
        // A die repeats bit for bit elsewhere, one job at a time: every partition's seed comes from the plan.
        let elsewhere = folder()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        _ = try self.plan(Self.definition(mode: .partitioned, monteCarlo: true), elsewhere)
        var runner = SweepRunner(folder: elsewhere, version: SweepTests.version)
        runner.workers = 1
        _ = try await runner.run()
        for job in plan.jobs {
            #expect(SweepTests().untimed(JobResult.load(JobResult.url(job: job.id, in: out)))
                == SweepTests().untimed(JobResult.load(JobResult.url(job: job.id, in: elsewhere))), "job \(job.id)")
        }
        let report = try SweepResults(folder: out).report()
        #expect(report.sweep.mode == "partitioned" && report.summary.dies == 2 && report.jobs.failed == 0)
        #expect(report.markdown().contains("| filtered, partitioned, ") && report.html().contains("Simulation mode: partitioned"))
    }

    @Test("Nominal: a partitioned job decides and holds the same state bits as the whole circuit; neither mode's plan takes the other's results")
    func nominalAgreesWithWholeCircuit() async throws {
        let (whole, parts) = (folder(), folder())
        defer { for url in [whole, parts] { try? FileManager.default.removeItem(at: url) } }
        let wholePlan = try plan(Self.definition(mode: nil, monteCarlo: false), whole)
        let partsPlan = try plan(Self.definition(mode: .partitioned, monteCarlo: false), parts)
        #expect(wholePlan.jobs.count == 1 && wholePlan.jobs[0].seed == nil)
        #expect(wholePlan.jobs[0].key != partsPlan.jobs[0].key && !wholePlan.sameJobs(as: partsPlan))
        #expect(try await run(whole).failed == 0)
        // The whole circuit's result in the partitioned folder is not taken for the partitioned job.
        let result = JobResult.url(job: 0, in: whole)
        try FileManager.default.createDirectory(at: JobResult.url(job: 0, in: parts).deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: result, to: JobResult.url(job: 0, in: parts))
        let summary = try await run(parts)
        #expect(counts(summary) == [1, 0, 0])
        let a = try #require(JobResult.load(result)).report, b = try #require(JobResult.load(JobResult.url(job: 0, in: parts))).report
        #expect(a.status == "ok" && b.status == "ok")
        #expect(a.circuitDecision == b.circuitDecision && a.frameDecisionAgreement == b.frameDecisionAgreement)
        #expect(a.frameStateAgreement == b.frameStateAgreement && a.cellStateAgreement == b.cellStateAgreement)
        #expect(a.firstWrongStateBit == b.firstWrongStateBit)
        let (pa, pb) = (try #require(a.power?.totalNW), try #require(b.power?.totalNW))
        #expect(abs(pb - pa) <= 0.01 * pa, "power \(pa) nW whole, \(pb) nW partitioned")
        // A plan whose mode was changed after planning builds other keys: the runner refuses it.
        var edited = partsPlan
        edited.definition.mode = .fast
        try edited.write(to: parts)
        try FileManager.default.removeItem(at: JobResult.url(job: 0, in: parts))
        await #expect(throws: SweepError.plan(parts.path, "job 0 builds a different deck than planned (another bmru build or PDK?): plan again")) {
            try await run(parts)
        }
    }
}
