import CNgspice
import Foundation
import SpiceValues
import Synchronization

/// A simulator session: one private copy of libngspice, driven from one thread at a time.
///
/// The session turns ngspice's text-only error channel into typed `NgspiceError`s, runs analyses in
/// ngspice's background thread so that they can be timed out or cancelled, copies vectors into Swift
/// arrays, and recovers from ngspice's controlled exit by loading the library afresh. Start-up is
/// deterministic: user `.spiceinit` files are not read, the numeric locale is C and options come from
/// `Configuration`.
///
/// A session is not safe to use from two threads at once; use one session per thread or the
/// `WorkerPool` for parallel runs.
public final class NgspiceSession: @unchecked Sendable {
    /// How a session loads and sets up the simulator.
    public struct Configuration: Sendable {
        /// Path or file name of the shared library (default: `$NGSPICE_LIBRARY` or `libngspice.so.0`).
        public var libraryPath: String
        /// OpenMP threads for device evaluation; 1 when running one simulation per core.
        public var threads: Int
        /// Seed for ngspice's random numbers (`setseed`), for repeatable Monte Carlo runs.
        public var seed: Int?

        /// A configuration with the given settings.
        public init(libraryPath: String? = nil, threads: Int = 1, seed: Int? = nil) {
            self.libraryPath = libraryPath ?? ProcessInfo.processInfo.environment["NGSPICE_LIBRARY"] ?? "libngspice.so.0"
            self.threads = threads
            self.seed = seed
        }
    }

    /// The settings this session was created with.
    public let configuration: Configuration
    private var library: NgspiceLibrary
    private let sink = CallbackSink()
    /// True while a circuit is loaded (a controlled exit or `removeCircuit` clears it).
    public private(set) var hasCircuit = false
    private var unusableReason: String?
    /// Warnings from the last load or run (stderr lines that are not errors).
    public private(set) var warnings: [String] = []

    /// Loads and initialises a private instance of libngspice.
    public init(_ configuration: Configuration = Configuration()) throws(NgspiceError) {
        self.configuration = configuration
        library = try NgspiceLibrary(path: configuration.libraryPath)
        try start()
    }

    /// Initialises the loaded library and applies the session settings.
    private func start() throws(NgspiceError) {
        setlocale(LC_NUMERIC, "C")
        let user = Unmanaged.passUnretained(sink).toOpaque()
        StartupDirectory.shared.run {
            // Literal closures: C function pointers cannot capture, so each finds the sink in `user`.
            _ = library.initialize(
                { text, _, user in
                    if let text, let sink = CallbackSink.sink(user) { sink.receive(String(cString: text)) }
                    return 0
                },
                { _, _, _ in 0 },
                { status, _, _, _, user in
                    CallbackSink.sink(user)?.controlledExit(status: Int(status))
                    return 0
                },
                { values, _, _, user in
                    if let values, let sink = CallbackSink.sink(user) { sink.data(values) }
                    return 0
                },
                { info, _, user in
                    if let info, let sink = CallbackSink.sink(user) { sink.initData(info) }
                    return 0
                },
                { exited, _, user in
                    CallbackSink.sink(user)?.backgroundThread(exited: exited)
                    return 0
                },
                user)
        }
        hasCircuit = false
        try command("set num_threads=\(configuration.threads)")
        if let seed = configuration.seed { try command("setseed \(seed)") }
    }

    /// Unloads the library and loads a fresh copy, after ngspice's controlled exit left it unusable.
    private func reload() throws(NgspiceError) {
        sink.state.withLock { $0.exitStatus = nil }
        library = try NgspiceLibrary(path: configuration.libraryPath)
        try start()
    }

    // MARK: Commands

    /// ngspice's statistics of the last transient of the loaded circuit (`rusage all`); nil when it
    /// reports none.
    public func statistics() -> SimulatorStatistics? {
        (try? command("rusage all")).flatMap(SimulatorStatistics.init(rusage:))
    }

    /// Runs one ngspice command and returns what it printed on stdout.
    ///
    /// Throws the classified error when ngspice reports one on stderr, and `.simulatorExit` (after
    /// reloading the library) when the command made ngspice exit.
    @discardableResult
    public func command(_ text: String) throws(NgspiceError) -> [String] {
        try command(text, source: nil)
    }

    /// Runs one ngspice command; errors of a deck it loads are located in `source`.
    @discardableResult
    private func command(_ text: String, source: ParameterSource?) throws(NgspiceError) -> [String] {
        try checkUsable()
        sink.beginCommand()
        let status = text.withCString { pointer in library.command(UnsafeMutablePointer(mutating: pointer)) }
        try finish(command: text, source: source)
        if status != 0 && sink.stderrLines.isEmpty {
            throw .commandFailed(command: text, message: "ngspice returned \(status)")
        }
        return sink.stdoutLines
    }

    /// Turns the captured stderr text and exit state of the last command into a result; an error
    /// of a deck being loaded from `source` names the file and line of the parameter it is about.
    private func finish(command: String, source: ParameterSource? = nil) throws(NgspiceError) {
        let lines = sink.stderrLines
        warnings = lines.filter(NgspiceError.isWarning)
        if let status = sink.exitStatus {
            hasCircuit = false
            let message = lines.filter(NgspiceError.isError).joined(separator: " | ")
            let classified = NgspiceError.classify(lines, command: command)
            let location = source?.locate(lines)
            try reload()
            switch classified {
            case .undefinedParameter, .parse: throw classified!.located(at: location)
            default: throw NgspiceError.simulatorExit(status: status, message: message.isEmpty ? "controlled exit" : message)
                .located(at: location)
            }
        }
        if let error = NgspiceError.classify(lines, command: command) { throw error.located(at: source?.locate(lines)) }
    }

    private func checkUsable() throws(NgspiceError) {
        if let unusableReason { throw .unusable(unusableReason) }
    }

    /// The loaded library's version banner from `version -s` (`ngspice-39 : Circuit level simulation
    /// program`); nil when ngspice prints none.
    public func versionBanner() -> String? {
        guard let lines = try? command("version -s") else { return nil }
        // The banner line reads "** ngspice-39 : Circuit level simulation program".
        let banner = lines.first { $0.lowercased().contains("ngspice-") }
        return banner?.trimmingCharacters(in: CharacterSet(charactersIn: "* "))
    }

    /// Clears ngspice's command history, which otherwise grows with every command.
    public func clearHistory() {
        _ = library.command(nil)
    }

    /// Seeds ngspice's random number generator (affects circuits loaded afterwards).
    public func setSeed(_ seed: Int) throws(NgspiceError) {
        try command("setseed \(seed)")
    }

    // MARK: Circuits

    /// Parses a netlist given as lines (the first line is the title; `.end` is added if missing),
    /// replacing the circuit loaded before.
    public func load(lines: [String]) throws(NgspiceError) {
        try checkUsable()
        try removeCircuit()
        var deck = lines
        if deck.last?.trimmingCharacters(in: .whitespaces).lowercased() != ".end" { deck.append(".end") }
        let pointers = deck.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        sink.beginCommand()
        var array = pointers
        _ = array.withUnsafeMutableBufferPointer { library.circuit($0.baseAddress) }
        try finish(command: "circuit",
                   source: ParameterSource(lines: lines, file: nil, folder: FileManager.default.currentDirectoryPath))
        hasCircuit = true
    }

    /// Parses a netlist file; `.include` and `.lib` paths in it are relative to the file's folder.
    public func load(file: URL) throws(NgspiceError) {
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw .parse("\(file.path): no such file or not readable")
        }
        // ngspice echoes a binary file's bytes in its error and then refuses every later command.
        guard let data = FileManager.default.contents(atPath: file.path), !data.contains(0),
              String(data: data, encoding: .utf8) != nil
        else { throw .parse("\(file.path): not a SPICE deck (a binary file, or text that is not UTF-8)") }
        try removeCircuit()
        let path = file.standardizedFileURL.path
        try command("source \(path)", source: ParameterSource(
            file: path, folder: file.standardizedFileURL.deletingLastPathComponent().path))
        hasCircuit = true
    }

    /// Removes the loaded circuit and every plot, so that memory does not grow across loads.
    public func removeCircuit() throws(NgspiceError) {
        guard hasCircuit else { return }
        try destroyPlots()
        try command("remcirc")
        hasCircuit = false
    }

    /// Deletes all result plots (their vectors are freed; plot numbering restarts).
    public func destroyPlots() throws(NgspiceError) {
        try command("destroy all")
    }

    /// Sets a device parameter of the loaded circuit, e.g. `alter(device: "v1", parameter: "dc", value: 1)`.
    public func alter(device: String, parameter: String? = nil, value: Double) throws(NgspiceError) {
        if let parameter {
            try command("alter \(device) \(parameter) = \(spiceNumber(value))")
        } else {
            try command("alter \(device) = \(spiceNumber(value))")
        }
    }

    /// Changes a `.param` of the loaded circuit and re-evaluates the circuit with it.
    public func alterParameter(_ name: String, value: Double) throws(NgspiceError) {
        try command("alterparam \(name) = \(spiceNumber(value))")
        try command("reset")
    }

    // MARK: Running

    /// Runs an analysis to completion in ngspice's background thread and returns the plot name.
    ///
    /// The run is halted and `.timeout` thrown after `timeout`; it is halted and `.cancelled` thrown
    /// when the calling task is cancelled.
    @discardableResult
    public func run(_ analysis: Analysis = .deck, timeout: Duration? = nil) throws(NgspiceError) -> String {
        try checkUsable()
        guard hasCircuit else { throw .noCircuit }
        let before = currentPlot
        let text = try startBackground(analysis)
        try waitForBackground(command: text, timeout: timeout)
        let plot = currentPlot
        if plot == before || plot == "const" {
            throw .commandFailed(command: text, message: "no analysis ran (the deck has no analysis statement?)")
        }
        return plot
    }

    /// Starts `analysis` in ngspice's background thread and returns the command. Its output is
    /// judged only once the thread has ended: judging it earlier could leave a run going unseen.
    private func startBackground(_ analysis: Analysis) throws(NgspiceError) -> String {
        let text = "bg_" + analysis.command
        sink.beginCommand()
        let status = text.withCString { library.command(UnsafeMutablePointer(mutating: $0)) }
        if status != 0, !library.running() {
            try finish(command: text)
            throw .commandFailed(command: text, message: "ngspice returned \(status)")
        }
        return text
    }

    /// Waits for a background run, enforcing the timeout and cancellation (of the calling task, or
    /// as reported by `cancelled`).
    private func waitForBackground(command: String, timeout: Duration?,
                                   cancelled: () -> Bool = { Task.isCancelled }) throws(NgspiceError) {
        let start = ContinuousClock.now
        var stop: NgspiceError?
        var ended = false
        while true {
            // The end signal can come a moment before ngspice clears its running flag; after it, poll.
            if ended {
                usleep(200)
            } else {
                ended = sink.finished.wait(timeout: .now() + .milliseconds(20)) == .success
            }
            if ended, !library.running() { break }
            if sink.exitStatus != nil { break }
            if cancelled() {
                stop = .cancelled
            } else if let timeout, ContinuousClock.now - start > timeout {
                stop = .timeout(seconds: timeout.seconds)
            }
            if let stop {
                try halt()
                _ = try? self.command("reset")
                throw stop
            }
        }
        try finish(command: command)
    }

    /// Halts a background run and waits for its thread to stop.
    private func halt() throws(NgspiceError) {
        _ = "bg_halt".withCString { library.command(UnsafeMutablePointer(mutating: $0)) }
        let deadline = ContinuousClock.now + .seconds(10)
        while library.running() {
            if ContinuousClock.now > deadline {
                unusableReason = "a halted run did not stop within 10 s"
                throw .unusable(unusableReason!)
            }
            usleep(1000)
        }
    }

    /// Runs a transient in the background and delivers every accepted time point as it is computed.
    ///
    /// Restrict the saved vectors with `.save` in the deck to keep the points small. The stream ends
    /// when the run ends, with the classified error if it failed. The session must not be used for
    /// anything else until the stream has finished; cancelling the consuming task halts the run.
    public func stream(_ analysis: Analysis) throws(NgspiceError) -> AsyncThrowingStream<StreamedPoint, Error> {
        try checkUsable()
        guard hasCircuit else { throw .noCircuit }
        let (stream, continuation) = AsyncThrowingStream<StreamedPoint, Error>.makeStream()
        sink.state.withLock { $0.stream = continuation }
        let text: String
        do {
            text = try startBackground(analysis)
        } catch {
            sink.state.withLock { $0.stream = nil }
            throw error
        }
        let cancelled = Atomic(false)
        continuation.onTermination = { termination in
            if case .cancelled = termination { cancelled.store(true, ordering: .relaxed) }
        }
        Thread.detachNewThread { [self] in
            var failure: Error?
            do {
                try waitForBackground(command: text, timeout: nil) { cancelled.load(ordering: .relaxed) }
            } catch {
                failure = error
            }
            sink.state.withLock { $0.stream = nil }
            continuation.finish(throwing: failure)
        }
        return stream
    }

    // MARK: Results

    /// The name of the current plot (e.g. `tran1`).
    public var currentPlot: String {
        library.currentPlot().map { String(cString: $0) } ?? ""
    }

    /// The names of all plots, newest first.
    public func plots() -> [String] {
        strings(library.allPlots())
    }

    /// The names of the vectors in a plot (default: the current plot).
    public func vectorNames(plot: String? = nil) -> [String] {
        let name = plot ?? currentPlot
        return name.withCString { strings(library.allVectors(UnsafeMutablePointer(mutating: $0))) }
    }

    /// A copy of a vector's real values; `name` may be qualified by its plot (`tran1.v(out)`).
    /// For complex vectors this is the real part; see `complexVector`.
    public func vector(_ name: String) throws(NgspiceError) -> [Double] {
        try withVector(name) { info in
            let count = Int(info.v_length)
            if let real = info.v_realdata { return Array(UnsafeBufferPointer(start: real, count: count)) }
            if let complex = info.v_compdata { return (0..<count).map { complex[$0].cx_real } }
            return []
        }
    }

    /// A copy of a complex vector as (real, imaginary) arrays; real vectors have zero imaginary parts.
    public func complexVector(_ name: String) throws(NgspiceError) -> (real: [Double], imaginary: [Double]) {
        try withVector(name) { info in
            let count = Int(info.v_length)
            if let complex = info.v_compdata {
                return ((0..<count).map { complex[$0].cx_real }, (0..<count).map { complex[$0].cx_imag })
            }
            let real = info.v_realdata.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
            return (real, [Double](repeating: 0, count: real.count))
        }
    }

    private func withVector<T>(_ name: String, _ body: (vector_info) -> T) throws(NgspiceError) -> T {
        try checkUsable()
        let info = name.withCString { library.vectorInfo(UnsafeMutablePointer(mutating: $0)) }
        guard let info else { throw .noSuchVector(name) }
        return body(info.pointee)
    }

    /// The scale vector of a plot (time, frequency or the swept source), if it has one.
    public func scaleName(plot: String? = nil) -> String? {
        let names = vectorNames(plot: plot)
        let candidates = ["time", "frequency", "v-sweep", "i-sweep", "temp-sweep", "res-sweep"]
        return candidates.first { names.contains($0) }
    }

    /// Collects a plot into a value: its scale and the requested vectors (default: all of them).
    public func result(plot: String? = nil, vectors requested: [String]? = nil) throws(NgspiceError) -> SimulationResult {
        let name = plot ?? currentPlot
        let available = vectorNames(plot: name)
        let scale = scaleName(plot: name)
        var names = requested ?? available
        if let scale, !names.contains(scale) { names.insert(scale, at: 0) }
        var values: [String: [Double]] = [:]
        for vector in names {
            values[vector] = try self.vector("\(name).\(vector)")
        }
        let analysis = String(name.prefix { $0.isLetter })
        return SimulationResult(plot: name, analysis: analysis, scale: scale, vectors: values)
    }

    private func strings(_ list: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        guard let list else { return [] }
        var result: [String] = []
        var index = 0
        while let item = list[index] {
            result.append(String(cString: item))
            index += 1
        }
        return result
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// A finished analysis as plain values.
public struct SimulationResult: Sendable, Codable, Equatable {
    /// The ngspice plot name, e.g. `tran1`.
    public var plot: String
    /// The analysis kind: `tran`, `ac`, `dc` or `op`.
    public var analysis: String
    /// The name of the scale vector (time, frequency, sweep), nil for an operating point.
    public var scale: String?
    /// Every collected vector by name, the scale included.
    public var vectors: [String: [Double]]

    /// A result with the given contents.
    public init(plot: String, analysis: String, scale: String?, vectors: [String: [Double]]) {
        self.plot = plot
        self.analysis = analysis
        self.scale = scale
        self.vectors = vectors
    }
}

/// Makes ngspice's start-up read no user `.spiceinit`.
///
/// ngspice reads `.spiceinit` from the working directory, or else from the user's home directory, when
/// it is initialised. Initialising inside a private directory that holds an empty `.spiceinit` keeps a
/// user's settings out of every result. The working directory is process-wide, so the switch is
/// serialised and lasts only for the `ngSpice_Init` call. The directory is one per user, shared by
/// every process (its one file never changes), so that processes leave nothing behind.
final class StartupDirectory: Sendable {
    static let shared = StartupDirectory()
    private let lock = Mutex(())
    let path: String

    private init() {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("bmrukit-ngspice-startup-\(getuid())").path
        let file = folder + "/.spiceinit", contents = Data("* BMRUKit: no user settings\n".utf8)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if FileManager.default.contents(atPath: file) != contents {
            try? contents.write(to: URL(fileURLWithPath: file), options: .atomic)
        }
        path = folder
    }

    func run(_ body: () -> Void) {
        lock.withLock { _ in
            let previous = FileManager.default.currentDirectoryPath
            guard chdir(path) == 0 else { return body() }
            body()
            _ = chdir(previous)
        }
    }
}
