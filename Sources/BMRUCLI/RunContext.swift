import Foundation
import PDK
import Verify

/// `path` as a report records it: relative to the working directory when absolute, so that a report
/// carries no machine's absolute paths (the commands run from the repository root, so this is
/// repository-relative there).
func relativeToWorkingDirectory(_ path: String) -> String {
    guard path.hasPrefix("/") else { return path }
    return PDK.relativePath(of: URL(fileURLWithPath: path),
                            from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
}

extension Verifier.Context {
    /// The context of this process's run, reading clips from `inputs` (its paths already given as
    /// `relativeToWorkingDirectory` makes them): the command line as `bmru` and its
    /// arguments with absolute paths (also after `--option=`) relative to the working directory, this
    /// build's version and git commit.
    static func current(inputs: String) -> Verifier.Context {
        let arguments = CommandLine.arguments.dropFirst().map { argument -> String in
            guard argument.hasPrefix("-"), let equals = argument.firstIndex(of: "=") else { return relativeToWorkingDirectory(argument) }
            return String(argument[...equals]) + relativeToWorkingDirectory(String(argument[argument.index(after: equals)...]))
        }
        return .init(inputs: inputs, commandLine: ["bmru"] + arguments,
                     version: BMRUKitVersion.string, commit: BMRUKitVersion.commit)
    }
}
