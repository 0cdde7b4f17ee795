import ArgumentParser
import Foundation
import Ngspice

/// `bmru simulate DECK...`: runs ngspice decks through the library and prints or writes their vectors.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run ngspice decks through libngspice and write their vectors.",
        discussion: """
            Each deck's own analysis statements run. Without --save every vector of the result is written;
            the scale (time, frequency or sweep) is always included. One deck runs in this process; several
            run in parallel worker processes (--jobs), each result written to --out DIR/DECKNAME.csv|json.

            Examples:
              bmru simulate rc.cir --save 'v(out)' --format json --out rc.json
              bmru simulate decks/*.cir --jobs 2 --out results/
            """
    )

    @Argument(help: "The SPICE decks to run.", completion: .file())
    var decks: [String]

    @Option(name: .customLong("save"), help: "A vector to write (repeatable), e.g. 'v(out)' or 'i(vdd)'.")
    var vectors: [String] = []

    @Option(help: "Output format: csv or json.")
    var format: OutputFormat = .csv

    @Option(help: "Output file (one deck) or folder (several decks); default: standard output.", completion: .file())
    var out: String?

    @Option(help: "Halt a run after this many seconds.")
    var timeout: Double?

    @Option(help: "Worker processes for several decks (default: number of cores).")
    var jobs: Int?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    func validate() throws {
        guard !decks.isEmpty else { throw ValidationError("give at least one deck") }
        if decks.count > 1, out == nil { throw ValidationError("several decks need --out DIR") }
        if let timeout { try validateSeconds(timeout, flag: "--timeout", maximum: maximumTimeout) }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be >= 1") }
        for deck in decks where !FileManager.default.isReadableFile(atPath: deck) {
            throw ValidationError("\(deck): no such file or not readable")
        }
    }

    func run() async throws {
        let saved = vectors.isEmpty ? nil : vectors.map { $0.lowercased() }
        if decks.count == 1 {
            let session = try NgspiceSession()
            try session.load(file: URL(fileURLWithPath: decks[0]))
            try session.run(.deck, timeout: timeout.map { .milliseconds(Int($0 * 1000)) })
            try write(try session.result(vectors: saved), to: out)
            return
        }
        let folder = URL(fileURLWithPath: out!)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let paths = decks.map { URL(fileURLWithPath: $0).standardizedFileURL }
        let work = paths.map { SimulationJob(deck: .file($0.path), vectors: saved, timeout: timeout) }
        let pool = WorkerPool(.init(workers: jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        var failures: [String] = []
        for outcome in await pool.run(work) {
            let path = paths[outcome.index]
            switch outcome.result {
            case let .success(result):
                let name = path.deletingPathExtension().lastPathComponent + "." + format.rawValue
                try write(result, to: folder.appendingPathComponent(name).path)
            case let .failure(failure):
                failures.append("\(path.lastPathComponent): \(failure)")
            }
        }
        if !failures.isEmpty {
            throw ValidationFailure("\(failures.count) of \(decks.count) decks failed; first: \(failures[0])")
        }
    }

    private func write(_ result: SimulationResult, to path: String?) throws {
        let text = format == .json ? try result.json() : result.csv()
        if let path {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        } else {
            print(text, terminator: "")
        }
    }
}
