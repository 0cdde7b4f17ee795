@testable import BMRU
import Testing

/// `FastNetwork` against the reference `Network`: the same bits (sign of zero included) for traces
/// and decisions, on every path of the kernels.
@Suite struct FastNetworkTests {
    /// Bit identity of the traces, for sizes that exercise every block width of the blocked kernel
    /// (16, 4, 2, 1) and inputs with exact zeros of both signs.
    @Test(arguments: [(13, 64, 2, 2), (13, 4, 2, 2), (5, 21, 2, 3), (3, 7, 1, 5), (2, 1, 3, 2), (17, 35, 2, 19)],
          ModelConfig.Readout.allCases)
    func tracesAreBitIdenticalToTheReference(sizes: (inputs: Int, hidden: Int, blocks: Int, classes: Int),
                                             readout: ModelConfig.Readout) throws {
        let (inputs, hidden, blocks, classes) = sizes
        let config = ModelConfig(name: "x", inputs: inputs, hidden: hidden, blocks: blocks,
                                 classes: (0..<classes).map { "c\($0)" }, readout: readout)
        let model = Model.random(config, seed: UInt64(hidden * 31 + classes))
        var rng = SplitMix64(seed: 7)
        let frames = (0..<40).map { t in
            (0..<inputs).map { j in (t + j) % 5 == 0 ? ((t + j) % 2 == 0 ? 0.0 : -0.0) : 2 * rng.nextGaussian() }
        }
        let batch = FrameBatch(clips: 1, frames: frames.count, width: inputs, values: frames.flatMap { $0 })
        let reference = try Network(model).run(frames)
        let fast = try FastNetwork(model).run(batch)[0]
        for (name, (a, b)) in zip(["candidates", "currents", "outputs", "residuals", "logits"],
                                  zip(Self.values(fast), Self.values(reference))) {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(name) differ")
        }
        #expect(fast.states == reference.states)
        let switches = zip(reference.states, reference.states.dropFirst(blocks * hidden)).filter { $0 != $1 }.count
        #expect(switches > 0, "the random inputs exercise set and reset")
        #expect(try FastNetwork(model).decide(batch) == [reference.decision])
    }

    /// `decide` (clips in SIMD lanes for small d, one at a time for large d) sums exactly the
    /// logits of the reference, bit for bit, including a last group with fewer clips than lanes;
    /// `run` traces every clip of a batch like the reference.
    @Test(arguments: [(13, 4, 2), (5, 16, 3), (5, 17, 2), (3, 1, 2), (13, 64, 2)], ModelConfig.Readout.allCases)
    func decisionsAreBitIdenticalToTheReference(sizes: (inputs: Int, hidden: Int, classes: Int), readout: ModelConfig.Readout) throws {
        let (inputs, hidden, classes) = sizes
        let config = ModelConfig(name: "x", inputs: inputs, hidden: hidden, blocks: 2, classes: (0..<classes).map { "c\($0)" },
                                 readout: readout)
        let model = Model.random(config, seed: UInt64(hidden))
        var rng = SplitMix64(seed: 11)
        let clips = FastNetwork.Lanes.scalarCount + 3, frames = 25
        let values = (0..<(clips * frames * inputs)).map { i in i % 7 == 0 ? 0 : 2 * rng.nextGaussian() }
        let batch = FrameBatch(clips: clips, frames: frames, width: inputs, values: values)
        let traces = try Network(model).run(batch)
        let decisions = try FastNetwork(model).decide(batch)
        #expect(decisions.count == clips)
        for (decision, trace) in zip(decisions, traces) {
            #expect(decision.votes == trace.decision.votes)
            #expect(decision.integratedLogits.map(\.bitPattern) == trace.decision.integratedLogits.map(\.bitPattern))
        }
        #expect(try FastNetwork(model).run(batch) == traces)
    }

    @Test func rejectsBatchesOfTheWrongWidth() {
        let config = ModelConfig(name: "x", inputs: 3, hidden: 2, blocks: 1, classes: ["a", "b"])
        let batch = FrameBatch(clips: 1, frames: 2, width: 2, values: [1, 2, 3, 4])
        let error = thrown { () throws(ModelError) in try FastNetwork(Model.random(config, seed: 1)).decide(batch) }
        #expect(error?.description == "input frame 0 has 2 values, expected 3")
    }

    /// The real-valued arrays of a trace, in a fixed order.
    static func values(_ trace: Trace) -> [[Double]] {
        [trace.candidates, trace.stateCurrents, trace.blockOutputs, trace.residuals, trace.logits]
    }
}
