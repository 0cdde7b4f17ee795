/// Why a model, golden file or input could not be used. The description is one line naming the
/// file, the field or tensor and the problem, so the CLI can print it as is.
public enum ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file is missing or cannot be read.
    case unreadable(file: String, reason: String)
    /// A file cannot be written.
    case unwritable(file: String, reason: String)
    /// The safetensors container itself is malformed.
    case safetensors(file: String, SafetensorsError)
    /// A JSON field is missing, mistyped or out of range (`field` is a dotted path).
    case invalidField(file: String, field: String, problem: String)
    /// A required tensor is absent.
    case missingTensor(file: String, tensor: String)
    /// A tensor that the format does not define (often a sign of a config/tensor mismatch).
    case unexpectedTensor(file: String, tensor: String)
    /// A tensor's shape differs from the one the config implies.
    case shapeMismatch(file: String, tensor: String, expected: [Int], actual: [Int])
    /// An element violates a rule: not finite, or a hardware constraint such as alpha > 0.
    case invalidValue(file: String, tensor: String, index: [Int], value: Double, rule: String)
    /// An input frame does not have the model's input width.
    case inputWidth(frame: Int, expected: Int, actual: Int)

    /// One line: `FILE: tensor NAME[i] = v: rule`, `FILE: field NAME: problem`, ...
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            "\(file): cannot read: \(reason)"
        case let .unwritable(file, reason):
            "\(file): cannot write: \(reason)"
        case let .safetensors(file, error):
            "\(file): \(error)"
        case let .invalidField(file, field, problem):
            "\(file): field \(field): \(problem)"
        case let .missingTensor(file, tensor):
            "\(file): missing tensor \(tensor)"
        case let .unexpectedTensor(file, tensor):
            "\(file): unexpected tensor \(tensor) (not defined by docs/reference/model-format.md for this config)"
        case let .shapeMismatch(file, tensor, expected, actual):
            "\(file): tensor \(tensor) has shape \(actual), expected \(expected)"
        case let .invalidValue(file, tensor, index, value, rule):
            "\(file): tensor \(tensor)[\(index.map(String.init).joined(separator: ", "))] = \(value): \(rule)"
        case let .inputWidth(frame, expected, actual):
            "input frame \(frame) has \(actual) values, expected \(expected)"
        }
    }

    /// Equality by description: `Double` payloads may be NaN, which never equals itself.
    public static func == (lhs: ModelError, rhs: ModelError) -> Bool {
        lhs.description == rhs.description
    }
}
