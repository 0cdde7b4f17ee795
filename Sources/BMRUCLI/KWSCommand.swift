import ArgumentParser
import BMRU
import Foundation
import KWS
import Synchronization
import Verify

/// `bmru kws --model DIR [--spice --pdk P] FILES...`: keyword decisions for audio files, by the
/// reference network and optionally by the transistor-level circuit.
struct KWSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kws",
        abstract: "Classify audio files with a trained keyword-spotting model (software reference, optionally the circuit).",
        discussion: """
            Reads each file (WAV and other formats libsndfile reads, any rate, mono or stereo), computes the
            model's MFCC features and runs the float64 reference network. The decision is the majority vote of
            per-frame argmax; scores are the time-integrated logits. With --spice every file is also simulated
            at transistor level (the deck of 'bmru netlist' driven by the file's frames, as 'bmru verify'
            does): the circuit's decision, whether it agrees with the reference, and the energy the circuit
            drew over the clip.

            Each file's line is printed as soon as the file is done (with --spice, when its simulation
            ends), so lines may come in another order than the files. A file that cannot be read gets an
            error line ({"file": ..., "error": ...} with --json) and the other files are still classified.
            Exit status: 1 when any file could not be read, else 2 when the circuit disagrees with the
            reference or its simulation fails for any file, else 0.

            Example: bmru kws --model results/models/kws-yes-d4 --spice --pdk gf180mcu \\
                --characterization results/characterization/gf180mcu clip1.wav clip2.wav --json
            """
    )

    @Option(help: "The trained model folder.", completion: .directory)
    var model: String

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    @Flag(help: "Also simulate every file at transistor level (needs --pdk).")
    var spice = false

    @OptionGroup(title: "Circuit (with --spice)")
    var circuit: CircuitOptions

    @Option(parsing: .unconditional, help: "With --spice: worker processes (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: [.customLong("out"), .customLong("report")],
            help: "With --spice: keep the verification report (report.json, report.md, traces) in this folder (--report: the deprecated spelling).",
            completion: .directory)
    var out: String?

    @Flag(help: "With --out: replace a report made with other files or options there.")
    var force = false

    @Argument(help: "Audio files.", completion: .file())
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file") }
        if spice, circuit.pdk == nil { throw ValidationError("--spice needs --pdk") }
        if !spice, circuit.pdk != nil || out != nil { throw ValidationError("--pdk and --out only apply with --spice") }
        if force, out == nil { throw ValidationError("--force needs --out") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1") }
    }

    /// One file's result: the reference's detection and, with --spice, the circuit's.
    struct Line: Encodable {
        var detection: KeywordSpotter.Detection
        var circuitPrediction: String?, agreement: Bool?, energyNJ: Double?, circuitFailure: String?

        enum CodingKeys: String, CodingKey {
            case circuitPrediction = "circuit_prediction", agreement, energyNJ = "energy_nJ", circuitFailure = "circuit_failure"
        }

        func encode(to encoder: any Encoder) throws {
            try detection.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(circuitPrediction, forKey: .circuitPrediction)
            try c.encodeIfPresent(agreement, forKey: .agreement)
            try c.encodeIfPresent(energyNJ, forKey: .energyNJ)
            try c.encodeIfPresent(circuitFailure, forKey: .circuitFailure)
        }
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: model)
        let loaded = try Model.load(from: directory)
        let spotter = try KeywordSpotter(model: loaded, file: directory.appendingPathComponent("config.json").path)
        let printer = LinePrinter(json: json, spice: spice, classes: loaded.config.classes)
        var detections: [KeywordSpotter.Detection] = []
        var clips: [Clip] = []
        for file in files {
            do {
                let (features, _, detection) = try spotter.detect(URL(fileURLWithPath: file))
                detection.warnings.forEach(printWarning)
                if spice {
                    detections.append(detection)
                    clips.append(Clip(name: file, frames: features))
                } else {
                    printer.print(Line(detection: detection))
                }
            } catch {
                printer.print(file: file, error: error)
            }
        }
        var circuitFailed = false
        if spice, !clips.isEmpty {
            var verifier = Verifier(model: loaded, modelDirectory: directory,
                                    compiler: try await circuit.compiler(for: loaded, jobs: jobs).compiler)
            verifier.workers = jobs
            verifier.force = force
            verifier.partitioned = circuit.mode.partitionLoad
            let folder = out.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("bmru-kws-\(UUID().uuidString)")
            defer { if out == nil { try? FileManager.default.removeItem(at: folder) } }
            let classes = loaded.config.classes, known = detections, total = clips.count
            let progress = ProgressLine("kws", unit: "clips")
            progress.update(done: 0, total: total)
            let result = try await verifier.run(clips, writingTo: folder, context: .current(
                inputs: clips.map { relativeToWorkingDirectory($0.name) }.joined(separator: " ")
            ), clipFinished: { index, clip in
                var line = Line(detection: known[index])
                line.circuitPrediction = clip.circuitDecision.map { classes[$0] }
                line.agreement = clip.agrees
                line.energyNJ = clip.power?.energyNJ
                line.circuitFailure = clip.failure
                printer.print(line)
                progress.advance(total: total, failed: clip.failure != nil)
            })
            circuitFailed = result.perClip.contains { $0.failure != nil || !$0.agrees }
        }
        let failed = printer.failedFiles
        if !failed.isEmpty {
            throw ValidationFailure("\(failed.count) of \(files.count) files failed: " + failed.joined(separator: ", "))
        }
        if circuitFailed { throw ExitCode(2) }
    }

    /// Writes result and error lines to standard output, one whole line at a time from any thread,
    /// unbuffered so that each line is out as soon as its file is done; remembers the files that got
    /// an error line.
    final class LinePrinter: Sendable {
        let json: Bool, spice: Bool, classes: [String]
        private let failed = Mutex<[String]>([])

        init(json: Bool, spice: Bool, classes: [String]) {
            (self.json, self.spice, self.classes) = (json, spice, classes)
        }

        /// The files that got an error line, in the order their lines were written.
        var failedFiles: [String] { failed.withLock { $0 } }

        /// A file's result: a JSON object, or a tab-separated table row (an error line for a result
        /// that cannot be encoded, such as a non-finite score).
        func print(_ line: Line) {
            let detection = line.detection
            if json {
                do { return write(String(decoding: try Self.encoder.encode(line), as: UTF8.self)) } catch {
                    return print(file: detection.file, error: error)
                }
            }
            var text = "\(detection.file)\t\(detection.prediction)\t"
                + classes.map { "\($0) \(String(format: "%.2f", detection.scores[$0] ?? 0))" }.joined(separator: ", ")
            if spice {
                text += line.circuitFailure.map { "\tcircuit failed: \($0)" }
                    ?? "\tcircuit \(line.circuitPrediction ?? "?")\t\(line.agreement == true ? "agrees" : "DISAGREES")\t"
                    + String(format: "%.2f nJ", line.energyNJ ?? .nan)
            }
            write(text)
        }

        /// A file that could not be classified: `{"error": ..., "file": ...}`, or `FILE<tab>error<tab>REASON`.
        func print(file: String, error: any Error) {
            failed.withLock { $0.append(file) }
            let record = ["file": file, "error": "\(error)"]
            // Two strings always encode.
            write(json ? String(decoding: (try? Self.encoder.encode(record)) ?? Data(), as: UTF8.self)
                       : "\(file)\terror\t\(error)")
        }

        private static var encoder: JSONEncoder {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return encoder
        }

        /// One whole line, never on the progress line.
        private func write(_ text: String) {
            Console.shared.output(text)
        }
    }
}
