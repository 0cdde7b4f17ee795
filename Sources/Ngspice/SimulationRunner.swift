import Synchronization

/// Runs simulation jobs and hands back each job's outcome as the job ends.
///
/// `WorkerPool` is the runner of every command: worker processes, each with its own libngspice. The
/// protocol lets a caller such as the verifier take another runner, for instance one that answers
/// from a reference model without a simulator, so that what the caller does with outcomes is
/// testable on its own.
public protocol SimulationRunner: Sendable {
    /// Runs every job and hands each outcome (its `index` is the job's position in `jobs`) to
    /// `handle` as soon as the job ends, from any thread and in the order jobs end.
    ///
    /// When `handle` throws, no further job starts and the first error is thrown once the jobs
    /// already running have ended; their outcomes are dropped.
    func forEachOutcome<Failure: Error>(of jobs: [SimulationJob],
                                        _ handle: @escaping @Sendable (JobOutcome) throws(Failure) -> Void)
        async throws(Failure)
}

extension WorkerPool: SimulationRunner {}

extension SimulationRunner {
    /// Runs every job and returns one outcome per job, in the jobs' order.
    ///
    /// `progress` is called as each job finishes (from any thread).
    public func run(_ jobs: [SimulationJob], progress: (@Sendable (JobOutcome) -> Void)? = nil) async -> [JobOutcome] {
        let outcomes = Outcomes(count: jobs.count)
        await forEachOutcome(of: jobs) { outcome in
            outcomes.set(outcome)
            progress?(outcome)
        }
        return outcomes.values.enumerated().map { index, outcome in
            outcome ?? JobOutcome(index: index, result: .failure(.worker("job was never run")), warnings: [],
                                  seconds: 0, attempts: 0)
        }
    }
}

/// The outcomes of one `run`, filled from the workers' tasks.
private final class Outcomes: Sendable {
    private let slots: Mutex<[JobOutcome?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ outcome: JobOutcome) { slots.withLock { $0[outcome.index] = outcome } }
    var values: [JobOutcome?] { slots.withLock { $0 } }
}

