import BMRU

/// What of a model a circuit cannot resolve (`bmru model lint`): cell thresholds that the
/// candidates of the model's own inputs approach closer than the circuit resolves, hysteresis widths
/// below that resolution, and weights too small to realise.
///
/// A threshold's resolution (one sigma, amperes) combines the cell's deterministic threshold error
/// (`thresholdError`, from the characterization) with device mismatch: every current reaches the
/// comparator through 1:1 mirrors whose ratios spread independently by `mismatchSigma`. The input
/// (M1) at a threshold carries the threshold itself; a feedback cell sinks beta_hi (M2) and feeds
/// delta back through two mirrors (M8, then M7 to M9), a switched cell sinks beta_lo (M2) and, while
/// off, delta (M8). So, in units of sigma I_u (`MemoryCell.Topology`, docs/robustness.md):
/// - feedback: set sqrt(2) beta_hi, reset sqrt(beta_hi^2 + 2 delta^2 + beta_lo^2);
/// - switched: set sqrt(beta_lo^2 + delta^2 + beta_hi^2), reset sqrt(2) beta_lo.
///
/// The candidate itself carries the mismatch of its weight mirrors: with `weightSigma`, each term
/// w_ij ReLU(u_j) of a frame spreads by that fraction, which adds weightSigma sqrt(sum_j (w_ij
/// ReLU(u_j))^2) to that frame's sigma (the candidate's own layer only: upstream layers' errors reach it
/// through u and are not counted, so this is a lower bound).
public struct ModelLint: Sendable {
    /// The model.
    public var model: Model
    /// Amperes per model unit in the circuit.
    public var unitCurrent: Double
    /// The cell's deterministic threshold error, amperes (RMS): what the calibration leaves.
    public var thresholdError: Double
    /// Relative spread (one sigma) of a 1:1 mirror of the cells' devices under mismatch; 0 for none.
    public var mismatchSigma: Double
    /// How the cells make their thresholds, which sets how mismatch moves them.
    public var cellTopology: MemoryCell.Topology = .feedback
    /// Relative spread (one sigma) of a weight mirror's output under mismatch; 0 for none.
    public var weightSigma = 0.0
    /// The smallest weight magnitude the compiler realises (`Compiler.minimumRatio`).
    public var minimumRatio: Double
    /// A margin is a finding below this many sigmas of resolution.
    public static let sigmas = 3.0
    /// A threshold is a finding when at least this fraction of the frames it decides lie within
    /// `sigmas` of resolution of it: such a frame may flip the state bit on a die.
    public var likelyFraction = 0.01

    /// A lint of `model` at `unitCurrent` amperes per unit.
    public init(model: Model, unitCurrent: Double, thresholdError: Double, mismatchSigma: Double, minimumRatio: Double) {
        self.model = model
        self.unitCurrent = unitCurrent
        self.thresholdError = thresholdError
        self.mismatchSigma = mismatchSigma
        self.minimumRatio = minimumRatio
    }

    /// One thing the circuit may not resolve.
    public struct Finding: Sendable, Equatable, Codable, CustomStringConvertible {
        /// The parameter, as the model's tensors name it (`blocks.1.cell.beta_lo[1]`); the set threshold,
        /// beta_lo + delta, is `blocks.<k>.cell.beta_hi[<i>]`.
        public var parameter: String
        /// Its value, model units.
        public var value: Double
        /// `threshold`, `hysteresis` or `omitted weight`.
        public var kind: String
        /// The margin, amperes: the 1st percentile of the deciding frames' distance from a threshold,
        /// a hysteresis width, or a weight's current at one unit of input.
        public var margin: Double
        /// The resolution it is compared with (one sigma), amperes: for a threshold the median over the
        /// frames it decides (the candidate's share varies by frame); for an omitted weight the
        /// smallest realisable current at one unit of input.
        public var resolution: Double
        /// For a threshold: the frames it decides and how many of them lie within `sigmas` of resolution.
        public var frames: Int?, close: Int?

        enum CodingKeys: String, CodingKey {
            case parameter, value, kind, margin = "margin_A", resolution = "resolution_A", frames, close
        }

        /// One line naming the parameter and the margin in pA.
        public var description: String {
            let pA = { (amperes: Double) in Self.picoamperes(amperes) }
            switch kind {
            case "threshold":
                return "\(parameter) = \(Self.units(value)): \(close ?? 0) of the \(frames ?? 0) frames it decides lie within "
                    + "\(Int(ModelLint.sigmas)) sigma of it; 1st-percentile margin \(pA(margin)), median sigma \(pA(resolution))"
            case "hysteresis":
                return "\(parameter) = \(Self.units(value)): hysteresis \(pA(margin)) is below \(Int(ModelLint.sigmas)) sigma "
                    + "(\(pA(ModelLint.sigmas * resolution))) "
                    + "of the cell's threshold error"
            default:
                return "\(parameter) = \(Self.units(value)): \(pA(margin)) per unit of input is below the smallest realisable "
                    + "\(pA(resolution)); the compiler omits it"
            }
        }

        static func picoamperes(_ amperes: Double) -> String { String(format: "%.1f pA", amperes * 1e12) }
        static func units(_ value: Double) -> String { String(format: "%.4g", value) }
    }

    /// The findings on the reference's `traces` of the model's inputs: thresholds, then hysteresis
    /// widths, then omitted weights, each in parameter order.
    public func findings(traces: [Trace]) -> [Finding] {
        let (d, iu) = (model.config.hidden, unitCurrent)
        var thresholds: [Finding] = [], hysteresis: [Finding] = []
        for (k, block) in model.blocks.enumerated() {
            let cell = block.cell
            for i in 0..<d {
                let (lo, hi, delta) = (cell.betaLo[i], cell.betaHi[i], cell.delta[i])
                let (setUnits, resetUnits) = switch cellTopology {
                case .feedback: ((2 * hi * hi).squareRoot(), (hi * hi + 2 * delta * delta + lo * lo).squareRoot())
                case .switched: ((lo * lo + delta * delta + hi * hi).squareRoot(), (2 * lo * lo).squareRoot())
                }
                let (setSpread, resetSpread) = (resolution(mismatch: setUnits), resolution(mismatch: resetUnits))
                // Per frame, the distance (amperes) of the candidate from the threshold that decides it
                // (beta_lo while the cell is on, beta_hi while it is off) and that frame's sigma.
                var fromLo: [(Double, Double)] = [], fromHi: [(Double, Double)] = []
                for trace in traces {
                    var previous = cell.s0[i]
                    for t in 0..<trace.frames {
                        let index = trace.cellIndex(frame: t, block: k, unit: i)
                        let (c, terms) = (trace.candidates[index], candidateSpread(trace, frame: t, block: k, unit: i))
                        if previous {
                            fromLo.append((abs(c - lo) * iu, (resetSpread * resetSpread + terms * terms).squareRoot()))
                        } else {
                            fromHi.append((abs(c - hi) * iu, (setSpread * setSpread + terms * terms).squareRoot()))
                        }
                        previous = trace.states[index]
                    }
                }
                // beta_lo = 0 never resets (candidates are ReLU outputs): the compiler makes it unreachable.
                let checked = [("beta_hi", hi, fromHi)] + (lo > 0 ? [("beta_lo", lo, fromLo)] : [])
                for (name, value, frames) in checked where !frames.isEmpty {
                    let close = frames.filter { $0.0 < Self.sigmas * $0.1 }.count
                    guard Double(close) >= likelyFraction * Double(frames.count), close > 0 else { continue }
                    thresholds.append(Finding(parameter: "blocks.\(k).cell.\(name)[\(i)]", value: value, kind: "threshold",
                                              margin: Self.percentile(frames.map(\.0), 0.01),
                                              resolution: Self.percentile(frames.map(\.1), 0.5), frames: frames.count, close: close))
                }
                if lo > 0, delta * iu < Self.sigmas * thresholdError {
                    hysteresis.append(Finding(parameter: "blocks.\(k).cell.delta[\(i)]", value: delta, kind: "hysteresis",
                                              margin: delta * iu, resolution: thresholdError))
                }
            }
        }
        return thresholds + hysteresis + omittedWeights()
    }

    /// Weights whose magnitude is below `minimumRatio`, which the compiler leaves out: the layers'
    /// weights, then the readout's (`Compiler.readoutTerms`: with a linear readout, the products
    /// W_cls W_pre the compiler realises in place of W_cls on u_B), each once.
    func omittedWeights() -> [Finding] {
        let d = model.config.hidden, n = model.config.inputs
        var weights: [(parameter: String, value: Double)] = []
        var layers: [(String, Linear, Int)] = [("pre.weight", model.pre, n)]
        for (k, block) in model.blocks.enumerated() {
            layers += [("blocks.\(k).cell.weight", block.cell.candidate, d), ("blocks.\(k).post.weight", block.post, d)]
        }
        for (name, linear, inputs) in layers {
            weights += linear.weight.enumerated().map { flat, w in ("\(name)[\(flat / inputs)][\(flat % inputs)]", w) }
        }
        var readout = Set<String>()
        for term in Compiler.readoutTerms(model: model) where term.source != .bias && readout.insert(term.parameter).inserted {
            weights.append((term.parameter, term.value))
        }
        return weights.filter { $0.value != 0 && abs($0.value) < minimumRatio }.map { parameter, w in
            Finding(parameter: parameter, value: w, kind: "omitted weight", margin: abs(w) * unitCurrent,
                    resolution: minimumRatio * unitCurrent)
        }
    }

    /// The spread (amperes) of unit `unit`'s candidate of block `block` in `frame` from its weight
    /// mirrors: `weightSigma` times the root sum of squares of its terms w_ij ReLU(u_j).
    func candidateSpread(_ trace: Trace, frame t: Int, block k: Int, unit i: Int) -> Double {
        guard weightSigma > 0 else { return 0 }
        let d = model.config.hidden, weights = model.blocks[k].cell.candidate.weight
        let u = trace.residuals[((t * (model.blocks.count + 1) + k) * d)...].prefix(d)
        let sum = zip(weights[(i * d)..<((i + 1) * d)], u).reduce(0.0) { sum, term in sum + (term.0 * max(term.1, 0)) * (term.0 * max(term.1, 0)) }
        return weightSigma * sum.squareRoot() * unitCurrent
    }

    /// The resolution of a threshold whose current is the mismatch of `units` model units of bias.
    func resolution(mismatch units: Double) -> Double {
        let spread = mismatchSigma * units * unitCurrent
        return (thresholdError * thresholdError + spread * spread).squareRoot()
    }

    /// The `q` quantile of `values` (nearest rank).
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.down)))]
    }
}

extension ModelLint {
    /// The lint of `model` as `compiler` builds it, without mismatch: its unit current, cell topology
    /// and smallest realisable weight, and the cell threshold error of its characterization (0 for a
    /// nominal compiler). What the nominal circuit itself cannot resolve; `mismatchSigma` and
    /// `weightSigma` add a die's spread.
    public init(model: Model, compiler: Compiler) {
        self.init(model: model, unitCurrent: compiler.unitCurrent(for: model),
                  thresholdError: compiler.characterization?.cellThresholdError ?? 0, mismatchSigma: 0,
                  minimumRatio: Compiler.minimumRatio(pdk: compiler.pdk))
        cellTopology = compiler.cellTopology
    }
}

extension Characterization {
    /// The cell's deterministic threshold error, amperes: the RMS over the grid of the measured
    /// switch-on and switch-off currents minus the fits the compiler inverts.
    public var cellThresholdError: Double {
        let grid = cell.grid
        guard !grid.isEmpty else { return 0 }
        let squares = grid.reduce(0.0) { sum, point in
            let on = point.on - cell.on(threshold: point.threshold, width: point.width, gain: point.gain)
            let off = point.off - cell.off(threshold: point.threshold, width: point.width, gain: point.gain)
            return sum + on * on + off * off
        }
        return (squares / Double(2 * grid.count)).squareRoot()
    }
}
