/// Why a sweep could not be planned, run, merged or submitted; one line each. A job whose
/// simulation fails is not an error: it is recorded as failed and reported.
public enum SweepError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A sweep file is invalid: its path and the field at fault.
    case definition(String, String)
    /// The sweep folder does not hold a usable plan, or holds another sweep.
    case plan(String, String)
    /// The model, PDK, characterization or clips could not be set up.
    case setup(String)
    /// Results that cannot be merged: missing jobs, or jobs made by another build, deck or PDK.
    case merge(String)
    /// Slurm is not available or refused a submission.
    case slurm(String)
    /// A file could not be read or written.
    case file(String, String)

    public var description: String {
        switch self {
        case let .definition(path, reason): path.isEmpty ? reason : "\(path): \(reason)"
        case let .plan(path, reason): "\(path): \(reason)"
        case let .setup(reason): reason
        case let .merge(reason): "merge: \(reason)"
        case let .slurm(reason): "slurm: \(reason)"
        case let .file(path, reason): "\(path): \(reason)"
        }
    }
}
