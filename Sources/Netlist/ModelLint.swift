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
        /// The parameter, as the manifest names it (`blocks.1.cell.beta_lo[1]`).
        public var parameter: String
        /// Its value, model units.
        public var value: Double
        /// `threshold`, `hysteresis` or `omitted weight`.
        public var kind: String
        /// The margin, amperes: the 1st percentile of the deciding frames' distance from a threshold,
        /// a hysteresis width, or a weight's current at one unit of input.
        public var margin: Double
        /// The resolution it is compared with (one sigma), amperes; for an omitted weight the smallest
        /// realisable current at one unit of input.
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
                    + "3 sigma (\(pA(3 * resolution))) of it; 1st-percentile margin \(pA(margin)), sigma \(pA(resolution))"
            case "hysteresis":
                return "\(parameter) = \(Self.units(value)): hysteresis \(pA(margin)) is below 3 sigma (\(pA(3 * resolution))) "
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
                // Distances (amperes) of the candidate from the threshold that decides each frame:
                // beta_lo while the cell is on, beta_hi while it is off.
                var fromLo: [Double] = [], fromHi: [Double] = []
                for trace in traces {
                    var previous = cell.s0[i]
                    for t in 0..<trace.frames {
                        let index = trace.cellIndex(frame: t, block: k, unit: i)
                        let c = trace.candidates[index]
                        if previous { fromLo.append(abs(c - lo) * iu) } else { fromHi.append(abs(c - hi) * iu) }
                        previous = trace.states[index]
                    }
                }
                let (setUnits, resetUnits) = switch cellTopology {
                case .feedback: ((2 * hi * hi).squareRoot(), (hi * hi + 2 * delta * delta + lo * lo).squareRoot())
                case .switched: ((lo * lo + delta * delta + hi * hi).squareRoot(), (2 * lo * lo).squareRoot())
                }
                let (setSigma, resetSigma) = (resolution(mismatch: setUnits), resolution(mismatch: resetUnits))
                // beta_lo = 0 never resets (candidates are ReLU outputs): the compiler makes it unreachable.
                let checked = [("beta_hi", hi, fromHi, setSigma)] + (lo > 0 ? [("beta_lo", lo, fromLo, resetSigma)] : [])
                for (name, value, distances, sigma) in checked where !distances.isEmpty {
                    let close = distances.filter { $0 < Self.sigmas * sigma }.count
                    guard Double(close) >= likelyFraction * Double(distances.count), close > 0 else { continue }
                    thresholds.append(Finding(parameter: "blocks.\(k).cell.\(name)[\(i)]", value: value, kind: "threshold",
                                              margin: Self.percentile(distances, 0.01), resolution: sigma,
                                              frames: distances.count, close: close))
                }
                if lo > 0, delta * iu < Self.sigmas * thresholdError {
                    hysteresis.append(Finding(parameter: "blocks.\(k).cell.delta[\(i)]", value: delta, kind: "hysteresis",
                                              margin: delta * iu, resolution: thresholdError))
                }
            }
        }
        return thresholds + hysteresis + omittedWeights()
    }

    /// Weights whose magnitude is below `minimumRatio`, which the compiler leaves out.
    func omittedWeights() -> [Finding] {
        let d = model.config.hidden, n = model.config.inputs
        var layers: [(String, Linear, Int)] = [("pre.weight", model.pre, n)]
        for (k, block) in model.blocks.enumerated() {
            layers += [("blocks.\(k).cell.weight", block.cell.candidate, d), ("blocks.\(k).post.weight", block.post, d)]
        }
        layers.append(("classifier.weight", model.classifier, d))
        var found: [Finding] = []
        for (name, linear, inputs) in layers {
            for (flat, w) in linear.weight.enumerated() where w != 0 && abs(w) < minimumRatio {
                found.append(Finding(parameter: "\(name)[\(flat / inputs)][\(flat % inputs)]", value: w, kind: "omitted weight",
                                     margin: abs(w) * unitCurrent, resolution: minimumRatio * unitCurrent))
            }
        }
        return found
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
