/// Everything that can go wrong when driving ngspice, each case carrying ngspice's own words.
///
/// libngspice reports errors only as text on its stderr channel; `NgspiceError.classify` turns those
/// lines into a case a caller can act on (fix the netlist, add a model, relax tolerances, retry).
public enum NgspiceError: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    /// The shared library could not be found or loaded.
    case libraryNotLoaded(path: String, reason: String)
    /// The library lacks an entry point BMRUKit needs (an ngspice older than 39).
    case missingSymbol(String)
    /// The netlist has a syntax error or an invalid element line.
    case parse(String)
    /// A device names a model or subcircuit that is not defined.
    case unknownModel(String)
    /// An expression uses a `.param` that is not defined.
    case undefinedParameter(String)
    /// The analysis did not converge (timestep too small, singular matrix, iteration limit).
    case convergence(String)
    /// ngspice called its controlled exit; the instance was reloaded and the next circuit can run.
    case simulatorExit(status: Int, message: String)
    /// A command was rejected or produced an error not covered by the cases above.
    case commandFailed(command: String, message: String)
    /// The run took longer than its timeout and was halted.
    case timeout(seconds: Double)
    /// The calling task was cancelled and the run was halted.
    case cancelled
    /// There is no circuit loaded to run.
    case noCircuit
    /// The named vector or plot does not exist.
    case noSuchVector(String)
    /// The session can no longer be used (a halted run did not stop); create a new one.
    case unusable(String)

    public var description: String {
        switch self {
        case let .libraryNotLoaded(path, reason): "cannot load libngspice '\(path)': \(reason)"
        case let .missingSymbol(name): "libngspice lacks \(name) (ngspice 39 or newer is required)"
        case let .parse(message): "netlist error: \(message)"
        case let .unknownModel(message): "unknown model or subcircuit: \(message)"
        case let .undefinedParameter(message): "undefined parameter: \(message)"
        case let .convergence(message): "no convergence: \(message)"
        case let .simulatorExit(status, message): "ngspice exited (status \(status)): \(message)"
        case let .commandFailed(command, message): "ngspice command '\(command)' failed: \(message)"
        case let .timeout(seconds): "simulation timed out after \(seconds) s"
        case .cancelled: "simulation cancelled"
        case .noCircuit: "no circuit is loaded"
        case let .noSuchVector(name): "no vector or plot named '\(name)'"
        case let .unusable(reason): "ngspice session unusable: \(reason)"
        }
    }

    /// The error with `location` (where in which file) before its message.
    func located(at location: String?) -> NgspiceError {
        guard let location else { return self }
        switch self {
        case let .parse(message): return .parse("\(location): \(message)")
        case let .unknownModel(message): return .unknownModel("\(location): \(message)")
        case let .undefinedParameter(message): return .undefinedParameter("\(location): \(message)")
        case let .convergence(message): return .convergence("\(location): \(message)")
        case let .simulatorExit(status, message): return .simulatorExit(status: status, message: "\(location): \(message)")
        case let .commandFailed(command, message): return .commandFailed(command: command, message: "\(location): \(message)")
        default: return self
        }
    }

    /// The most specific error that a list of ngspice stderr lines describes, or nil when none of
    /// them reports an error (ngspice also writes warnings, notes and progress to stderr).
    static func classify(_ lines: [String], command: String) -> NgspiceError? {
        let errors = unique(errorLines(lines))
        guard !errors.isEmpty else { return nil }
        let message = errors.prefix(4).joined(separator: " | ")
        // Warnings such as "singular matrix: check node 3" tell which kind of failure it was.
        let text = lines.joined(separator: "\n").lowercased()
        func has(_ needle: String) -> Bool { text.contains(needle) }
        // A value that does not parse ("Expression err") is followed by undefined-parameter errors of
        // everything computed from it; the value is the cause.
        if has("expression err") { return .parse(message) }
        if has("undefined parameter") { return .undefinedParameter(message) }
        if has("unknown subckt") || has("could not find a valid modelname")
            || has("unable to find definition of model") {
            return .unknownModel(message)
        }
        if has("timestep too small") || has("singular matrix") || has("iteration limit")
            || has("gmin stepping failed") || has("source stepping failed") || has("too many iterations") {
            return .convergence(message)
        }
        if has("error on line") || has("unknown parameter") || has("netlist line") || has("syntax error")
            || has("circuit not parsed") {
            return .parse(message)
        }
        return .commandFailed(command: command, message: message)
    }

    /// A stderr line that reports a failure rather than a warning, note or progress.
    static func isError(_ line: String) -> Bool {
        let text = line.trimmingCharacters(in: .whitespaces).lowercased()
        return text.hasPrefix("error") || text.contains("fatal") || text.contains("timestep too small")
            || text.contains("undefined parameter") || text.contains("cannot compute substitute")
            || text.contains("expression err")
            || text.contains("unknown subckt") || text.contains("unknown parameter")
            || text.contains("simulation(s) aborted") || text.contains("iteration limit reached")
            || text.contains("simulation interrupted due to error") || text.contains("cannot recover")
            || text.contains("could not find a valid modelname")
    }

    /// The error lines, each completed by the line that follows it when it ends with a colon
    /// ("Error on line 3 or its substitute:" is followed by the offending netlist line).
    private static func errorLines(_ lines: [String]) -> [String] {
        var result: [String] = []
        for (index, line) in lines.enumerated() where isError(line) {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasSuffix(":"), index + 1 < lines.count {
                text += " " + lines[index + 1].trimmingCharacters(in: .whitespaces)
            }
            result.append(text)
        }
        return result
    }

    /// A stderr line worth passing on as a warning.
    static func isWarning(_ line: String) -> Bool {
        line.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("warning")
    }

    private static func unique(_ lines: [String]) -> [String] {
        var seen = Set<String>()
        return lines.filter { seen.insert($0).inserted }
    }
}

import Foundation
