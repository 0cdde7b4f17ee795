import ArgumentParser
import BMRU
import ClipSources
import Foundation
import Verify

/// `bmru demo`: the main job. Keyword spotting on a few clips by the software reference and by the
/// transistor-level circuit, with a summary table and a verification report.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Keyword spotting end to end: audio -> MFCC -> reference and transistor-level circuit, agreement and energy.",
        discussion: """
            Runs the committed kws-yes-d4 model on clips synthesized with espeak-ng by scripts/demo-audio.sh \
            (folders yes/ and other/ under --audio), or on --clips real Speech Commands clips of speakers never \
            used for training with --data. \
            The PDK is gf180mcu when PDK_ROOT is set, else the embedded generic180; the circuit is \
            calibrated from the stored characterization of that PDK (measured and cached if there is none). Prints one row per clip (reference decision, \
            circuit decision, agreement, energy) and writes the verification report to --out; like \
            'bmru verify', a second run into the same --out re-uses the clips already simulated, and a \
            demo of other clips or options replaces the report there. The table's footer gives the verdict, \
            every check of the report against its limit as in 'bmru verify' (the same --checks file and flags), \
            and one line per disagreeing clip saying why; the exit status follows the verdict (2 when a check fails).

            Example: bash scripts/demo-audio.sh && bmru demo
            """
    )

    @Option(help: "Model folder.", completion: .directory)
    var model = "results/models/kws-yes-d4"

    @OptionGroup(title: "Circuit")
    var circuit: CircuitOptions

    @Option(help: "Folder of WAV clips whose parent folder names the class (yes/, other/).", completion: .directory)
    var audio = "results/demo/audio"

    @Option(help: "A Speech Commands folder: demo on real held-out clips (balanced, speakers never used for training) instead of --audio.",
            completion: .directory)
    var data: String?

    @Option(parsing: .unconditional, help: "With --data: how many clips, about half keyword (default 8).")
    var clips: Int?

    @Option(parsing: .unconditional, help: "Worker processes (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: [.customLong("out"), .customLong("report")],
            help: "Report folder (--report: the deprecated spelling of --out).", completion: .directory)
    var out = "results/demo/report"

    @OptionGroup(title: "Checks") var checkOptions: CheckOptions

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1") }
        if let clips, clips < 1 { throw ValidationError("--clips must be >= 1") }
        if clips != nil, data == nil { throw ValidationError("--clips needs --data") }
    }

    func run() async throws {
        let started = Date()
        var circuit = self.circuit
        let hasPDKRoot = !(ProcessInfo.processInfo.environment["PDK_ROOT"] ?? "").isEmpty
        let pdk = circuit.pdk ?? (hasPDKRoot ? "gf180mcu" : "generic180")
        circuit.pdk = pdk
        let limits = try checkOptions.limits()
        let directory = URL(fileURLWithPath: model)
        let loaded = try Model.load(from: directory)
        let clips: [Clip], inputs: String
        if let data {
            clips = try Clip.speechCommands(URL(fileURLWithPath: data), selection: .heldout, balanced: true, model: loaded,
                                            modelDirectory: directory, limit: self.clips ?? 8, warn: printWarning)
            inputs = "\(relativeToWorkingDirectory(data)) (heldout, balanced)"
        } else {
            guard FileManager.default.fileExists(atPath: audio) else {
                throw ValidationFailure("\(audio): no such folder (make the demo clips with: bash scripts/demo-audio.sh)")
            }
            clips = try Clip.audio(URL(fileURLWithPath: audio), model: loaded, warn: printWarning)
            inputs = relativeToWorkingDirectory(audio)
        }
        let (compiler, characterization) = try await circuit.compiler(for: loaded, jobs: jobs)
        var verifier = Verifier(model: loaded, modelDirectory: directory, compiler: compiler)
        verifier.workers = jobs
        verifier.partitioned = circuit.mode.partitionLoad
        // The report is the demo's by-product: a demo of other clips or options replaces it.
        verifier.force = true
        verifier.checks = limits
        Console.shared.error(
            "demo: \(clips.count) clips, \(loaded.config.name) on \(pdk) (\(characterization.map { "calibrated from \($0.lastPathComponent)" } ?? "nominal")), mode \(circuit.mode.rawValue), \(circuit.cells.rawValue) cells")
        let progress = ProgressLine("demo", unit: "clips")
        progress.update(done: 0, total: clips.count)
        let result = try await verifier.run(
            clips, writingTo: URL(fileURLWithPath: out),
            context: .current(inputs: inputs),
            clipFinished: { _, clip in progress.advance(total: clips.count, failed: clip.failure != nil) })
        let classes = loaded.config.classes
        func name(_ index: Int?) -> String { index.map { classes[$0] } ?? "-" }
        let width = max(4, result.perClip.map(\.name.count).max() ?? 0)
        print("clip".padding(width) + "  label  reference  circuit  agree  energy")
        for clip in result.perClip {
            let energy = clip.power.map { String(format: "%.1f nJ", $0.energyNJ) } ?? (clip.failure ?? "failed")
            print(clip.name.padding(width) + "  " + name(clip.label).padding(5) + "  " + name(clip.referenceDecision).padding(9)
                + "  " + name(clip.circuitDecision).padding(7) + "  " + (clip.agrees ? "yes" : "NO").padding(5) + "  " + energy)
        }
        let agreeing = result.perClip.filter(\.agrees).count
        print("""
            agreement \(agreeing)/\(result.clips) clips, state bits \(formatPercent(result.frameStateAgreement)); \
            accuracy reference \(formatPercent(result.accuracy.reference)), circuit \(formatPercent(result.accuracy.circuit)); \
            power \(result.power.map { String(format: "%.1f nW", $0.totalNW) } ?? "n/a"); \
            \(String(format: "%.0f s", Date().timeIntervalSince(started))) -> \(out)/report.md
            """)
        for clip in result.perClip where !clip.agrees {
            let why = clip.failure.map { "failed to simulate: \($0)" }
                ?? (try? Disagreement(clip, folder: URL(fileURLWithPath: out)).description) ?? "its trace cannot be read"
            print("  \(clip.name): \(why)")
        }
        print(result.verdict)
        if !result.passed { throw ExitCode(2) }
    }
}
