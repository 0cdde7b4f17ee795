import ArgumentParser
import Foundation
import Ngspice

/// `bmru simulate DECK`: runs any ngspice deck through the library and prints or writes its vectors.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run an ngspice deck through libngspice and print its vectors.",
        discussion: """
            The deck's own analysis statements run. Without --save every vector of the result is written;
            the scale (time, frequency or sweep) is always included.

            Example: bmru simulate spice/examples/rc.cir --save 'v(out)' --format json --out rc.json
            """
    )

    @Argument(help: "The SPICE deck to run.", completion: .file())
    var deck: String

    @Option(name: .customLong("save"), help: "A vector to write (repeatable), e.g. 'v(out)' or 'i(vdd)'.")
    var vectors: [String] = []

    @Option(help: "Output format: csv or json.")
    var format: OutputFormat = .csv

    @Option(help: "Write to this file instead of standard output.", completion: .file())
    var out: String?

    @Option(help: "Halt the run after this many seconds.")
    var timeout: Double?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    func run() throws {
        let session = try NgspiceSession()
        try session.load(file: URL(fileURLWithPath: deck))
        try session.run(.deck, timeout: timeout.map { .milliseconds(Int($0 * 1000)) })
        let result = try session.result(vectors: vectors.isEmpty ? nil : vectors.map { $0.lowercased() })
        let text = format == .json ? try result.json() : result.csv()
        if let out {
            try Data(text.utf8).write(to: URL(fileURLWithPath: out))
        } else {
            print(text, terminator: "")
        }
    }
}
