import BMRU
import Foundation
import Netlist
import Ngspice

/// Runs clips through the transistor-level deck and the float64 reference and compares them
/// (`bmru verify`).
///
/// Per clip: the model is compiled with the clip's frames as PWL inputs (`Compiler.frameDuration` per
/// frame) with probes of its candidate and block-output currents (`Compiler.probeDiodeCurrents`), and the transient runs as one job of a
/// `SimulationRunner` (the worker pool); every state, candidate and class current is sampled at the end
/// of every frame (`CircuitSamples`) and compared with `Network.run` on the same frames (`Comparison`).
/// A clip whose job fails is kept in the report as failed and counts as disagreeing. Saved samples
/// (`SavedClip`) let a run resume; `ReportBuilder` pools the comparisons into the report.
public struct Verifier: Sendable {
    /// The model and the folder it was read from (hashed into the provenance).
    public var model: Model, modelDirectory: URL
    /// The compiler (PDK, corner, characterization, frame period).
    public var compiler: Compiler
    /// Worker processes of the default runner.
    public var workers = 2
    /// A clip's job is stopped after this many seconds (nil: never).
    public var jobTimeout: Double? = 1800
    /// What runs the clips' jobs; nil: a `WorkerPool` of `workers` processes that kills a worker whose
    /// job overruns `jobTimeout` (with a margin over the worker's own stop). Another runner stands
    /// in for the simulator, for instance in tests.
    public var runner: (any SimulationRunner)?
    /// ngspice commands run after loading each deck and before its transient: fault injection
    /// (`alter`) and what-if studies. Recorded in the provenance.
    public var commands: [String] = []
    /// The limits the run is judged against (`Report.checks`, `Report.passed`).
    public var checks = ReviewChecks()
    /// Whether a report folder holding the report of a different run (`runHash`) is cleared and
    /// reused instead of refused.
    public var force = false
    /// Whether each clip's standalone deck is kept in the report folder's `decks/` (`ClipReport.deck`):
    /// the clip's frames as PWL inputs, the PDK's model paths relative to that folder, and the control
    /// block with which `ngspice -b decks/<clip>.cir` writes `<clip>.raw` beside it, so that a reviewer
    /// reruns any clip of the report by hand. It is the circuit the run simulated, without the probes
    /// of candidates and block outputs.
    public var keepDecks = false
    /// When set, each clip runs as its `Partitioning` with this load on the exported lines
    /// (`PartitionedRun`: stage by stage, the partitions of a stage in parallel on the runner, up to
    /// `workers` clips at a time so that small stages leave no worker idle) instead of as one
    /// whole-circuit transient; nil (the default) runs the whole circuit
    /// (docs/design/partitioned-simulation.md).
    public var partitioned: Partitioning.Load?

    /// A verifier for `model` (read from `modelDirectory`) compiled by `compiler`.
    public init(model: Model, modelDirectory: URL, compiler: Compiler) {
        self.model = model
        self.modelDirectory = modelDirectory
        self.compiler = compiler
    }

    /// Amperes per model unit in the decks this verifier runs (`--unit-current` may differ from the model's).
    public var unitCurrent: Double { compiler.unitCurrent(for: model) }

    /// What the caller knows about the run, for the provenance.
    public struct Context: Sendable {
        /// Where the clips came from.
        public var inputs: String
        /// The command line.
        public var commandLine: [String]
        /// BMRUKit's version, and the git commit it was built from (`Report.Provenance.bmrukitCommit`).
        public var version: String, commit: String

        /// A context with the given fields.
        public init(inputs: String, commandLine: [String], version: String, commit: String) {
            (self.inputs, self.commandLine, self.version, self.commit) = (inputs, commandLine, version, commit)
        }
    }

    /// Name of the per-clip trace folder inside the report folder.
    public static let tracesFolder = "traces"
    /// Name of the folder of saved per-clip samples (`SavedClip`) that lets a run resume.
    public static let samplesFolder = "samples"
    /// Name of the folder of kept decks (`keepDecks`).
    public static let decksFolder = "decks"

    /// Verifies `clips`, writes `report.json`, `report.md` and one CSV trace per simulated clip into
    /// `directory`, and returns the report. `progress` gets (clips done, clips total) as jobs finish;
    /// `clipFinished` gets each clip's position in `clips` and its report (without its trace) as soon
    /// as the clip is known: resumed clips first, then each clip as its job ends.
    ///
    /// Every clip's frame-end samples are saved in `samples/` as soon as its job finishes; running the
    /// same verification into the same folder again re-uses every clip whose job is unchanged (same
    /// deck, commands and vectors) and simulates only the rest, so an interrupted run resumes.
    ///
    /// The folder is locked for the run (`ReportFolder`), checked writable before anything is
    /// simulated, and refused when it holds a report of a different run unless `force`; the first
    /// file that cannot be written stops the run. When every clip fails for a reason outside the
    /// circuit (`ClipReport.FailureKind.setup`), the run throws `VerifyError.setup` and writes no report.
    public func run(_ clips: [Clip], writingTo directory: URL, context: Context,
                    progress: (@Sendable (Int, Int) -> Void)? = nil,
                    clipFinished: (@Sendable (Int, ClipReport) -> Void)? = nil) async throws(VerifyError) -> Report
    {
        guard !clips.isEmpty else { throw .inputs("no clips to verify") }
        let started = Date()
        let references = try self.references(clips)
        var jobs: [SimulationJob] = []
        for clip in clips { jobs.append(try job(for: clip)) }
        let traces = directory.appendingPathComponent(Self.tracesFolder)
        let savedFolder = directory.appendingPathComponent(Self.samplesFolder)
        // Resume: a clip whose job (deck, commands, vectors) is unchanged keeps its saved samples.
        let keys = jobs.map { Self.key($0.key, partitioned: partitioned) }
        let runHash = Self.runHash(clips, keys: keys, checks: checks)
        let decks = directory.appendingPathComponent(Self.decksFolder)
        let folder = try ReportFolder(directory, runHash: runHash, force: force,
                                      subfolders: [Self.tracesFolder, Self.samplesFolder] + (keepDecks ? [Self.decksFolder] : []),
                                      replaced: [Self.tracesFolder, Self.decksFolder])
        defer { folder.release() }
        let files = clips.map { savedFolder.appendingPathComponent(Self.fileName($0.name, extension: "json")) }
        var finished: [Int: Result<SavedClip, ClipFailure>] = [:]
        for index in clips.indices {
            if let saved = SavedClip.load(files[index]), saved.key == keys[index] { finished[index] = .success(saved) }
        }
        let pending = clips.indices.filter { finished[$0] == nil }
        let total = clips.count, done = Counter(start: finished.count), store = Store()
        let frameDuration = compiler.frameDuration
        let referenceTraces = references, samplings = clips.map(sampling)
        if let clipFinished {
            for (index, result) in finished.sorted(by: { $0.key < $1.key }) {
                clipFinished(index, comparison(clips[index], referenceTraces[index], result).report)
            }
        }
        // Each clip's result is saved (by the caller) as soon as it finishes, so an interrupted run keeps
        // it; failures are not saved.
        let finish = { @Sendable (index: Int, result: Result<SavedClip, ClipFailure>) in
            store.set(index, result)
            clipFinished?(index, comparison(clips[index], referenceTraces[index], result).report)
            progress?(done.increment(), total)
        }
        if let load = partitioned {
            try await runPartitioned(pending, of: clips, load: load, keys: keys, samplings: samplings, files: files, finish: finish)
        } else {
            try await (runner ?? pool(workers: workers)).forEachOutcome(of: pending.map { jobs[$0] }) { outcome throws(VerifyError) in
                let index = pending[outcome.index]
                finish(index, try SavedClip.make(outcome, key: keys[index], sampling: samplings[index], file: files[index]))
            }
        }
        finished.merge(store.results) { saved, _ in saved }
        var comparisons: [Comparison] = []
        for (index, clip) in clips.enumerated() {
            let reference = references[index]
            let result = finished[index] ?? .failure(ClipFailure(description: "not run", kind: .setup))
            var comparison = comparison(clip, reference, result)
            if case let .success(saved) = result {
                let file = Self.fileName(clip.name, extension: "csv")
                let csv = saved.samples.csv(reference: reference, model: model, unitCurrent: unitCurrent, period: frameDuration)
                try ReportFolder.write(Data(csv.utf8), to: traces.appendingPathComponent(file))
                comparison.report.trace = "\(Self.tracesFolder)/\(file)"
            }
            if keepDecks {
                let file = Self.fileName(clip.name, extension: "cir")
                let text = try standaloneDeck(clip, rawFile: Self.fileName(clip.name, extension: "raw"), folder: decks)
                try ReportFolder.write(Data(text.utf8), to: decks.appendingPathComponent(file))
                comparison.report.deck = "\(Self.decksFolder)/\(file)"
            }
            comparisons.append(comparison)
        }
        let reports = comparisons.map(\.report)
        if reports.allSatisfy({ $0.failureKind == .setup }) {
            let first = reports[0].failure ?? ""
            throw .setup(first, others: reports.filter { $0.failure != first }.count)
        }
        // The provenance names the simulator that ran the clips, as their jobs reported it.
        let simulator = clips.indices.lazy.compactMap { index -> String? in
            switch finished[index] {
            case let .success(saved): saved.simulator
            case let .failure(failure): failure.simulator
            case nil: nil
            }
        }.first
        let builder = ReportBuilder(model: model, modelHash: modelHash(), compiler: compiler, commands: commands,
                                    checks: checks, context: context, ngspice: simulator ?? "unknown",
                                    partitioned: partitioned)
        let report = builder.report(comparisons, wallSeconds: Date().timeIntervalSince(started), runHash: runHash,
                                    lint: ModelLint(model: model, compiler: compiler).findings(traces: references))
        try folder.write(try report.json(), to: "report.json")
        try folder.write(Data(report.markdown().utf8), to: "report.md")
        return report
    }

    /// `clip`'s deck for running by hand from `folder`: its frames as inputs, model paths relative to
    /// `folder`, and the control block that makes `ngspice -b` write `rawFile` beside it.
    func standaloneDeck(_ clip: Clip, rawFile: String, folder: URL) throws(VerifyError) -> String {
        var compiler = compiler
        (compiler.rawFile, compiler.modelsRelativeTo) = (rawFile, folder)
        do { return try compiler.compile(model, inputs: .frames(clip.frames)).deck() } catch {
            throw .compile(clip: clip.name, "\(error)")
        }
    }

    /// The reference network's traces of `clips`.
    public func references(_ clips: [Clip]) throws(VerifyError) -> [Trace] {
        let network = Network(model)
        var traces: [Trace] = []
        for clip in clips {
            do { traces.append(try network.run(clip.frames)) } catch { throw .inputs("\(clip.name): \(error)") }
        }
        return traces
    }

    /// The simulation job of `clip`: the model compiled with the clip's frames as inputs, with the
    /// probes the comparison reads, the verifier's commands and `seed` for the simulator's random
    /// numbers (Monte Carlo draws, noise sources).
    public func job(for clip: Clip, seed: Int? = nil) throws(VerifyError) -> SimulationJob {
        let signals = CircuitSamples.signals(blocks: model.config.blocks, hidden: model.config.hidden)
        var compiler = compiler
        compiler.probeDiodeCurrents = true
        let lines: [String]
        do {
            let compilation = try compiler.compile(model, inputs: .frames(clip.frames))
            if let missing = signals.first(where: { !compilation.probes.contains($0) }) {
                throw VerifyError.compile(clip: clip.name, "the compiled deck has no probe of \(missing)")
            }
            lines = try SpiceWriter().lines(compilation.circuit)
        } catch let error as VerifyError {
            throw error
        } catch {
            throw .compile(clip: clip.name, "\(error)")
        }
        return SimulationJob(deck: lines, commands: commands, seed: seed,
                             vectors: try CircuitSamples.vectors(blocks: model.config.blocks, hidden: model.config.hidden),
                             timeout: jobTimeout)
    }

    /// `clip`'s partitions (`Compiler.partition`) with the probes the comparison reads, each exported
    /// line loaded by `load`, the stateless pieces of each stage in one deck. The batching does not
    /// depend on `workers`: a batch shares its time steps, so its figures would otherwise depend on
    /// how many workers ran them.
    public func partitioning(for clip: Clip, load: Partitioning.Load) throws(VerifyError) -> Partitioning {
        var compiler = compiler
        compiler.probeDiodeCurrents = true
        do { return try compiler.partition(model, inputs: .frames(clip.frames), load: load, batched: true) } catch {
            throw .compile(clip: clip.name, "\(error)")
        }
    }

    /// The worker pool the verifier runs on without a `runner`: `workers` processes, each killed when
    /// its job overruns `jobTimeout` (with a margin over the worker's own stop).
    private func pool(workers: Int) -> WorkerPool {
        WorkerPool(.init(workers: workers, jobTimeout: jobTimeout.map { .seconds($0 * 1.1 + 30) }))
    }

    /// Runs the `pending` clips as their partitions, `workers` clips at a time, each on its own share
    /// of the workers: a stage with fewer partitions than workers (the readout, a batch) then leaves
    /// no core idle, and no more than `workers` simulations run at once.
    private func runPartitioned(_ pending: [Int], of clips: [Clip], load: Partitioning.Load, keys: [String],
                                samplings: [CircuitSamples.Sampling], files: [URL],
                                finish: @escaping @Sendable (Int, Result<SavedClip, ClipFailure>) -> Void)
        async throws(VerifyError)
    {
        let lanes = Lanes(workers: workers, items: pending.count)
        let runner = self.runner ?? pool(workers: lanes.workersEach)
        try await lanes.forEach(pending) { [self] index throws(VerifyError) in
            let partitioning = try partitioning(for: clips[index], load: load)
            finish(index, try await partitionedClip(partitioning, runner: runner, key: keys[index],
                                                    sampling: samplings[index], file: files[index]))
        }
    }

    /// A clip simulated as its `partitioning` on `runner` and saved under `key` in `file`, or its failure.
    private func partitionedClip(_ partitioning: Partitioning, runner: any SimulationRunner, key: String,
                                 sampling: CircuitSamples.Sampling, file: URL) async throws(VerifyError)
        -> Result<SavedClip, ClipFailure>
    {
        let run = await partitionedSamples(partitioning, seed: nil, runner: runner, sampling: sampling)
        return try SavedClip.make(run.samples, key: key, seconds: run.seconds, attempts: 1, simulator: run.simulator,
                                  statistics: run.statistics, file: file)
    }

    /// `partitioning` simulated on `runner` (`PartitionedRun`, each partition seeded from `seed`) and
    /// read with `sampling`, as a whole-circuit transient is read; or why the clip failed.
    private func partitionedSamples(_ partitioning: Partitioning, seed: Int?, runner: any SimulationRunner,
                                    sampling: CircuitSamples.Sampling) async
        -> (samples: Result<CircuitSamples, ClipFailure>, seconds: Double, simulator: String?, statistics: SimulatorStatistics?)
    {
        let run = PartitionedRun(partitioning: partitioning, commands: commands, timeout: jobTimeout, seed: seed)
        let signals = CircuitSamples.signals(blocks: model.config.blocks, hidden: model.config.hidden)
        switch await run.run(on: runner, signals: signals) {
        case let .failure(failure):
            return (.failure(failure), failure.seconds, failure.simulator, nil)
        case let .success(outcome):
            let (seconds, simulator, statistics) = (outcome.seconds, outcome.simulator, outcome.statistics)
            do { return (.success(try CircuitSamples(series: outcome.series, sampling)), seconds, simulator, statistics) } catch {
                return (.failure(ClipFailure(description: error.description, kind: .circuit, seconds: seconds, simulator: simulator)),
                        seconds, simulator, statistics)
            }
        }
    }

    /// `clip` simulated as its partitions on `runner` and compared with its `reference` trace: a job of
    /// a partitioned sweep, whose runner schedules the clips and keeps their results itself. The
    /// partitions carry the loads of `partitioned` (replica when nil) and draw from seeds derived from
    /// `seed` (`PartitionedRun.seed(_:partition:)`). A clip that fails to simulate gives a failed
    /// report; one that does not compile throws.
    public func partitionedReport(_ clip: Clip, reference: Trace, seed: Int?, runner: any SimulationRunner)
        async throws(VerifyError) -> ClipReport
    {
        let partitioning = try partitioning(for: clip, load: partitioned ?? .replica)
        let run = await partitionedSamples(partitioning, seed: seed, runner: runner, sampling: sampling(clip))
        return report(clip, reference, run.samples, seconds: run.seconds, attempts: 1, statistics: run.statistics)
    }

    /// `clip`'s report from the outcome of its job (`job(for:seed:)`) against its `reference` trace:
    /// failed when the job failed or its output is unusable.
    public func clipReport(_ clip: Clip, reference: Trace, outcome: JobOutcome) -> ClipReport {
        report(clip, reference, CircuitSamples.read(outcome, sampling(clip)), seconds: outcome.seconds,
               attempts: outcome.attempts, statistics: outcome.statistics)
    }

    /// `clip`'s report from its circuit samples, or kept as failed; its jobs took `seconds` in
    /// `attempts` starts.
    private func report(_ clip: Clip, _ reference: Trace, _ samples: Result<CircuitSamples, ClipFailure>, seconds: Double,
                        attempts: Int, statistics: SimulatorStatistics?) -> ClipReport {
        switch samples {
        case let .failure(failure): return Comparison(clip: clip, reference: reference, failure: failure).report
        case let .success(samples):
            var report = comparison(clip, reference, samples, seconds: seconds, attempts: attempts).report
            report.statistics = statistics
            return report
        }
    }

    /// The key under which a clip's result is kept and reused: its whole-circuit job's key
    /// (`SimulationJob.key`), or for a clip run as partitions with `load`, a hash of that key with the
    /// load and `Partitioning.revision`, so that a result of one mode is never taken for another's.
    public static func key(_ jobKey: String, partitioned load: Partitioning.Load?) -> String {
        load.map { sha256Hex(Data("\(jobKey) partitioned \($0.rawValue) \(Partitioning.revision)".utf8)) } ?? jobKey
    }

    /// A clip compared with its reference from its saved samples, or kept as failed.
    private func comparison(_ clip: Clip, _ reference: Trace, _ result: Result<SavedClip, ClipFailure>) -> Comparison {
        switch result {
        case let .failure(failure): return Comparison(clip: clip, reference: reference, failure: failure)
        case let .success(saved):
            var comparison = comparison(clip, reference, saved.samples, seconds: saved.seconds, attempts: saved.attempts)
            comparison.report.statistics = saved.statistics
            return comparison
        }
    }

    /// `clip`'s circuit samples compared with its reference; the job took `seconds` in `attempts` starts.
    private func comparison(_ clip: Clip, _ reference: Trace, _ samples: CircuitSamples, seconds: Double,
                            attempts: Int) -> Comparison {
        Comparison(clip: clip, reference: reference, samples: samples, seconds: seconds, attempts: attempts, model: model,
                   unitCurrent: unitCurrent, period: compiler.frameDuration, supply: compiler.supply)
    }

    /// How `clip`'s transient is read: its length, the model's shape, the frame period and the supply.
    private func sampling(_ clip: Clip) -> CircuitSamples.Sampling {
        .init(frames: clip.frames.count, blocks: model.config.blocks, hidden: model.config.hidden,
              period: compiler.frameDuration, supply: compiler.supply)
    }

    /// A per-clip file name for a clip name (path separators and odd characters become `_`).
    static func fileName(_ name: String, extension: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }) + "." + `extension`
    }

    /// What a run computes, as SHA-256 hex: every clip's name, label and job key (`SimulationJob.key`) in
    /// order, and the limits. Two runs with equal hashes compute the same figures and verdict.
    static func runHash(_ clips: [Clip], keys: [String], checks: ReviewChecks) -> String {
        let lines = zip(clips, keys).map { "\($0.name)\t\($0.label.map(String.init) ?? "-")\t\($1)" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let limits = String(decoding: (try? encoder.encode(checks)) ?? Data(), as: UTF8.self)
        return sha256Hex(Data((lines + ["limits \(limits)"]).joined(separator: "\n").utf8))
    }

    /// SHA-256 of config.json followed by model.safetensors, hex; "unavailable" if unreadable.
    public func modelHash() -> String {
        sha256Hex(files: [Model.configFileName, Model.tensorsFileName].map { modelDirectory.appendingPathComponent($0) })
            ?? "unavailable"
    }
}

/// Counts finished jobs across the pool's threads.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int
    init(start: Int) { value = start }
    func increment() -> Int { lock.withLock { value += 1; return value } }
}

/// Finished clips, filled from the pool's threads.
private final class Store: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Result<SavedClip, ClipFailure>] = [:]
    func set(_ index: Int, _ value: Result<SavedClip, ClipFailure>) { lock.withLock { values[index] = value } }
    var results: [Int: Result<SavedClip, ClipFailure>] { lock.withLock { values } }
}
