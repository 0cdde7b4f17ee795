/// Input sequences of equal length in one flat row-major buffer [clips, frames, width], the layout
/// of the golden files' `inputs` tensor and the cheapest to run.
public struct FrameBatch: Sendable, Equatable {
    /// Number of sequences.
    public let clips: Int
    /// Frames per sequence.
    public let frames: Int
    /// Values per frame (the model's `inputs`).
    public let width: Int
    /// `clips * frames * width` values; frame t of clip g starts at `(g * frames + t) * width`.
    public let values: [Double]

    /// Creates a batch; `values.count` must be `clips * frames * width` (a programming error
    /// otherwise).
    public init(clips: Int, frames: Int, width: Int, values: [Double]) {
        precondition(clips >= 0 && frames >= 0 && width >= 1 && values.count == clips * frames * width,
                     "batch of \(values.count) values is not \(clips) x \(frames) x \(width)")
        self.clips = clips
        self.frames = frames
        self.width = width
        self.values = values
    }

    /// One sequence of frames; every frame must have `width` values.
    public init(sequence: [[Double]], width: Int) throws(ModelError) {
        for (t, frame) in sequence.enumerated() where frame.count != width {
            throw .inputWidth(frame: t, expected: width, actual: frame.count)
        }
        self.init(clips: 1, frames: sequence.count, width: width, values: sequence.flatMap { $0 })
    }

    /// The first `count` frames (all when nil or larger) of sequence `clip` (which must exist), one
    /// array per frame: the form the netlist compiler takes as PWL inputs.
    public func sequence(_ clip: Int, frames count: Int? = nil) -> [[Double]] {
        precondition((0..<clips).contains(clip), "sequence \(clip) of a batch of \(clips)")
        return (0..<min(count ?? frames, frames)).map { t in
            let start = (clip * frames + t) * width
            return Array(values[start..<start + width])
        }
    }
}

/// The two clip decisions of the format: the majority vote of per-frame argmax and the argmax of
/// the time-integrated logits. Ties go to the lower class index in both.
public struct ClipDecision: Sendable, Equatable {
    /// Frames won by each class.
    public let votes: [Int]
    /// Sum of each class's logits over the frames.
    public let integratedLogits: [Double]

    /// Creates a decision from vote counts and summed logits.
    public init(votes: [Int], integratedLogits: [Double]) {
        self.votes = votes
        self.integratedLogits = integratedLogits
    }

    /// The class with the most frame votes (lowest index on ties).
    public var majority: Int { Self.argmax(votes.map(Double.init)) }
    /// The class with the largest integrated logit (lowest index on ties).
    public var integrated: Int { Self.argmax(integratedLogits) }

    /// Index of the first maximum; 0 for an empty array.
    public static func argmax<C: Collection<Double>>(_ values: C) -> Int {
        var (best, bestValue) = (0, -Double.infinity)
        for (i, v) in values.enumerated() where i == 0 || v > bestValue { (best, bestValue) = (i, v) }
        return best
    }
}

/// Everything the reference network computes for one sequence, frame by frame, in flat row-major
/// arrays (T = frames, n = inputs, B = blocks, d = hidden, C = classes), with the inputs it ran on.
public struct Trace: Sendable, Equatable {
    /// T.
    public let frames: Int
    /// n.
    public let width: Int
    /// B.
    public let blocks: Int
    /// d.
    public let hidden: Int
    /// C.
    public let classes: Int
    /// The input frames x_t, [T, n]: what a linear readout's folded terms read (`Compiler.readoutCurrents`).
    public internal(set) var inputs: [Double]
    /// Candidates c_k, [T, B, d].
    public internal(set) var candidates: [Double]
    /// State bits s_k,t after each frame's update, [T, B, d].
    public internal(set) var states: [Bool]
    /// State currents h_k = alpha * s_k, [T, B, d].
    public internal(set) var stateCurrents: [Double]
    /// Block outputs p_k = ReLU(W_post h_k + b_post), [T, B, d].
    public internal(set) var blockOutputs: [Double]
    /// Residual stream u_0 (pre-projection output) ... u_B, [T, B + 1, d].
    public internal(set) var residuals: [Double]
    /// Logits, [T, C].
    public internal(set) var logits: [Double]

    init(frames: Int, width: Int, blocks: Int, hidden: Int, classes: Int) {
        (self.frames, self.width, self.blocks, self.hidden, self.classes) = (frames, width, blocks, hidden, classes)
        inputs = [Double](repeating: 0, count: frames * width)
        let cells = frames * blocks * hidden
        candidates = [Double](repeating: 0, count: cells)
        states = [Bool](repeating: false, count: cells)
        stateCurrents = candidates
        blockOutputs = candidates
        residuals = [Double](repeating: 0, count: frames * (blocks + 1) * hidden)
        logits = [Double](repeating: 0, count: frames * classes)
    }

    /// Flat index of (frame, block, unit) in the [T, B, d] arrays.
    public func cellIndex(frame: Int, block: Int, unit: Int) -> Int {
        (frame * blocks + block) * hidden + unit
    }

    /// The logits of one frame.
    public func logits(frame: Int) -> ArraySlice<Double> {
        logits[(frame * classes)..<((frame + 1) * classes)]
    }

    /// Majority vote and integrated-logit decision over all frames.
    public var decision: ClipDecision {
        var votes = [Int](repeating: 0, count: classes)
        var sums = [Double](repeating: 0, count: classes)
        for t in 0..<frames {
            let frame = logits(frame: t)
            votes[ClipDecision.argmax(frame)] += 1
            for (c, value) in frame.enumerated() { sums[c] += value }
        }
        return ClipDecision(votes: votes, integratedLogits: sums)
    }
}

/// The float64 reference of an FQ-BMRU network, exactly as docs/reference/model-format.md defines
/// it, written to be read: the format's per-frame loop over the model's layers. It is, with the
/// numpy `scripts/train/reference.py`, one of the two oracles that the circuit (`bmru verify`), the
/// golden files (`bmru model check`) and the fast kernels (`FastNetwork`) are checked against.
///
/// Every output of a layer starts from its bias and adds w_ij * x_j in input order with no fused
/// multiply-add, skipping the inputs x_j == 0 (a zero product changes a sum only in the sign of a
/// zero), so that `FastNetwork` can reproduce it bit for bit; the state update is `FQCell.nextState`.
public struct Network: Sendable {
    /// The model being run.
    public let model: Model

    /// Prepares a model for running.
    public init(_ model: Model) {
        self.model = model
    }

    /// Runs one sequence of frames (each `model.config.inputs` values) from the initial states.
    public func run(_ frames: [[Double]]) throws(ModelError) -> Trace {
        try run(FrameBatch(sequence: frames, width: model.config.inputs))[0]
    }

    /// Runs every sequence of a batch, each from the initial states, and returns full traces.
    public func run(_ batch: FrameBatch) throws(ModelError) -> [Trace] {
        guard batch.width == model.config.inputs else {
            throw .inputWidth(frame: 0, expected: model.config.inputs, actual: batch.width)
        }
        return (0..<batch.clips).map { trace(batch.sequence($0)) }
    }

    /// The trace of one sequence whose frames have the model's width.
    private func trace(_ frames: [[Double]]) -> Trace {
        let (blocks, d, classes) = (model.blocks.count, model.config.hidden, model.config.classes.count)
        var trace = Trace(frames: frames.count, width: model.config.inputs, blocks: blocks, hidden: d, classes: classes)
        trace.inputs = frames.flatMap { $0 }
        let betaHi = model.blocks.map(\.cell.betaHi)
        var states = model.blocks.map(\.cell.s0)
        let readout = model.config.readout
        for (t, x) in frames.enumerated() {
            var u = Self.affine(model.pre, x)
            var stream = u  // u_0 ... u_B of this frame
            for (k, block) in model.blocks.enumerated() {
                let cell = block.cell
                let c = Self.affine(cell.candidate, u.map(Self.relu)).map(Self.relu)
                for i in 0..<d {
                    states[k][i] = FQCell.nextState(candidate: c[i], betaLo: cell.betaLo[i], betaHi: betaHi[k][i],
                                                    previous: states[k][i])
                }
                let h = (0..<d).map { states[k][$0] ? cell.alpha[$0] : 0 }
                let p = Self.affine(block.post, h).map(Self.relu)
                u = zip(u, p).map(+)
                stream += u
                let cells = trace.cellIndex(frame: t, block: k, unit: 0)..<trace.cellIndex(frame: t, block: k, unit: d)
                trace.candidates.replaceSubrange(cells, with: c)
                trace.states.replaceSubrange(cells, with: states[k])
                trace.stateCurrents.replaceSubrange(cells, with: h)
                trace.blockOutputs.replaceSubrange(cells, with: p)
            }
            trace.residuals.replaceSubrange((t * stream.count)..<((t + 1) * stream.count), with: stream)
            trace.logits.replaceSubrange((t * classes)..<((t + 1) * classes), with: Self.affine(model.classifier, u.map(readout.input)))
        }
        return trace
    }

    /// W x + b: every output starts from its bias and adds w_ij * x_j in input order, skipping the
    /// zero inputs.
    private static func affine(_ layer: Linear, _ x: [Double]) -> [Double] {
        var y = layer.bias
        for j in 0..<layer.inputs where x[j] != 0 {
            for i in 0..<layer.outputs { y[i] += layer.weight[i * layer.inputs + j] * x[j] }
        }
        return y
    }

    /// max(v, 0).
    private static func relu(_ v: Double) -> Double { max(v, 0) }
}
