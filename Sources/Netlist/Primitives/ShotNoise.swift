/// Shot noise of the circuit's currents in the transient: a zero-mean noise current source in
/// parallel with each current-carrying element (`SourceValue.whiteNoise`).
///
/// Shot noise has a one-sided power spectral density of 2 q I. A source that draws a new Gaussian
/// value every `step` seconds is white up to 1 / (2 step), so its variance over that band is
/// 2 q I / (2 step) = q I / step. The step sets the cost, since the simulator follows every value:
/// the default 100 us (5 kHz of noise bandwidth, a hundredth of a frame) is the measured compromise;
/// 10 us would cover the nodes' bandwidth (they settle in tens of microseconds) at several times
/// its cost (docs/robustness.md gives the measurements).
public struct ShotNoise: Sendable, Equatable, Codable {
    /// The elementary charge, coulombs.
    public static let electronCharge = 1.602_176_634e-19

    /// Multiplies the physical amplitude: 1 is shot noise, 3 and 10 stress the circuit further.
    public var scale: Double
    /// Interval between the noise sources' independent values, seconds.
    public var step: Double

    /// Noise `scale` times shot noise, new values every `step` seconds.
    public init(scale: Double, step: Double = 1e-4) {
        self.scale = scale
        self.step = step
    }

    /// RMS amplitude of the source that stands for the shot noise of `current` amperes.
    public func rms(current: Double) -> Double {
        scale * (Self.electronCharge * abs(current) / step).squareRoot()
    }

    /// The noise source of `current` between `positive` and `negative` (named `nz_<name>`), or nil
    /// when it would be silent.
    public func source(for name: String, between positive: String, _ negative: String, current: Double) -> Element? {
        let rms = rms(current: current)
        guard rms > 0 else { return nil }
        return .currentSource(name: "nz_" + name, positive: positive, negative: negative,
                              value: .whiteNoise(rms: rms, step: step))
    }
}
