import Foundation
import SpiceValues

/// The loop of a worker process: reads `SimulationJob`s, one JSON object per line, from standard
/// input, runs each in its own ngspice session and writes one `WorkerReply` line per job.
///
/// Each worker owns one library instance, so a crash or a hang costs only that process; the pool
/// replaces it. The loop ends when standard input closes.
public enum Worker {
    /// Serves jobs until standard input ends.
    public static func serve(configuration: NgspiceSession.Configuration = .init()) {
        // Replies go to a private copy of standard output; anything the library itself prints to
        // standard output is redirected to standard error so it cannot corrupt the protocol.
        let replies = FileHandle(fileDescriptor: dup(STDOUT_FILENO), closeOnDealloc: true)
        dup2(STDERR_FILENO, STDOUT_FILENO)
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        var session: NgspiceSession?
        var startupFailure: NgspiceError?
        var loadedDeck: SimulationJob.Deck?
        do {
            session = try NgspiceSession(configuration)
        } catch {
            startupFailure = error
        }
        let simulator = session?.versionBanner()
        while let line = readLine(strippingNewline: true) {
            guard !line.isEmpty else { continue }
            let reply: WorkerReply
            if let job = try? decoder.decode(SimulationJob.self, from: Data(line.utf8)) {
                if let session {
                    reply = run(job, in: session, loadedDeck: &loadedDeck)
                } else {
                    reply = WorkerReply(failure: .simulation(startupFailure ?? .noCircuit), warnings: [], seconds: 0)
                }
            } else {
                reply = WorkerReply(failure: .worker("unreadable job line"), warnings: [], seconds: 0)
            }
            var measured = reply
            measured.residentBytes = residentBytes()
            measured.simulator = simulator
            let data = (try? encoder.encode(measured)) ?? Data(#"{"failure":{"worker":{"_0":"unencodable reply"}},"warnings":[],"seconds":0}"#.utf8)
            replies.write(data + Data("\n".utf8))
        }
    }

    /// Resident memory of this process from /proc/self/statm, in bytes (nil where there is no /proc).
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * sysconf(Int32(_SC_PAGESIZE))
    }

    /// Runs one job; never throws, every failure becomes part of the reply.
    static func run(_ job: SimulationJob, in session: NgspiceSession, loadedDeck: inout SimulationJob.Deck?) -> WorkerReply {
        let start = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - start).seconds }
        do {
            if let seed = job.seed { try session.setSeed(seed) }
            if job.reuseParsedDeck, job.seed == nil, loadedDeck == job.deck, session.hasCircuit {
                try session.command("reset")
            } else {
                loadedDeck = nil
                switch job.deck {
                case let .lines(lines): try session.load(lines: lines)
                case let .file(path): try session.load(file: URL(fileURLWithPath: path))
                }
                loadedDeck = job.deck
            }
            for command in job.commands { try session.command(command) }
            let analysis: Analysis = job.analysis == "run" ? .deck : .command(job.analysis)
            let plot = try session.run(analysis, timeout: job.timeout.map { .milliseconds(Int($0 * 1000)) })
            let result = try session.result(plot: plot, vectors: job.vectors)
            let warnings = session.warnings
            let statistics = session.statistics()
            // Free the plot and the command history so that memory stays flat over many jobs.
            try session.destroyPlots()
            session.clearHistory()
            var reply = WorkerReply(result: result, warnings: warnings, seconds: elapsed())
            reply.statistics = statistics
            return reply
        } catch {
            if !session.hasCircuit { loadedDeck = nil }
            return WorkerReply(failure: .simulation(error), warnings: session.warnings, seconds: elapsed())
        }
    }
}
