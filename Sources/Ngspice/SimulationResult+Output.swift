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
        let columns = names.map { vectors[$0] ?? [] }
        let rows = columns.map(\.count).max() ?? 0
        var text = names.joined(separator: ",") + "\n"
        text.reserveCapacity(rows * columns.count * 24)
        for row in 0..<rows {
            for (index, column) in columns.enumerated() {
                if index > 0 { text.append(",") }
                if row < column.count { text.append(column[row].description) }
            }
            text.append("\n")
        }
        return text
    }
}
