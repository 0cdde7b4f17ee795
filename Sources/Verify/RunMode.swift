import Netlist

/// How a clip's circuit is simulated (`--mode` of `bmru verify`, `kws` and `demo`): one whole-circuit
/// transient with the reference or the fast step control, or the fast step control on the network
/// cut at its gate lines (`Verifier.partitioned`, docs/design/partitioned-simulation.md).
public enum RunMode: String, Sendable, Equatable, Codable, CaseIterable {
    /// The whole circuit with the reference settings (`SimulationMode.transient`).
    case transient
    /// The whole circuit with the fast settings (`SimulationMode.fast`), guarded against `transient`.
    case fast
    /// The fast settings on partitions with replica loads, stage by stage: the cost grows with the
    /// circuit instead of faster, which is what makes d >= 32 affordable.
    case partitioned

    /// The step control and tolerances of the transients.
    public var simulation: SimulationMode { self == .transient ? .transient : .fast }

    /// The load on the cut lines when the network is partitioned; nil: the whole circuit.
    public var partitionLoad: Partitioning.Load? { self == .partitioned ? .replica : nil }

    /// Reads a mode by name; an unknown name is refused with the names there are, which a file's
    /// one-line error (`fileErrorReason`) then shows under the field's path.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let mode = Self(rawValue: name) else {
            let names = Self.allCases.map(\.rawValue)
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(name)' is not a mode (\(names.dropLast().joined(separator: ", ")) or \(names.last!))")
        }
        self = mode
    }
}
