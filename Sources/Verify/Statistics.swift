/// Size of a set of differences (circuit minus reference), in amperes and in model units.
public struct Discrepancy: Sendable, Equatable, Codable {
    /// Root mean square, amperes.
    public var rms: Double
    /// 95th percentile of the magnitude (nearest rank), amperes.
    public var p95: Double
    /// Largest magnitude, amperes.
    public var max: Double
    /// The same three in model units (divided by the unit current).
    public var rmsUnits: Double, p95Units: Double, maxUnits: Double
    /// Number of differences.
    public var count: Int

    enum CodingKeys: String, CodingKey {
        case rms = "rms_A", p95 = "p95_A", max = "max_A", rmsUnits = "rms_units", p95Units = "p95_units"
        case maxUnits = "max_units", count
    }

    /// The statistics of `differences` (amperes); nil when there are none.
    public init?(_ differences: [Double], unitCurrent: Double) {
        guard !differences.isEmpty else { return nil }
        let magnitudes = differences.map(abs).sorted()
        rms = Self.rms(differences)
        p95 = magnitudes[Swift.max(0, Int((0.95 * Double(magnitudes.count)).rounded(.up)) - 1)]
        max = magnitudes[magnitudes.count - 1]
        (rmsUnits, p95Units, maxUnits) = (rms / unitCurrent, p95 / unitCurrent, max / unitCurrent)
        count = differences.count
    }

    /// Root mean square of `values` (0 for none).
    static func rms(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
    }
}

/// The median of `values` (mean of the middle two for an even count); nil for none.
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted(), middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
