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
    /// Another run holds the report folder (its process id, when the lock file names it).
    case folderInUse(String, pid: Int?)
    /// The report folder holds a report made with other options or clips (refused without `force`).
    case differentRun(String)
    /// No clip could be simulated, each for a reason outside the circuit (the simulator, the PDK
    /// files, a `--spice-command`, the worker processes): the first clip's reason, and how many
    /// clips gave another.
    case setup(String, others: Int)

    public var description: String {
        switch self {
        case let .inputs(reason): "inputs: \(reason)"
        case let .compile(clip, reason): "\(clip): \(reason)"
        case let .samples(reason): "circuit output: \(reason)"
        case let .file(path, reason): "\(path): \(reason)"
        case let .folderInUse(path, pid):
            "\(path): another run\(pid.map { " (pid \($0))" } ?? "") is writing to this report folder; wait for it or use another folder"
        case let .differentRun(path):
            "\(path): holds a report made with other options or clips; use another folder, or --force to replace it"
        case let .setup(reason, others):
            "no clip could be simulated: \(reason)" + (others > 0 ? " (\(others) clips failed for other reasons)" : "")
        }
    }
}
