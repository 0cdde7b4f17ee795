import BMRU
import Crypto
import Foundation
import Netlist
import Ngspice

/// Runs clips through the transistor-level deck and the float64 reference and compares them
/// (`bmru verify`).
///
/// Per clip: the model is compiled with the clip's frames as PWL inputs (`Compiler.frameDuration` per
/// frame), candidate probes are added (`CandidateProbes`), and the transient runs as one job of a
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

    /// A verifier for `model` (read from `modelDirectory`) compiled by `compiler`.
    public init(model: Model, modelDirectory: URL, compiler: Compiler) {
        self.model = model
        self.modelDirectory = modelDirectory
        self.compiler = compiler
    }

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

    /// Verifies `clips`, writes `report.json`, `report.md` and one CSV trace per simulated clip into
    /// `directory`, and returns the report. `progress` gets (clips done, clips total) as jobs finish.
    public func run(_ clips: [Clip], writingTo directory: URL, context: Context,
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws(VerifyError) -> Report
    {
        guard !clips.isEmpty else { throw .inputs("no clips to verify") }
        let started = Date()
        let (blocks, hidden) = (model.config.blocks, model.config.hidden)
        let network = Network(model)
        var references: [Trace] = []
        var jobs: [SimulationJob] = []
        let vectors = try CircuitSamples.vectors(blocks: blocks, hidden: hidden)
        for clip in clips {
            do { references.append(try network.run(clip.frames)) } catch { throw .inputs("\(clip.name): \(error)") }
            let lines: [String]
            do {
                var circuit = try compiler.compile(model, inputs: .frames(clip.frames)).circuit
                try CandidateProbes.insert(into: &circuit, blocks: blocks, hidden: hidden)
                lines = try SpiceWriter().lines(circuit)
            } catch let error as VerifyError {
                throw error
            } catch {
                throw .compile(clip: clip.name, "\(error)")
            }
            jobs.append(SimulationJob(deck: lines, commands: commands, vectors: vectors, timeout: jobTimeout))
        }
        let traces = directory.appendingPathComponent(Self.tracesFolder)
        do { try FileManager.default.createDirectory(at: traces, withIntermediateDirectories: true) } catch {
            throw .file(traces.path, error.localizedDescription)
        }
        let done = Counter()
        let pool = WorkerPool(.init(workers: workers, jobTimeout: jobTimeout.map { .seconds($0 * 1.1 + 30) }))
        let total = jobs.count
        let outcomes = await pool.run(jobs) { _ in progress?(done.increment(), total) }
        var comparisons: [Comparison] = []
        for (index, outcome) in outcomes.enumerated() {
            let clip = clips[index], reference = references[index]
            var comparison = Comparison(clip: clip, reference: reference, seconds: outcome.seconds, attempts: outcome.attempts)
            switch outcome.result {
            case let .failure(failure):
                comparison.report.failure = failure.description
            case let .success(result):
                do {
                    let samples = try CircuitSamples(result, frames: clip.frames.count, blocks: blocks, hidden: hidden,
                                                     period: compiler.frameDuration, supply: compiler.supply)
                    comparison.compare(samples, model: model, duration: Double(clip.frames.count) * compiler.frameDuration,
                                       supply: compiler.supply)
                    let file = Self.traceFileName(clip.name)
                    try write(samples.csv(reference: reference, model: model, period: compiler.frameDuration),
                              to: traces.appendingPathComponent(file))
                    comparison.report.trace = "\(Self.tracesFolder)/\(file)"
                } catch {
                    // Unusable output fails the clip as a whole: nothing half-compared stays in the report.
                    comparison = Comparison(clip: clip, reference: reference, seconds: outcome.seconds,
                                            attempts: outcome.attempts)
                    comparison.report.failure = error.description
                }
            }
            comparisons.append(comparison)
        }
        let report = aggregate(comparisons, context: context, wallSeconds: Date().timeIntervalSince(started))
        try write(String(decoding: try report.json(), as: UTF8.self), to: directory.appendingPathComponent("report.json"))
        try write(report.markdown(), to: directory.appendingPathComponent("report.md"))
        return report
    }

    /// A trace file name for a clip name (path separators and odd characters become `_`).
    static func traceFileName(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" }) + ".csv"
    }

    private func write(_ text: String, to url: URL) throws(VerifyError) {
        do { try Data(text.utf8).write(to: url) } catch { throw .file(url.path, error.localizedDescription) }
    }

    /// The report over all comparisons.
    func aggregate(_ comparisons: [Comparison], context: Context, wallSeconds: Double) -> Report {
        let iu = model.config.unitCurrent
        let ran = comparisons.filter { $0.report.failure == nil }
        func pooled(_ part: (Comparison) -> (Int, Int)) -> Double? {
            let (hits, total) = ran.map(part).reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
            return total == 0 ? nil : Double(hits) / Double(total)
        }
        let cells = model.config.blocks * model.config.hidden
        let boundaries = (0..<cells).map { cell in
            let candidate = Discrepancy.rms(ran.flatMap { $0.candidateDifferences[cell] }) / iu
            let state = Discrepancy.rms(ran.flatMap { $0.stateDifferences[cell] }) / iu
            let agree = ran.reduce(0) { $0 + $1.cellAgreements[cell] }, frames = ran.reduce(0) { $0 + $1.report.frames }
            return Report.Boundary(block: cell / model.config.hidden, unit: cell % model.config.hidden,
                                   candidateRMSUnits: candidate, stateRMSUnits: state,
                                   factor: state > 0 ? candidate / state : nil,
                                   stateAgreement: frames == 0 ? 0 : Double(agree) / Double(frames))
        }
        let factors = boundaries.compactMap(\.factor)
        let labelled = comparisons.filter { $0.report.label != nil }
        let agreeing = comparisons.filter(\.report.agrees).count
        let prediction = Double(agreeing) / Double(comparisons.count)
        let provenance = Report.Provenance(
            model: model.config.name, modelHash: modelHash(), pdk: compiler.pdk.name, corner: compiler.corner,
            unitCurrent: iu, supply: compiler.supply, characterized: compiler.characterization != nil,
            inputs: context.inputs, framePeriod: compiler.frameDuration, mode: compiler.mode.rawValue, ngspice: Self.ngspiceVersion(),
            bmrukit: context.version, commands: commands, commandLine: context.commandLine,
            created: ISO8601DateFormatter().string(from: Date()))
        return Report(
            clips: comparisons.count, failed: comparisons.count - ran.count, predictionAgreement: prediction,
            frameStateAgreement: pooled { ($0.cellAgreements.reduce(0, +), $0.report.frames * cells) },
            frameDecisionAgreement: pooled { ($0.frameDecisionHits, $0.report.frames) },
            readoutFrameAgreement: pooled { ($0.readoutHits, $0.report.frames) },
            suppressionFactor: .init(min: factors.min(), median: median(factors), perBoundary: boundaries),
            stateDiscrepancy: Discrepancy(ran.flatMap { $0.stateDifferences.flatMap { $0 } }, unitCurrent: iu),
            candidateDiscrepancy: Discrepancy(ran.flatMap { $0.candidateDifferences.flatMap { $0 } }, unitCurrent: iu),
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
    func modelHash() -> String {
        let files = [Model.configFileName, Model.tensorsFileName].map { modelDirectory.appendingPathComponent($0) }
        var data = Data()
        for file in files {
            guard let contents = try? Data(contentsOf: file) else { return "unavailable" }
            data += contents
        }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// ngspice's version banner line, from a session in this process.
    static func ngspiceVersion() -> String {
        guard let session = try? NgspiceSession(), let lines = try? session.command("version -s") else { return "unknown" }
        // The banner line reads "** ngspice-39 : Circuit level simulation program".
        let banner = lines.first { $0.lowercased().contains("ngspice-") }
        return banner?.trimmingCharacters(in: CharacterSet(charactersIn: "* ")) ?? "unknown"
    }
}

/// Counts finished jobs across the pool's threads.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { value += 1; return value } }
}

/// One clip's report with the raw differences that the aggregate pools.
struct Comparison {
    var report: ClipReport
    let reference: Trace
    /// Circuit minus reference, amperes, per cell (block-major) over frames.
    var stateDifferences: [[Double]] = [], candidateDifferences: [[Double]] = []
    /// Frames whose state bit agrees, per cell.
    var cellAgreements: [Int] = []
    /// Frames whose circuit decision (A - B, and the readout node) equals the reference's argmax.
    var frameDecisionHits = 0, readoutHits = 0

    init(clip: Clip, reference: Trace, seconds: Double, attempts: Int) {
        self.reference = reference
        report = ClipReport(name: clip.name, label: clip.label, frames: clip.frames.count, status: "failed",
                            failure: nil, seconds: seconds, attempts: attempts,
                            referenceDecision: reference.decision.majority, circuitDecision: nil, agrees: false)
    }

    /// Fills the comparison from the circuit's samples (supplies at `supply` volts).
    mutating func compare(_ samples: CircuitSamples, model: Model, duration: Double, supply: Double) {
        let (iu, cells, frames) = (model.config.unitCurrent, model.config.blocks * model.config.hidden, samples.frames)
        stateDifferences = Array(repeating: [], count: cells)
        candidateDifferences = stateDifferences
        cellAgreements = Array(repeating: 0, count: cells)
        var votes = [0, 0]
        for t in 0..<frames {
            for cell in 0..<cells {
                let j = t * cells + cell
                let alpha = model.blocks[cell / model.config.hidden].cell.alpha[cell % model.config.hidden]
                stateDifferences[cell].append(samples.stateCurrents[j] - reference.stateCurrents[j] * iu)
                candidateDifferences[cell].append(samples.candidates[j] - reference.candidates[j] * iu)
                if (samples.stateCurrents[j] > alpha * iu / 2) == reference.states[j] { cellAgreements[cell] += 1 }
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
        report.stateDiscrepancy = Discrepancy(stateDifferences.flatMap { $0 }, unitCurrent: iu)
        report.candidateDiscrepancy = Discrepancy(candidateDifferences.flatMap { $0 }, unitCurrent: iu)
        report.power = Power(supplies: samples.supplyPower, duration: duration)
    }
}
