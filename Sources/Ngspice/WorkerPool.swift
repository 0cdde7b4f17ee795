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
/// `retries` allows), never lost. Outcomes come back in the order of the jobs given.
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

        /// A configuration with the given settings.
        public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                    executable: URL = WorkerPool.defaultExecutable,
                    arguments: [String] = ["worker"],
                    jobTimeout: Duration? = nil, retries: Int = 0) {
            self.workers = max(1, workers)
            self.executable = executable
            self.arguments = arguments
            self.jobTimeout = jobTimeout
            self.retries = max(0, retries)
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

    /// Runs every job and returns one outcome per job, in the jobs' order.
    ///
    /// `progress` is called as each job finishes (from any thread).
    public func run(_ jobs: [SimulationJob], progress: (@Sendable (JobOutcome) -> Void)? = nil) async -> [JobOutcome] {
        let queue = JobQueue(jobs: jobs, progress: progress)
        await withTaskGroup(of: Void.self) { group in
            for slot in 0..<min(configuration.workers, jobs.count) {
                group.addTask { await serve(slot: slot, queue: queue) }
            }
        }
        return queue.outcomes()
    }

    /// Keeps one worker process busy until the queue is empty, replacing it whenever it dies.
    private func serve(slot: Int, queue: JobQueue) async {
        while let first = queue.next() {
            var pending: JobQueue.Pending? = first
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
                        queue.finished(job, reply: reply)
                        pending = nil
                    }
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

/// The jobs of one pool run: hands them out, takes retries back, and keeps their outcomes.
private final class JobQueue: Sendable {
    struct Pending: Sendable {
        var index: Int
        var job: SimulationJob
        var attempts: Int
    }

    private struct State {
        var waiting: [Pending]
        var outcomes: [JobOutcome?]
    }

    private let state: Mutex<State>
    private let progress: (@Sendable (JobOutcome) -> Void)?

    init(jobs: [SimulationJob], progress: (@Sendable (JobOutcome) -> Void)?) {
        let waiting = jobs.enumerated().reversed().map { Pending(index: $0.offset, job: $0.element, attempts: 0) }
        state = Mutex(State(waiting: waiting, outcomes: Array(repeating: nil, count: jobs.count)))
        self.progress = progress
    }

    /// The next job to start, counting the attempt.
    func next() -> Pending? {
        state.withLock { state in
            guard var job = state.waiting.popLast() else { return nil }
            job.attempts += 1
            return job
        }
    }

    func finished(_ job: Pending, reply line: Data) {
        let outcome: JobOutcome
        if let reply = try? JSONDecoder().decode(WorkerReply.self, from: line) {
            let result: Result<SimulationResult, JobFailure> =
                reply.result.map { $0.result.map { .success($0) } ?? .failure(.worker("malformed vectors in reply")) }
                ?? .failure(reply.failure ?? .worker("reply without result"))
            outcome = JobOutcome(index: job.index, result: result, warnings: reply.warnings,
                                 seconds: reply.seconds, attempts: job.attempts, residentBytes: reply.residentBytes)
        } else {
            outcome = JobOutcome(index: job.index, result: .failure(.worker("unreadable reply")), warnings: [],
                                 seconds: 0, attempts: job.attempts)
        }
        record(outcome)
    }

    /// A job whose worker died: queued again while attempts remain, else recorded as failed.
    func failed(_ job: Pending, _ failure: JobFailure, retries: Int) {
        let retry = state.withLock { state in
            guard job.attempts <= retries else { return false }
            state.waiting.append(job)
            return true
        }
        if !retry {
            record(JobOutcome(index: job.index, result: .failure(failure), warnings: [], seconds: 0,
                              attempts: job.attempts))
        }
    }

    private func record(_ outcome: JobOutcome) {
        state.withLock { $0.outcomes[outcome.index] = outcome }
        progress?(outcome)
    }

    func outcomes() -> [JobOutcome] {
        state.withLock { state in
            state.outcomes.enumerated().map { index, outcome in
                outcome ?? JobOutcome(index: index, result: .failure(.worker("job was never run")), warnings: [],
                                      seconds: 0, attempts: 0)
            }
        }
    }
}
