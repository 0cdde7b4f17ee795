import ArgumentParser
import BMRU
import Characterize
import Foundation
import Netlist
import Ngspice
import PDK
import Sweep
import Verify

/// `bmru sweep`: robustness sweeps (Monte Carlo mismatch, PVT corners, noise) locally or as Slurm
/// job arrays, and the software parameter-noise study.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Robustness sweeps: Monte Carlo mismatch, PVT corners and noise, with a yield report; locally or on Slurm.",
        discussion: """
            A sweep file (docs/robustness.md) names a model, PDK, characterization, clips and axes; jobs are \
            variants x clips. 'bmru sweep SWEEP.json --out DIR' plans, runs every job on the local worker pool \
            and merges; the same command into the same DIR resumes. On a cluster: plan, submit, status, merge \
            (docs/cluster.md).
            """,
        subcommands: [SweepLocalCommand.self, SweepPlanCommand.self, SweepRunCommand.self, SweepStatusCommand.self,
                      SweepMergeCommand.self, SweepSubmitCommand.self, SweepSoftwareCommand.self],
        defaultSubcommand: SweepLocalCommand.self
    )
}

/// A sweep built from flags for the common cases, when no sweep file is given.
struct SweepBuilderOptions: ParsableArguments {
    @Option(help: "Without a sweep file: the model folder.", completion: .directory)
    var model: String?

    @Option(help: "Without a sweep file: PDK name or pdk.json.")
    var pdk: String?

    @Option(help: "Without a sweep file: characterization folder (default: the stored tables matching the PDK's default corner and the model's unit current, measured and cached when there are none).", completion: .directory)
    var characterization: String?

    @Flag(help: "Without a sweep file: nominal, uncalibrated decks (no characterization).")
    var nominal = false

    @Flag(help: "Without a sweep file: every bias from its own ideal source (default: mirror outputs of one reference).")
    var idealBiases = false

    @Option(help: "Without a sweep file: how each job is simulated, as verify's --mode: 'fast' (the default), 'transient' or 'partitioned' (the network cut at its gate lines, stage by stage; docs/design/partitioned-simulation.md).")
    var mode: RunMode?

    @OptionGroup(title: "Clips (without a sweep file)") var clipOptions: ClipOptions

    @Option(parsing: .unconditional, help: "Without a sweep file: N Monte Carlo mismatch samples (dies).")
    var monteCarlo: Int?

    @Option(parsing: .unconditional, help: "Base seed of the Monte Carlo samples.")
    var seed: Int = 1

    @Flag(help: "Without a sweep file: the 45 PVT variants (corners typical/ff/ss/fs/sf x supply 0.9/1/1.1 x -40/27/85 C).")
    var pvt = false

    @Option(parsing: .upToNextOption, help: "Without a sweep file: shot-noise scales, e.g. --noise 0 1 3 10.")
    var noise: [Double] = []

    /// Whether an axis flag is given (the flags then describe a sweep).
    var hasAxes: Bool { monteCarlo != nil || pvt || !noise.isEmpty }

    /// The sweep these flags describe, or nil when none of the axis flags is given. Its decks are
    /// calibrated unless `--nominal`: without `--characterization`, from the stored tables of the
    /// calibration point (`CharacterizationStore`), which the sweep file then names.
    func definition() async throws -> SweepDefinition? {
        guard hasAxes else {
            if model != nil || pdk != nil { throw ValidationError("give an axis: --monte-carlo N, --pvt or --noise") }
            return nil
        }
        guard let model, let pdk else { throw ValidationError("without a sweep file, --model and --pdk are required") }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        func absolute(_ path: String) -> String { URL(fileURLWithPath: path, relativeTo: cwd).standardizedFileURL.path }
        var axes = SweepDefinition.Axes()
        if let monteCarlo { axes.monteCarlo = .init(samples: monteCarlo, seed: seed) }
        if pvt {
            axes.corners = ["typical", "ff", "ss", "fs", "sf"]
            axes.supplyScales = [0.9, 1, 1.1]
            axes.temperatures = [-40, 27, 85]
        }
        if !noise.isEmpty { axes.noise = noise }
        var clips = clipOptions.selection
        (clips.data, clips.inputs) = (clips.data.map(absolute), clips.inputs.map(absolute))
        if nominal, characterization != nil { throw ValidationError("--nominal and --characterization do not go together") }
        var tables = characterization.map(absolute)
        if tables == nil, !nominal {
            let catalog = try PDKCatalog.locate(), device = try catalog.pdk(pdk)
            let iu = try Model.load(from: URL(fileURLWithPath: absolute(model))).config.unitCurrent
            let (_, folder) = try await CharacterizationStore.standard(catalog: catalog).tables(
                for: device, corner: device.descriptor.defaultCorner, unitCurrent: iu, cellSize: .unit,
                pool: WorkerPool(.init(workers: ProcessInfo.processInfo.activeProcessorCount))) { folder in
                Console.shared.error("no characterization of \(device.name) at \(iu) A is stored: measuring it (about 20 s) into \(folder.path)")
            }
            tables = folder.path
        }
        var definition = SweepDefinition(model: absolute(model), pdk: pdk, characterization: tables, mode: mode,
                                         mirroredBiases: !idealBiases, clips: clips, axes: axes)
        if definition.pdkIsPath { definition.pdk = absolute(pdk) }
        return definition
    }
}

/// Runs a sweep's error as the CLI reports it: a merge refusal exits 2, anything else 1.
func sweepFailure(_ error: SweepError) -> Error {
    if case .merge = error {
        Console.shared.error("Error: \(error.description)")
        return ExitCode(2)
    }
    return ValidationFailure(error.description)
}

/// Prints the merged report's headline.
func printSummary(_ report: SweepReport, folder: String) {
    let s = report.summary
    print("\(report.jobs.planned) jobs (\(report.jobs.failed) failed, \(report.jobs.missing) missing), \(s.dies) dies: "
        + "clip agreement \(formatPercent(s.clipAgreement)), state bits \(formatPercent(s.stateBitAgreement)), "
        + "yield \(formatPercent(s.yield99)) (>= 99 %) / \(formatPercent(s.yield100)) (100 %)"
        + (s.worstCondition.map { ", worst: \($0)" } ?? "") + " -> \(folder)/report.md")
}

/// `bmru sweep [SWEEP.json] --out DIR`: plan, run every job locally, merge.
struct SweepLocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Plan, run every job on the local worker pool and merge (the default subcommand); resumable.",
        discussion: """
            Example: bmru sweep results/sweeps/kws-yes-d4-gf180-mc/sweep.json --out results/sweeps/kws-yes-d4-gf180-mc
            Example: bmru sweep --model results/models/kws-yes-d4 --pdk gf180mcu --characterization \
            results/characterization/gf180mcu --data ../shared/data/speech_commands_v0.02_test --clips 11 \
            --monte-carlo 200 --out out/mc
            """
    )

    @Argument(help: "The sweep file (docs/robustness.md); omit it to build one from the flags below.", completion: .file())
    var sweep: String?

    @OptionGroup(title: "A sweep from flags") var builder: SweepBuilderOptions

    @Option(name: [.customLong("out"), .customLong("report")],
            help: "The sweep folder: plan, job results, report (--report: the deprecated spelling of --out).",
            completion: .directory)
    var out: String

    @Option(parsing: .unconditional, help: "Worker processes (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .unconditional, help: "Stop a clip's simulation after this many seconds (default: the sweep's timeout_s, else 1800).")
    var timeout: Double?

    @Flag(help: "Replace a different sweep already planned in the folder (its results are deleted).")
    var force = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1") }
        if let timeout, !(timeout.isFinite && timeout > 0) {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
    }

    func run() async throws {
        let folder = URL(fileURLWithPath: out)
        let (definition, base) = try await loadDefinition(file: sweep, builder: builder)
        do {
            let plan = try await planFolder(definition, base: base, folder: folder, shards: 1, force: force)
            var runner = SweepRunner(folder: folder, version: BMRUKitVersion.string)
            runner.workers = jobs
            runner.jobTimeout = timeout
            let progress = ProgressLine("sweep", unit: "jobs")
            let summary = try await runner.run { done, total, failed in progress.update(done: done, total: total, failed: failed) }
            if summary.skipped > 0 { Console.shared.error("sweep: \(summary.skipped) of \(plan.jobs.count) jobs already done") }
            let merged = try SweepResults(folder: folder).report()
            try merged.write(to: folder)
            printSummary(merged, folder: out)
        } catch {
            throw sweepFailure(error)
        }
    }
}

/// The definition from a file (paths relative to it) or from flags (absolute paths), with the
/// folder its paths are relative to.
func loadDefinition(file: String?, builder: SweepBuilderOptions) async throws -> (SweepDefinition, URL) {
    if let file {
        guard !builder.hasAxes, builder.model == nil, builder.pdk == nil else { throw ValidationError("give a sweep file or axis flags, not both") }
        guard builder.mode == nil else { throw ValidationError("--mode builds a sweep from flags: with a sweep file, set its 'mode' field") }
        let url = URL(fileURLWithPath: file)
        do { return (try SweepDefinition.load(from: url), url.deletingLastPathComponent()) } catch {
            throw ValidationFailure(error.description)
        }
    }
    guard let definition = try await builder.definition() else {
        throw ValidationError("give a sweep file, or --model, --pdk and an axis (--monte-carlo N, --pvt, --noise)")
    }
    do { try definition.validate() } catch { throw ValidationError(error.description) }
    return (definition, URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
}

/// Plans `definition` into `folder`, keeping an existing plan (and its results) when it runs the
/// same jobs; a different one is refused unless `force`.
func planFolder(_ definition: SweepDefinition, base: URL, folder: URL, shards: Int, force: Bool) async throws(SweepError) -> SweepPlan {
    let plan = try SweepPlan.make(definition, relativeTo: base, shards: shards, folder: folder, version: BMRUKitVersion.string)
    if let existing = try? SweepPlan.load(from: folder) {
        if existing.sameJobs(as: plan) {
            let kept = existing.resharded(shards)
            if kept != existing { try kept.write(to: folder) }
            return kept
        }
        guard force else {
            throw .plan(folder.path, "holds a different sweep (other jobs, clips or bmru version); use another folder or --force")
        }
        try? FileManager.default.removeItem(at: folder.appendingPathComponent(SweepPlan.jobsFolder))
    }
    try plan.write(to: folder)
    try plan.definition.write(to: folder.appendingPathComponent(SweepDefinition.fileName))
    return plan
}

/// `bmru sweep plan SWEEP.json --out DIR [--shards N]`.
struct SweepPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a sweep into a folder: plan.json (every job, its shard and key) and the Slurm scripts.",
        discussion: "Example: bmru sweep plan sweep.json --out /shared/sweeps/mc --shards 50"
    )

    @Argument(help: "The sweep file.", completion: .file())
    var sweep: String?

    @OptionGroup(title: "A sweep from flags") var builder: SweepBuilderOptions

    @Option(help: "The sweep folder (on a file system every node shares).", completion: .directory)
    var out: String

    @Option(parsing: .unconditional, help: "Number of shards (Slurm array tasks).")
    var shards: Int = 1

    @Option(parsing: .unconditional, help: "CPUs (worker processes) per array task.")
    var cpusPerTask: Int = 1

    @Option(parsing: .unconditional, help: "Memory per array task, megabytes.")
    var memory: Int = 2048

    @Option(parsing: .unconditional, help: "Estimated simulation seconds per job, for the tasks' time limit (kws-yes-d4, fast mode: about 8).")
    var secondsPerJob: Double = 10

    @Flag(help: "Replace a different sweep already planned in the folder (its results are deleted).")
    var force = false

    func validate() throws {
        guard shards >= 1 else { throw ValidationError("--shards must be >= 1") }
        guard cpusPerTask >= 1 else { throw ValidationError("--cpus-per-task must be >= 1") }
        guard memory >= 64 else { throw ValidationError("--memory must be >= 64 (megabytes)") }
        guard secondsPerJob.isFinite, secondsPerJob > 0 else { throw ValidationError("--seconds-per-job must be > 0") }
    }

    func run() async throws {
        let (definition, base) = try await loadDefinition(file: sweep, builder: builder)
        let folder = URL(fileURLWithPath: out)
        do {
            let plan = try await planFolder(definition, base: base, folder: folder, shards: shards, force: force)
            var array = SlurmArray(folder: folder, executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
            (array.cpusPerTask, array.memoryMB, array.secondsPerJob) = (cpusPerTask, memory, secondsPerJob)
            try array.writeScripts(for: plan)
            print("\(plan.jobs.count) jobs (\(plan.clips.count) clips x \(plan.variants.count) variants) in \(plan.shards) shards "
                + "-> \(out)/plan.json, \(out)/slurm/array.sh")
        } catch {
            throw sweepFailure(error)
        }
    }
}

/// `bmru sweep run DIR [--shard I]`.
struct SweepRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a planned sweep's jobs (one shard, or all) on the local worker pool; finished jobs are skipped.",
        discussion: "Example: bmru sweep run /shared/sweeps/mc --shard $SLURM_ARRAY_TASK_ID --jobs 1"
    )

    @Argument(help: "The sweep folder.", completion: .directory)
    var folder: String

    @Option(parsing: .unconditional, help: "The shard to run (default: every job).")
    var shard: Int?

    @Option(parsing: .unconditional, help: "Worker processes (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .unconditional, help: "Stop a clip's simulation after this many seconds (default: the sweep's timeout_s, else 1800).")
    var timeout: Double?

    @Flag(help: "Run jobs whose simulation failed again.")
    var retryFailed = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1") }
        if let shard, shard < 0 { throw ValidationError("--shard must be >= 0") }
        if let timeout, !(timeout.isFinite && timeout > 0) {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
    }

    func run() async throws {
        var runner = SweepRunner(folder: URL(fileURLWithPath: folder), version: BMRUKitVersion.string)
        runner.workers = jobs
        runner.jobTimeout = timeout
        runner.retryFailed = retryFailed
        let progress = ProgressLine(shard.map { "shard \($0)" } ?? "sweep", unit: "jobs")
        do {
            let summary = try await runner.run(shard: shard) { done, total, failed in
                progress.update(done: done, total: total, failed: failed)
            }
            print("\(summary.ran) jobs run (\(summary.failed) failed), \(summary.skipped) already done")
        } catch {
            throw sweepFailure(error)
        }
    }
}

/// `bmru sweep status DIR`.
struct SweepStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Done, failed and missing jobs per shard, and the command that runs the rest again.",
        discussion: "Example: bmru sweep status /shared/sweeps/mc"
    )

    @Argument(help: "The sweep folder.", completion: .directory)
    var folder: String

    @Flag(help: "JSON on stdout.")
    var json = false

    func run() async throws {
        let results: SweepResults
        do { results = try SweepResults(folder: URL(fileURLWithPath: folder)) } catch { throw sweepFailure(error) }
        let shards = results.status()
        let rerun = results.shardsToRerun()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            struct Status: Encodable { var shards: [SweepResults.ShardStatus]; var rerun: [Int] }
            print(String(decoding: try encoder.encode(Status(shards: shards, rerun: rerun)), as: UTF8.self))
            return
        }
        print("shard  jobs  done  failed  missing")
        for s in shards where s.failed + s.missing > 0 || shards.count <= 50 {
            print(String(format: "%5d %5d %5d %7d %8d", s.shard, s.jobs, s.done, s.failed, s.missing))
        }
        let total = shards.reduce((0, 0, 0, 0)) { ($0.0 + $1.jobs, $0.1 + $1.done, $0.2 + $1.failed, $0.3 + $1.missing) }
        print(String(format: "total %5d %5d %7d %8d", total.0, total.1, total.2, total.3))
        if rerun.isEmpty {
            print("every job is done: bmru sweep merge \(folder)")
        } else {
            print("to run the \(total.2 + total.3) failed and missing jobs again (shards \(rerun.map(String.init).joined(separator: ","))): "
                + "bmru sweep submit \(folder) --missing   (or locally: bmru sweep run \(folder) --retry-failed)")
        }
    }
}

/// `bmru sweep merge DIR [--partial]`.
struct SweepMergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a sweep's job results into report.json, report.md and report.html.",
        discussion: """
            Refuses (exit 2) while jobs are missing, unless --partial, and results made by another bmru version, \
            deck or PDK than the plan's.

            Example: bmru sweep merge /shared/sweeps/mc
            """
    )

    @Argument(help: "The sweep folder.", completion: .directory)
    var folder: String

    @Flag(help: "Merge the jobs that have a result; missing ones count as disagreeing.")
    var partial = false

    func run() async throws {
        do {
            let report = try SweepResults(folder: URL(fileURLWithPath: folder)).report(partial: partial)
            try report.write(to: URL(fileURLWithPath: folder))
            printSummary(report, folder: folder)
        } catch {
            throw sweepFailure(error)
        }
    }
}

/// `bmru sweep submit DIR`.
struct SweepSubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a planned sweep to Slurm: the job array and a merge job that depends on it.",
        discussion: "Example: bmru sweep submit /shared/sweeps/mc --partition batch --account myproject"
    )

    @Argument(help: "The sweep folder (planned with 'bmru sweep plan').", completion: .directory)
    var folder: String

    @Option(help: "Slurm partition.")
    var partition: String?

    @Option(help: "Slurm account.")
    var account: String?

    @Option(help: "Time limit per array task (overrides the plan's estimate), e.g. 02:00:00.")
    var time: String?

    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
            help: "An extra sbatch argument for the array (repeatable), e.g. --sbatch-arg=--qos=long.")
    var sbatchArguments: [String] = []

    @Flag(help: "Submit only the shards holding missing or failed jobs, which run those again.")
    var missing = false

    func run() async throws {
        guard Self.onPath("sbatch") else { throw ValidationFailure("sbatch is not on PATH: Slurm is not installed or not set up here (docs/cluster.md)") }
        let url = URL(fileURLWithPath: folder)
        do {
            let results = try SweepResults(folder: url)
            let array = SlurmArray(folder: url, executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent(SweepPlan.slurmFolder)
                .appendingPathComponent(SlurmArray.arrayScript).path) else {
                throw SweepError.plan(folder, "no slurm/\(SlurmArray.arrayScript): plan the sweep with 'bmru sweep plan'")
            }
            var submission = SlurmArray.Submission()
            (submission.partition, submission.account, submission.time, submission.extra) = (partition, account, time, sbatchArguments)
            if missing {
                let shards = results.shardsToRerun()
                guard !shards.isEmpty else {
                    print("no missing or failed job: bmru sweep merge \(folder)")
                    return
                }
                submission.shards = shards
                submission.retryFailed = true
            }
            let submitted = try await array.submit(submission)
            print("array job \(submitted.array) (\(submission.shards?.count ?? results.plan.shards) tasks), merge job \(submitted.merge)")
        } catch let error as SweepError {
            throw sweepFailure(error)
        }
    }

    static func onPath(_ program: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(program)")
        }
    }
}

/// `bmru sweep software --model M [clip selectors] --sigma S... --draws N --seed K --out DIR`: the
/// software parameter-noise study on the reference network (no simulator).
struct SweepSoftwareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "software",
        abstract: "The software parameter-noise study: the reference network with p (1 + N(0, sigma)) on every parameter.",
        discussion: """
            For every --sigma, --draws perturbed models (seeds from --seed, the sigma's index and the draw) run every \
            clip; the report gives per sigma the decision, frame-decision and state-bit agreement with the noiseless \
            network and the accuracy, as mean and 95 % interval over the draws and pooled over (draw, clip) pairs. \
            Clips are chosen as by 'bmru verify'. Writes OUT/report.json and OUT/report.md; deterministic.

            Example: bmru sweep software --model results/models/kws-yes-d4 --data ../shared/data/speech_commands_v0.02_test \
            --split heldout --sigma 0.05 0.1 0.15 --draws 5 --out results/sweeps/kws-yes-d4-parameter-noise
            """
    )

    @Option(help: "Model folder (config.json, model.safetensors).", completion: .directory)
    var model: String

    @OptionGroup(title: "Clips") var clipOptions: ClipOptions

    @Option(parsing: .upToNextOption, help: "Relative parameter noise levels, each in (0, 1].")
    var sigma: [Double] = ParameterNoiseStudy.paperSigmas

    @Option(parsing: .unconditional, help: "Perturbed models per sigma.")
    var draws = 5

    @Option(parsing: .unconditional, help: "Base seed of the draws.")
    var seed: UInt64 = 1

    @Option(help: "Output folder for report.json and report.md.", completion: .directory)
    var out: String

    /// The study these options describe.
    var study: ParameterNoiseStudy { ParameterNoiseStudy(sigmas: sigma, draws: draws, seed: seed) }

    func validate() throws {
        do { try study.validate() } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: model)
        let loaded: Model
        do { loaded = try Model.load(from: directory) } catch { throw ValidationFailure(error.description) }
        let selected: [Clip], inputs: String
        do { (selected, inputs) = try clipOptions.selection.load(model: loaded, modelDirectory: directory, warn: printWarning) } catch {
            throw ValidationFailure(error.description)
        }
        let provenance = ParameterNoiseReport.Provenance(model: loaded, modelDirectory: directory, inputs: inputs,
                                                         version: BMRUKitVersion.string)
        do {
            let report = try study.run(loaded, clips: selected, provenance: provenance)
            try report.write(to: URL(fileURLWithPath: out))
            for level in report.levels {
                let d = level.decisionAgreement
                print("sigma \(String(format: "%g", level.sigma)): decision agreement \(formatPercent(d.mean))"
                    + (d.low.map { " [\(formatPercent($0)), \(formatPercent(d.high))]" } ?? "")
                    + " over \(level.clipEvaluations) clip evaluations, state bits \(formatPercent(level.stateBitAgreement.mean)), "
                    + "accuracy \(formatPercent(level.accuracy?.mean)) (noiseless \(formatPercent(report.noiselessAccuracy)))")
            }
            print("-> \(out)/\(ParameterNoiseReport.markdownFileName)")
        } catch {
            throw sweepFailure(error)
        }
    }
}
