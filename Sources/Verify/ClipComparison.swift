import BMRU

/// Why a clip has no samples: the job's failure or unusable output, as the report shows it.
struct ClipFailure: Error {
    /// The reason, one line.
    var description: String
    /// Whether the circuit failed or the simulation could not be set up.
    var kind: ClipReport.FailureKind
    /// Simulation seconds inside the worker (0 when it died), and how many times the job was started.
    var seconds = 0.0, attempts = 0
    /// The simulator that ran the job, if one answered (`JobOutcome.simulator`).
    var simulator: String?
}

/// One clip's comparison with its reference: the clip's report and the raw differences that the
/// run's report pools (`ReportBuilder`).
///
/// Pure: it reads the circuit's frame-end samples (`CircuitSamples`) and the reference trace, and
/// nothing else. A state current is read as a bit by `FQCell.state(current:unit:unitCurrent:)`.
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
    /// Each cell's first wrong state bit, classified; nil for a cell whose every bit agrees.
    var firstWrongBits: [FirstWrongBit?] = []
    /// Per cell, whether the reference drives it in some frame: a candidate above 0 or the state on. A
    /// cell driven in no frame of any clip is silent (`Report.Boundary.silent`).
    var referenceDriven: [Bool] = []

    /// A clip that was not compared: kept in the report as failed, for `failure`'s reason.
    init(clip: Clip, reference: Trace, failure: ClipFailure) {
        self.init(clip: clip, reference: reference, seconds: failure.seconds, attempts: failure.attempts)
        report.failure = failure.description
        report.failureKind = failure.kind
    }

    /// `clip`'s circuit `samples` (a deck compiled from `model` at `unitCurrent` amperes per model
    /// unit, frames of `period` seconds, supplies at `supply` volts) compared with its `reference`;
    /// the job took `seconds` in `attempts` starts.
    init(clip: Clip, reference: Trace, samples: CircuitSamples, seconds: Double, attempts: Int, model: Model,
         unitCurrent: Double, period: Double, supply: Double) {
        self.init(clip: clip, reference: reference, seconds: seconds, attempts: attempts)
        compare(samples, model: model, unitCurrent: unitCurrent, duration: Double(clip.frames.count) * period, supply: supply)
    }

    private init(clip: Clip, reference: Trace, seconds: Double, attempts: Int) {
        self.reference = reference
        report = ClipReport(name: clip.name, label: clip.label, frames: clip.frames.count, status: "failed",
                            failure: nil, seconds: seconds, attempts: attempts,
                            referenceDecision: reference.decision.majority, circuitDecision: nil, agrees: false)
    }

    /// Fills the comparison from the circuit's samples.
    private mutating func compare(_ samples: CircuitSamples, model: Model, unitCurrent iu: Double, duration: Double,
                                  supply: Double) {
        let (cells, frames) = (model.config.blocks * model.config.hidden, samples.frames)
        stateDifferences = Array(repeating: [], count: cells)
        candidateDifferences = stateDifferences
        cellAgreements = Array(repeating: 0, count: cells)
        firstWrongBits = Array(repeating: nil, count: cells)
        referenceDriven = Array(repeating: false, count: cells)
        (agreeingStateDifferences, agreeingCandidateDifferences) = (stateDifferences, stateDifferences)
        var votes = [0, 0]
        var firstWrong: ClipReport.StateBit?
        for t in 0..<frames {
            for cell in 0..<cells {
                let j = t * cells + cell
                let (block, unit) = cell.quotientAndRemainder(dividingBy: model.config.hidden)
                let state = samples.stateCurrents[j] - reference.stateCurrents[j] * iu
                let candidate = samples.candidates[j] - reference.candidates[j] * iu
                stateDifferences[cell].append(state)
                candidateDifferences[cell].append(candidate)
                if reference.candidates[j] > 0 || reference.states[j] { referenceDriven[cell] = true }
                blockOutputDifferences.append(samples.blockOutputs[j] - reference.blockOutputs[j] * iu)
                if model.blocks[block].cell.state(current: samples.stateCurrents[j], unit: unit, unitCurrent: iu)
                    == reference.states[j]
                {
                    cellAgreements[cell] += 1
                    agreeingStateDifferences[cell].append(state)
                    agreeingCandidateDifferences[cell].append(candidate)
                } else {
                    if firstWrong == nil { firstWrong = .init(block: block, unit: unit, frame: t) }
                    if firstWrongBits[cell] == nil {
                        firstWrongBits[cell] = t == 0 ? .inFrame0 : FirstWrongBit(
                            cell: model.blocks[block].cell, unit: unit, wasOn: reference.states[j - cells],
                            reference: reference.candidates[j], circuit: samples.candidates[j] / iu)
                    }
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

/// How a cell's first wrong state bit in a clip came about.
///
/// Before that frame both sides held the reference's previous state (every earlier bit agrees), so the
/// side that switched crossed beta_hi (from off) or beta_lo (from on): the threshold that decided the
/// frame. A circuit frame-end candidate on the reference's side of it means the cell switched on a
/// transient inside the frame and latched it (a timing error, docs/design/cell-variants.md); across it,
/// the candidate itself was wrong (an analog error).
enum FirstWrongBit: Equatable {
    /// In frame 0: not classified, since no frame-end sample shows the circuit in the reference's state before it.
    case inFrame0
    /// After frame 0: whether the circuit's candidate was on the reference's side of the deciding
    /// threshold, and the reference candidate's distance from that threshold, model units.
    case classified(onReferenceSide: Bool, marginUnits: Double)

    /// The first wrong bit of `cell`'s `unit` in a frame after 0, from the reference's state before it
    /// (`wasOn`) and both frame-end candidates in model units.
    init(cell: FQCell, unit: Int, wasOn: Bool, reference: Double, circuit: Double) {
        let threshold = wasOn ? cell.betaLo[unit] : cell.betaHi[unit]
        let margin = reference - threshold
        self = .classified(onReferenceSide: (circuit > threshold) == (margin > 0), marginUnits: abs(margin))
    }
}
