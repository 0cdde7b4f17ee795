import CNgspice
import Foundation
import Logging
import Synchronization

/// Receives libngspice's callbacks for one library instance.
///
/// ngspice calls these from the caller's thread during a command and from its own background thread
/// during `bg_run`, so everything here is behind a mutex. The C callbacks find this object through
/// the `userdata` pointer given to `ngSpice_Init`.
final class CallbackSink: Sendable {
    struct State {
        var stdout: [String] = []
        var stderr: [String] = []
        var exitStatus: Int?
        var stream: AsyncThrowingStream<StreamedPoint, Error>.Continuation?
        var streamNames: [String] = []
        var streamScale: Int?
    }

    let state = Mutex(State())
    /// Every line ngspice prints is logged at trace level (set BMRUKIT_LOG_LEVEL=trace to see them).
    let logger = Logger(label: "bmrukit.ngspice")
    /// Signalled when a background run ends or ngspice calls its controlled exit.
    let finished = DispatchSemaphore(value: 0)

    /// Clears the captured text before a new command.
    func beginCommand() {
        state.withLock {
            $0.stdout.removeAll(keepingCapacity: true)
            $0.stderr.removeAll(keepingCapacity: true)
        }
        while finished.wait(timeout: .now()) == .success {}
    }

    func receive(_ line: String) {
        logger.trace("\(line)")
        // ngspice prefixes every line with the stream it was written to.
        state.withLock {
            if line.hasPrefix("stderr ") {
                $0.stderr.append(String(line.dropFirst(7)))
            } else if line.hasPrefix("stdout ") {
                $0.stdout.append(String(line.dropFirst(7)))
            } else {
                $0.stdout.append(line)
            }
        }
    }

    func controlledExit(status: Int) {
        state.withLock { $0.exitStatus = status }
        finished.signal()
    }

    /// ngspice 39 passes its "exited" flag here: false when a background run starts, true when it ends.
    func backgroundThread(exited: Bool) {
        if exited { finished.signal() }
    }

    func initData(_ info: UnsafeMutablePointer<vecinfoall>) {
        var names: [String] = []
        var scale: Int?
        let count = Int(info.pointee.veccount)
        for index in 0..<count {
            guard let vector = info.pointee.vecs[index] else { continue }
            let name = vector.pointee.vecname.map { String(cString: $0) } ?? ""
            if vector.pointee.pdvec == vector.pointee.pdvecscale { scale = index }
            names.append(name)
        }
        state.withLock {
            $0.streamNames = names
            $0.streamScale = scale
        }
    }

    func data(_ values: UnsafeMutablePointer<vecvaluesall>) {
        state.withLock { state in
            guard let stream = state.stream else { return }
            let count = Int(values.pointee.veccount)
            var row = [Double](repeating: 0, count: count)
            var time = 0.0
            for index in 0..<count {
                guard let value = values.pointee.vecsa[index] else { continue }
                row[index] = value.pointee.creal
                if value.pointee.is_scale { time = value.pointee.creal }
            }
            stream.yield(StreamedPoint(index: Int(values.pointee.vecindex), scale: time,
                                       names: state.streamNames, values: row))
        }
    }

    var exitStatus: Int? { state.withLock { $0.exitStatus } }
    var stderrLines: [String] { state.withLock { $0.stderr } }
    var stdoutLines: [String] { state.withLock { $0.stdout } }

    /// Finds the sink in the `userdata` pointer handed to `ngSpice_Init`.
    static func sink(_ user: UnsafeMutableRawPointer?) -> CallbackSink? {
        user.map { Unmanaged<CallbackSink>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// One accepted transient time point, delivered while the simulation runs.
public struct StreamedPoint: Sendable {
    /// Index of the accepted point, counting from 0.
    public var index: Int
    /// The scale value (time for a transient).
    public var scale: Double
    /// Names of the saved vectors as ngspice streams them (node voltages without `v(...)`: `out`),
    /// in the order of `values` (shared between points).
    public var names: [String]
    /// The value of every saved vector at this point.
    public var values: [Double]

    /// The value of the vector `name` at this point, if it is saved; `v(out)` and `out` both name
    /// the voltage of node `out`, and case does not matter.
    public subscript(name: String) -> Double? {
        var key = name.lowercased()
        if key.hasPrefix("v("), key.hasSuffix(")"), !key.contains(",") { key = String(key.dropFirst(2).dropLast()) }
        return names.firstIndex { $0.lowercased() == key }.map { values[$0] }
    }
}
