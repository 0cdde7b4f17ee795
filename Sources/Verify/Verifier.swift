import BMRU
import Crypto
import Foundation
import Netlist
import Ngspice

/// Runs clips through the transistor-level deck and the float64 reference and compares them
/// (`bmru verify`).
///
/// Per clip: the model is compiled with the clip's frames as PWL inputs (`Compiler.frameDuration` per
/// frame), candidate and block-output probes are added (`DiodeProbes`), and the transient runs as one job of a
/// `WorkerPool`; every state, candidate and class current is sampled at the end of every frame
/// (`CircuitSamples`) and compared with `Network.run` on the same frames. A clip whose job fails is
/// kept in the report as failed and counts as disagreeing.
public struct Verifier: Sendable {
    /// The model and the folder it was read from (hashed into the provenance).
    public var model: Model, modelDirectory: URL
    /// The compiler (PDK, corner, characterization, frame period).
    public var compiler: Compiler
    /// Worker processes.
    public var workers = 2
    /// A clip's job is stopped after this many seconds (nil: never).
    public var jobTimeout: Double? = 1800
    /// ngspice commands run after loading each deck and before its transient: fault injection
    /// (`alter`) and what-if studies. Recorded in the provenance.
    public var commands: [String] = []
    /// The prediction agreement a run must reach to pass.
    public var minAgreement = 0.98
    /// Whether a report folder holding the report of a different run (`runHash`) is cleared and
    /// reused instead of refused.
    public var force = false

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
        /// BMRUKit's version.
        public var version: String

        /// A context with the given fields.
        public init(inputs: String, commandLine: [String], version: String) {
            self.inputs = inputs
            self.commandLine = commandLine
            self.version = version
        }
    }

    /// Name of the per-clip trace folder inside the report folder.
    public static let tracesFolder = "traces"
    /// Name of the folder of saved per-clip samples (`SavedClip`) that lets a run resume.
    public static let samplesFolder = "samples"

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
        let (blocks, hidden) = (model.config.blocks, model.config.hidden)
        let references = try self.references(clips)
        var jobs: [SimulationJob] = []
        for clip in clips { jobs.append(try job(for: clip)) }
        let traces = directory.appendingPathComponent(Self.tracesFolder)
        let savedFolder = directory.appendingPathComponent(Self.samplesFolder)
        // Resume: a clip whose job (deck, commands, vectors) is unchanged keeps its saved samples.
        let keys = jobs.map(SavedClip.key)
        let runHash = Self.runHash(clips, keys: keys, minAgreement: minAgreement)
        let folder = try ReportFolder(directory, runHash: runHash, force: force,
                                      subfolders: [Self.tracesFolder, Self.samplesFolder], replaced: [Self.tracesFolder])
        defer { folder.release() }
        let files = clips.map { savedFolder.appendingPathComponent(Self.fileName($0.name, extension: "json")) }
        var finished: [Int: Result<SavedClip, ClipFailure>] = [:]
        for index in clips.indices {
            if let saved = SavedClip.load(files[index]), saved.key == keys[index] { finished[index] = .success(saved) }
        }
        let pending = clips.indices.filter { finished[$0] == nil }
        let total = clips.count, done = Counter(start: finished.count), store = Store()
        let (frameDuration, supply) = (compiler.frameDuration, compiler.supply)
        let referenceTraces = references
        if let clipFinished {
            for (index, result) in finished.sorted(by: { $0.key < $1.key }) {
                clipFinished(index, comparison(clips[index], referenceTraces[index], result).report)
            }
        }
        let pool = WorkerPool(.init(workers: workers, jobTimeout: jobTimeout.map { .seconds($0 * 1.1 + 30) }))
        try await pool.forEachOutcome(of: pending.map { jobs[$0] }) { outcome throws(VerifyError) in
            let index = pending[outcome.index]
            // Saved as soon as it finishes, so an interrupted run keeps it; failures are not saved.
            let result = try SavedClip.make(outcome, key: keys[index], frames: clips[index].frames.count, blocks: blocks,
                                        hidden: hidden, period: frameDuration, supply: supply, file: files[index])
            store.set(index, result)
            clipFinished?(index, comparison(clips[index], referenceTraces[index], result).report)
            progress?(done.increment(), total)
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
            comparisons.append(comparison)
        }
        let reports = comparisons.map(\.report)
        if reports.allSatisfy({ $0.failureKind == .setup }) {
            let first = reports[0].failure ?? ""
            throw .setup(first, others: reports.filter { $0.failure != first }.count)
        }
        let report = aggregate(comparisons, context: context, wallSeconds: Date().timeIntervalSince(started), runHash: runHash)
        try folder.write(try report.json(), to: "report.json")
        try folder.write(Data(report.markdown().utf8), to: "report.md")
        return report
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
        let (blocks, hidden) = (model.config.blocks, model.config.hidden)
        let lines: [String]
        do {
            var circuit = try compiler.compile(model, inputs: .frames(clip.frames)).circuit
            try DiodeProbes.insert(into: &circuit, blocks: blocks, hidden: hidden)
            lines = try SpiceWriter().lines(circuit)
        } catch let error as VerifyError {
            throw error
        } catch {
            throw .compile(clip: clip.name, "\(error)")
        }
        return SimulationJob(deck: lines, commands: commands, seed: seed,
                             vectors: try CircuitSamples.vectors(blocks: blocks, hidden: hidden), timeout: jobTimeout)
    }

    /// `clip`'s report from the outcome of its job (`job(for:seed:)`) against its `reference` trace:
    /// failed when the job failed or its output is unusable.
    public func clipReport(_ clip: Clip, reference: Trace, outcome: JobOutcome) -> ClipReport {
        var comparison = Comparison(clip: clip, reference: reference, seconds: outcome.seconds, attempts: outcome.attempts)
        do {
            let result = try outcome.result.get()
            let samples = try CircuitSamples(result, frames: clip.frames.count, blocks: model.config.blocks,
                                             hidden: model.config.hidden, period: compiler.frameDuration,
                                             supply: compiler.supply)
            comparison.compare(samples, model: model, unitCurrent: unitCurrent,
                               duration: Double(clip.frames.count) * compiler.frameDuration, supply: compiler.supply)
        } catch let failure as JobFailure {
            comparison.report.failure = failure.description
            comparison.report.failureKind = .init(failure)
        } catch {
            comparison.report.failure = "\(error)"
            comparison.report.failureKind = .circuit
        }
        return comparison.report
    }

    /// A clip compared with its reference from its saved samples, or kept as failed.
    private func comparison(_ clip: Clip, _ reference: Trace, _ result: Result<SavedClip, ClipFailure>) -> Comparison {
        switch result {
        case let .failure(failure):
            var comparison = Comparison(clip: clip, reference: reference, seconds: failure.seconds, attempts: failure.attempts)
            comparison.report.failure = failure.description
            comparison.report.failureKind = failure.kind
            return comparison
        case let .success(saved):
            var comparison = Comparison(clip: clip, reference: reference, seconds: saved.seconds, attempts: saved.attempts)
            comparison.compare(saved.samples, model: model, unitCurrent: unitCurrent,
                               duration: Double(clip.frames.count) * compiler.frameDuration, supply: compiler.supply)
            return comparison
        }
    }

    /// A per-clip file name for a clip name (path separators and odd characters become `_`).
    static func fileName(_ name: String, extension: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }) + "." + `extension`
    }

    /// What a run computes, as SHA-256 hex: every clip's name, label and job key (`SavedClip.key`) in
    /// order, and the agreement threshold. Two runs with equal hashes compute the same figures.
    static func runHash(_ clips: [Clip], keys: [String], minAgreement: Double) -> String {
        let lines = zip(clips, keys).map { "\($0.name)\t\($0.label.map(String.init) ?? "-")\t\($1)" }
        return sha256Hex(Data((lines + ["min_agreement \(minAgreement)"]).joined(separator: "\n").utf8))
    }

    /// The report over all comparisons of the run `runHash`.
    func aggregate(_ comparisons: [Comparison], context: Context, wallSeconds: Double, runHash: String) -> Report {
        let iu = unitCurrent
        let ran = comparisons.filter { $0.report.failure == nil }
        func pooled(_ part: (Comparison) -> (Int, Int)) -> Double? {
            let (hits, total) = ran.map(part).reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
            return total == 0 ? nil : Double(hits) / Double(total)
        }
        let cells = model.config.blocks * model.config.hidden
        let boundaries = (0..<cells).map { cell in
            let candidate = Discrepancy.rms(ran.flatMap { $0.candidateDifferences[cell] }) / iu
            let state = Discrepancy.rms(ran.flatMap { $0.stateDifferences[cell] }) / iu
            let agreeingCandidate = Discrepancy.rms(ran.flatMap { $0.agreeingCandidateDifferences[cell] }) / iu
            let agreeingState = Discrepancy.rms(ran.flatMap { $0.agreeingStateDifferences[cell] }) / iu
            let agree = ran.reduce(0) { $0 + $1.cellAgreements[cell] }, frames = ran.reduce(0) { $0 + $1.report.frames }
            return Report.Boundary(block: cell / model.config.hidden, unit: cell % model.config.hidden,
                                   candidateRMSUnits: candidate, stateRMSUnits: state,
                                   factor: state > 0 ? candidate / state : nil,
                                   agreeingFramesFactor: agreeingState > 0 ? agreeingCandidate / agreeingState : nil,
                                   stateAgreement: frames == 0 ? 0 : Double(agree) / Double(frames))
        }
        let factors = boundaries.compactMap(\.factor), agreeingFactors = boundaries.compactMap(\.agreeingFramesFactor)
        let labelled = comparisons.filter { $0.report.label != nil }
        let agreeing = comparisons.filter(\.report.agrees).count
        let prediction = Double(agreeing) / Double(comparisons.count)
        let provenance = Report.Provenance(
            model: model.config.name, modelHash: modelHash(), pdk: compiler.pdk.name, corner: compiler.corner,
            unitCurrent: iu, supply: compiler.supply, characterized: compiler.characterization != nil,
            inputs: context.inputs, framePeriod: compiler.frameDuration, mode: compiler.mode.rawValue,
            cells: compiler.cellTiming.rawValue, ngspice: Self.ngspiceVersion(),
            bmrukit: context.version, commands: commands, commandLine: context.commandLine,
            created: ISO8601DateFormatter().string(from: Date()), runHash: runHash)
        return Report(
            clips: comparisons.count, failed: comparisons.count - ran.count, disagreed: ran.filter { !$0.report.agrees }.count,
            predictionAgreement: prediction,
            frameStateAgreement: pooled { ($0.cellAgreements.reduce(0, +), $0.report.frames * cells) },
            frameDecisionAgreement: pooled { ($0.frameDecisionHits, $0.report.frames) },
            readoutFrameAgreement: pooled { ($0.readoutHits, $0.report.frames) },
            suppressionFactor: .init(min: factors.min(), median: median(factors),
                                     agreeingFrames: .init(min: agreeingFactors.min(), median: median(agreeingFactors)),
                                     perBoundary: boundaries),
            stateDiscrepancy: Discrepancy(ran.flatMap { $0.stateDifferences.flatMap { $0 } }, unitCurrent: iu),
            candidateDiscrepancy: Discrepancy(ran.flatMap { $0.candidateDifferences.flatMap { $0 } }, unitCurrent: iu),
            blockOutputDiscrepancy: Discrepancy(ran.flatMap(\.blockOutputDifferences), unitCurrent: iu),
            accuracy: .init(
                reference: labelled.isEmpty ? nil
                    : Double(labelled.filter { $0.report.referenceDecision == $0.report.label }.count) / Double(labelled.count),
                circuit: labelled.isEmpty ? nil
                    : Double(labelled.filter { $0.report.circuitDecision == $0.report.label }.count) / Double(labelled.count),
                labelled: labelled.count),
            power: ran.isEmpty ? nil : Power(mean: ran.compactMap(\.report.power)),
            secondsPerClip: ran.isEmpty ? nil : ran.map(\.report.seconds).reduce(0, +) / Double(ran.count),
            wallSeconds: wallSeconds, minAgreement: minAgreement, passed: prediction >= minAgreement,
            provenance: provenance, perClip: comparisons.map(\.report))
    }

    /// SHA-256 of config.json followed by model.safetensors, hex; "unavailable" if unreadable.
    public func modelHash() -> String {
        let files = [Model.configFileName, Model.tensorsFileName].map { modelDirectory.appendingPathComponent($0) }
        var data = Data()
        for file in files {
            guard let contents = try? Data(contentsOf: file) else { return "unavailable" }
            data += contents
        }
        return sha256Hex(data)
    }

    /// ngspice's version banner line, from a session in this process.
    static func ngspiceVersion() -> String {
        guard let session = try? NgspiceSession(), let lines = try? session.command("version -s") else { return "unknown" }
        // The banner line reads "** ngspice-39 : Circuit level simulation program".
        let banner = lines.first { $0.lowercased().contains("ngspice-") }
        return banner?.trimmingCharacters(in: CharacterSet(charactersIn: "* ")) ?? "unknown"
    }
}

/// SHA-256 of `data` as lowercase hex: the model hash of the provenance, the resume keys and the
/// provenance hashes of sweeps.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
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

/// Why a clip has no samples: the job's failure or unusable output, as the report shows it.
struct ClipFailure: Error {
    var description: String
    var kind: ClipReport.FailureKind
    var seconds = 0.0, attempts = 0
}

/// One simulated clip as saved in the report's `samples/` folder: what resuming needs.
struct SavedClip: Codable {
    /// SHA-256 of the clip's job without its timeout: equal keys simulate the same thing.
    var key: String
    var samples: CircuitSamples
    var seconds: Double, attempts: Int

    static func key(_ job: SimulationJob) -> String {
        var job = job
        job.timeout = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return sha256Hex((try? encoder.encode(job)) ?? Data())
    }

    static func load(_ url: URL) -> SavedClip? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(SavedClip.self, from: data)
    }

    /// The saved clip of a finished job (written to `file`, atomically), or why the clip failed;
    /// throws when the file cannot be written.
    static func make(_ outcome: JobOutcome, key: String, frames: Int, blocks: Int, hidden: Int, period: Double,
                     supply: Double, file: URL) throws(VerifyError) -> Result<SavedClip, ClipFailure> {
        let samples: CircuitSamples
        switch outcome.result {
        case let .failure(failure):
            return .failure(ClipFailure(description: failure.description, kind: .init(failure), seconds: outcome.seconds,
                                        attempts: outcome.attempts))
        case let .success(result):
            do {
                samples = try CircuitSamples(result, frames: frames, blocks: blocks, hidden: hidden, period: period, supply: supply)
            } catch {
                // Unusable output fails the clip as a whole: nothing half-compared stays in the report.
                return .failure(ClipFailure(description: error.description, kind: .circuit, seconds: outcome.seconds,
                                            attempts: outcome.attempts))
            }
        }
        let saved = SavedClip(key: key, samples: samples, seconds: outcome.seconds, attempts: outcome.attempts)
        let data: Data
        do { data = try JSONEncoder().encode(saved) } catch { throw .file(file.path, "samples hold a non-finite value") }
        try ReportFolder.write(data, to: file)
        return .success(saved)
    }
}

/// One clip's report with the raw differences that the aggregate pools.
struct Comparison {
    var report: ClipReport
    let reference: Trace
    /// Circuit minus reference, amperes, per cell (block-major) over frames.
    var stateDifferences: [[Double]] = [], candidateDifferences: [[Double]] = []
    /// Block output p_k, circuit minus reference, amperes, every cell and frame.
    var blockOutputDifferences: [Double] = []
    /// Frames whose state bit agrees, per cell.
    var cellAgreements: [Int] = []
    /// The state and candidate differences of the frames whose state bit agrees, per cell: the analog
    /// level errors apart from bit errors.
    var agreeingStateDifferences: [[Double]] = [], agreeingCandidateDifferences: [[Double]] = []
    /// Frames whose circuit decision (A - B, and the readout node) equals the reference's argmax.
    var frameDecisionHits = 0, readoutHits = 0

    init(clip: Clip, reference: Trace, seconds: Double, attempts: Int) {
        self.reference = reference
        report = ClipReport(name: clip.name, label: clip.label, frames: clip.frames.count, status: "failed",
                            failure: nil, seconds: seconds, attempts: attempts,
                            referenceDecision: reference.decision.majority, circuitDecision: nil, agrees: false)
    }

    /// Fills the comparison from the circuit's samples (compiled at `unitCurrent` amperes per model
    /// unit, supplies at `supply` volts).
    mutating func compare(_ samples: CircuitSamples, model: Model, unitCurrent iu: Double, duration: Double, supply: Double) {
        let (cells, frames) = (model.config.blocks * model.config.hidden, samples.frames)
        stateDifferences = Array(repeating: [], count: cells)
        candidateDifferences = stateDifferences
        cellAgreements = Array(repeating: 0, count: cells)
        (agreeingStateDifferences, agreeingCandidateDifferences) = (stateDifferences, stateDifferences)
        var votes = [0, 0]
        var firstWrong: ClipReport.StateBit?
        for t in 0..<frames {
            for cell in 0..<cells {
                let j = t * cells + cell
                let alpha = model.blocks[cell / model.config.hidden].cell.alpha[cell % model.config.hidden]
                let state = samples.stateCurrents[j] - reference.stateCurrents[j] * iu
                let candidate = samples.candidates[j] - reference.candidates[j] * iu
                stateDifferences[cell].append(state)
                candidateDifferences[cell].append(candidate)
                blockOutputDifferences.append(samples.blockOutputs[j] - reference.blockOutputs[j] * iu)
                if (samples.stateCurrents[j] > alpha * iu / 2) == reference.states[j] {
                    cellAgreements[cell] += 1
                    agreeingStateDifferences[cell].append(state)
                    agreeingCandidateDifferences[cell].append(candidate)
                } else if firstWrong == nil {
                    firstWrong = .init(block: cell / model.config.hidden, unit: cell % model.config.hidden, frame: t)
                }
            }
            let wanted = ClipDecision.argmax(reference.logits(frame: t)), decided = samples.frameDecision(t)
            votes[decided] += 1
            if decided == wanted { frameDecisionHits += 1 }
            // The readout's output is high when class 0 wins.
            if (samples.decisionVolts[t] > supply / 2 ? 0 : 1) == wanted { readoutHits += 1 }
        }
        let circuit = ClipDecision(votes: votes, integratedLogits: [0, 0]).majority
        report.status = "ok"
        report.circuitDecision = circuit
        report.agrees = circuit == report.referenceDecision
        report.frameDecisionAgreement = Double(frameDecisionHits) / Double(frames)
        report.readoutFrameAgreement = Double(readoutHits) / Double(frames)
        report.frameStateAgreement = Double(cellAgreements.reduce(0, +)) / Double(frames * cells)
        report.cellStateAgreement = cellAgreements.map { Double($0) / Double(frames) }
        report.firstWrongStateBit = firstWrong
        report.stateDiscrepancy = Discrepancy(stateDifferences.flatMap { $0 }, unitCurrent: iu)
        report.candidateDiscrepancy = Discrepancy(candidateDifferences.flatMap { $0 }, unitCurrent: iu)
        report.power = Power(supplies: samples.supplyPower, duration: duration)
    }
}
