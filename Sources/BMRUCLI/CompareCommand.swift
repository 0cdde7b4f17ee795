import ArgumentParser
import BMRU
import Foundation
import Verify

/// `bmru compare`: the guard of a fast simulation mode, two verification runs of the same clips
/// compared frame by frame.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two verification reports of the same clips made in different simulation modes.",
        discussion: """
            Reads REFERENCE/report.json and CANDIDATE/report.json with their traces and checks that the \
            candidate reproduces the reference: identical clip decisions, frame state bits >= 99.9 % equal, \
            candidate currents within 1 % or 5 pA at >= 99.9 % of frame ends, every clip's power within 2 %. \
            --out writes the figures as JSON to a file; --json prints them on stdout instead of the summary. \
            Exit status 0 when all hold, 2 when one does not, 1 on an error.

            Example: bmru compare out/transient out/fast --out out/guard.json
            """
    )

    @Argument(help: "Report folder of the reference run (e.g. --mode transient).", completion: .directory)
    var reference: String

    @Argument(help: "Report folder of the run to check (e.g. --mode fast).", completion: .directory)
    var candidate: String

    @Option(help: "Also write the figures as JSON to this file.", completion: .file())
    var out: String?

    @Flag(help: "Print the figures as JSON instead of the summary.")
    var json = false

    func run() throws {
        let agreement = try ModeAgreement(reference: URL(fileURLWithPath: reference), candidate: URL(fileURLWithPath: candidate))
        if json || out != nil {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let figures: Data
            do { figures = try encoder.encode(agreement) + Data("\n".utf8) } catch {
                throw ValidationFailure("the figures cannot be written as JSON: \(error)")
            }
            if json { FileHandle.standardOutput.write(figures) }
            if let out {
                do { try figures.write(to: URL(fileURLWithPath: out)) } catch {
                    throw ValidationFailure("\(out): \(fileErrorReason(error))")
                }
            }
        }
        if !json { print(agreement.summary) }
        if !agreement.passed { throw ExitCode(2) }
    }
}
