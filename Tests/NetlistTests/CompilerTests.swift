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

    /// The committed kws-yes-d4 model and GF180 with the committed characterization `tables`
    /// (a folder of results/characterization).
    static func committed(_ tables: String) throws -> (model: Model, pdk: PDK, table: Characterization) {
        let results = TestSupport.repository.appendingPathComponent("results")
        return (try Model.load(from: results.appendingPathComponent("models/kws-yes-d4")),
                try TestSupport.catalog.pdk("gf180mcu", environment: TestSupport.environment()),
                try Characterization.load(from: results.appendingPathComponent("characterization/\(tables)")))
    }

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
                    let current = try session.vector(try SpiceWriter.expression(NetworkSignal.state(block: k, unit: i).probe))[index]
                    states.append(block.cell.state(current: current, unit: i, unitCurrent: model.config.unitCurrent))
                }
            }
        }
        return states
    }

    @Test("A one-cell model driven by a staircase reproduces the reference state sequence exactly, mirrored or ideal biases",
          arguments: ["generic180", "gf180mcu"], [true, false])
    func staircase(pdk name: String, mirroredBiases: Bool) throws {
        var compiler = try Compiler(pdk: testPDK(name))
        compiler.idealBiases = !mirroredBiases
        let reference = try Network(Self.oneCell).run(Self.staircase).states
        for timing in CellTiming.allCases {
            compiler.cellTiming = timing
            let compilation = try compiler.compile(Self.oneCell, inputs: .frames(Self.staircase))
            let states = try Self.circuitStates(compilation, model: Self.oneCell, frames: Self.staircase.count,
                                                frameDuration: compiler.frameDuration)
            if mirroredBiases {
                #expect(compilation.manifest.parameters.flatMap(\.elements).contains { $0.kind == "cell bias (mirrored)" })
                // One ideal source left besides the inputs: the reference.
                #expect(try compilation.deck().split(separator: "\n").filter { $0.hasPrefix("i") && !$0.contains("pwl") }.map { $0.prefix(9) } == ["ibias_ref"])
            }
            print("\(name) staircase (\(mirroredBiases ? "mirrored" : "ideal") biases, \(timing) cells): reference \(reference.map { $0 ? 1 : 0 }), circuit \(states.map { $0 ? 1 : 0 })")
            #expect(states == reference, "\(timing) cells")
        }
    }

    /// ngspice's first step is a hundredth of min(print step, stop / 100) and is not checked for
    /// truncation error; 100 us in fast mode let a filtered cell start on against its initial
    /// condition in 2 of 226 real clips (docs/design/cell-variants.md), so `SimulationMode.analysis` gives
    /// filtered decks a print step of a thousandth of a frame.
    @Test("Fast-mode decks of filtered cells start with a 0.1 us step, of other cells with a hundredth of min(frame, stop / 100)")
    func fastFirstStep() throws {
        var compiler = try Compiler(pdk: testPDK("gf180mcu"))
        compiler.mode = .fast
        let stop = Double(Self.staircase.count) * compiler.frameDuration
        for timing in CellTiming.allCases {
            compiler.cellTiming = timing
            let session = try simulate(try compiler.compile(Self.oneCell, inputs: .frames(Self.staircase)).circuit)
            let first = try session.vector("time")[1]
            let printStep = timing == .filtered ? compiler.frameDuration / 1000 : compiler.frameDuration
            print("fast mode, \(timing) cells: first time point \(first) s")
            #expect(abs(first / (min(printStep, stop / 100) / 100) - 1) < 1e-6, "\(timing) cells")
        }
    }

    @Test("Sampled cells add four devices per cell and three clock lines per block, filtered cells (the default) a capacitor; continuous cells none")
    func cellTiming() throws {
        let model = try Model.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4"))
        var compiler = try Compiler(pdk: testPDK("gf180mcu"))
        #expect(compiler.cellTiming == .filtered)
        compiler.cellTiming = .continuous
        let continuous = try compiler.compile(model)
        compiler.cellTiming = .sampled
        let sampled = try compiler.compile(model)
        let cells = model.config.blocks * model.config.hidden
        #expect(sampled.manifest.totals.transistors == continuous.manifest.totals.transistors + 4 * cells)
        #expect(sampled.manifest.cells == .sampled && continuous.manifest.cells == .continuous)
        #expect(sampled.manifest.sampleWindows?.map(\.open) == [0.0025, 0.005] && continuous.manifest.sampleWindows == nil)
        let (withClock, without) = (try sampled.deck(), try continuous.deck())
        #expect(withClock.split(separator: "\n").filter { $0.contains("pulse(") }.count == 3 * model.config.blocks)
        #expect(!without.contains("pulse(") && !without.contains("clk0"))
        #expect(withClock.contains("xu0 c1_0 thresh1_0 width1_0 gain1_0 s1_0 clk1 clk1_b hold1 vdd_cell 0 bmru_cell"))
        compiler.cellTiming = .filtered
        let filtered = try compiler.compile(model)
        #expect(filtered.manifest.totals.transistors == continuous.manifest.totals.transistors && filtered.manifest.cells == .filtered)
        #expect(try filtered.deck().contains("cfilter v0 vss 2e-13") && !without.contains("cfilter"))
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

    @Test("Parameters and inputs beyond the compiler's bound, and unit currents outside the range, are refused by name",
          arguments: [3e38, 1e6, -1001])
    func bounds(weight: Double) throws {
        var model = try Model.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4"))
        model.blocks[1].post.weight[6] = weight
        let compiler = try Compiler(pdk: testPDK("generic180"))
        #expect(throws: CompileError.unrealizable(parameter: "blocks.1.post.weight[1][2]",
                                                  reason: "\(weight) is beyond the compiler's bound of 1000.0 units")) {
            try compiler.compile(model)
        }
        model.blocks[1].post.weight[6] = 1000
        #expect(throws: Never.self) { try compiler.compile(model) }
        let frames = [[Double]](repeating: [Double](repeating: 0.5, count: 13), count: 3)
        var bad = frames
        bad[2][4] = .nan
        #expect(throws: CompileError.invalidModel("input frame 2 feature 4 is nan, must be finite and within 1000.0 units")) {
            try compiler.compile(model, inputs: .frames(bad))
        }
        bad[2][4] = 1e30
        #expect(throws: CompileError.self) { try compiler.compile(model, inputs: .frames(bad)) }
        for current in [1e300, 0, .nan] {
            var override = compiler
            override.unitCurrent = current
            #expect(throws: CompileError.invalidModel("unit current \(current) A must be in 1e-15...0.001 A")) {
                try override.compile(model)
            }
        }
    }

    @Test("The committed models' decks run a short transient through libngspice and ngspice -b",
          arguments: ["kws-yes-d4", "latch-d4"])
    func committedDecks(model name: String) throws {
        let directory = TestSupport.repository.appendingPathComponent("results/models/\(name)")
        let model = try Model.load(from: directory)
        let golden = try GoldenSet.load(from: directory.appendingPathComponent(Model.goldenFileName), config: model.config)
        let frames = 4
        let inputs = golden.inputs.sequence(0, frames: frames)
        for pdkName in ["generic180", "gf180mcu"] {
            // Sized and biased from the committed characterization, as the committed decks are.
            let table = try Characterization.load(from: TestSupport.repository
                .appendingPathComponent("results/characterization/\(pdkName)"))
            let compiler = try Compiler(pdk: testPDK(pdkName), characterization: table)
            let compilation = try compiler.compile(model, inputs: .frames(inputs))
            let session = try simulate(compilation.circuit)
            let time = try session.vector("time")
            #expect(abs(time.last! - Double(frames) * compiler.frameDuration) < 1e-9)
            let supplies = try NetworkSignal.supplies.map { try -session.vector("i(\($0))").reduce(0, +) / Double(time.count) }
            let reference = try Network(model).run(inputs).states
            let states = try Self.circuitStates(compilation, model: model, frames: frames, frameDuration: compiler.frameDuration)
            let agree = zip(states, reference).filter { $0 == $1 }.count
            print("\(name) \(pdkName): \(compilation.manifest.totals.transistors) transistors, mean supply currents "
                + "cell/ff/bias \(supplies) A (sample mean), states agree \(agree)/\(states.count)")
            if pdkName == "generic180", FileManager.default.isExecutableFile(atPath: "/usr/bin/ngspice") {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-deck-\(UUID().uuidString).cir")
                defer { try? FileManager.default.removeItem(at: file) }
                try compilation.deck().write(to: file, atomically: true, encoding: .utf8)
                try runBatch(file)
            }
        }
    }

    /// The committed decks (`scripts/generate-decks.sh`) are current: compiled again from the committed
    /// model and characterization, with model paths relative to their folder and the models where CI
    /// keeps them (../shared/pdk), they come out byte for byte the same, manifest included.
    @Test("The committed decks equal a fresh compile; the GF180 one runs in place in ngspice -b",
          arguments: ["generic180", "gf180mcu"])
    func committedDeckFiles(pdk name: String) throws {
        let repository = TestSupport.repository
        let folder = repository.appendingPathComponent("spice/kws-yes-d4/\(name)")
        let modelFolder = repository.appendingPathComponent("results/models/kws-yes-d4")
        let model = try Model.load(from: modelFolder)
        let golden = try GoldenSet.load(from: modelFolder.appendingPathComponent(Model.goldenFileName), config: model.config)
        let pdk = try TestSupport.catalog.pdk(name, environment: [
            "PDK_ROOT": repository.deletingLastPathComponent().appendingPathComponent("shared/pdk").path,
        ])
        let table = try Characterization.load(from: repository.appendingPathComponent("results/characterization/\(name)"))
        var compiler = try Compiler(pdk: pdk, corner: "typical", characterization: table)
        compiler.modelsRelativeTo = folder
        compiler.rawFile = Compilation.rawFileName
        let fresh = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-fresh-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: fresh) }
        try compiler.compile(model, inputs: .frames(golden.inputs.sequence(0, frames: 4))).write(to: fresh)
        for file in [Compilation.deckFileName, Compilation.manifestFileName] {
            let committed = try Data(contentsOf: folder.appendingPathComponent(file))
            #expect(try Data(contentsOf: fresh.appendingPathComponent(file)) == committed,
                    "\(name)/\(file) is stale: run scripts/generate-decks.sh")
        }
        if name == "gf180mcu", FileManager.default.isExecutableFile(atPath: "/usr/bin/ngspice") {
            // The committed deck runs as written and leaves deck.raw beside itself.
            let raw = folder.appendingPathComponent(Compilation.rawFileName)
            defer { try? FileManager.default.removeItem(at: raw) }
            try runBatch(folder.appendingPathComponent(Compilation.deckFileName), rawFile: nil)
            let header = try String(decoding: Data(contentsOf: raw).prefix(2000), as: UTF8.self)
            #expect(header.contains("i(vsense_h0_0)") && header.contains("v(decision)"), "\(header.prefix(300))")
        }
    }

    @Test("The compiler sizes with its table's rule: narrow outputs at the minimum width for a table without narrowestOutput, at 0.4 um (or 20 um long) for a current one")
    func sizingRuleFromTable() throws {
        var (model, pdk, table) = try Self.committed("gf180mcu")
        let floor = CurrentMirror.standardNarrowestOutput, wmin = pdk.descriptor.wmin
        #expect(table.narrowestOutput == floor)
        // The outputs narrower than the unit's bin: width and length of each.
        func narrow(_ table: Characterization) throws -> [(width: Double, length: Double)] {
            let compiler = try Compiler(pdk: pdk, corner: "typical", characterization: table)
            return try compiler.compile(model).manifest.parameters.flatMap(\.elements)
                .filter { $0.kind == "mirror output" && ($0.width ?? 1) < 1e-6 }
                .compactMap { info in info.width.flatMap { w in info.length.map { (w, $0) } } }
        }
        // Lengthened outputs: 0.4 um wide, or 20 um long and narrower; by the old rule all minimum-width.
        let unitLength = CurrentMirror.mirrorUnit.length
        let current = try narrow(table).filter { $0.length > unitLength }
        #expect(current.contains { abs($0.width - floor) < 1e-12 } && !current.contains { $0.width == wmin })
        #expect(current.allSatisfy { abs($0.width - floor) < 1e-12 || abs($0.length - CurrentMirror.maximumLength) < 1e-12 })
        table.narrowestOutput = 0  // revision 0: no floor
        let legacy = try narrow(table).filter { $0.length > unitLength }
        #expect(!legacy.isEmpty && legacy.allSatisfy { $0.width == wmin })
    }

    @Test("The compilation lists its probes: states, readout inputs, decision and supplies always; candidate and block-output diode currents on request, on ports added after each layer's own, with the same devices")
    func probes() throws {
        let model = try Model.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4"))
        var compiler = try Compiler(pdk: testPDK("gf180mcu"))
        let plain = try compiler.compile(model)
        compiler.probeDiodeCurrents = true
        let probed = try compiler.compile(model)
        let (blocks, d) = (model.config.blocks, model.config.hidden)
        let cells = (0..<blocks).flatMap { k in (0..<d).map { (k, $0) } }
        let always = cells.map { NetworkSignal.state(block: $0.0, unit: $0.1) }
            + [.readoutInput(0), .readoutInput(1), .decision] + NetworkSignal.supplies.map(NetworkSignal.supply)
        #expect(plain.probes == always)
        #expect(probed.probes == always + cells.map { NetworkSignal.candidate(block: $0.0, unit: $0.1) }
            + cells.map { NetworkSignal.blockOutput(block: $0.0, unit: $0.1) })
        #expect(probed.circuit.saves == probed.probes.map(\.probe) && plain.circuit.saves == plain.probes.map(\.probe))
        #expect(probed.manifest.totals == plain.manifest.totals)
        let deck = try probed.deck()
        #expect(deck.contains("vsense_c1_3 vdd_ff cs1_3 dc 0") && deck.contains("vsense_p0_0 ps0_0 0 dc 0"))
        let plainDeck = try plain.deck()
        #expect(!plainDeck.contains("vsense_c0_") && !plainDeck.contains("vsense_p0_"))
        // The layer's own ports come first, then the probe ports.
        let candidates = try #require(probed.circuit.subcircuits.first { $0.name == "b0_cand" })
        let own = try #require(plain.circuit.subcircuits.first { $0.name == "b0_cand" }).ports
        #expect(candidates.ports == own + (0..<d).map { "cs0_\($0)" })
    }

    @Test("Cells of a larger area: every cell device, bias diode and candidate diode takes the characterization's size, at the same transistor count; another size than the table's is refused")
    func cellArea() throws {
        #expect(DeviceSize.unit.scaled(area: 16) == DeviceSize(width: 4e-6, length: 8e-6))
        #expect(DeviceSize.unit.scaled(area: 2) == DeviceSize(width: 1.41e-6, length: 2.83e-6))
        let (model, pdk, unit) = try Self.committed("gf180mcu")
        let sized = try Self.committed("gf180mcu-cell16").table
        // Ideal biases: a mirrored bias takes the fingers its current needs, which differ between cell sizes.
        func compile(_ table: Characterization) throws -> Compilation {
            var compiler = try Compiler(pdk: pdk, characterization: table)
            compiler.idealBiases = true
            return try compiler.compile(model)
        }
        let (small, large) = (try compile(unit), try compile(sized))
        #expect(large.manifest.totals.transistors == small.manifest.totals.transistors)
        // 8 cells x (9 devices, 1 state output, 3 bias diodes, 1 candidate diode) grow 16-fold; the rest is unchanged.
        let cellDevices = 8 * 14, unitArea = 2e-12
        let grown = large.manifest.totals.gateArea - small.manifest.totals.gateArea
        #expect(abs(grown - Double(cellDevices) * 15 * unitArea) < 1e-6 * grown, "gate area grew \(grown) m^2")
        let deck = try large.deck()
        #expect(deck.contains("xm1 v0 in vdd vdd pfet_03v3 w=4e-06 l=8e-06"), "cell device size")
        #expect(deck.contains("xd_thresh0_0 thresh0_0 thresh0_0 0 0 nfet_03v3 w=4e-06 l=8e-06"), "bias diode size")
        var mismatched = try Compiler(pdk: pdk, characterization: sized)
        mismatched.cellSize = .unit
        #expect(throws: CompileError.self) { try mismatched.compile(model) }
    }

    @Test("Switched cells: the characterization's topology, the same device count, beta_lo on the thresh line; another topology than the table's is refused")
    func switchedCells() throws {
        let (model, pdk, table) = try Self.committed("gf180mcu-switched")
        // Ideal biases: a mirrored bias takes the fingers its current needs, which differ between topologies.
        var compiler = try Compiler(pdk: pdk, characterization: table)
        compiler.idealBiases = true
        #expect(compiler.cellTopology == .switched)
        let switched = try compiler.compile(model)
        var plain = try Compiler(pdk: pdk, characterization: try Self.committed("gf180mcu").table)
        plain.idealBiases = true
        let feedback = try plain.compile(model)
        #expect(switched.manifest.totals.transistors == feedback.manifest.totals.transistors)
        let deck = try switched.deck()
        #expect(deck.contains("xs6 v0 v0b width_tail vss nfet_03v3") && !deck.contains("vfb"))
        // Cell 1/1's thresh line carries about beta_lo (100.9 pA), not beta_hi (1.49 nA).
        let thresh = try #require(switched.manifest.parameters.first { $0.parameter == "blocks.1.cell.beta_lo[1]" }?.elements.first?.current)
        #expect(abs(thresh - 100.9e-12) < 15e-12, "\(thresh)")
        var other = compiler
        other.cellTopology = .feedback
        #expect(throws: CompileError.self) { try other.compile(model) }
        var sampled = compiler
        sampled.cellTiming = .sampled
        #expect(throws: CompileError.self) { try sampled.compile(model) }
    }

    /// Runs the deck `file` in `ngspice -b` (with `-r rawFile` in the scratch folder; nil: the deck writes
    /// its own) from a scratch folder (so relative model paths must resolve
    /// against the deck's own folder) and fails on a non-zero exit or an error line.
    func runBatch(_ file: URL, rawFile: String? = "out.raw") throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bmru-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ngspice")
        // Without a rawfile (-r, or a deck's own control block) ngspice -b runs nothing and exits 1.
        // One thread: shared cores.
        process.arguments = ["-b"] + (rawFile.map { ["-r", folder.appendingPathComponent($0).path] } ?? []) + [file.path]
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
