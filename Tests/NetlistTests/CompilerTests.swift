import BMRU
import Foundation
import Ngspice
import PDK
import TestSupport
import Testing
@testable import Netlist

@Suite("Compiler")
struct CompilerTests {
    /// One input, one unit, one block: u0 = x, c = ReLU(u0), beta_lo 0.3, beta_hi 0.7, alpha 1, s0 = 1.
    static let oneCell: Model = {
        let config = ModelConfig(name: "one-cell", inputs: 1, hidden: 1, blocks: 1, classes: ["on", "off"])
        let cell = FQCell(candidate: Linear(inputs: 1, weight: [1], bias: [0]), alpha: [1], betaLo: [0.3], delta: [0.4],
                          s0: [true])
        return Model(config: config, pre: Linear(inputs: 1, weight: [1], bias: [0]),
                     blocks: [Block(cell: cell, post: Linear(inputs: 1, weight: [1], bias: [0]))],
                     classifier: Linear(inputs: 1, weight: [1, 0.5], bias: [0, 0.2]))
    }()

    /// Hold high, reset, hold low, set, hold, a negative input (c = 0: reset), set, reset, hold low:
    /// every value at least 0.2 units from a threshold.
    static let staircase: [[Double]] = [0.5, 0.1, 0.5, 1.0, 0.5, -0.8, 0.9, 0.2, 0.5].map { [$0] }

    /// The state bits read from the deck's sense sources at the end of every frame.
    static func circuitStates(_ compilation: Compilation, model: Model, frames: Int, frameDuration: Double) throws -> [Bool] {
        let session = try simulate(compilation.circuit)
        let time = try session.vector("time")
        var states: [Bool] = []
        for frame in 0..<frames {
            let end = Double(frame + 1) * frameDuration - frameDuration / 50
            let index = try #require(time.lastIndex { $0 <= end })
            for (k, block) in model.blocks.enumerated() {
                for i in 0..<model.config.hidden {
                    let current = try session.vector(try SpiceWriter.expression(Compiler.stateProbe(block: k, unit: i)))[index]
                    states.append(current > block.cell.alpha[i] * model.config.unitCurrent / 2)
                }
            }
        }
        return states
    }

    @Test("A one-cell model driven by a staircase reproduces the reference state sequence exactly",
          arguments: ["generic180", "gf180mcu"])
    func staircase(pdk name: String) throws {
        let compiler = try Compiler(pdk: testPDK(name))
        let compilation = try compiler.compile(Self.oneCell, inputs: .frames(Self.staircase))
        let reference = try Network(Self.oneCell).run(Self.staircase).states
        let states = try Self.circuitStates(compilation, model: Self.oneCell, frames: Self.staircase.count,
                                            frameDuration: compiler.frameDuration)
        print("\(name) staircase: reference \(reference.map { $0 ? 1 : 0 }), circuit \(states.map { $0 ? 1 : 0 })")
        #expect(states == reference)
    }

    @Test("Same model twice gives a byte-identical deck and manifest; the manifest covers every parameter")
    func deterministic() throws {
        let model = try Model.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4"))
        let compiler = try Compiler(pdk: testPDK("gf180mcu"))
        let first = try compiler.compile(model), second = try compiler.compile(model)
        #expect(try first.deck() == second.deck())
        #expect(first.manifest == second.manifest)
        // Every learned parameter once, besides the s0 bits and the residual copies.
        let learned = first.manifest.parameters.filter { !$0.parameter.hasPrefix("residual") && !$0.parameter.contains("s0") }
        #expect(learned.count == model.parameterCount)
        print("kws-yes-d4 gf180mcu: \(first.manifest.totals), deck \(try first.deck().utf8.count) bytes")
    }

    @Test("An uncompilable model is rejected before anything is written")
    func rejects() throws {
        var config = Self.oneCell.config
        config.classes = ["a", "b", "c"]
        let model = Model(config: config, pre: Self.oneCell.pre, blocks: Self.oneCell.blocks,
                          classifier: Linear(inputs: 1, weight: [1, 1, 1], bias: [0, 0, 0]))
        let compiler = try Compiler(pdk: testPDK("generic180"))
        #expect(throws: CompileError.self) { try compiler.compile(model) }
        #expect(throws: CompileError.self) { try compiler.compile(Self.oneCell, inputs: .frames([[1, 2]])) }
    }

    @Test("The committed models' decks run a short transient through libngspice and ngspice -b",
          arguments: ["kws-yes-d4", "latch-d4"])
    func committedDecks(model name: String) throws {
        let directory = TestSupport.repository.appendingPathComponent("results/models/\(name)")
        let model = try Model.load(from: directory)
        let golden = try GoldenSet.load(from: directory.appendingPathComponent(Model.goldenFileName), config: model.config)
        let frames = 4
        let inputs = (0..<frames).map { t in
            (0..<model.config.inputs).map { golden.inputs.values[t * model.config.inputs + $0] }
        }
        for pdkName in ["generic180", "gf180mcu"] {
            let compiler = try Compiler(pdk: testPDK(pdkName))
            let compilation = try compiler.compile(model, inputs: .frames(inputs))
            let session = try simulate(compilation.circuit)
            let time = try session.vector("time")
            #expect(abs(time.last! - Double(frames) * compiler.frameDuration) < 1e-9)
            let supplies = try Compiler.supplies.map { try -session.vector("i(\($0))").reduce(0, +) / Double(time.count) }
            let reference = try Network(model).run(inputs).states
            let states = try Self.circuitStates(compilation, model: model, frames: frames, frameDuration: compiler.frameDuration)
            let agree = zip(states, reference).filter { $0 == $1 }.count
            print("\(name) \(pdkName): \(compilation.manifest.totals.transistors) transistors, mean supply currents "
                + "cell/ff/bias \(supplies) A (sample mean), states agree \(agree)/\(states.count)")
            if pdkName == "generic180", FileManager.default.isExecutableFile(atPath: "/usr/bin/ngspice") {
                try runBatch(try compilation.deck())
            }
        }
    }

    /// Runs `deck` in `ngspice -b` and fails on a non-zero exit or an error line.
    func runBatch(_ deck: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("deck.cir")
        try deck.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ngspice")
        // -r: without a rawfile (or .print) ngspice -b runs nothing and exits 1. One thread: shared cores.
        process.arguments = ["-b", "-r", folder.appendingPathComponent("out.raw").path, file.path]
        try "set num_threads=1\n".write(to: folder.appendingPathComponent(".spiceinit"), atomically: true, encoding: .utf8)
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let errors = output.split(separator: "\n").filter { $0.lowercased().contains("error") }
        #expect(process.terminationStatus == 0 && errors.isEmpty, "ngspice -b: \(errors.prefix(5))")
    }
}
