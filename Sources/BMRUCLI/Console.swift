import Foundation
import Logging
import Synchronization

/// The lines one `bmru` process writes: result lines on stdout, messages on stderr and, on a
/// terminal, the live progress line on stderr. Every line goes through here so that a message or a
/// result printed during a run never lands on the progress line: the progress line is cleared
/// first and redrawn after it.
final class Console: Sendable {
    /// The process's console.
    static let shared = Console()

    /// Whether stderr is a terminal (progress is a live line there, else plain lines).
    let terminal = isatty(STDERR_FILENO) == 1
    /// The progress line currently drawn on the terminal, if any.
    private let live = Mutex<String?>(nil)

    /// Writes `line` and a newline to stderr.
    func error(_ line: String) { write(line + "\n", to: .standardError) }

    /// Writes `line` and a newline to stdout at once (unbuffered, whole lines from any thread).
    func output(_ line: String) { write(line + "\n", to: .standardOutput) }

    /// Draws `text` as the live progress line in place of the previous one (a terminal only), or,
    /// with `final`, writes it as an ordinary line and ends the live line.
    func progress(_ text: String, final: Bool) {
        live.withLock { live in
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text + (final ? "\n" : "")).utf8))
            live = final ? nil : text
        }
    }

    private func write(_ text: String, to handle: FileHandle) {
        live.withLock { live in
            guard let shown = live else { return handle.write(Data(text.utf8)) }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            handle.write(Data(text.utf8))
            FileHandle.standardError.write(Data(shown.utf8))
        }
    }
}

/// Log records on stderr through the `Console`: `LEVEL LABEL: MESSAGE [METADATA]`.
struct ConsoleLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let details = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        let error = event.error.map { " (\($0))" } ?? ""
        Console.shared.error("\(event.level) \(label): \(event.message)\(error)\(details)")
    }
}
