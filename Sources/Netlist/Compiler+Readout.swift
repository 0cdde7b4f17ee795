import BMRU

/// One contribution to the readout's class currents: `weight` times a non-negative source current
/// on logit `logit`, carried by readout input `Compiler.readoutInput(logit:value: weight)` as
/// |weight| times the source.
public struct ReadoutTerm: Sendable, Equatable {
    /// The current a readout term mirrors (model units).
    public enum Source: Sendable, Equatable, Hashable {
        /// One unit: a bias.
        case bias
        /// ReLU(u_B,i), the node of the last residual (ReLU readout).
        case residual(Int)
        /// x_j+ = max(x_j, 0), or x_j- = max(-x_j, 0) when `negative`.
        case input(Int, negative: Bool)
        /// p_k,i, block k's output i.
        case blockOutput(block: Int, unit: Int)
    }

    /// The logit (0 or 1) it adds to.
    public var logit: Int
    /// What it mirrors.
    public var source: Source
    /// Its signed weight on `source`.
    public var weight: Double
    /// The manifest's name of what it realises (`classifier.weight[0][2]`, `classifier.pre.weight[1][5]`).
    public var parameter: String
    /// That parameter's value, model units (an x_j- term's weight is its negative).
    public var value: Double

    /// The source's current in frame `t` of `trace`, model units.
    public func sourceValue(_ trace: Trace, frame t: Int) -> Double {
        let (blocks, d) = (trace.blocks, trace.hidden)
        switch source {
        case .bias: return 1
        case let .residual(i): return max(trace.residuals[(t * (blocks + 1) + blocks) * d + i], 0)
        case let .input(j, negative):
            let x = trace.inputs[t * trace.width + j]
            return max(negative ? -x : x, 0)
        case let .blockOutput(k, i): return trace.blockOutputs[trace.cellIndex(frame: t, block: k, unit: i)]
        }
    }
}

extension Compiler {
    /// The readout input (0: A, 1: B) that carries the term of logit `logit` (0 or 1) with weight or
    /// bias `value`: A takes the positive parts of logit 0 and the negative parts of logit 1, B the
    /// rest, so that A - B = logit 0 - logit 1 with every current non-negative.
    public static func readoutInput(logit: Int, value: Double) -> Int { value >= 0 ? logit : 1 - logit }

    /// The terms that make the class currents of a two-class `model`, per logit: its bias, then its
    /// inputs' terms.
    ///
    /// A ReLU readout mirrors the last residual's nodes: b_cls[c] + sum_i W_cls[c][i] ReLU(u_B,i).
    /// A linear readout needs the signed u_B = W_pre x + b_pre + p_0 + ... + p_(B-1), which a node
    /// cannot carry (its diode is a ReLU). It is folded into the mirrors that build u_B instead:
    /// logit c = (b_cls + W_cls b_pre)[c] + sum_j (W_cls W_pre)[c][j] (x_j+ - x_j-)
    /// + sum_k sum_i W_cls[c][i] p_k,i, each term a mirror output of an input or block-output line
    /// straight into the readout, so the u_B nodes are not built at all. The alternative, a
    /// positive/negative pair (a second node per unit summing the negated terms of u_B, read with
    /// negated weights), keeps the u_B nodes, adds as many again, and leaks the off node's diode
    /// current into the class currents; the fold removes them, passes each input through one mirror
    /// fewer, and costs fewer transistors and less power
    /// (docs/notes/2026-12-05-linear-readout.md).
    public static func readoutTerms(model: Model) -> [ReadoutTerm] {
        let (n, d, blocks) = (model.config.inputs, model.config.hidden, model.config.blocks)
        let classifier = model.classifier
        var terms: [ReadoutTerm] = []
        for c in 0..<2 {
            let row = Array(classifier.weight[(c * d)..<((c + 1) * d)])
            switch model.config.readout {
            case .relu:
                let bias = classifier.bias[c]
                terms.append(ReadoutTerm(logit: c, source: .bias, weight: bias, parameter: "classifier.bias[\(c)]", value: bias))
                for (i, w) in row.enumerated() {
                    terms.append(ReadoutTerm(logit: c, source: .residual(i), weight: w, parameter: "classifier.weight[\(c)][\(i)]", value: w))
                }
            case .linear:
                // Summed in index order from the classifier's bias, as the reference sums a layer.
                var bias = classifier.bias[c]
                for i in 0..<d { bias += row[i] * model.pre.bias[i] }
                terms.append(ReadoutTerm(logit: c, source: .bias, weight: bias, parameter: "classifier.pre.bias[\(c)]", value: bias))
                for j in 0..<n {
                    var w = 0.0
                    for i in 0..<d { w += row[i] * model.pre.weight[i * n + j] }
                    let parameter = "classifier.pre.weight[\(c)][\(j)]"
                    terms.append(ReadoutTerm(logit: c, source: .input(j, negative: false), weight: w, parameter: parameter, value: w))
                    terms.append(ReadoutTerm(logit: c, source: .input(j, negative: true), weight: -w, parameter: parameter, value: w))
                }
                for k in 0..<blocks {
                    for (i, w) in row.enumerated() {
                        terms.append(ReadoutTerm(logit: c, source: .blockOutput(block: k, unit: i), weight: w,
                                                 parameter: "classifier.weight[\(c)][\(i)]", value: w))
                    }
                }
            }
        }
        return terms
    }

    /// What the readout's inputs A and B carry in an exact circuit in frame `t` of `trace`, model
    /// units: every `readoutTerms` term of the two-class `model` on its `readoutInput`. Compared with
    /// the measured class currents it splits an error of A - B by input.
    public static func readoutCurrents(model: Model, trace: Trace, frame t: Int) -> [Double] {
        var currents = [0.0, 0.0]
        for term in readoutTerms(model: model) {
            currents[readoutInput(logit: term.logit, value: term.weight)] += abs(term.weight) * term.sourceValue(trace, frame: t)
        }
        return currents
    }
}
