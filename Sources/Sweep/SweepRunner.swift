import Foundation
import Ngspice
import Verify

/// One finished job of a sweep (`DIR/jobs/<id>.json`), written atomically the moment its simulation
/// ends: a killed run loses only the jobs it was running.
public struct JobResult: Sendable, Equatable, Codable {
    /// Identifies the file.
    public var format = Self.formatName
    /// Job id (see `SweepPlan.jobs`), its variant and its clip's name.
    public var job: Int, variant: Int, clip: String
    /// The job's key (`SweepPlan.PlannedJob.key`), the BMRUKit version and the PDK hash it ran with:
    /// merge refuses a result whose values differ from the plan's.
    public var key: String, bmrukit: String, pdkHash: String
    /// What ran it: `local`, or `slurm <array job>_<task>`.
    public var runner: String
    /// The clip's comparison with the reference (`status` `failed` with the reason when the
    /// simulation failed).
    public var report: ClipReport

    /// The `format` of job files.
    public static let formatName = "bmru-sweep-job"

    enum CodingKeys: String, CodingKey {
        case format, job, variant, clip, key, bmrukit, pdkHash = "pdk_hash", runner, report
    }

    /// The job file of job `id` in the sweep folder `folder`.
    public static func url(job id: Int, in folder: URL) -> URL {
        folder.appendingPathComponent(SweepPlan.jobsFolder).appendingPathComponent(String(format: "%06d.json", id))
    }

    /// Reads a job file; nil when it is absent or unreadable (a job to run again).
    public static func load(_ url: URL) -> JobResult? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(JobResult.self, from: data)
    }
}

/// Runs a planned sweep's jobs on the local worker pool (`bmru sweep run`), skipping finished ones.
public struct SweepRunner: Sendable {
    /// The sweep folder (holding `plan.json`).
    public var folder: URL
    /// Worker processes.
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    /// A clip's simulation is stopped after this many seconds (nil: the sweep's `timeout`, else 1800).
    public var jobTimeout: Double?
    /// Whether jobs whose result is `failed` run again (missing jobs always run).
    public var retryFailed = false
    /// BMRUKit's version; a plan made by another version is refused.
    public var version: String

    /// A runner for the sweep in `folder`.
    public init(folder: URL, version: String) {
        self.folder = folder
        self.version = version
    }

    /// What a run did: jobs run now, of which failed, and jobs already done before.
    public struct Summary: Sendable, Equatable {
        /// Jobs run now, of which failed, and jobs already done before.
        public var ran: Int, failed: Int, skipped: Int
    }

    /// Runs the jobs of `shard` (nil: every shard) that have no result yet (or a failed one, with
    /// `retryFailed`). `progress` gets (jobs done, jobs to do, failed so far) as jobs finish.
    public func run(shard: Int? = nil, progress: (@Sendable (Int, Int, Int) -> Void)? = nil) async throws(SweepError) -> Summary {
        let plan = try SweepPlan.load(from: folder)
        guard plan.bmrukit == version else {
            throw .plan(folder.path, "planned by bmru \(plan.bmrukit), this is \(version): plan again with this build")
        }
        if let shard, !(0..<plan.shards).contains(shard) {
            throw .plan(folder.path, "shard \(shard) does not exist (the plan has shards 0..<\(plan.shards))")
        }
        let selected = plan.jobs.filter { shard == nil || $0.shard == shard }
        let pending = selected.filter { job in
            guard let done = JobResult.load(JobResult.url(job: job.id, in: folder)), done.key == job.key else { return true }
            return retryFailed && done.report.status != "ok"
        }
        let summary = Summary(ran: pending.count, failed: 0, skipped: selected.count - pending.count)
        guard !pending.isEmpty else { return summary }
        let setup = try SweepSetup(plan.definition, relativeTo: folder)
        guard setup.clips.map(\.name) == plan.clips.map(\.name) else {
            throw .plan(folder.path, "the clip selection no longer gives the planned clips (data changed?): plan again")
        }
        guard setup.pdkHash == plan.pdkHash else {
            throw .plan(folder.path, "the PDK's model files differ from the planned ones (hash \(setup.pdkHash.prefix(12)) vs \(plan.pdkHash.prefix(12)))")
        }
        guard setup.modelHash == plan.modelHash else { throw .plan(folder.path, "the model differs from the planned one") }
        let jobTimeout = self.jobTimeout ?? plan.definition.timeout ?? 1800
        let partitioned = plan.definition.mode?.partitionLoad != nil
        var verifiers: [Int: Verifier] = [:]
        // The whole-circuit jobs: their keys check the plan in every mode; partitioned clips build their own.
        var jobs: [SimulationJob] = []
        for planned in pending {
            let variant = plan.variants[planned.variant]
            if verifiers[variant.id] == nil { verifiers[variant.id] = try setup.verifier(for: variant, timeout: jobTimeout) }
            var job: SimulationJob
            do { job = try verifiers[variant.id]!.job(for: setup.clips[planned.clip], seed: planned.seed) } catch {
                throw .setup(error.description)
            }
            job.timeout = jobTimeout
            guard setup.key(job) == planned.key else {
                throw .plan(folder.path, "job \(planned.id) builds a different deck than planned (another bmru build or PDK?): plan again")
            }
            if !partitioned { jobs.append(job) }
        }
        let runner = Self.runnerName()
        let (sweepFolder, setupClips, references, verifiersDone) = (folder, setup.clips, setup.references, verifiers)
        let counter = FailureCounter()
        // Each result is written the moment its job ends; one that cannot be written stops the run.
        let finish = { @Sendable (planned: SweepPlan.PlannedJob, report: ClipReport) throws(SweepError) in
            let result = JobResult(job: planned.id, variant: planned.variant, clip: setupClips[planned.clip].name, key: planned.key,
                                   bmrukit: plan.bmrukit, pdkHash: plan.pdkHash, runner: runner, report: report)
            try AtomicFile.write(try AtomicFile.json(result), to: JobResult.url(job: planned.id, in: sweepFolder))
            let (done, failed) = counter.add(failed: report.status != "ok")
            progress?(done, pending.count, failed)
        }
        if partitioned {
            try await runPartitioned(pending, setup: setup, verifiers: verifiers, jobTimeout: jobTimeout, finish: finish)
        } else {
            let pool = WorkerPool(.init(workers: workers, jobTimeout: .seconds(jobTimeout * 1.1 + 30)))
            try await pool.forEachOutcome(of: jobs) { outcome throws(SweepError) in
                let planned = pending[outcome.index]
                try finish(planned, verifiersDone[planned.variant]!.clipReport(
                    setupClips[planned.clip], reference: references[planned.clip], outcome: outcome))
            }
        }
        return Summary(ran: pending.count, failed: counter.failed, skipped: summary.skipped)
    }

    /// Runs `pending` as partitioned clips (`Verifier.partitionedReport`), `workers` clips at a time,
    /// each on its own share of the workers, as `bmru verify --mode partitioned` does: a stage with
    /// fewer partitions than workers then leaves no core idle. The first error stops the run
    /// (`Lanes.forEach`).
    private func runPartitioned(_ pending: [SweepPlan.PlannedJob], setup: SweepSetup, verifiers: [Int: Verifier],
                                jobTimeout: Double,
                                finish: @escaping @Sendable (SweepPlan.PlannedJob, ClipReport) throws(SweepError) -> Void)
        async throws(SweepError)
    {
        let lanes = Lanes(workers: workers, items: pending.count)
        let pool = WorkerPool(.init(workers: lanes.workersEach, jobTimeout: .seconds(jobTimeout * 1.1 + 30)))
        let (clips, references) = (setup.clips, setup.references)
        try await lanes.forEach(pending) { planned throws(SweepError) in
            let report: ClipReport
            do throws(VerifyError) {
                report = try await verifiers[planned.variant]!.partitionedReport(
                    clips[planned.clip], reference: references[planned.clip], seed: planned.seed, runner: pool)
            } catch { throw .setup(error.description) }
            try finish(planned, report)
        }
    }

    /// `slurm <array job>_<task>` inside a Slurm array task, `slurm <job>` in a plain Slurm job, else `local`.
    static func runnerName(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let array = environment["SLURM_ARRAY_JOB_ID"], let task = environment["SLURM_ARRAY_TASK_ID"] {
            return "slurm \(array)_\(task)"
        }
        if let job = environment["SLURM_JOB_ID"] { return "slurm \(job)" }
        return "local"
    }
}

/// Jobs finished and failed, counted from the pool's threads.
private final class FailureCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0, failures = 0
    func add(failed: Bool) -> (Int, Int) {
        lock.withLock {
            done += 1
            if failed { failures += 1 }
            return (done, failures)
        }
    }
    var failed: Int { lock.withLock { failures } }
}
