import Foundation

/// One simulation for a worker: a deck (or the worker's current one), commands, an analysis and the
/// vectors to bring back. Jobs and replies travel between the pool and its worker processes as one
/// JSON object per line.
public struct SimulationJob: Codable, Sendable, Equatable {
    /// Where a job's netlist comes from.
    public enum Deck: Codable, Sendable, Equatable {
        /// Netlist lines; relative `.include` paths resolve against the worker's working directory.
        case lines([String])
        /// A deck file; relative `.include` paths resolve against the file's folder.
        case file(String)
    }

    /// The netlist to load.
    public var deck: Deck
    /// When the worker's loaded circuit came from the same deck, skip parsing it again (about 57 ms
    /// for the GF180 models) and only reset it. Changes made by `commands` of earlier jobs persist, so
    /// jobs that re-use a deck must set every value they alter.
    public var reuseParsedDeck: Bool
    /// ngspice commands run after loading and before the analysis (`alter`, `alterparam`, ...).
    public var commands: [String]
    /// Seed of ngspice's random numbers (`setseed`), issued before the deck is loaded so that the
    /// deck's `agauss` draws (Monte Carlo mismatch) and `trnoise` sources repeat for equal seeds
    /// whatever ran before in the worker; nil leaves the generator as it is.
    public var seed: Int?
    /// The analysis to run: an ngspice analysis command (`tran 1u 1m`) or `run` for the deck's own.
    public var analysis: String
    /// Vectors to return (the scale is always returned); nil returns every vector of the plot.
    public var vectors: [String]?
    /// In-worker time limit in seconds, enforced by halting ngspice (the pool's own timeout, which
    /// kills the worker, covers a simulator that does not stop).
    public var timeout: Double?

    /// A job with the given contents.
    public init(deck: Deck, reuseParsedDeck: Bool = false, commands: [String] = [], seed: Int? = nil,
                analysis: String = "run", vectors: [String]? = nil, timeout: Double? = nil) {
        self.deck = deck
        self.reuseParsedDeck = reuseParsedDeck
        self.commands = commands
        self.seed = seed
        self.analysis = analysis
        self.vectors = vectors
        self.timeout = timeout
    }

    /// A job that loads the netlist `lines`.
    public init(deck lines: [String], reuseParsedDeck: Bool = false, commands: [String] = [], seed: Int? = nil,
                analysis: String = "run", vectors: [String]? = nil, timeout: Double? = nil) {
        self.init(deck: .lines(lines), reuseParsedDeck: reuseParsedDeck, commands: commands, seed: seed,
                  analysis: analysis, vectors: vectors, timeout: timeout)
    }
}

/// Why a job produced no result.
public enum JobFailure: Error, Equatable, Sendable, Codable, CustomStringConvertible {
    /// ngspice reported an error; the worker survived.
    case simulation(NgspiceError)
    /// The worker process died while running the job.
    case workerCrashed(String)
    /// The job ran longer than the pool's timeout and its worker was killed.
    case timedOut(seconds: Double)
    /// A worker could not be started or spoke something other than the protocol.
    case worker(String)

    public var description: String {
        switch self {
        case let .simulation(error): error.description
        case let .workerCrashed(detail): "worker crashed: \(detail)"
        case let .timedOut(seconds): "job exceeded its \(seconds) s timeout; worker killed"
        case let .worker(detail): "worker error: \(detail)"
        }
    }
}

/// What a worker sends back for one job.
struct WorkerReply: Codable, Sendable {
    var result: PackedResult?
    var failure: JobFailure?
    var warnings: [String]
    var seconds: Double
    /// The worker's resident memory after the job, in bytes.
    var residentBytes: Int?
    /// The version banner of the worker's ngspice (nil when its session did not start).
    var simulator: String?
    /// ngspice's statistics of the job's transient.
    var statistics: SimulatorStatistics?

    init(result: SimulationResult? = nil, failure: JobFailure? = nil, warnings: [String], seconds: Double) {
        self.result = result.map(PackedResult.init)
        self.failure = failure
        self.warnings = warnings
        self.seconds = seconds
    }
}

/// A result as it crosses the pipe between a worker and the pool: every vector as its raw doubles
/// (base64 in the JSON line). Both ends are the same executable on the same machine, so the byte
/// order is shared. Half the size of JSON numbers for the ~85,000 values of a keyword-spotting clip,
/// and it halved the pool process's CPU per clip (1.2 to 0.54 s, before `LineReader`).
struct PackedResult: Codable, Sendable {
    var plot: String, analysis: String, scale: String?
    var vectors: [String: Data]

    init(_ result: SimulationResult) {
        (plot, analysis, scale) = (result.plot, result.analysis, result.scale)
        vectors = result.vectors.mapValues { values in values.withUnsafeBufferPointer { Data(buffer: $0) } }
    }

    /// The result, or nil when a vector's byte count is not a whole number of doubles.
    var result: SimulationResult? {
        var unpacked: [String: [Double]] = [:]
        for (name, data) in vectors {
            guard data.count % MemoryLayout<Double>.size == 0 else { return nil }
            var values = [Double](repeating: 0, count: data.count / MemoryLayout<Double>.size)
            _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
            unpacked[name] = values
        }
        return SimulationResult(plot: plot, analysis: analysis, scale: scale, vectors: unpacked)
    }
}

/// The outcome of one job of a pool run.
public struct JobOutcome: Sendable {
    /// The job's position in the list given to the pool.
    public var index: Int
    /// The vectors, or why there are none.
    public var result: Result<SimulationResult, JobFailure>
    /// ngspice's warnings for the job.
    public var warnings: [String]
    /// Wall time of the job inside the worker, in seconds (0 when the worker died).
    public var seconds: Double
    /// How many times the job was started (more than 1 after a retry).
    public var attempts: Int
    /// The worker's resident memory after the job, in bytes (nil when the worker died): watches for
    /// growth over long runs.
    public var residentBytes: Int?
    /// The simulator that ran the job, as its version banner (`ngspice-39 : Circuit level simulation
    /// program`); nil when no simulator answered (the worker died or did not start one).
    public var simulator: String?
    /// ngspice's statistics of the job's transient (nil when it failed or the simulator gave none).
    public var statistics: SimulatorStatistics?

    /// An outcome with the given contents (a `SimulationRunner` other than the pool builds its own).
    public init(index: Int, result: Result<SimulationResult, JobFailure>, warnings: [String] = [], seconds: Double,
                attempts: Int, residentBytes: Int? = nil, simulator: String? = nil, statistics: SimulatorStatistics? = nil) {
        self.index = index
        self.result = result
        self.warnings = warnings
        self.seconds = seconds
        self.attempts = attempts
        self.residentBytes = residentBytes
        self.simulator = simulator
        self.statistics = statistics
    }
}
