import Foundation
import Synchronization
import Testing
@testable import Ngspice

@Suite("WorkerPool")
struct WorkerPoolTests {
    /// An RC deck whose time constant depends on `resistance`, so each job's answer is its own.
    func rcJob(resistance: Double) -> SimulationJob {
        SimulationJob(deck: ["rc", "v1 in 0 pwl(0 0 1n 1)", "r1 in out \(resistance)", "c1 out 0 1u",
                             ".tran 10u 3m 0 10u"],
                      vectors: ["v(out)"])
    }

    /// ngspice 39 dereferences a null pointer when a `dc 0 external` source runs: a real crash.
    let crashJob = SimulationJob(deck: ["crash", "vx 1 0 dc 0 external", "r1 1 0 1k", ".tran 1u 10u"])
    /// Ten seconds of a 1 MHz sine at 1 ns steps: far longer than any test waits.
    let hangJob = SimulationJob(deck: ["slow", "v1 1 0 sin(0 1 1meg)", "r1 1 2 1k", "c1 2 0 1n", ".tran 1n 10"])

    /// An undefined parameter: ngspice's controlled exit, which leaves a library copy (~4.8 MB resident)
    /// in the worker for good.
    let controlledExitJob = SimulationJob(deck: ["bad", "v1 1 0 dc 1", "r1 1 0 {rval}", ".op"])

    init() throws {
        let executable = WorkerPool.defaultExecutable
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw PoolTestError.noWorker(executable.path)
        }
    }

    enum PoolTestError: Error { case noWorker(String) }

    @Test("A crashing and a hanging job are reported, and every other job finishes")
    func crashAndHang() async throws {
        let pool = WorkerPool(.init(workers: 2, jobTimeout: .seconds(3)))
        let jobs = [rcJob(resistance: 1000), crashJob, rcJob(resistance: 500), hangJob,
                    rcJob(resistance: 250), rcJob(resistance: 2000)]
        let outcomes = await pool.run(jobs)
        #expect(outcomes.map(\.index) == Array(0..<jobs.count))
        for (index, resistance) in [(0, 1000.0), (2, 500), (4, 250), (5, 2000)] {
            let result = try outcomes[index].result.get()
            let time = try #require(result.vectors["time"])
            let out = try #require(result.vectors["v(out)"])
            let tau = resistance * 1e-6
            let measured = interpolate(time, out, at: tau)
            #expect(abs(measured - (1 - exp(-1))) < 0.01, "job \(index): \(measured)")
        }
        guard case .failure(.workerCrashed) = outcomes[1].result else {
            Issue.record("crash job: \(outcomes[1].result)")
            return
        }
        guard case .failure(.timedOut(seconds: 3)) = outcomes[3].result else {
            Issue.record("hang job: \(outcomes[3].result)")
            return
        }
    }

    @Test("A crashed job is retried when retries allow, then reported with its attempts")
    func retry() async {
        let pool = WorkerPool(.init(workers: 1, retries: 1))
        let outcomes = await pool.run([crashJob, rcJob(resistance: 1000)])
        #expect(outcomes[0].attempts == 2)
        if case .failure(.workerCrashed) = outcomes[0].result {} else { Issue.record("\(outcomes[0].result)") }
        #expect((try? outcomes[1].result.get()) != nil)
    }

    @Test("ngspice errors come back typed, and the worker keeps serving")
    func typedErrors() async {
        let pool = WorkerPool(.init(workers: 1))
        let outcomes = await pool.run([
            SimulationJob(deck: ["bad", "v1 1 0 dc 1", "r1 1 0 {rval}", ".op"]),
            SimulationJob(deck: ["bad", "v1 1 0 dc 1", "x1 1 0 nosuchsub", ".op"]),
            rcJob(resistance: 1000),
        ])
        if case .failure(.simulation(.undefinedParameter)) = outcomes[0].result {} else { Issue.record("\(outcomes[0].result)") }
        if case .failure(.simulation(.unknownModel)) = outcomes[1].result {} else { Issue.record("\(outcomes[1].result)") }
        #expect((try? outcomes[2].result.get()) != nil)
        #expect(outcomes.allSatisfy { $0.attempts == 1 })
    }

    @Test("Re-using a parsed deck with alter gives the same answer as parsing it again")
    func reuse() async throws {
        let deck = ["rc", "v1 in 0 pwl(0 0 1n 1)", "r1 in out 1k", "c1 out 0 1u", ".tran 10u 3m 0 10u"]
        let jobs = [500.0, 1000, 2000].map { resistance in
            SimulationJob(deck: deck, reuseParsedDeck: true, commands: ["alter r1 = \(resistance)"],
                          vectors: ["v(out)"])
        }
        let reused = await WorkerPool(.init(workers: 1)).run(jobs)
        let fresh = await WorkerPool(.init(workers: 1)).run([500.0, 1000, 2000].map(rcJob))
        for (a, b) in zip(reused, fresh) {
            #expect(try a.result.get().vectors["v(out)"] == b.result.get().vectors["v(out)"])
        }
    }

    @Test("Each transient comes back with ngspice's statistics: points, iterations, where the time went")
    func statistics() async throws {
        // 3 ms at a 10 us maximum step: at least 300 accepted points.
        let outcome = try #require(await WorkerPool(.init(workers: 1)).run([rcJob(resistance: 1000)]).first)
        let statistics = try #require(outcome.statistics)
        #expect(statistics.acceptedPoints >= 300 && statistics.iterations >= statistics.acceptedPoints)
        #expect(statistics.analysisSeconds >= statistics.loadSeconds && statistics.loadSeconds >= 0)
        #expect((statistics + statistics).acceptedPoints == 2 * statistics.acceptedPoints)
        #expect(SimulatorStatistics(rusage: ["Total analysis time (seconds) = 0.01"]) == nil)
    }

    /// How many times a worker's resident memory fell from one job to the next: a fresh process.
    func recycles(_ outcomes: [JobOutcome]) -> Int {
        let resident = outcomes.compactMap(\.residentBytes)
        return zip(resident, resident.dropFirst()).filter { $0 > $1 }.count
    }

    /// Checks that every outcome is the undefined parameter's failure, from the job's first attempt.
    func expectControlledExits(_ outcomes: some Collection<JobOutcome>) {
        for outcome in outcomes {
            guard case .failure(.simulation(.undefinedParameter)) = outcome.result, outcome.attempts == 1 else {
                Issue.record("job \(outcome.index): \(outcome.result), \(outcome.attempts) attempts")
                return
            }
        }
    }

    @Test("1,000 decks ending in ngspice's controlled exit: workers are recycled and stay below 300 MB")
    func boundedAfterFailures() async throws {
        // Unbounded, each of the two workers would reach about 2.4 GB (500 x 4.8 MB).
        let jobs = Array(repeating: controlledExitJob, count: 1000) + [rcJob(resistance: 1000)]
        let outcomes = await WorkerPool(.init(workers: 2)).run(jobs)
        expectControlledExits(outcomes.dropLast())
        #expect((try? outcomes[1000].result.get()) != nil, "\(outcomes[1000].result)")
        let peak = try #require(outcomes.compactMap(\.residentBytes).max())
        #expect(peak < 300_000_000, "peak resident \(peak) bytes")
        #expect(recycles(outcomes) >= 1000 / WorkerPool.Configuration.defaultRecycleAfterFailures - 2)
    }

    @Test("A worker above its resident-size limit is replaced before its next job")
    func boundedByResidentSize() async throws {
        let limit = 100_000_000
        let pool = WorkerPool(.init(workers: 1, recycleAfterFailures: nil, maxResidentBytes: limit))
        let outcomes = await pool.run(Array(repeating: controlledExitJob, count: 150))
        expectControlledExits(outcomes)
        // Checked after each job, so a worker ends at most one job's growth above the limit.
        let peak = try #require(outcomes.compactMap(\.residentBytes).max())
        #expect(peak < limit + 20_000_000, "peak resident \(peak) bytes")
        #expect(recycles(outcomes) >= 3)
    }

    @Test("A missing worker executable fails each job with a clear message")
    func missingExecutable() async {
        let pool = WorkerPool(.init(workers: 2, executable: URL(fileURLWithPath: "/nonexistent/bmru")))
        let outcomes = await pool.run([rcJob(resistance: 1000), rcJob(resistance: 500)])
        for outcome in outcomes {
            guard case let .failure(.worker(message)) = outcome.result else {
                Issue.record("\(outcome.result)")
                continue
            }
            #expect(message.contains("/nonexistent/bmru"))
        }
    }

    @Test("A handler that throws stops the run: no further job starts and the error comes back")
    func handlerThrows() async throws {
        struct Full: Error, Equatable {}
        let pool = WorkerPool(.init(workers: 1))
        let handled = Mutex(0)
        await #expect(throws: Full()) {
            try await pool.forEachOutcome(of: (1...8).map { rcJob(resistance: 100 * Double($0)) }) { _ throws(Full) in
                handled.withLock { $0 += 1 }
                throw Full()
            }
        }
        #expect(handled.withLock { $0 } == 1)
    }
}
