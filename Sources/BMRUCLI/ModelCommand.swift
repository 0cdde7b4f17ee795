import ArgumentParser
import BMRU
import Foundation
import Verify
import Netlist
import Ngspice

/// `bmru model`: inspect a trained model directory, check it against its golden traces, and
/// benchmark the float64 reference network.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect, check and benchmark trained FQ-BMRU models.",
        subcommands: [Info.self, Check.self, Lint.self, Bench.self]
    )

    /// `bmru model info DIR [--json]`.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's architecture, parameter count and per-unit cell constants.",
            discussion: "Example: bmru model info results/models/kws-yes-d4 --json"
        )

        @Argument(help: "Model directory (config.json + model.safetensors).")
        var directory: String

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() throws {
            let model = try Model.load(from: URL(fileURLWithPath: directory, isDirectory: true))
            let report = InfoReport(model)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return
            }
            let c = model.config
            print("\(c.name): \(c.cell), \(c.inputs) inputs -> \(c.blocks) blocks x \(c.hidden) units -> \(c.readout.rawValue) readout "
                + "-> \(c.classes.count) classes (\(c.classes.joined(separator: ", ")))")
            print("parameters: \(report.parameters) learned + \(c.blocks * c.hidden) initial state bits")
            print("unit current: \(formatCurrent(c.unitCurrent)); features: \(c.features.kind)")
            // Fixed-width columns: a value in units with its current, e.g. "0.24839 (248.4 pA)".
            func row(_ head: String, _ columns: [String]) {
                let line = head + columns.dropLast().map { $0.padding(toLength: 25, withPad: " ", startingAt: 0) }.joined()
                print(line + (columns.last ?? ""))
            }
            row("block unit  s0  ", ["alpha", "beta_lo", "beta_hi"])
            for unit in report.units {
                row(String(format: "%5d %4d  %d   ", unit.block, unit.unit, unit.s0), [unit.alpha, unit.betaLo, unit.betaHi].map {
                    "\(String(format: "%.5g", $0)) (\(formatCurrent($0 * c.unitCurrent)))"
                })
            }
        }
    }

    /// `bmru model lint DIR --pdk P`.
    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what of a model its circuit cannot resolve: thresholds its candidates approach, hysteresis widths, omitted weights.",
            discussion: """
                Runs the reference on the model's inputs (golden.safetensors, or --data/--inputs) and compares, for \
                every cell threshold, how close the candidates of the frames it decides come to it with the \
                circuit's resolution: the calibrated cell's threshold error (from the characterization) and, with \
                --mismatch-sigma, device mismatch (the sigma of a 1:1 mirror of the cells' devices: 0.13 on \
                GF180 at the unit size). One line per finding, naming the parameter and the margin in pA; exit 2 \
                when there is one (docs/robustness.md).

                Example: bmru model lint results/models/kws-yes-d4 --pdk gf180mcu --mismatch-sigma 0.13 \
                --data ../shared/data/speech_commands_v0.02_test --clips 100
                """
        )

        @Argument(help: "Model directory (config.json + model.safetensors).", completion: .directory)
        var directory: String

        @OptionGroup var circuit: CircuitOptions

        @OptionGroup(title: "Inputs") var clipOptions: ClipOptions

        @Option(parsing: .unconditional, help: "Relative sigma of a 1:1 mirror of the cells' devices under mismatch (default 0: none).")
        var mismatchSigma = 0.0

        @Option(parsing: .unconditional, help: "Relative sigma of a weight mirror's output under mismatch, added to each frame's candidate (default 0: none; 0.07 on GF180).")
        var weightSigma = 0.0

        @Flag(help: "Print the findings as JSON.")
        var json = false

        func validate() throws {
            guard circuit.pdk != nil else { throw ValidationError("Missing expected argument '--pdk <pdk>'") }
            guard (0...1).contains(mismatchSigma) else { throw ValidationError("--mismatch-sigma is \(mismatchSigma), must be in 0...1") }
            guard (0...1).contains(weightSigma) else { throw ValidationError("--weight-sigma is \(weightSigma), must be in 0...1") }
        }

        func run() async throws {
            let folder = URL(fileURLWithPath: directory, isDirectory: true)
            let model = try Model.load(from: folder)
            let (compiler, _) = try await circuit.compiler(for: model)
            let (clips, _) = try clipOptions.selection.load(model: model, modelDirectory: folder, warn: printWarning)
            let network = Network(model)
            let traces = try clips.map { try network.run($0.frames) }
            var lint = ModelLint(model: model, compiler: compiler)
            (lint.mismatchSigma, lint.weightSigma) = (mismatchSigma / compiler.cellSize.scaleOfMismatch, weightSigma)
            let findings = lint.findings(traces: traces)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(findings), as: UTF8.self))
            } else {
                findings.forEach { print($0) }
                print("\(findings.count) findings over \(clips.count) clips (\(traces.reduce(0) { $0 + $1.frames }) frames) of "
                    + "\(model.config.name) (\(model.config.readout.rawValue) readout); cell threshold error \(formatCurrent(lint.thresholdError)), mismatch sigma "
                    + String(format: "%.3g", lint.mismatchSigma))
            }
            if !findings.isEmpty { throw ExitCode(2) }
        }
    }

    /// `bmru model check DIR`.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the reference network on golden.safetensors and compare states and logits.",
            discussion: """
                Fails (exit 1) unless every state bit matches and every logit is within \
                max(1e-9, 1e-6 |golden|). Example: bmru model check results/models/kws-yes-d4
                """
        )

        @Argument(help: "Model directory with golden.safetensors.")
        var directory: String

        func run() throws {
            let url = URL(fileURLWithPath: directory, isDirectory: true)
            let model = try Model.load(from: url)
            let golden = try GoldenSet.load(from: url.appendingPathComponent(Model.goldenFileName), config: model.config)
            let result = try Network(model).compare(with: golden)
            let c = model.config
            let perClip = result.frames * c.blocks * c.hidden
            func cell(_ flat: Int) -> String {
                let (g, rest) = flat.quotientAndRemainder(dividingBy: perClip)
                let (t, unit) = rest.quotientAndRemainder(dividingBy: c.blocks * c.hidden)
                return "clip \(g) frame \(t) block \(unit / c.hidden) unit \(unit % c.hidden)"
            }
            func describe(_ deviation: Deviation, stride: Int, name: (Int) -> String) -> String {
                let (g, rest) = deviation.index.quotientAndRemainder(dividingBy: result.frames * stride)
                let (t, k) = rest.quotientAndRemainder(dividingBy: stride)
                return "largest |diff| \(format(deviation.absolute)), worst \(format(deviation.ratio)) x tolerance at clip \(g) frame \(t) \(name(k))"
            }
            print("\(c.name): \(result.sequences) golden sequences x \(result.frames) frames")
            print("states: \(result.sequences * perClip) bits, \(result.stateMismatches) mismatches")
            print("logits: \(describe(result.logits, stride: c.classes.count) { "class \(c.classes[$0])" })")
            if let candidates = result.candidates {
                print("candidates: \(describe(candidates, stride: c.blocks * c.hidden) { "block \($0 / c.hidden) unit \($0 % c.hidden)" })")
            }
            if let correct = result.correctClips {
                print("labels: \(correct)/\(result.sequences) clips correct by majority vote")
            }
            guard result.passed else {
                var problems: [String] = []
                if let first = result.firstStateMismatch {
                    problems.append("\(result.stateMismatches) state bits differ (first at \(cell(first)))")
                }
                if !result.logits.withinTolerance {
                    problems.append("logits deviate up to \(format(result.logits.ratio)) x tolerance")
                }
                throw ValidationFailure("\(directory): model check failed: \(problems.joined(separator: "; "))")
            }
            print("PASS")
        }
    }

    /// `bmru model bench`: the speed of the fast kernels (`FastNetwork`, bit-identical to the
    /// reference `Network`) in cell-steps per second on one core.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the network's fast kernels on random models and inputs (one core).",
            discussion: """
                A cell-step is one unit of one cell layer updated for one frame: \
                clips x frames x blocks x hidden per batch. Prints JSON. \
                Example: bmru model bench --hidden 4 --hidden 64 --out /tmp/bench
                """
        )

        @Option(parsing: .unconditionalSingleValue, help: "State size d; repeat for several.")
        var hidden: [Int] = [4, 64]
        @Option(parsing: .unconditional, help: "Sequences per batch.")
        var clips = 1000
        @Option(parsing: .unconditional, help: "Frames per sequence.")
        var frames = 101
        @Option(parsing: .unconditional, help: "Input features per frame.")
        var inputs = 13
        @Option(parsing: .unconditional, help: "Residual blocks.")
        var blocks = 2
        @Option(parsing: .unconditional, help: "Timed repetitions; the fastest counts.")
        var repetitions = 3
        @Option(parsing: .unconditional, help: "Seed of the random parameters and inputs.")
        var seed: UInt64 = 1
        @Option(name: [.customLong("out"), .customLong("export")],
                help: "Also write each model (DIR/dD/) with its inputs and decisions (bench.safetensors) for other implementations (--export: the deprecated spelling of --out).")
        var out: String?

        func validate() throws {
            guard hidden.allSatisfy({ $0 >= 1 }), clips >= 1, frames >= 1, inputs >= 1, blocks >= 1, repetitions >= 1 else {
                throw ValidationError("sizes and repetitions must be >= 1")
            }
        }

        func run() throws {
            var results: [BenchResult] = []
            for d in hidden {
                let config = ModelConfig(name: "bench-d\(d)", inputs: inputs, hidden: d, blocks: blocks, classes: ["a", "b"])
                let model = Model.random(config, seed: seed &+ UInt64(d))
                var rng = SplitMix64(seed: seed)
                let batch = FrameBatch(clips: clips, frames: frames, width: inputs,
                                       values: (0..<(clips * frames * inputs)).map { _ in rng.nextGaussian() })
                let network = FastNetwork(model)
                let clock = ContinuousClock()
                var decisions: [ClipDecision] = []
                var best = Duration.seconds(1e9), bestTraced = Duration.seconds(1e9)
                for _ in 0..<repetitions {
                    best = min(best, try clock.measure { decisions = try network.decide(batch) })
                    bestTraced = min(bestTraced, try clock.measure { _ = try network.run(batch) })
                }
                let cellSteps = Double(clips * frames * blocks * d)
                results.append(BenchResult(
                    hidden: d, blocks: blocks, inputs: inputs, clips: clips, frames: frames, cellSteps: cellSteps,
                    seconds: best.seconds, cellStepsPerSecond: cellSteps / best.seconds,
                    tracedSeconds: bestTraced.seconds, tracedCellStepsPerSecond: cellSteps / bestTraced.seconds))
                if let out {
                    let directory = URL(fileURLWithPath: out, isDirectory: true).appendingPathComponent("d\(d)")
                    try model.write(to: directory)
                    let tensors = [
                        "inputs": Tensor(shape: [clips, frames, inputs], values: batch.values),
                        "majority": Tensor(shape: [clips], values: decisions.map { Double($0.majority) }),
                        "integrated_logits": Tensor(shape: [clips, 2], values: decisions.flatMap(\.integratedLogits)),
                    ]
                    try SafetensorsFile(tensors: tensors).write(to: directory.appendingPathComponent("bench.safetensors"))
                }
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        }
    }
}

/// The `model info --json` document.
struct InfoReport: Encodable {
    let name, cell: String
    let inputs, hidden, blocks, parameters: Int
    let classes: [String]
    let readout: ModelConfig.Readout
    let unitCurrent: Double
    let features: ModelConfig.Features
    let units: [Unit]

    /// One cell unit's constants in units and amperes.
    struct Unit: Encodable {
        let block, unit, s0: Int
        let alpha, betaLo, betaHi, delta: Double
        let alphaAmperes, betaLoAmperes, betaHiAmperes, deltaAmperes: Double

        enum CodingKeys: String, CodingKey {
            case block, unit, s0, alpha, delta
            case betaLo = "beta_lo", betaHi = "beta_hi", alphaAmperes = "alpha_A", betaLoAmperes = "beta_lo_A"
            case betaHiAmperes = "beta_hi_A", deltaAmperes = "delta_A"
        }
    }

    init(_ model: Model) {
        let c = model.config
        (name, cell, inputs, hidden, blocks, classes, readout) = (c.name, c.cell, c.inputs, c.hidden, c.blocks, c.classes, c.readout)
        (parameters, unitCurrent, features) = (model.parameterCount, c.unitCurrent, c.features)
        units = model.blocks.enumerated().flatMap { k, block in
            let cell = block.cell, hi = cell.betaHi
            return (0..<c.hidden).map { i in
                Unit(block: k, unit: i, s0: cell.s0[i] ? 1 : 0, alpha: cell.alpha[i], betaLo: cell.betaLo[i], betaHi: hi[i],
                     delta: cell.delta[i], alphaAmperes: cell.alpha[i] * c.unitCurrent, betaLoAmperes: cell.betaLo[i] * c.unitCurrent,
                     betaHiAmperes: hi[i] * c.unitCurrent, deltaAmperes: cell.delta[i] * c.unitCurrent)
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, cell, inputs, hidden, blocks, parameters, classes, readout, features, units
        case unitCurrent = "unit_current"
    }
}

/// One `model bench` measurement.
struct BenchResult: Encodable {
    let hidden, blocks, inputs, clips, frames: Int
    let cellSteps, seconds, cellStepsPerSecond, tracedSeconds, tracedCellStepsPerSecond: Double

    enum CodingKeys: String, CodingKey {
        case hidden, blocks, inputs, clips, frames, seconds
        case cellSteps = "cell_steps", cellStepsPerSecond = "cell_steps_per_second"
        case tracedSeconds = "traced_seconds", tracedCellStepsPerSecond = "traced_cell_steps_per_second"
    }
}

/// A short scientific rendering for deviations.
private func format(_ value: Double) -> String {
    String(format: "%.3g", value)
}
