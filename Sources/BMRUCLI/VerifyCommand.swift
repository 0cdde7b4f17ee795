import ArgumentParser
import BMRU
import ClipSources
import Foundation
import KWS
import Netlist
import PDK
import Verify

/// `bmru verify`: runs input sequences through the transistor-level deck and the reference network
/// and writes an agreement report.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Simulate a compiled model clip by clip with ngspice, compare with the reference, write a report.",
        discussion: """
            --inputs is a safetensors file with 'inputs' [G, T, n] (and optionally 'labels' [G]; default: the \
            model's golden.safetensors) or a folder of WAV files (MFCC features of the model; a file's parent \
            folder named like a class gives its label). --data is instead a Speech Commands folder for a \
            two-class model (classes: keyword, "other"), split by speaker exactly like the training pipeline \
            (scripts/train/data.py): --split train, validation, test or heldout (validation + test: speakers never \
            used for training). --balanced (default) takes the pipeline's fixed balanced sets, keyword and other \
            alternately so that --clips N stays about half keyword; --no-balanced every clip of the keyword and of \
            \(SpeechCommands.negativeWords.joined(separator: "/")) in the split, in folder order. Each clip is one \
            transient job on the worker pool. \
            Writes OUT/report.json, OUT/report.md and OUT/traces/*.csv (docs/reference/report-format.md); the same command \
            into the same OUT resumes an interrupted run (finished clips are kept in OUT/samples); a run with \
            other options or clips into a folder holding a report is refused unless --force, and a second run \
            into a folder in use is refused. A clip whose simulation fails is reported and counts as disagreeing; \
            when every clip fails for a reason outside the circuit (a deck or PDK file that does not load, a \
            failing --spice-command, no usable worker) the run is an error. The verdict is every check of the \
            report against its limit: clip decisions, state bits, frame decisions, the suppression factor at every \
            cell boundary, power, failed clips; the limits are the defaults, a --checks file, then the single \
            flags, and the report records them. Exit status: 0 when every check passes, 2 when one fails, 1 on an error.

            Example: bmru verify --model results/models/kws-yes-d4 --pdk gf180mcu --jobs 2 --out out/verify
            Example: bmru verify --model results/models/kws-yes-d4 --pdk gf180mcu \
            --data ../shared/data/speech_commands_v0.02_test --split test --clips 10 --out out/verify
            """
    )

    @OptionGroup var options: CompilerOptions

    @OptionGroup(title: "Clips") var clipOptions: ClipOptions

    @Option(parsing: .unconditional, help: "Frame period in seconds (default: the compiler's 0.01).")
    var framePeriod: Double?

    @Option(parsing: .unconditional, help: "Worker processes (default: the number of cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .unconditional, help: "Stop a clip's simulation after this many seconds.")
    var timeout: Double = 1800

    @Option(name: .customLong("spice-command"),
            help: "An ngspice command run before every transient, e.g. an 'alter' for fault injection (repeatable).")
    var spiceCommands: [String] = []

    @OptionGroup(title: "Checks") var checkOptions: CheckOptions

    @Option(name: [.customLong("out"), .customLong("report")],
            help: "Report folder (--report: the deprecated spelling of --out).", completion: .directory)
    var out: String

    @Flag(help: "Replace a report made with other options or clips in the report folder (its traces are deleted).")
    var force = false

    @Flag(help: "Keep each clip's deck in DIR/decks/, to rerun any clip by hand with 'ngspice -b' (it writes <clip>.raw beside itself).")
    var keepDecks = false

    func validate() throws {
        if let framePeriod { try validateSeconds(framePeriod, flag: "--frame-period", maximum: 10) }
        try validateSeconds(timeout, flag: "--timeout", maximum: maximumTimeout)
        guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1") }
    }

    func run() async throws {
        let directory = options.directory
        var (loaded, compiler, characterization) = try await options.load(jobs: jobs)
        if let framePeriod { compiler.frameDuration = framePeriod }
        let limits = try checkOptions.limits()
        // Paths as the report records them; relative ones resolve against the working directory alike.
        var selection = clipOptions.selection
        (selection.data, selection.inputs) = (selection.data.map(relativeToWorkingDirectory), selection.inputs.map(relativeToWorkingDirectory))
        let (selected, provenance) = try selection.load(model: loaded, modelDirectory: directory, warn: printWarning)
        var verifier = Verifier(model: loaded, modelDirectory: directory, compiler: compiler)
        verifier.workers = jobs
        verifier.jobTimeout = timeout
        verifier.commands = spiceCommands
        verifier.checks = limits
        verifier.force = force
        verifier.keepDecks = keepDecks
        verifier.partitioned = options.circuit.mode.partitionLoad
        let progress = ProgressLine("verify", unit: "clips")
        progress.update(done: 0, total: selected.count)
        let result = try await verifier.run(
            selected, writingTo: URL(fileURLWithPath: out),
            context: .current(inputs: provenance),
            clipFinished: { _, clip in progress.advance(total: selected.count, failed: clip.failure != nil) })
        print("\(result.clips) clips (\(result.failed) failed to simulate, \(result.disagreed ?? 0) disagree): "
            + "prediction agreement \(formatPercent(result.predictionAgreement)), "
            + "state bits \(formatPercent(result.frameStateAgreement)), suppression median "
            + (result.suppressionFactor.median.map { String(format: "%.1f", $0) } ?? "n/a")
            + (result.power.map { String(format: ", %.1f nW, %.1f nJ per clip", $0.totalNW, $0.energyNJ) } ?? "")
            + (characterization.map { ", calibrated from \($0.path)" } ?? ", nominal (uncalibrated)")
            + " -> \(out)/report.md")
        print(result.verdict)
        if !result.passed { throw ExitCode(2) }
    }
}

