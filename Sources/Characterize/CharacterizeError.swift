import Netlist
import PDK

/// Why a PDK corner could not be measured or its tables written; one line each.
public enum CharacterizeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The PDK or corner could not be used.
    case pdk(String)
    /// A sweep deck could not be built.
    case netlist(NetlistError)
    /// A sweep failed in ngspice or its worker.
    case simulation(String)
    /// A sweep ran but its result cannot be reduced (a cell that never switched, a missing vector).
    case measurement(String)
    /// The measured tables could not be encoded.
    case table(CharacterizationError)
    /// A file could not be written.
    case file(String, String)
    /// An argument is out of range.
    case invalid(String)

    /// The error of a deck that could not be built, from what its PDK or primitives threw.
    init(building error: any Error) {
        switch error {
        case let error as PDKError: self = .pdk(error.description)
        case let error as NetlistError: self = .netlist(error)
        default: self = .invalid("\(error)")
        }
    }

    public var description: String {
        switch self {
        case let .pdk(reason): reason
        case let .netlist(error): error.description
        case let .simulation(reason): "characterization sweep failed: \(reason)"
        case let .measurement(reason): "characterization: \(reason)"
        case let .table(error): error.description
        case let .file(path, reason): "\(path): \(reason)"
        case let .invalid(reason): "characterization: \(reason)"
        }
    }
}
