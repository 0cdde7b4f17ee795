@testable import BMRU
import Foundation
import Testing

/// An independent, deliberately naive float64 implementation of docs/reference/model-format.md, written
/// from the named tensors (dot products then bias, nested arrays), to cross-check `Network`.
struct NaiveNetwork {
    let t: [String: Tensor]
    let blocks: Int

    init(_ model: Model) {
        t = model.tensors()
        blocks = model.config.blocks
    }

    func affine(_ name: String, _ x: [Double]) -> [Double] {
        let w = t["\(name).weight"]!, b = t["\(name).bias"]!.values
        let (rows, columns) = (w.shape[0], w.shape[1])
        return (0..<rows).map { i in zip(w.values[(i * columns)..<((i + 1) * columns)], x).map { $0 * $1 }.reduce(0, +) + b[i] }
    }

    /// Candidates, states (as 0/1) and logits per frame.
    func run(_ frames: [[Double]]) -> (candidates: [[[Double]]], states: [[[Double]]], logits: [[Double]]) {
        let relu = { (v: [Double]) in v.map { max(0, $0) } }
        var s = (0..<blocks).map { t["blocks.\($0).cell.s0"]!.values }
        var result: (candidates: [[[Double]]], states: [[[Double]]], logits: [[Double]]) = ([], [], [])
        for x in frames {
            var u = affine("pre", x)
            var cs: [[Double]] = []
            for k in 0..<blocks {
                let p = "blocks.\(k).cell"
                let c = relu(affine(p, relu(u)))
                let lo = t["\(p).beta_lo"]!.values, delta = t["\(p).delta"]!.values, alpha = t["\(p).alpha"]!.values
                for i in c.indices {
                    if c[i] > lo[i] + delta[i] { s[k][i] = 1 } else if c[i] < lo[i] { s[k][i] = 0 }
                }
                let out = relu(affine("blocks.\(k).post", zip(alpha, s[k]).map { $0 * $1 }))
                u = zip(u, out).map { $0 + $1 }
                cs.append(c)
            }
            result.candidates.append(cs)
            result.states.append(s)
            result.logits.append(affine("classifier", relu(u)))
        }
        return result
    }
}

@Suite struct NetworkTests {
    @Test func setResetHoldAndExactThresholdsByHand() throws {
        // beta_lo = 1, beta_hi = 2, alpha = 2, s0 = 0; candidate = ReLU(x).
        let inputs: [Double] = [0.5, 3, 1.5, 2, 1, 0.999, 2, -1, 0.25]
        let trace = try Network(handModel()).run(inputs.map { [$0] })
        // reset (0.5 < 1), set (3 > 2), hold (1.5), hold at exactly beta_hi, hold at exactly
        // beta_lo, reset (0.999), hold low at exactly beta_hi, reset (ReLU(-1) = 0), reset.
        #expect(trace.states == [false, true, true, true, true, false, false, false, false])
        #expect(trace.candidates == [0.5, 3, 1.5, 2, 1, 0.999, 2, 0, 0.25])
        #expect(trace.stateCurrents == [0, 2, 2, 2, 2, 0, 0, 0, 0])
        #expect(trace.blockOutputs == trace.stateCurrents)
        let u1: [Double] = [0.5, 5, 3.5, 4, 3, 0.999, 2, -1, 0.25]
        #expect(trace.residuals == zip(inputs, u1).flatMap { [$0, $1] })
        let r = u1.map { max($0, 0) }
        #expect(trace.logits == r.flatMap { [$0, 0.5 - $0] })
        // Frame 7 votes "off" (0 < 0.5); frame 8 ties (0.25, 0.25) and goes to the lower index.
        #expect(trace.decision.votes == [8, 1])
        #expect(trace.decision.majority == 0)
        #expect(trace.decision.integratedLogits == [r.reduce(0, +), r.reduce(0) { $0 + (0.5 - $1) }])
        #expect(trace.decision.integrated == 0)
    }

    @Test func initialStateHoldsUntilAThresholdIsCrossed() throws {
        var model = handModel()
        model.blocks[0].cell.s0 = [true]
        let trace = try Network(model).run([[1.5], [2], [1], [0.5]])
        #expect(trace.states == [true, true, true, false])
    }

    @Test func tiesGoToTheLowerClass() {
        #expect(ClipDecision(votes: [3, 3, 1], integratedLogits: [1, 2, 2]).majority == 0)
        #expect(ClipDecision(votes: [3, 3, 1], integratedLogits: [1, 2, 2]).integrated == 1)
        #expect(ClipDecision.argmax([-3.0, -1, -1]) == 1)
    }

    @Test(arguments: [(13, 4, 2), (5, 16, 3), (2, 3, 1)])
    func matchesAnIndependentImplementation(inputs: Int, hidden: Int, blocks: Int) throws {
        let config = ModelConfig(name: "x", inputs: inputs, hidden: hidden, blocks: blocks, classes: ["a", "b", "c"])
        let model = Model.random(config, seed: UInt64(hidden))
        var rng = SplitMix64(seed: 99)
        let frames = (0..<60).map { _ in (0..<inputs).map { _ in 2 * rng.nextGaussian() } }
        let trace = try Network(model).run(frames)
        let naive = NaiveNetwork(model).run(frames)
        #expect(trace.states.map { $0 ? 1.0 : 0.0 } == naive.states.flatMap { $0.flatMap { $0 } })
        let switches = zip(trace.states, trace.states.dropFirst(blocks * hidden)).filter { $0 != $1 }.count
        #expect(switches > 0, "the random inputs exercise set and reset")
        for (a, b) in zip(trace.logits, naive.logits.flatMap { $0 }) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b))) }
        for (a, b) in zip(trace.candidates, naive.candidates.flatMap { $0.flatMap { $0 } }) { #expect(abs(a - b) <= 1e-12 * max(1, abs(b))) }
    }

    @Test func rejectsFramesOfTheWrongWidth() {
        let error = thrown { () throws(ModelError) in try Network(handModel()).run([[1], [1, 2]]) }
        #expect(error?.description == "input frame 1 has 2 values, expected 1")
    }

    @Test func emptySequenceGivesEmptyTrace() throws {
        let trace = try Network(handModel()).run([])
        #expect(trace.frames == 0 && trace.logits.isEmpty && trace.decision.votes == [0, 0])
    }
}
