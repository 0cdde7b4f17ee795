import ClipSources
import Foundation
import Netlist
import Sweep
import Testing
import TestSupport
import Verify

/// Sweeps of kws-yes-d4 on GF180, calibrated, 2 Monte Carlo dies x 2 golden clips x 5 frames.
@Suite("Sweeps: deterministic jobs, resume, merge")
struct SweepTests {
    static let version = "test"

    init() {
        // The sweep's setup reads PDK_ROOT from the process environment.
        setenv("PDK_ROOT", TestSupport.environment()["PDK_ROOT"]!, 0)
    }

    static var definition: SweepDefinition {
        let results = TestSupport.repository.appendingPathComponent("results")
        return SweepDefinition(model: results.appendingPathComponent("models/kws-yes-d4").path, pdk: "gf180mcu",
                               characterization: results.appendingPathComponent("characterization/gf180mcu").path,
                               clips: ClipSelection(clips: 2, frames: 5),
                               axes: .init(monteCarlo: .init(samples: 2, seed: 3)))
    }

    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bmru-sweep-\(UUID().uuidString)")
    }

    /// Plans the test sweep into `folder` with `shards` shards.
    func plan(_ folder: URL, shards: Int) throws -> SweepPlan {
        let plan = try SweepPlan.make(Self.definition, relativeTo: folder, shards: shards, folder: folder, version: Self.version)
        try plan.write(to: folder)
        return plan
    }

    /// The report without the part that records how it was run.
    func comparable(_ report: SweepReport) -> SweepReport {
        var report = report
        (report.execution.runners, report.execution.slurmJobs) = ([:], [])
        (report.execution.coreSeconds, report.execution.secondsPerJob) = (0, nil)
        return report
    }

    /// A job result without its timing (the simulator's seconds too; its points and iterations stay).
    func untimed(_ result: JobResult?) -> JobResult? {
        guard var result else { return nil }
        (result.report.seconds, result.report.attempts) = (0, 0)
        if var statistics = result.report.statistics {
            (statistics.analysisSeconds, statistics.loadSeconds, statistics.factorSeconds, statistics.solveSeconds) = (0, 0, 0, 0)
            result.report.statistics = statistics
        }
        return result
    }

    @Test("Jobs are deterministic: two plans agree, and shards run in another order elsewhere give the same results and report")
    func deterministic() async throws {
        let (a, b) = (folder(), folder())
        defer { for f in [a, b] { try? FileManager.default.removeItem(at: f) } }
        let planA = try plan(a, shards: 2), planB = try plan(b, shards: 2)
        #expect(planA.jobs.map(\.key) == planB.jobs.map(\.key) && planA.variants == planB.variants)
        #expect(planA.jobs.count == 4 && Set(planA.jobs.map(\.key)).count == 4)
        // Shards are blocks of consecutive jobs: a die's clips stay together.
        #expect(planA.jobs.map(\.shard) == [0, 0, 1, 1] && planA.resharded(4).jobs.map(\.shard) == [0, 1, 2, 3])
        // A die is one circuit for every clip: the seed depends on the sample alone.
        #expect(planA.jobs[0].seed == planA.jobs[1].seed && planA.jobs[0].seed != planA.jobs[2].seed)
        var runner = SweepRunner(folder: a, version: Self.version)
        runner.workers = 2
        _ = try await runner.run()
        runner.folder = b
        runner.workers = 1
        _ = try await runner.run(shard: 1)
        _ = try await runner.run(shard: 0)
        for job in planA.jobs {
            #expect(untimed(JobResult.load(JobResult.url(job: job.id, in: a)))
                == untimed(JobResult.load(JobResult.url(job: job.id, in: b))), "job \(job.id)")
        }
        let reportA = try SweepResults(folder: a).report(), reportB = try SweepResults(folder: b).report()
        #expect(comparable(reportA) == comparable(reportB))
        let counts: [Int] = [reportA.jobs.planned, reportA.jobs.done, reportA.jobs.failed, reportA.jobs.missing]
        #expect(counts == [4, 4, 0, 0])
        #expect(reportA.summary.dies == 2 && reportA.conditions.count == 1)
        // Mismatch changes the circuit: the dies' state currents differ from each other.
        let first = try #require(JobResult.load(JobResult.url(job: 0, in: a))), other = try #require(JobResult.load(JobResult.url(job: 2, in: a)))
        #expect(first.report.stateDiscrepancy != other.report.stateDiscrepancy)
        try reportA.write(to: a)
        let html = try String(contentsOf: a.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg") && !html.contains("src=") && !html.contains("<script"))
    }

    @Test("An interrupted sweep resumes with only its missing jobs; merge refuses missing jobs unless partial")
    func resume() async throws {
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try plan(out, shards: 2)
        var runner = SweepRunner(folder: out, version: Self.version)
        runner.workers = 2
        let first = try await runner.run(shard: 0)
        let firstCounts: [Int] = [first.ran, first.failed, first.skipped]
        #expect(firstCounts == [2, 0, 0])
        let results = try SweepResults(folder: out)
        #expect(results.status().map(\.missing) == [0, 2])
        #expect(results.shardsToRerun() == [1])
        #expect(throws: SweepError.self) { try results.report() }
        let partial = try results.report(partial: true)
        #expect(partial.jobs.missing == 2 && partial.jobs.done == 2)
        let rest = try await runner.run()
        let restCounts: [Int] = [rest.ran, rest.failed, rest.skipped]
        #expect(restCounts == [2, 0, 2])
        let again = try await runner.run()
        let againCounts: [Int] = [again.ran, again.failed, again.skipped]
        #expect(againCounts == [0, 0, 4])
        #expect(try SweepResults(folder: out).report().jobs.missing == 0)
    }

    @Test("Merge refuses a result made from another deck or by another bmru version")
    func refusesForeignResults() async throws {
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        _ = try plan(out, shards: 1)
        var runner = SweepRunner(folder: out, version: Self.version)
        runner.workers = 2
        _ = try await runner.run()
        let file = JobResult.url(job: 1, in: out)
        let original = try Data(contentsOf: file)
        var result = try #require(JobResult.load(file))
        result.key = String(repeating: "0", count: 64)
        let encoder = JSONEncoder()
        try encoder.encode(result).write(to: file)
        #expect {
            try SweepResults(folder: out).report()
        } throws: { error in
            guard case let .merge(reason)? = error as? SweepError else { return false }
            return reason.contains("job 1 simulated a different deck")
        }
        // status counts it as missing, so that a resubmission runs it again.
        #expect(try SweepResults(folder: out).status()[0].missing == 1)
        result = try JSONDecoder().decode(JobResult.self, from: original)
        result.bmrukit = "0.0.1"
        try encoder.encode(result).write(to: file)
        #expect {
            try SweepResults(folder: out).report()
        } throws: { error in
            guard case let .merge(reason)? = error as? SweepError else { return false }
            return reason.contains("bmru 0.0.1")
        }
        // A plan made by another version is not run.
        let other = SweepRunner(folder: out, version: "other")
        await #expect(throws: SweepError.self) { try await other.run() }
    }

    @Test("A sweep file with a bad field is one line naming the file and the field")
    func badDefinition() throws {
        let out = folder()
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: out) }
        let file = out.appendingPathComponent("sweep.json")
        var definition = Self.definition
        definition.axes.supplyScales = [0.9, 3]
        try definition.write(to: file)
        #expect(throws: SweepError.definition(file.path, "axes.supply_scales: 3.0 is outside 0.5...1.5")) {
            try SweepDefinition.load(from: file)
        }
        try Data(#"{"format": "bmru-sweep", "format_version": 1, "model": "m", "pdk": "p", "clips": {}}"#.utf8).write(to: file)
        #expect(throws: SweepError.definition(file.path, "field axes: missing")) { try SweepDefinition.load(from: file) }
        // A characterization of another PDK than the sweep's calibration point cannot size its decks.
        definition = Self.definition
        definition.pdk = "generic180"
        let tables = URL(fileURLWithPath: try #require(definition.characterization)).appendingPathComponent("characterization.json")
        #expect(throws: SweepError.setup("\(tables.path): measured on PDK gf180mcu, the deck is for generic180")) {
            try SweepPlan.make(definition, relativeTo: out, shards: 1, folder: out, version: Self.version)
        }
    }
}
