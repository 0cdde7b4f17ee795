/// Why a circuit could not be built or written; each description is one line naming the culprit.
public enum NetlistError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A node, element, subcircuit or parameter name is empty.
    case emptyName
    /// Two things of one scope have the same written name (after sanitising).
    case duplicateName(String, scope: String)
    /// An instance names a subcircuit the circuit does not define.
    case unknownSubcircuit(String, instance: String)
    /// An instance connects a different number of nodes than its subcircuit has ports.
    case portMismatch(instance: String, expected: Int, got: Int)
    /// A value cannot be written (not finite, empty or non-increasing PWL, multiplier below 1).
    case invalidValue(String, String)
    /// An analysis that is not a deck statement.
    case invalidAnalysis(String)
    /// A device dimension is below the PDK's minimum.
    case belowMinimum(what: String, value: Double, minimum: Double, pdk: String)
    /// A generator parameter is out of its range (a non-positive mirror ratio, no outputs).
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .emptyName: "empty name in the netlist"
        case let .duplicateName(name, scope): "duplicate name '\(name)' in \(scope)"
        case let .unknownSubcircuit(name, instance): "instance \(instance) names undefined subcircuit '\(name)'"
        case let .portMismatch(instance, expected, got):
            "instance \(instance) connects \(got) nodes but its subcircuit has \(expected) ports"
        case let .invalidValue(owner, reason): "invalid value in \(owner): \(reason)"
        case let .invalidAnalysis(reason): "invalid analysis: \(reason)"
        case let .belowMinimum(what, value, minimum, pdk):
            "\(what) \(value) m is below the minimum \(minimum) m of \(pdk)"
        case let .invalidParameter(reason): "invalid generator parameter: \(reason)"
        }
    }
}
