import ArgumentParser
import BMRU
import Foundation
import KWS
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
            drew over the clip. A clip whose simulation fails is reported with its error and exit status 2.

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

    @Option(help: "With --spice: worker processes.")
    var jobs: Int = 2

    @Option(help: "With --spice: keep the verification report (report.json, report.md, traces) in this folder.",
            completion: .directory)
    var report: String?

    @Argument(help: "Audio files.", completion: .file())
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file") }
        if spice, circuit.pdk == nil { throw ValidationError("--spice needs --pdk") }
        if !spice, circuit.pdk != nil || report != nil { throw ValidationError("--pdk and --report only apply with --spice") }
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
        var lines: [Line] = []
        var clips: [Clip] = []
        for file in files {
            let (features, _, detection) = try spotter.detect(URL(fileURLWithPath: file))
            detection.warnings.forEach(printWarning)
            lines.append(Line(detection: detection))
            clips.append(Clip(name: file, frames: features))
        }
        var failed = false
        if spice {
            var verifier = Verifier(model: loaded, modelDirectory: directory, compiler: try circuit.compiler())
            verifier.workers = jobs
            let folder = report.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("bmru-kws-\(UUID().uuidString)")
            defer { if report == nil { try? FileManager.default.removeItem(at: folder) } }
            let result = try await verifier.run(clips, writingTo: folder, context: .init(
                inputs: files.joined(separator: " "), commandLine: CommandLine.arguments, version: BMRUKitVersion.string))
            for (index, clip) in result.perClip.enumerated() {
                lines[index].circuitPrediction = clip.circuitDecision.map { loaded.config.classes[$0] }
                lines[index].agreement = clip.agrees
                lines[index].energyNJ = clip.power?.energyNJ
                lines[index].circuitFailure = clip.failure
                failed = failed || clip.failure != nil
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for line in lines {
            if json {
                print(String(decoding: try encoder.encode(line), as: UTF8.self))
                continue
            }
            let detection = line.detection
            var text = "\(detection.file)\t\(detection.prediction)\t"
                + loaded.config.classes.map { "\($0) \(String(format: "%.2f", detection.scores[$0] ?? 0))" }.joined(separator: ", ")
            if spice {
                text += line.circuitFailure.map { "\tcircuit failed: \($0)" }
                    ?? "\tcircuit \(line.circuitPrediction ?? "?")\t\(line.agreement == true ? "agrees" : "DISAGREES")\t"
                    + String(format: "%.2f nJ", line.energyNJ ?? .nan)
            }
            print(text)
        }
        if failed { throw ExitCode(2) }
    }
}
