@testable import BMRU
import Testing

@Suite struct SoftwareCellTests {
    @Test func signedCellSwitchesOnlyWhenCandidateExceedsThresholdInMagnitude() {
        // c = x, beta = 1 (constant threshold through the bias), alpha = 0.5.
        let cell = SignedBMRUCell(candidate: Linear(inputs: 1, weight: [1], bias: [0]),
                                  threshold: Linear(inputs: 1, weight: [0], bias: [1]), alpha: [0.5])
        var state: [Double] = [1]
        let outputs = [-2.0, 0.5, -1, 1, 3, -0.9].map { cell.step([$0], state: &state)[0] }
        // -2 resets to -1; |0.5| and exactly |+-1| hold; 3 sets; -0.9 holds.
        #expect(outputs == [-0.5, -0.5, -0.5, -0.5, 0.5, 0.5])
    }

    @Test func signedCellUsesInputDependentThreshold() {
        // beta = x: |c| = |2x| > |x| whenever x != 0, so the state follows sign(x).
        let cell = SignedBMRUCell(candidate: Linear(inputs: 1, weight: [2], bias: [0]),
                                  threshold: Linear(inputs: 1, weight: [1], bias: [0]), alpha: [1])
        var state: [Double] = [-1]
        #expect([0.1, 0, -3].map { cell.step([$0], state: &state)[0] } == [1, 1, -1])
    }

    @Test func leakyCellWithZeroEpsilonIsTheHardwareCell() throws {
        let config = ModelConfig(name: "x", inputs: 3, hidden: 6, blocks: 1, classes: ["a", "b"])
        // The pre-projection (3 -> 6) serves as candidate projection with block 0's cell constants.
        let model = Model.random(config, seed: 11), cell = model.blocks[0].cell
        let leaky = LeakyFQCell(cell: FQCell(candidate: model.pre, alpha: cell.alpha, betaLo: cell.betaLo, delta: cell.delta, s0: cell.s0),
                                epsilon: 0)
        var bits = leaky.cell.s0, real = leaky.initialState
        var rng = SplitMix64(seed: 4)
        for _ in 0..<200 {
            let x = (0..<3).map { _ in 2 * rng.nextGaussian() }
            let hardware = leaky.cell.step(x, state: &bits)
            let relaxed = leaky.step(x, state: &real)
            #expect(relaxed.candidate == hardware.candidate)
            #expect(relaxed.current == hardware.current)
            #expect(real == bits.map { $0 ? 1 : 0 })
        }
    }

    @Test func leakyCellAccumulatesWithEpsilonOne() {
        // beta_lo = 1, beta_hi = 2: eps = 1 adds hi to the state on a set and keeps it on a reset.
        let cell = FQCell(candidate: Linear(inputs: 1, weight: [1], bias: [0]), alpha: [1], betaLo: [1], delta: [1], s0: [false])
        let leaky = LeakyFQCell(cell: cell, epsilon: 1)
        var state = leaky.initialState
        let states = [3.0, 3, 1.5, 0, 3].map { x -> Double in
            _ = leaky.step([x], state: &state)
            return state[0]
        }
        #expect(states == [1, 2, 2, 2, 3])
        let half = LeakyFQCell(cell: cell, epsilon: 0.5)
        var s = [4.0]
        _ = half.step([0], state: &s)
        #expect(s == [2])
    }
}
