import Foundation
import Logging
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs simulation jobs in parallel over worker processes, each owning one libngspice instance.
///
/// Processes rather than threads: ngspice keeps its state in globals, can hang inside device code and
/// can take its host down, so each worker is a separate `bmru worker` process. A worker that crashes
/// or exceeds the job timeout is killed and replaced; its job is reported failed (or retried, if
/// `retries` allows), never lost. Outcomes come back in the order of the jobs given, or one at a time
/// as jobs end (`forEachOutcome`). A worker is also replaced, between jobs, after too many failed jobs
/// or when its resident memory grows too large, so that its memory stays bounded over a long run.
public struct WorkerPool: Sendable {
    /// How many workers to start and how to treat failing jobs.
    public struct Configuration: Sendable {
        /// Number of worker processes (default: one per core).
        public var workers: Int
        /// The program that serves jobs (default: `bmru` beside the running executable).
        public var executable: URL
        /// Arguments that make `executable` serve jobs.
        public var arguments: [String]
        /// A job running longer than this is stopped by killing its worker; nil waits forever.
        public var jobTimeout: Duration?
        /// How many times a job whose worker crashed or timed out is started again.
        public var retries: Int
        /// A worker is replaced by a fresh process after this many failed jobs (nil: never). A job that
        /// ends in ngspice's controlled exit (an undefined `.param`, `quit`) leaves its library copy
        /// mapped in the worker for good, about 4.8 MB resident each.
        public var recycleAfterFailures: Int?
        /// A worker whose resident memory after a job exceeds this many bytes is replaced by a fresh
        /// process (nil: never). Far above a healthy worker (about 40 MB serving small decks), it
        /// catches growth the failure count does not.
        public var maxResidentBytes: Int?

        /// Failed jobs after which a worker is replaced by default: at most ~150 MB of leaked copies.
        public static let defaultRecycleAfterFailures = 32
        /// The default resident-memory limit of a worker: 1 GiB.
        public static let defaultMaxResidentBytes = 1 << 30

        /// A configuration with the given settings.
        public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                    executable: URL = WorkerPool.defaultExecutable,
                    arguments: [String] = ["worker"],
                    jobTimeout: Duration? = nil, retries: Int = 0,
                    recycleAfterFailures: Int? = Configuration.defaultRecycleAfterFailures,
                    maxResidentBytes: Int? = Configuration.defaultMaxResidentBytes) {
            self.workers = max(1, workers)
            self.executable = executable
            self.arguments = arguments
            self.jobTimeout = jobTimeout
            self.retries = max(0, retries)
            self.recycleAfterFailures = recycleAfterFailures.map { max(1, $0) }
            self.maxResidentBytes = maxResidentBytes.map { max(0, $0) }
        }

        /// Whether a worker that has failed `failures` jobs and reported `residentBytes` after its
        /// last one is to be replaced before its next job.
        func recycles(failures: Int, residentBytes: Int?) -> Bool {
            if let limit = recycleAfterFailures, failures >= limit { return true }
            if let limit = maxResidentBytes, let resident = residentBytes, resident > limit { return true }
            return false
        }
    }

    /// The `bmru` executable in the folder of the running program (the CLI itself, or the test
    /// bundle that SwiftPM builds beside it).
    public static var defaultExecutable: URL {
        let running = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return running.deletingLastPathComponent().appendingPathComponent("bmru")
    }

    /// The settings of this pool.
    public let configuration: Configuration
    private let logger = Logger(label: "bmrukit.pool")

    /// A pool with the given settings; workers start when `run` is called.
    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Runs every job and hands each outcome to `handle` as soon as its job ends (from any thread, in
    /// the order jobs end), keeping none: a long run's results never have to fit in memory together.
    ///
    /// When `handle` throws (a result that cannot be stored), no further job starts: the jobs already
    /// running end, their outcomes are dropped, and the first error is thrown.
    public func forEachOutcome<Failure: Error>(of jobs: [SimulationJob],
                                               _ handle: @escaping @Sendable (JobOutcome) throws(Failure) -> Void)
        async throws(Failure)
    {
        let firstError = FirstError<Failure>()
        let queue = JobQueue(jobs: jobs) { outcome in
            guard firstError.value == nil else { return false }
            do throws(Failure) { try handle(outcome) } catch {
                firstError.set(error)
                return false
            }
            return true
        }
        await withTaskGroup(of: Void.self) { group in
            for slot in 0..<min(configuration.workers, jobs.count) {
                group.addTask { await serve(slot: slot, queue: queue) }
            }
        }
        if let error = firstError.value { throw error }
    }

    /// Keeps one worker process busy until the queue is empty, replacing it whenever it dies or
    /// `configuration.recycles` says its memory is to be returned.
    private func serve(slot: Int, queue: JobQueue) async {
        while let first = queue.next() {
            var pending: JobQueue.Pending? = first
            var failures = 0
            do {
                let execution = try await Subprocess.run(
                    .path(FilePath(configuration.executable.path)),
                    arguments: Arguments(configuration.arguments),
                    // A crashed worker is replaced at once; symbolicating its backtrace would take seconds.
                    environment: .inherit.updating(["SWIFT_BACKTRACE": "enable=no"]),
                    input: .inputWriter, output: .sequence, error: .discarded
                ) { execution in
                    var lines = LineReader(chunks: execution.standardOutput.makeAsyncIterator())
                    while let job = pending ?? queue.next() {
                        pending = job
                        var line = try JSONEncoder().encode(job.job)
                        line.append(0x0A)
                        _ = try await execution.standardInputWriter.write(Array(line))
                        let timedOut = Flag()
                        let watchdog = configuration.jobTimeout.map { timeout in
                            Task { [execution] in
                                try await Task.sleep(for: timeout)
                                timedOut.set()
                                try? execution.send(signal: .kill)
                            }
                        }
                        let reply = try? await lines.next()
                        watchdog?.cancel()
                        guard let reply else {
                            let failure: JobFailure = timedOut.isSet
                                ? .timedOut(seconds: configuration.jobTimeout?.seconds ?? 0)
                                : .workerCrashed("worker process ended while running the job")
                            queue.failed(job, failure, retries: configuration.retries)
                            pending = nil
                            return
                        }
                        let outcome = queue.finished(job, reply: reply)
                        pending = nil
                        if case .failure = outcome.result { failures += 1 }
                        if configuration.recycles(failures: failures, residentBytes: outcome.residentBytes) {
                            logger.debug("""
                                worker \(slot) recycled after \(failures) failed jobs at \
                                \(outcome.residentBytes ?? 0) resident bytes
                                """)
                            break
                        }
                    }
                    // End of input ends the worker; the loop above starts a new one for the jobs left.
                    try await execution.standardInputWriter.finish()
                }
                if case let .signaled(signal) = execution.terminationStatus {
                    logger.warning("worker \(slot) died with signal \(signal); starting a new one")
                }
            } catch {
                if let job = pending {
                    queue.failed(job, .worker("cannot run \(configuration.executable.path): \(error)"), retries: 0)
                }
            }
        }
    }
}

/// The lines a worker writes to its standard output, read a chunk at a time. A reply is one line of
/// about a megabyte for a keyword-spotting clip; swift-subprocess's `strings()` walks it a character
/// at a time through generic async iterators: 0.54 CPU-s of the pool's process per clip (where, perf
/// showed), 0.016 s with this reader.
private struct LineReader {
    var chunks: SubprocessOutputSequence.Iterator
    private var pending: [UInt8] = []
    /// How much of `pending` is known to hold no newline.
    private var searched = 0

    init(chunks: SubprocessOutputSequence.Iterator) { self.chunks = chunks }

    /// The next line without its newline; nil at the end of the output (a last line without a
    /// newline is a reply cut short by the worker's death, and is dropped).
    mutating func next() async throws -> Data? {
        while true {
            if let newline = pending[searched...].firstIndex(of: 0x0A) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                searched = 0
                return line
            }
            searched = pending.count
            guard let chunk = try await chunks.next() else { return nil }
            chunk.withUnsafeBytes { pending.append(contentsOf: $0) }
        }
    }
}

/// A flag set by one task and read by another.
private final class Flag: Sendable {
    private let value = Atomic(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// The first error a `forEachOutcome` handler threw, from any thread.
private final class FirstError<Failure: Error>: Sendable {
    private let error = Mutex<Failure?>(nil)
    var value: Failure? { error.withLock { $0 } }
    func set(_ failure: Failure) { error.withLock { if $0 == nil { $0 = failure } } }
}

/// The jobs of one pool run: hands them out, takes retries back, and passes on their outcomes.
private final class JobQueue: Sendable {
    struct Pending: Sendable {
        var index: Int
        var job: SimulationJob
        var attempts: Int
    }

    private let waiting: Mutex<[Pending]>
    /// Takes an outcome; false stops the run (no further job starts).
    private let handle: @Sendable (JobOutcome) -> Bool

    init(jobs: [SimulationJob], handle: @escaping @Sendable (JobOutcome) -> Bool) {
        waiting = Mutex(jobs.enumerated().reversed().map { Pending(index: $0.offset, job: $0.element, attempts: 0) })
        self.handle = handle
    }

    /// The next job to start, counting the attempt.
    func next() -> Pending? {
        waiting.withLock { waiting in
            guard var job = waiting.popLast() else { return nil }
            job.attempts += 1
            return job
        }
    }

    /// Passes on the outcome of a job its worker replied to, and returns it.
    func finished(_ job: Pending, reply line: Data) -> JobOutcome {
        let outcome: JobOutcome
        if let reply = try? JSONDecoder().decode(WorkerReply.self, from: line) {
            let result: Result<SimulationResult, JobFailure> =
                reply.result.map { $0.result.map { .success($0) } ?? .failure(.worker("malformed vectors in reply")) }
                ?? .failure(reply.failure ?? .worker("reply without result"))
            outcome = JobOutcome(index: job.index, result: result, warnings: reply.warnings,
                                 seconds: reply.seconds, attempts: job.attempts, residentBytes: reply.residentBytes,
                                 simulator: reply.simulator, statistics: reply.statistics)
        } else {
            outcome = JobOutcome(index: job.index, result: .failure(.worker("unreadable reply")), warnings: [],
                                 seconds: 0, attempts: job.attempts)
        }
        pass(outcome)
        return outcome
    }

    /// A job whose worker died: queued again while attempts remain, else passed on as failed.
    func failed(_ job: Pending, _ failure: JobFailure, retries: Int) {
        let retry = waiting.withLock { waiting in
            guard job.attempts <= retries else { return false }
            waiting.append(job)
            return true
        }
        if !retry {
            pass(JobOutcome(index: job.index, result: .failure(failure), warnings: [], seconds: 0, attempts: job.attempts))
        }
    }

    /// Hands `outcome` on; empties the queue when the handler stops the run.
    private func pass(_ outcome: JobOutcome) {
        if !handle(outcome) { waiting.withLock { $0.removeAll() } }
    }
}
