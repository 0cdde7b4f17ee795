/// The original signed BMRU cell (arXiv 2601.09495), software only: it needs negative currents and
/// input-dependent thresholds, so the circuit compiler does not map it. Kept to compare the
/// first-quadrant cell against its signed cousin.
///
/// c = W_c x + b_c, beta = W_b x + b_b, z = H(|c| - |beta|) (strict), s = z sign(c) + (1 - z) s_prev,
/// states +-1, output alpha * s.
public struct SignedBMRUCell: Sendable, Equatable {
    /// Candidate projection W_c, b_c.
    public var candidate: Linear
    /// Threshold projection W_b, b_b.
    public var threshold: Linear
    /// Output level per unit.
    public var alpha: [Double]

    /// Creates a cell; both projections must have `alpha.count` outputs and equal input sizes.
    public init(candidate: Linear, threshold: Linear, alpha: [Double]) {
        precondition(candidate.outputs == alpha.count && threshold.outputs == alpha.count && candidate.inputs == threshold.inputs,
                     "signed cell sizes disagree")
        self.candidate = candidate
        self.threshold = threshold
        self.alpha = alpha
    }

    /// One time step: updates the +-1 `state` in place and returns the outputs alpha * s.
    public func step(_ input: [Double], state: inout [Double]) -> [Double] {
        let c = candidate(input), beta = threshold(input)
        for i in state.indices where abs(c[i]) > abs(beta[i]) {
            state[i] = c[i] > 0 ? 1 : -1  // |c| > |beta| >= 0, so c != 0.
        }
        return zip(alpha, state).map { $0 * $1 }
    }
}

/// The eps-leaky training relaxation of the FQ cell, software only:
/// s_t = hold s_{t-1} + (1 - hold)(hi + eps s_{t-1}) with hold = (1 - lo)(1 - hi).
/// eps = 1 is the cumulative CMRU used early in training, eps = 0 is exactly the hardware cell;
/// states are real numbers in between.
public struct LeakyFQCell: Sendable, Equatable {
    /// Thresholds, levels and candidate projection, shared with the hardware cell.
    public var cell: FQCell
    /// Leak factor eps in [0, 1].
    public var epsilon: Double

    /// Creates a leaky cell.
    public init(cell: FQCell, epsilon: Double) {
        self.cell = cell
        self.epsilon = epsilon
    }

    /// The initial states s0 as numbers.
    public var initialState: [Double] { cell.s0.map { $0 ? 1 : 0 } }

    /// One time step: updates the real-valued `state` in place and returns the candidates and the
    /// state currents alpha * s.
    public func step(_ input: [Double], state: inout [Double]) -> (candidate: [Double], current: [Double]) {
        let c = cell.candidate(input).map { max($0, 0) }
        let betaHi = cell.betaHi
        for i in state.indices {
            let hi: Double = c[i] > betaHi[i] ? 1 : 0
            let lo: Double = c[i] < cell.betaLo[i] ? 1 : 0
            let hold = (1 - lo) * (1 - hi)
            state[i] = hold * state[i] + (1 - hold) * (hi + epsilon * state[i])
        }
        return (c, zip(cell.alpha, state).map { $0 * $1 })
    }
}
