import Foundation

/// Progress of a long run on stderr: on a terminal one live line redrawn in place (cleared before
/// each redraw, and around every other line the `Console` prints meanwhile); in a pipe or a CI log a
/// plain line about every 5 %, never a carriage return.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private let label: String, unit: String
    private let start = Date()
    private let terminal = Console.shared.terminal
    private var lastPrinted = -1
    private var counted = (done: 0, failed: 0)

    /// A progress line for `label` counting `unit` (`clips`, `jobs`).
    init(_ label: String, unit: String) {
        self.label = label
        self.unit = unit
    }

    /// Reports `done` of `total`, `failed` of them failed.
    func update(done: Int, total: Int, failed: Int = 0) {
        lock.withLock {
            let step = max(1, total / 20)
            guard terminal || done == total || done / step != lastPrinted / step || lastPrinted < 0 else { return }
            lastPrinted = done
            let elapsed = Date().timeIntervalSince(start)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(total - done) / rate : nil
            let text = "\(label): \(done)/\(total) \(unit)" + (failed > 0 ? ", \(failed) failed" : "")
                + String(format: ", %.2f ", rate * 60) + "\(unit)/min, elapsed \(Self.duration(elapsed))"
                + (done < total ? ", ETA " + (eta.map(Self.duration) ?? "?") : "")
            if terminal { Console.shared.progress(text, final: done == total) } else { Console.shared.error(text) }
        }
    }

    /// Counts one more item done out of `total` (`failed` if it failed) and reports the count.
    func advance(total: Int, failed: Bool) {
        let (done, failures) = lock.withLock {
            counted = (counted.done + 1, counted.failed + (failed ? 1 : 0))
            return counted
        }
        update(done: done, total: total, failed: failures)
    }

    /// `1 h 02 min`, `3 min 05 s`, `12 s`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%d h %02d min", s / 3600, s % 3600 / 60) }
        if s >= 60 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return "\(s) s"
    }
}
