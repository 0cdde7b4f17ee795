import BMRU
import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A sweep as Slurm job arrays (docs/cluster.md): one array task per shard, each running
/// `bmru sweep run DIR --shard $SLURM_ARRAY_TASK_ID`, and a merge job that waits for the array.
///
/// Slurm does the distribution; BMRUKit only writes the scripts, calls `sbatch` and reads the
/// results that the tasks leave in the shared sweep folder.
public struct SlurmArray: Sendable {
    /// The sweep folder, as every node sees it (a shared file system).
    public var folder: URL
    /// The `bmru` executable every node runs.
    public var executable: URL
    /// CPUs (worker processes) per array task.
    public var cpusPerTask = 1
    /// Memory per array task, megabytes.
    public var memoryMB = 2048
    /// Estimated simulation seconds per job, for the time limit (`timeLimit`).
    public var secondsPerJob = 10.0

    /// An array for the sweep in `folder` run by `executable`.
    public init(folder: URL, executable: URL) {
        self.folder = folder.standardizedFileURL
        self.executable = executable
    }

    /// Names of the scripts inside `DIR/slurm/`.
    public static let arrayScript = "array.sh", mergeScript = "merge.sh", logsFolder = "logs"

    /// The time limit of one array task for `jobs` jobs: twice the estimate spread over its CPUs, plus
    /// ten minutes for start-up, as Slurm's `[D-]HH:MM:SS`.
    public func timeLimit(jobs: Int) -> String {
        let seconds = Int((Double(jobs) * secondsPerJob * 2 / Double(cpusPerTask)).rounded(.up)) + 600
        let (days, rest) = (seconds / 86_400, seconds % 86_400)
        let clock = String(format: "%02d:%02d:%02d", rest / 3600, rest % 3600 / 60, rest % 60)
        return days > 0 ? "\(days)-\(clock)" : clock
    }

    /// Writes `DIR/slurm/array.sh` (one task per shard of `plan`) and `DIR/slurm/merge.sh`.
    public func writeScripts(for plan: SweepPlan) throws(SweepError) {
        let slurm = folder.appendingPathComponent(SweepPlan.slurmFolder)
        let logs = slurm.appendingPathComponent(Self.logsFolder)
        let perShard = (plan.jobs.count + plan.shards - 1) / plan.shards
        let array = """
            #!/bin/bash
            # One task per shard of the sweep in \(folder.path): runs the shard's jobs that have no result yet.
            # Arguments after the script name are passed to 'bmru sweep run' (e.g. --retry-failed).
            #SBATCH --job-name=bmru-sweep
            #SBATCH --array=0-\(plan.shards - 1)
            #SBATCH --cpus-per-task=\(cpusPerTask)
            #SBATCH --mem=\(memoryMB)M
            #SBATCH --time=\(timeLimit(jobs: perShard))
            #SBATCH --output=\(logs.path)/%A_%a.out
            set -euo pipefail
            exec \(quoted(executable.path)) sweep run \(quoted(folder.path)) --shard "$SLURM_ARRAY_TASK_ID" --jobs "${SLURM_CPUS_PER_TASK:-1}" "$@"

            """
        let merge = """
            #!/bin/bash
            # Merges the sweep in \(folder.path) once its array has ended (exit 2 while jobs are missing).
            #SBATCH --job-name=bmru-sweep-merge
            #SBATCH --cpus-per-task=1
            #SBATCH --mem=\(memoryMB)M
            #SBATCH --time=00:30:00
            #SBATCH --output=\(logs.path)/merge-%j.out
            set -euo pipefail
            exec \(quoted(executable.path)) sweep merge \(quoted(folder.path))

            """
        do { try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true) } catch {
            throw .file(logs.path, fileErrorReason(error))
        }
        for (name, text) in [(Self.arrayScript, array), (Self.mergeScript, merge)] {
            let url = slurm.appendingPathComponent(name)
            try AtomicFile.write(Data(text.utf8), to: url)
            chmod(url.path, 0o755)
        }
    }

    /// Options of a submission.
    public struct Submission: Sendable {
        /// `--partition`, `--account`, `--time` (overrides the script's estimate), verbatim extra `sbatch` arguments.
        public var partition: String?, account: String?, time: String?, extra: [String] = []
        /// The shards to run (nil: all); the missing-and-failed resubmission passes those of `SweepResults.shardsToRerun`.
        public var shards: [Int]?
        /// Whether the tasks run failed jobs again.
        public var retryFailed = false

        /// A submission of every shard with Slurm's defaults.
        public init() {}
    }

    /// The ids Slurm gave the array and the merge job.
    public struct Submitted: Sendable, Equatable {
        /// The array job's id and the merge job's id.
        public var array: String, merge: String
    }

    /// Submits the array and, depending on it, the merge job, through `sbatch`.
    public func submit(_ submission: Submission) async throws(SweepError) -> Submitted {
        var common: [String] = ["--parsable"]
        if let partition = submission.partition { common += ["--partition", partition] }
        if let account = submission.account { common += ["--account", account] }
        var arrayArguments = common + submission.extra
        if let time = submission.time { arrayArguments += ["--time", time] }
        if let shards = submission.shards {
            guard !shards.isEmpty else { throw .slurm("no shard to submit") }
            arrayArguments += ["--array", shards.map(String.init).joined(separator: ",")]
        }
        let slurm = folder.appendingPathComponent(SweepPlan.slurmFolder)
        arrayArguments.append(slurm.appendingPathComponent(Self.arrayScript).path)
        if submission.retryFailed { arrayArguments.append("--retry-failed") }
        let array = try await Self.sbatch(arrayArguments)
        let merge = try await Self.sbatch(common + ["--dependency", "afterany:\(array)",
                                                    slurm.appendingPathComponent(Self.mergeScript).path])
        return Submitted(array: array, merge: merge)
    }

    /// Runs `sbatch` with `arguments` and returns the job id it prints with `--parsable`.
    static func sbatch(_ arguments: [String]) async throws(SweepError) -> String {
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            result = try await Subprocess.run(.name("sbatch"), arguments: Arguments(arguments),
                                              output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
        } catch {
            throw .slurm("cannot run sbatch (is Slurm installed and on PATH?): \(error)")
        }
        let output = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard case .exited(0) = result.terminationStatus, let id = output.split(separator: ";").first, !id.isEmpty else {
            let reason = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw .slurm("sbatch refused the job: \(reason.isEmpty ? "exit \(result.terminationStatus)" : reason)")
        }
        return String(id)
    }

    private func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
