/// Why a verification could not run or its report could not be written; one line each. A clip whose
/// simulation fails is not an error: it is reported as failed in the report.
public enum VerifyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input sequences could not be read or do not fit the model.
    case inputs(String)
    /// The model could not be compiled for a clip.
    case compile(clip: String, String)
    /// A simulation's vectors do not cover what the comparison needs (the clip is reported as failed).
    case samples(String)
    /// A report or trace file could not be written or read.
    case file(String, String)

    public var description: String {
        switch self {
        case let .inputs(reason): "inputs: \(reason)"
        case let .compile(clip, reason): "\(clip): \(reason)"
        case let .samples(reason): "circuit output: \(reason)"
        case let .file(path, reason): "\(path): \(reason)"
        }
    }
}
