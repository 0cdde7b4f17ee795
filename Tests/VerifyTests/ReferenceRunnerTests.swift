import BMRU
import Foundation
import Netlist
import Ngspice
import Synchronization
import Testing
import TestSupport
@testable import Verify

/// A `SimulationRunner` that answers each job without a simulator, through `answer`, and counts the
/// jobs it was given.
struct StubRunner: SimulationRunner {
    static let simulator = "stub runner (no simulator)"

    let answer: @Sendable (SimulationJob) -> Result<SimulationResult, JobFailure>
    let jobs = JobCount()

    final class JobCount: Sendable {
        let value = Mutex(0)
    }

    func forEachOutcome<Failure: Error>(of jobs: [SimulationJob],
                                        _ handle: @escaping @Sendable (JobOutcome) throws(Failure) -> Void)
        async throws(Failure)
    {
        self.jobs.value.withLock { $0 += jobs.count }
        for (index, job) in jobs.enumerated() {
            try handle(JobOutcome(index: index, result: answer(job), seconds: 0.25, attempts: 1, simulator: Self.simulator))
        }
    }
}

/// The verifier's comparison, resume and report logic on runners that answer from the float64
/// reference: what an exact circuit, a circuit with one wrong state bit and a failing job give.
@Suite("Verifier on a reference runner")
struct ReferenceRunnerTests {
    static let modelDirectory = TestSupport.repository.appendingPathComponent("results/models/latch-d4")
    static let context = Verifier.Context(inputs: "golden", commandLine: ["test"], version: "test", commit: "test")

    let model: Model
    let clips: [Clip]
    let verifier: Verifier
    /// The reference trace of each clip, and of each clip's job by job key.
    let traces: [Trace], byKey: [String: Trace]

    init() throws {
        model = try Model.load(from: Self.modelDirectory)
        clips = try Clip.features(Self.modelDirectory.appendingPathComponent(Model.goldenFileName), config: model.config,
                                  limit: 4)
        let pdk = try TestSupport.catalog.pdk("generic180", environment: TestSupport.environment())
        verifier = Verifier(model: model, modelDirectory: Self.modelDirectory, compiler: try Compiler(pdk: pdk))
        traces = try verifier.references(clips)
        var byKey: [String: Trace] = [:]
        for (clip, trace) in zip(clips, traces) { byKey[try verifier.job(for: clip).key] = trace }
        self.byKey = byKey
    }

    func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bmru-verify-stub-\(UUID().uuidString)")
    }

    /// What an exact circuit returns for `trace`: every vector `CircuitSamples` reads, one time point
    /// per frame end (and one at 0), with the reference's values in amperes (states alpha I_u or 0),
    /// the readout high when class 0 wins, and no supply current.
    func result(_ trace: Trace) throws -> SimulationResult {
        let (blocks, hidden, iu) = (model.config.blocks, model.config.hidden, verifier.unitCurrent)
        let (cells, period, supply) = (blocks * hidden, verifier.compiler.frameDuration, verifier.compiler.supply)
        let names = try CircuitSamples.vectors(blocks: blocks, hidden: hidden)
        var columns = Array(repeating: [Double](), count: names.count)
        for t in [0] + Array(0..<trace.frames) {
            var row: [Double] = []
            for series in [trace.stateCurrents, trace.candidates, trace.blockOutputs] {
                row += (0..<cells).map { series[t * cells + $0] * iu }
            }
            row += Compiler.readoutCurrents(model: model, trace: trace, frame: t).map { $0 * iu }
            row.append(ClipDecision.argmax(trace.logits(frame: t)) == 0 ? supply : 0)
            row += NetworkSignal.supplies.map { _ in 0 }
            for (column, value) in row.enumerated() { columns[column].append(value) }
        }
        var vectors = Dictionary(uniqueKeysWithValues: zip(names, columns))
        vectors["time"] = (0...trace.frames).map { Double($0) * period }
        return SimulationResult(plot: "tran1", analysis: "tran", scale: "time", vectors: vectors)
    }

    /// A runner answering every job as an exact circuit, through `edit` (job's clip index, its result).
    func runner(_ edit: @escaping @Sendable (Int, inout Result<SimulationResult, JobFailure>) -> Void = { _, _ in })
        throws -> StubRunner
    {
        var answers: [String: Result<SimulationResult, JobFailure>] = [:]
        for (index, clip) in clips.enumerated() {
            var answer = Result<SimulationResult, JobFailure>.success(try result(traces[index]))
            edit(index, &answer)
            answers[try verifier.job(for: clip).key] = answer
        }
        return StubRunner { [answers] job in answers[job.key] ?? .failure(.worker("unknown job")) }
    }

    @Test("An exact circuit agrees 100 % with exact state bits; a second run resumes every clip without a job, from old samples too")
    func exact() async throws {
        var verifier = verifier
        let runner = try runner()
        verifier.runner = runner
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        #expect(report.clips == clips.count && report.failed == 0 && report.disagreed == 0 && report.passed)
        #expect(report.predictionAgreement == 1 && report.frameStateAgreement == 1)
        #expect(report.frameDecisionAgreement == 1 && report.readoutFrameAgreement == 1)
        #expect(report.stateDiscrepancy?.rmsUnits == 0 && report.candidateDiscrepancy?.rmsUnits == 0)
        #expect(report.suppressionFactor.perBoundary.allSatisfy { $0.stateAgreement == 1 })
        for clip in report.perClip {
            #expect(clip.status == "ok" && clip.agrees && clip.firstWrongStateBit == nil && clip.seconds == 0.25)
            #expect(clip.cellStateAgreement == Array(repeating: 1, count: model.config.blocks * model.config.hidden))
        }
        #expect(runner.jobs.value.withLock { $0 } == clips.count)
        #expect(report.provenance.ngspice == StubRunner.simulator)

        // Sweeps compare one outcome at a time (`clipReport`): the same report, without the trace file.
        let outcome = JobOutcome(index: 0, result: .success(try result(traces[1])), seconds: 0.25, attempts: 1)
        var swept = verifier.clipReport(clips[1], reference: traces[1], outcome: outcome)
        swept.trace = report.perClip[1].trace
        #expect(swept == report.perClip[1])

        let resumed = try await verifier.run(clips, writingTo: out, context: Self.context)
        #expect(runner.jobs.value.withLock { $0 } == clips.count)
        #expect(resumed.perClip == report.perClip && resumed.provenance.ngspice == StubRunner.simulator)

        // Samples saved before the simulator was kept with them still resume; the provenance then
        // cannot name the simulator.
        let samples = out.appendingPathComponent(Verifier.samplesFolder)
        for name in try FileManager.default.contentsOfDirectory(atPath: samples.path) {
            let file = samples.appendingPathComponent(name)
            var saved = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
            #expect(saved.removeValue(forKey: "simulator") != nil)
            try JSONSerialization.data(withJSONObject: saved).write(to: file)
        }
        let old = try await verifier.run(clips, writingTo: out, context: Self.context)
        #expect(runner.jobs.value.withLock { $0 } == clips.count)
        #expect(old.perClip == report.perClip && old.provenance.ngspice == "unknown")
    }

    @Test("One state flipped in one frame gives that first wrong bit and the state-bit agreements it implies")
    func flippedState() async throws {
        let (clip, frame, unit) = (2, 37, 3)
        let cells = model.config.blocks * model.config.hidden, frames = clips[clip].frames.count
        let name = try CircuitSamples.vectors(blocks: model.config.blocks, hidden: model.config.hidden)[unit]
        let high = model.blocks[0].cell.alpha[unit] * verifier.unitCurrent
        var verifier = verifier
        verifier.runner = try runner { index, answer in
            guard index == clip, case var .success(result) = answer else { return }
            // Frame t is time point t + 1.
            result.vectors[name]![frame + 1] = result.vectors[name]![frame + 1] > 0 ? 0 : high
            answer = .success(result)
        }
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        let flipped = report.perClip[clip]
        #expect(flipped.firstWrongStateBit == ClipReport.StateBit(block: 0, unit: unit, frame: frame))
        #expect(flipped.frameStateAgreement == Double(frames * cells - 1) / Double(frames * cells))
        #expect(flipped.cellStateAgreement?[unit] == Double(frames - 1) / Double(frames))
        #expect(flipped.agrees && report.predictionAgreement == 1)
        let total = clips.map(\.frames.count).reduce(0, +)
        #expect(report.frameStateAgreement == Double(total * cells - 1) / Double(total * cells))
        #expect(report.suppressionFactor.perBoundary[unit].stateAgreement == Double(total - 1) / Double(total))
        #expect(report.perClip.enumerated().allSatisfy { $0.offset == clip || $0.element.firstWrongStateBit == nil })
        // The trace shows the wrong bit, read by the same rule.
        let table = try TraceTable(out.appendingPathComponent(try #require(flipped.trace)))
        let (circuit, reference) = (try #require(table.header.firstIndex(of: "s0_\(unit)_circuit")),
                                    try #require(table.header.firstIndex(of: "s0_\(unit)_reference")))
        #expect(table.rows.indices.filter { table.rows[$0][circuit] != table.rows[$0][reference] } == [frame])
    }

    @Test("Each cell's first wrong bit per clip is classified by the threshold that decided its frame and pooled per cell")
    func firstWrongBits() async throws {
        let cells = model.config.blocks * model.config.hidden, cell = model.blocks[0].cell
        let names = try CircuitSamples.vectors(blocks: model.config.blocks, hidden: model.config.hidden)
        let iu = verifier.unitCurrent, high = cell.alpha.map { $0 * iu }
        // (clip, frame, unit, whether the circuit's candidate is mirrored across the deciding threshold).
        let flips = [(2, 37, 3, false), (3, 50, 3, true), (0, 0, 1, false)]
        let traces = traces
        /// The threshold that decides `frame` of `unit` in `clip` (after frame 0), and the reference candidate.
        @Sendable func decided(_ clip: Int, _ frame: Int, _ unit: Int) -> (threshold: Double, candidate: Double) {
            let j = traces[clip].cellIndex(frame: frame, block: 0, unit: unit)
            return (traces[clip].states[j - cells] ? cell.betaLo[unit] : cell.betaHi[unit], traces[clip].candidates[j])
        }
        var verifier = verifier
        verifier.runner = try runner { index, answer in
            guard case var .success(result) = answer else { return }
            for (clip, frame, unit, mirrored) in flips where clip == index {
                // Frame t is time point t + 1.
                result.vectors[names[unit]]![frame + 1] = result.vectors[names[unit]]![frame + 1] > 0 ? 0 : high[unit]
                if mirrored {
                    let (threshold, candidate) = decided(clip, frame, unit)
                    result.vectors[names[cells + unit]]![frame + 1] = (2 * threshold - candidate) * iu
                }
            }
            answer = .success(result)
        }
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        let (latched, across) = (decided(2, 37, 3), decided(3, 50, 3))
        #expect(latched.candidate != latched.threshold && across.candidate != across.threshold)
        let margins = [abs(latched.candidate - latched.threshold), abs(across.candidate - across.threshold)]
        let boundaries = report.suppressionFactor.perBoundary
        #expect(boundaries[3].firstErrors == Report.FirstErrors(clips: 2, onReferenceSide: 1, across: 1, inFrame0: 0,
                                                                  medianMarginUnits: (margins[0] + margins[1]) / 2))
        #expect(boundaries[1].firstErrors == Report.FirstErrors(clips: 1, onReferenceSide: 0, across: 0, inFrame0: 1,
                                                                  medianMarginUnits: nil))
        for unit in [0, 2] {
            #expect(boundaries[unit].firstErrors == Report.FirstErrors(clips: 0, onReferenceSide: 0, across: 0, inFrame0: 0,
                                                                         medianMarginUnits: nil))
        }
        #expect(boundaries.map(\.betaLo) == cell.betaLo && boundaries.map(\.betaHi) == cell.betaHi)

        // report.json carries the new keys; a report written before them still reads, without them.
        let file = out.appendingPathComponent("report.json")
        #expect(try Report.load(from: file) == report)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var suppression = try #require(json["suppression_factor"] as? [String: Any])
        let written = try #require(suppression["per_boundary"] as? [[String: Any]])
        let counts = try #require(written[1]["first_errors"] as? [String: Any])
        #expect(counts["in_frame_0"] as? Int == 1 && counts["median_margin_units"] is NSNull)
        #expect(written[3]["beta_lo"] as? Double == cell.betaLo[3])
        suppression["per_boundary"] = written.map { $0.filter { !["beta_lo", "beta_hi", "first_errors"].contains($0.key) } }
        json["suppression_factor"] = suppression
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        let old = try Report.load(from: file)
        #expect(old.suppressionFactor.perBoundary.allSatisfy { $0.betaLo == nil && $0.betaHi == nil && $0.firstErrors == nil })
        #expect(old.suppressionFactor.perBoundary.map(\.stateAgreement) == boundaries.map(\.stateAgreement))
    }

    @Test("A failed job and unusable output give failed clips; every job failing outside the circuit is an error")
    func failedJobs() async throws {
        var verifier = verifier
        verifier.runner = try runner { index, answer in
            if index == 1 { answer = .failure(.timedOut(seconds: 1800)) }
            if index == 3, case var .success(result) = answer {
                result.vectors["time"] = [0, 1e-9]
                answer = .success(result)
            }
        }
        let out = folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let report = try await verifier.run(clips, writingTo: out, context: Self.context)
        #expect(report.clips == 4 && report.failed == 2 && report.disagreed == 0)
        #expect(report.predictionAgreement == 0.5 && !report.passed)
        let (timedOut, cut) = (report.perClip[1], report.perClip[3])
        #expect(timedOut.status == "failed" && timedOut.failureKind == .circuit && !timedOut.agrees)
        #expect(timedOut.failure == JobFailure.timedOut(seconds: 1800).description && timedOut.trace == nil)
        #expect(cut.failureKind == .circuit && (cut.failure ?? "").hasPrefix("circuit output: transient returned no vector"))
        #expect(report.frameStateAgreement == 1)

        verifier.runner = try runner { _, answer in answer = .failure(.worker("no bmru executable")) }
        await #expect(throws: VerifyError.setup("worker error: no bmru executable", others: 0)) {
            try await verifier.run(clips, writingTo: folder(), context: Self.context)
        }
    }
}
