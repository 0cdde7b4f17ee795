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
