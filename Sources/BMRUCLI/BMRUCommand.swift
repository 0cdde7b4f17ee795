import ArgumentParser
import Foundation
import Logging

/// The `bmru` command: parses arguments and calls the library modules. Each subcommand lives in its
/// own file; none of them contains simulation or model logic.
@main
struct BMRUCommand: AsyncParsableCommand {
    /// Logs go to stderr; BMRUKIT_LOG_LEVEL (trace, debug, info, warning, error) sets the level.
    /// Exit status: 0 success, 1 an error (usage errors included: the message and the usage hint on
    /// stderr), 2 a negative verdict (thrown by the commands as `ExitCode(2)`).
    static func main() async {
        let level = ProcessInfo.processInfo.environment["BMRUKIT_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        LoggingSystem.bootstrap { ConsoleLogHandler(label: $0, logLevel: level) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            // Help, version and a bare exit status go through the parser; a message through the console,
            // so that it does not land on a run's progress line.
            if code == .success || error is ExitCode { exit(withError: error) }
            Console.shared.error(fullMessage(for: error))
            exit(withError: code == .validationFailure ? ExitCode.failure : code)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "bmru",
        abstract: "Compile trained BMRU networks to transistor-level circuits and verify them with ngspice.",
        version: BMRUKitVersion.string,
        subcommands: [SimulateCommand.self, PDKCommand.self, ModelCommand.self, KWSCommand.self, NetlistCommand.self,
                      CharacterizeCommand.self, VerifyCommand.self, SweepCommand.self, CompareCommand.self, DemoCommand.self,
                      WorkerCommand.self]
    )
}

/// The toolchain's version and the git commit it was built from, written into reports and decks.
enum BMRUKitVersion {
    static let string = "0.1.0"
    /// From the GitCommit build plugin: the checkout's commit, `-dirty` with uncommitted changes, or `unknown`.
    static let commit = gitCommit
}
