import ArgumentParser
import Foundation

/// A current in amperes with an SI prefix, e.g. `512 pA`.
func formatCurrent(_ amperes: Double) -> String {
    let prefixes: [(Double, String)] = [(1, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"), (1e-12, "p"), (1e-15, "f")]
    let (scale, prefix) = prefixes.first { abs(amperes) >= $0.0 } ?? (1e-15, "f")
    return String(format: "%.4g", amperes / scale) + " \(prefix)A"
}

/// A fraction as a percentage with one decimal, e.g. `96.9 %`; `n/a` for nil.
func formatPercent(_ fraction: Double?) -> String {
    fraction.map { String(format: "%.1f %%", 100 * $0) } ?? "n/a"
}

extension String {
    /// The string left-aligned in a column of `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

/// Writes `line` to stderr as `warning: LINE`: something was done to an input that the user
/// should know about (a recording cropped to the model's clip, a truncated file).
func printWarning(_ line: String) {
    Console.shared.error("warning: \(line)")
}

/// Refuses a flag's duration unless it is a number of seconds in (0, `maximum`] (NaN and
/// infinity included).
func validateSeconds(_ value: Double, flag: String, maximum: Double) throws {
    guard value > 0, value <= maximum else {
        throw ValidationError("\(flag) is \(value), must be > 0 and <= \(Int(maximum)) seconds")
    }
}

/// The longest `--timeout` accepted, seconds (11.6 days).
let maximumTimeout = 1e6

/// A command that ran but whose result did not pass (or whose input was unusable): one line on
/// stderr, exit status 1.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
