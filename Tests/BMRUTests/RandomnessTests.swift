@testable import BMRU
import Testing

@Suite struct RandomnessTests {
    @Test func splitMix64MatchesTheReferenceSequence() {
        // First outputs of the reference SplitMix64 for seed 0.
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func gaussianSamplesHaveUnitVariance() {
        var rng = SplitMix64(seed: 42)
        let samples = (0..<200_000).map { _ in rng.nextGaussian() }
        let mean = samples.reduce(0, +) / Double(samples.count)
        let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.02)
        #expect(samples.allSatisfy { $0.isFinite })
    }

    @Test func perturbationIsSeededMultiplicativeAndLeavesStateBits() {
        let config = ModelConfig(name: "x", inputs: 13, hidden: 16, blocks: 2, classes: ["a", "b"])
        let model = Model.random(config, seed: 1)
        #expect(model.perturbed(sigma: 0, seed: 5) == model)
        let noisy = model.perturbed(sigma: 0.05, seed: 5)
        #expect(noisy == model.perturbed(sigma: 0.05, seed: 5))
        #expect(noisy != model.perturbed(sigma: 0.05, seed: 6))
        #expect(noisy.blocks.map(\.cell.s0) == model.blocks.map(\.cell.s0))
        let ratios = zip(noisy.pre.weight, model.pre.weight).map { $0 / $1 - 1 }
        let spread = (ratios.map { $0 * $0 }.reduce(0, +) / Double(ratios.count)).squareRoot()
        #expect(spread > 0.04 && spread < 0.06, "relative deviations have standard deviation sigma")
        #expect(zip(noisy.blocks[1].cell.alpha, model.blocks[1].cell.alpha).allSatisfy { $0 != $1 })
    }

    @Test func randomModelsSatisfyTheHardwareConstraints() throws {
        let config = ModelConfig(name: "x", inputs: 2, hidden: 5, blocks: 3, classes: ["a", "b"])
        let model = Model.random(config, seed: 9)
        // Loading from tensors runs every validation.
        #expect(try Model(config: config, tensors: model.tensors(), file: "memory") == model)
    }
}
