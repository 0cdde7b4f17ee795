import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast, seedable generator whose streams are the
/// same on every platform, so noise studies are reproducible from their seed alone.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spare: Double?

    /// Creates a generator; equal seeds give equal streams.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A standard normal sample by the Box-Muller transform: each pair of uniforms gives two
    /// samples, the second kept for the next call.
    public mutating func nextGaussian() -> Double {
        if let value = spare {
            spare = nil
            return value
        }
        // u1 in (0, 1] so that log(u1) is finite; 53 random bits each.
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        let radius = (-2 * Foundation.log(u1)).squareRoot()
        spare = radius * Foundation.sin(2 * Double.pi * u2)
        return radius * Foundation.cos(2 * Double.pi * u2)
    }
}

extension Model {
    /// A copy with multiplicative Gaussian noise p (1 + N(0, sigma)) on every learned scalar, the
    /// paper's software robustness study (sigma = 5 %, 10 %, 15 % / 3).
    ///
    /// Draws from `SplitMix64(seed:)`, one sample per scalar in this order: pre.weight, pre.bias,
    /// then per block cell.weight, cell.bias, alpha, beta_lo, delta, post.weight, post.bias, then
    /// classifier.weight, classifier.bias (each row-major). beta_hi follows as beta_lo + delta;
    /// the initial states s0 are bits and stay unchanged. Large sigma can push alpha or delta
    /// below zero: the hardware constraints are not re-checked.
    public func perturbed(sigma: Double, seed: UInt64) -> Model {
        var rng = SplitMix64(seed: seed)
        func noisy(_ values: inout [Double]) {
            for i in values.indices { values[i] *= 1 + sigma * rng.nextGaussian() }
        }
        func noisy(_ layer: inout Linear) {
            noisy(&layer.weight)
            noisy(&layer.bias)
        }
        var copy = self
        noisy(&copy.pre)
        for k in copy.blocks.indices {
            noisy(&copy.blocks[k].cell.candidate)
            noisy(&copy.blocks[k].cell.alpha)
            noisy(&copy.blocks[k].cell.betaLo)
            noisy(&copy.blocks[k].cell.delta)
            noisy(&copy.blocks[k].post)
        }
        noisy(&copy.classifier)
        return copy
    }
}

extension Model {
    /// A model with random parameters that satisfy the hardware constraints, for tests and
    /// benchmarks: weights and biases N(0, 1/sqrt(fan-in)), alpha in [0.5, 1.5), beta_lo in [0, 1),
    /// delta in [0.1, 1.1), random s0 bits, all from `SplitMix64(seed:)`.
    public static func random(_ config: ModelConfig, seed: UInt64) -> Model {
        var rng = SplitMix64(seed: seed)
        func uniform(_ low: Double, _ high: Double, _ count: Int) -> [Double] {
            (0..<count).map { _ in Double.random(in: low..<high, using: &rng) }
        }
        func linear(_ inputs: Int, _ outputs: Int) -> Linear {
            let scale = 1 / Double(inputs).squareRoot()
            return Linear(inputs: inputs, weight: (0..<(inputs * outputs)).map { _ in scale * rng.nextGaussian() },
                          bias: (0..<outputs).map { _ in scale * rng.nextGaussian() })
        }
        let d = config.hidden
        let pre = linear(config.inputs, d)
        let blocks = (0..<config.blocks).map { _ in
            Block(cell: FQCell(candidate: linear(d, d), alpha: uniform(0.5, 1.5, d), betaLo: uniform(0, 1, d),
                               delta: uniform(0.1, 1.1, d), s0: (0..<d).map { _ in Bool.random(using: &rng) }),
                  post: linear(d, d))
        }
        return Model(config: config, pre: pre, blocks: blocks, classifier: linear(d, config.classes.count))
    }
}
