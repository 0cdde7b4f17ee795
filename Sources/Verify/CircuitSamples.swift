import BMRU
import Foundation
import Netlist
import Ngspice

/// What the circuit did in one clip, read from its transient at the end of every frame.
///
/// A frame's sample is the last time point at or before the frame's end: the compiler's PWL inputs
/// start ramping to the next frame exactly at the boundary, so this is the settled response to the
/// frame (the transient has a breakpoint there).
struct CircuitSamples: Sendable, Equatable, Codable {
    /// T, B, d of the model.
    var frames: Int, blocks: Int, hidden: Int
    /// State currents, amperes, [T, B, d].
    var stateCurrents: [Double]
    /// Candidate currents, amperes, [T, B, d].
    var candidates: [Double]
    /// Block outputs p_k, amperes, [T, B, d].
    var blockOutputs: [Double]
    /// Readout input currents A (class 0 side) and B, amperes, [T, 2].
    var classCurrents: [Double]
    /// Readout output voltage, volts, [T].
    var decisionVolts: [Double]
    /// Mean power drawn from each of `NetworkSignal.supplies`, watts, over the whole transient.
    var supplyPower: [Double]

    /// The signals a job must return for `read(_:)`: states, candidates, block outputs, readout
    /// inputs, decision, supplies, the order `init` reads them in.
    static func signals(blocks: Int, hidden: Int) -> [NetworkSignal] {
        let cells = (0..<blocks).flatMap { k in (0..<hidden).map { (k, $0) } }
        return cells.map { NetworkSignal.state(block: $0.0, unit: $0.1) }
            + cells.map { NetworkSignal.candidate(block: $0.0, unit: $0.1) }
            + cells.map { NetworkSignal.blockOutput(block: $0.0, unit: $0.1) }
            + [.readoutInput(0), .readoutInput(1), .decision] + NetworkSignal.supplies.map(NetworkSignal.supply)
    }

    /// The vectors of `signals`, as ngspice names them.
    static func vectors(blocks: Int, hidden: Int) throws(VerifyError) -> [String] {
        do {
            return try signals(blocks: blocks, hidden: hidden).map { signal throws(NetlistError) in
                try SpiceWriter.expression(signal.probe)
            }
        } catch { throw .compile(clip: "probes", error.description) }
    }

    /// What reading a clip's transient needs: the clip's length, the model's shape, the frame period
    /// and the supply.
    struct Sampling: Sendable {
        /// Frames in the clip, and the model's B and d.
        var frames: Int, blocks: Int, hidden: Int
        /// Seconds per frame, and the supply in volts.
        var period: Double, supply: Double
    }

    /// The samples of a job's outcome, or why the clip has none: the job's failure, or output that
    /// does not cover the clip (a circuit failure: nothing half-compared stays in a report).
    static func read(_ outcome: JobOutcome, _ sampling: Sampling) -> Result<CircuitSamples, ClipFailure> {
        switch outcome.result {
        case let .failure(failure):
            return .failure(ClipFailure(description: failure.description, kind: .init(failure), seconds: outcome.seconds,
                                        attempts: outcome.attempts, simulator: outcome.simulator))
        case let .success(result):
            do { return .success(try CircuitSamples(result, sampling)) } catch {
                return .failure(ClipFailure(description: error.description, kind: .circuit, seconds: outcome.seconds,
                                            attempts: outcome.attempts, simulator: outcome.simulator))
            }
        }
    }

    /// One signal's values at the accepted time points of the transient that computed it.
    struct Series: Sendable {
        /// Increasing times, seconds, and the signal's values at them.
        var time: [Double], values: [Double]
    }

    /// Samples a finished transient of `sampling.frames` frames.
    init(_ result: SimulationResult, _ sampling: Sampling) throws(VerifyError) {
        let names = try Self.vectors(blocks: sampling.blocks, hidden: sampling.hidden)
        guard let time = result.vectors["time"], time.count >= 2 else { throw .samples("transient returned no time vector") }
        var series: [[Series]] = []
        for name in names {
            guard let values = result.vectors[name], values.count == time.count else {
                throw .samples("transient returned no vector \(name)")
            }
            series.append([Series(time: time, values: values)])
        }
        try self.init(series: series, sampling)
    }

    /// Samples `series`, one entry per signal of `signals(blocks:hidden:)` in its order, each the sum
    /// of its parts: one series in a whole-circuit transient; a supply's current in a partitioned
    /// run is the sum of its partitions' (`PartitionedRun`), each on its own time points.
    init(series: [[Series]], _ sampling: Sampling) throws(VerifyError) {
        let (frames, blocks, hidden, period, supply) =
            (sampling.frames, sampling.blocks, sampling.hidden, sampling.period, sampling.supply)
        for part in series.joined() {
            guard part.time.count >= 2, part.values.count == part.time.count else { throw .samples("a signal has no transient") }
            guard part.time.last! >= Double(frames) * period * (1 - 1e-9) else {
                throw .samples("transient ended at \(part.time.last!) s, before the last frame's end")
            }
        }
        // Frame t's end is the last point at or before (t + 1) * period (relative slack for rounding).
        func frameEnds(_ time: [Double]) -> [Int] {
            var ends: [Int] = []
            var index = 0
            for t in 0..<frames {
                let end = Double(t + 1) * period * (1 + 1e-9)
                while index + 1 < time.count, time[index + 1] <= end { index += 1 }
                ends.append(index)
            }
            return ends
        }
        // [signal][frame]: each part sampled at its own frame ends.
        let sampled = series.map { parts in
            parts.map { part in frameEnds(part.time).map { part.values[$0] } }
                .reduce(into: [Double](repeating: 0, count: frames)) { sum, values in
                    for t in 0..<frames { sum[t] += values[t] }
                }
        }
        let cells = blocks * hidden
        (self.frames, self.blocks, self.hidden) = (frames, blocks, hidden)
        stateCurrents = (0..<frames).flatMap { t in (0..<cells).map { sampled[$0][t] } }
        candidates = (0..<frames).flatMap { t in (0..<cells).map { sampled[cells + $0][t] } }
        blockOutputs = (0..<frames).flatMap { t in (0..<cells).map { sampled[2 * cells + $0][t] } }
        classCurrents = (0..<frames).flatMap { t in [sampled[3 * cells][t], sampled[3 * cells + 1][t]] }
        decisionVolts = (0..<frames).map { sampled[3 * cells + 2][$0] }
        // Mean of -i(supply) * V over each part's transient by the trapezoid rule (the steps are uneven).
        supplyPower = series[(3 * cells + 3)...].map { parts in
            parts.map { part in
                let time = part.time, current = part.values
                var charge = 0.0
                for i in 1..<time.count { charge += (current[i] + current[i - 1]) / 2 * (time[i] - time[i - 1]) }
                return -charge / (time.last! - time.first!) * supply
            }.reduce(0, +)
        }
    }

    /// The class the circuit picks in frame `t`: 0 when A >= B (A - B = logit 0 - logit 1; a tie goes to
    /// the lower index, as in the reference's argmax), else 1.
    func frameDecision(_ t: Int) -> Int { classCurrents[2 * t] >= classCurrents[2 * t + 1] ? 0 : 1 }

    /// One CSV row per frame: time of the sample, then for every cell the circuit and reference
    /// candidate and state currents (amperes), state bits and block outputs (amperes), then the class
    /// currents, what they carry in the reference (`Compiler.readoutCurrents`), the reference's logit
    /// difference in amperes (logit 0 - logit 1 times the deck's unit current `iu`: what A - B should
    /// be), the circuit's and the reference's frame decisions and the readout voltage.
    func csv(reference: Trace, model: Model, unitCurrent iu: Double, period: Double) -> String {
        var header = ["frame", "t_end_s"]
        for k in 0..<blocks {
            for i in 0..<hidden {
                header += ["c\(k)_\(i)_circuit_A", "c\(k)_\(i)_reference_A", "h\(k)_\(i)_circuit_A", "h\(k)_\(i)_reference_A",
                           "s\(k)_\(i)_circuit", "s\(k)_\(i)_reference", "p\(k)_\(i)_circuit_A", "p\(k)_\(i)_reference_A"]
            }
        }
        header += ["class_a_A", "class_b_A", "class_a_reference_A", "class_b_reference_A", "logit_difference_reference_A",
                   "decision_circuit", "decision_reference", "readout_V"]
        var lines = [header.joined(separator: ",")]
        for t in 0..<frames {
            var row = ["\(t)", "\(Double(t + 1) * period)"]
            for k in 0..<blocks {
                for i in 0..<hidden {
                    let j = reference.cellIndex(frame: t, block: k, unit: i)
                    let bit = model.blocks[k].cell.state(current: stateCurrents[j], unit: i, unitCurrent: iu)
                    row += ["\(candidates[j])", "\(reference.candidates[j] * iu)", "\(stateCurrents[j])",
                            "\(reference.stateCurrents[j] * iu)", bit ? "1" : "0", reference.states[j] ? "1" : "0",
                            "\(blockOutputs[j])", "\(reference.blockOutputs[j] * iu)"]
                }
            }
            let logits = reference.logits(frame: t)
            let exact = Compiler.readoutCurrents(model: model, trace: reference, frame: t)
            row += ["\(classCurrents[2 * t])", "\(classCurrents[2 * t + 1])", "\(exact[0] * iu)", "\(exact[1] * iu)",
                    "\((logits[logits.startIndex] - logits[logits.startIndex + 1]) * iu)", "\(frameDecision(t))",
                    "\(ClipDecision.argmax(reference.logits(frame: t)))", "\(decisionVolts[t])"]
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
