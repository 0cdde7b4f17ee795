import Foundation

extension SimulationResult {
    /// The vector names in output order: the scale first, then the others sorted.
    public var orderedNames: [String] {
        let others = vectors.keys.filter { $0 != scale }.sorted()
        return (scale.map { [$0] } ?? []) + others
    }

    /// The result as `{"analysis": "...", "vectors": {"NAME": [numbers]}}`.
    public func json() throws -> String {
        struct Document: Encodable {
            var analysis: String
            var plot: String
            var scale: String?
            var vectors: [String: [Double]]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(Document(analysis: analysis, plot: plot, scale: scale, vectors: vectors))
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The result as CSV: a header of vector names, then one row per point (full precision).
    public func csv() -> String {
        let names = orderedNames
        let rows = names.map { vectors[$0] ?? [] }.map(\.count).max() ?? 0
        var text = names.joined(separator: ",") + "\n"
        for row in 0..<rows {
            text += names.map { name in
                let values = vectors[name] ?? []
                return row < values.count ? "\(values[row])" : ""
            }.joined(separator: ",") + "\n"
        }
        return text
    }
}
