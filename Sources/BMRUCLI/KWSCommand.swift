import ArgumentParser
import BMRU
import Foundation
import KWS

/// `bmru kws --model DIR FILES...`: keyword decisions for audio files, by the reference network.
struct KWSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kws",
        abstract: "Classify audio files with a trained keyword-spotting model (software reference).",
        discussion: """
            Reads each file (WAV and other formats libsndfile reads, any rate, mono or stereo), computes the
            model's MFCC features and runs the float64 reference network. The decision is the majority vote of
            per-frame argmax; scores are the time-integrated logits.

            Example: bmru kws --model results/models/kws-yes-d4 clip1.wav clip2.wav --json
            """
    )

    @Option(help: "The trained model folder.", completion: .directory)
    var model: String

    @Flag(help: "One JSON object per line instead of a table.")
    var json = false

    @Argument(help: "Audio files.", completion: .file())
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file") }
    }

    func run() throws {
        let loaded = try Model.load(from: URL(fileURLWithPath: model))
        let spotter = try KeywordSpotter(model: loaded, file: URL(fileURLWithPath: model).appendingPathComponent("config.json").path)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for file in files {
            let detection = try spotter.detect(URL(fileURLWithPath: file)).detection
            if json {
                print(String(decoding: try encoder.encode(detection), as: UTF8.self))
            } else {
                let scores = loaded.config.classes.map { "\($0) \(String(format: "%.2f", detection.scores[$0] ?? 0))" }
                print("\(file)\t\(detection.prediction)\t\(scores.joined(separator: ", "))")
            }
        }
    }
}
