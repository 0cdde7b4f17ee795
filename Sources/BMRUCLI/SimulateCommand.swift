import ArgumentParser
import BMRU
import Foundation
import Ngspice
import Synchronization

/// `bmru simulate DECK...`: runs ngspice decks through the library and prints or writes their vectors.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run ngspice decks through libngspice and write their vectors.",
        discussion: """
            Each deck's own analysis statements run. Without --save every vector of the result is written;
            the scale (time, frequency or sweep) is always included. One deck runs in this process; several
            run in parallel worker processes (--jobs), each result written to --out DIR/DECKNAME.csv|json as
            soon as its deck ends. Decks that share a file name get their position on the command line
            appended: 'a/rc.cir b/rc.cir' writes rc-1.csv and rc-2.csv. A deck that fails (or cannot be read)
            gets a line on stderr as it fails, the others still run, and the final error names every failed
            deck.

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

    @Option(parsing: .unconditional, help: "Halt a run after this many seconds.")
    var timeout: Double?

    @Option(parsing: .unconditional, help: "Worker processes for several decks (default: number of cores).")
    var jobs: Int?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    func validate() throws {
        guard !decks.isEmpty else { throw ValidationError("give at least one deck") }
        if decks.count > 1, out == nil { throw ValidationError("several decks need --out DIR") }
        if let timeout { try validateSeconds(timeout, flag: "--timeout", maximum: maximumTimeout) }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be >= 1") }
        if decks.count == 1, !FileManager.default.isReadableFile(atPath: decks[0]) {
            throw ValidationError("\(decks[0]): no such file or not readable")
        }
    }

    func run() async throws {
        let saved = vectors.isEmpty ? nil : vectors.map { $0.lowercased() }
        if decks.count == 1 {
            let session = try NgspiceSession()
            try session.load(file: URL(fileURLWithPath: decks[0]))
            try session.run(.deck, timeout: timeout.map { .milliseconds(Int($0 * 1000)) })
            try Self.write(try session.result(vectors: saved), as: format, to: out)
            return
        }
        let folder = URL(fileURLWithPath: out!)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw ValidationFailure("cannot create \(folder.path): \(fileErrorReason(error))")
        }
        let names = Self.outputNames(decks, extension: format.rawValue)
        let failed = FailedDecks()
        let readable = decks.indices.filter { index in
            guard FileManager.default.isReadableFile(atPath: decks[index]) else {
                failed.add(index, deck: decks[index], reason: "no such file or not readable")
                return false
            }
            return true
        }
        let work = readable.map { index in
            SimulationJob(deck: .file(URL(fileURLWithPath: decks[index]).standardizedFileURL.path), vectors: saved,
                          timeout: timeout)
        }
        let pool = WorkerPool(.init(workers: jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        // Each result goes to disk as its deck ends and is not kept: an interrupted run keeps what finished.
        await pool.forEachOutcome(of: work) { [decks, format] outcome in
            let index = readable[outcome.index]
            do {
                try Self.write(try outcome.result.get(), as: format, to: folder.appendingPathComponent(names[index]).path)
            } catch {
                failed.add(index, deck: decks[index], reason: "\(error)")
            }
        }
        let failures = failed.decks
        if !failures.isEmpty {
            throw ValidationFailure("\(failures.count) of \(decks.count) decks failed: " + failures.joined(separator: ", "))
        }
    }

    /// Output file names for `decks`: each deck's file name with `extension`; decks that share one
    /// get their 1-based position on the command line appended (`a/rc.cir b/rc.cir`: `rc-1`, `rc-2`),
    /// again until no two names are equal (a third deck named `rc-1.cir` becomes `rc-1-3`).
    static func outputNames(_ decks: [String], extension: String) -> [String] {
        var names = decks.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        while true {
            let counts = Dictionary(names.map { ($0, 1) }, uniquingKeysWith: +)
            let clashing = names.indices.filter { counts[names[$0], default: 0] > 1 }
            if clashing.isEmpty { return names.map { $0 + "." + `extension` } }
            for index in clashing { names[index] += "-\(index + 1)" }
        }
    }

    /// Writes a result to `path` (whole or not at all, so an interrupted run leaves no partial file)
    /// or to standard output.
    private static func write(_ result: SimulationResult, as format: OutputFormat, to path: String?) throws {
        let text = format == .json ? try result.json() : result.csv()
        guard let path else { return print(text, terminator: "") }
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ValidationFailure("cannot write \(path): \(fileErrorReason(error))")
        }
    }
}

/// The decks of a `simulate` run that failed, filled from the pool's threads; each failure is told
/// on stderr as it is added.
private final class FailedDecks: Sendable {
    private let failed = Mutex<[Int: String]>([:])

    /// Records the deck at position `index` on the command line as failed.
    func add(_ index: Int, deck: String, reason: String) {
        failed.withLock { failed in
            failed[index] = deck
            Console.shared.error("simulate: \(deck): \(reason)")
        }
    }

    /// The failed decks as given on the command line, in its order.
    var decks: [String] { failed.withLock { $0.sorted { $0.key < $1.key }.map(\.value) } }
}
