import BMRU
import Foundation
import Netlist
import Ngspice
import PDK
import Verify

/// Everything a sweep's jobs are made from, loaded once: the model, the PDK, the characterization,
/// the clips with their reference traces, and a verifier per variant.
struct SweepSetup {
    let definition: SweepDefinition
    let model: Model
    let modelDirectory: URL
    let pdk: PDK
    let characterization: Characterization?
    let clips: [Clip]
    /// Where the clips come from, for the provenance.
    let clipsDescription: String
    let references: [Trace]
    /// Hashes of the inputs that decide every deck (SHA-256, hex).
    let modelHash: String, pdkHash: String, characterizationHash: String?

    /// Loads `definition`, whose relative paths are relative to `base`.
    init(_ definition: SweepDefinition, relativeTo base: URL) throws(SweepError) {
        self.definition = definition
        func resolve(_ path: String) -> URL { URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL }
        modelDirectory = resolve(definition.model)
        do { model = try Model.load(from: modelDirectory) } catch { throw .setup(error.description) }
        do { pdk = try PDKCatalog.locate().pdk(definition.pdkIsPath ? resolve(definition.pdk).path : definition.pdk) } catch {
            throw .setup(error.description)
        }
        if let folder = definition.characterization.map(resolve) {
            let table: Characterization
            do { table = try Characterization.load(from: folder) } catch { throw .setup(error.description) }
            // The calibration point of every variant: the PDK's default corner at the model's unit current.
            if let reason = table.disagreement(pdk: pdk.name, corner: pdk.descriptor.defaultCorner,
                                               unitCurrent: model.config.unitCurrent, cellSize: table.cellSize,
                                               cellTopology: table.cellTopology) {
                throw .setup("\(folder.appendingPathComponent(Characterization.fileName).path): \(reason)")
            }
            characterization = table
            characterizationHash = sha256Hex(files: [folder.appendingPathComponent(Characterization.fileName)])
        } else {
            (characterization, characterizationHash) = (nil, nil)
        }
        do {
            (clips, clipsDescription) = try definition.clips.load(model: model, modelDirectory: modelDirectory, relativeTo: base)
        } catch { throw .setup(error.description) }
        let names = Set(clips.map(\.name))
        guard names.count == clips.count else { throw .setup("the clip selection holds two clips of the same name") }
        let reference = Verifier(model: model, modelDirectory: modelDirectory,
                                 compiler: try Self.compiler(pdk: pdk, characterization: characterization))
        do { references = try reference.references(clips) } catch { throw .setup(error.description) }
        modelHash = reference.modelHash()
        pdkHash = sha256Hex(files: pdk.modelFiles) ?? "unavailable"
    }

    private static func compiler(pdk: PDK, characterization: Characterization?) throws(SweepError) -> Compiler {
        do { return try Compiler(pdk: pdk, characterization: characterization) } catch { throw .setup(error.description) }
    }

    /// The variants of the definition, in job order: corners, temperatures, supply scales, unit
    /// currents, noise scales, then Monte Carlo samples innermost.
    func variants() throws(SweepError) -> [Variant] {
        let axes = definition.axes
        let corners = axes.corners ?? [pdk.descriptor.defaultCorner]
        for corner in corners where pdk.descriptor.corners[corner] == nil {
            throw .setup("PDK \(pdk.name) has no corner '\(corner)' (available: \(pdk.descriptor.corners.keys.sorted().joined(separator: ", ")))")
        }
        if let mc = axes.monteCarlo {
            if pdk.descriptor.statistics == nil { throw .setup("PDK \(pdk.name) has no statistical models for Monte Carlo") }
            if mc.global, corners != [pdk.descriptor.defaultCorner] {
                throw .setup("global variation draws the process itself: it runs at the default corner only")
            }
        }
        let samples: [Int?] = axes.monteCarlo.map { mc in (0..<mc.samples).map { $0 } } ?? [nil]
        var variants: [Variant] = []
        for corner in corners {
            for temperature in axes.temperatures ?? [27] {
                for supplyScale in axes.supplyScales ?? [1] {
                    for unitCurrent in axes.unitCurrents ?? [model.config.unitCurrent] {
                        for noise in axes.noise ?? [0] {
                            for sample in samples {
                                variants.append(Variant(id: variants.count, corner: corner, temperature: temperature,
                                                        supplyScale: supplyScale, unitCurrent: unitCurrent, noise: noise,
                                                        sample: sample))
                            }
                        }
                    }
                }
            }
        }
        return variants
    }

    /// The verifier whose compiler builds `variant`'s circuit (the calibration stays the one of the
    /// definition, measured at the default corner without variation).
    func verifier(for variant: Variant, timeout: Double?) throws(SweepError) -> Verifier {
        var compiler = try Self.compiler(pdk: pdk, characterization: characterization)
        do { compiler.corner = try pdk.corner(variant.corner) } catch { throw .setup(error.description) }
        compiler.temperature = variant.temperature
        compiler.supply *= variant.supplyScale
        compiler.unitCurrent = variant.unitCurrent
        compiler.noise = variant.noise > 0 ? ShotNoise(scale: variant.noise) : nil
        compiler.statistics = variant.sample == nil ? .none : definition.axes.monteCarlo?.variation ?? .none
        compiler.mode = (definition.mode ?? .fast).simulation
        compiler.cellTiming = definition.cells ?? .filtered
        compiler.idealBiases = !(definition.mirroredBiases ?? false)
        var verifier = Verifier(model: model, modelDirectory: modelDirectory, compiler: compiler)
        verifier.jobTimeout = timeout
        verifier.partitioned = definition.mode?.partitionLoad
        return verifier
    }

    /// The simulator seed of variant `variant` on clip `clip`: a Monte Carlo sample's seed depends on
    /// the base seed and the sample alone (one die, the same circuit for every clip); noise without
    /// Monte Carlo draws per (variant, clip); a variant with neither draws nothing.
    func seed(variant: Variant, clip: Int) -> Int? {
        let base = UInt64(definition.axes.monteCarlo?.seed ?? 1)
        if let sample = variant.sample { return Self.mix([base, UInt64(sample)]) }
        if variant.noise > 0 { return Self.mix([base, UInt64(variant.id), UInt64(clip), 0x6e6f697365]) }
        return nil
    }

    /// A seed in 1...Int32.max from `values` (SplitMix64 over them in turn): stable across platforms.
    static func mix(_ values: [UInt64]) -> Int {
        var state: UInt64 = 0
        for value in values {
            var rng = SplitMix64(seed: state ^ value)
            state = rng.next()
        }
        return Int(state % UInt64(Int32.max)) + 1
    }

    /// The key of a job: SHA-256 of what it simulates (deck, commands, seed, vectors; not its
    /// timeout) with the PDK's model folder written as `$PDK_MODELS`, so that the same sweep on
    /// another machine, with the PDK elsewhere, has the same keys. In a partitioned sweep the key is
    /// marked as partitioned (`Verifier.key(_:partitioned:)`): a plan made in one mode is never
    /// resumed, or merged, with results of another.
    func key(_ job: SimulationJob) -> String {
        var job = job
        if case let .lines(lines) = job.deck {
            let root = pdk.modelRoot.path
            job.deck = .lines(lines.map { $0.replacingOccurrences(of: root, with: "$PDK_MODELS") })
        }
        return Verifier.key(job.key, partitioned: definition.mode?.partitionLoad)
    }
}

/// One circuit of a sweep: a corner, temperature, supply, unit current, noise scale and (for Monte
/// Carlo) a sample.
public struct Variant: Sendable, Hashable, Codable {
    /// Position in the plan's variant list.
    public var id: Int
    /// Process corner.
    public var corner: String
    /// Temperature, degrees Celsius.
    public var temperature: Double
    /// Supply as a multiple of the nominal supply.
    public var supplyScale: Double
    /// Amperes per model unit.
    public var unitCurrent: Double
    /// Shot-noise scale (0: no noise).
    public var noise: Double
    /// Monte Carlo sample (die) index; nil without statistical variation.
    public var sample: Int?

    enum CodingKeys: String, CodingKey {
        case id, corner, temperature = "temperature_C", supplyScale = "supply_scale", unitCurrent = "unit_current_A"
        case noise, sample
    }

    /// The variant without its sample: the operating condition a die is tested at.
    public var condition: String {
        "\(corner), \(formatNumber(temperature)) C, supply x\(formatNumber(supplyScale)), "
            + "I_u \(formatNumber(unitCurrent * 1e9)) nA" + (noise > 0 ? ", noise x\(formatNumber(noise))" : "")
    }
}

/// A number without float debris (`27`, `1.1`, `0.5`).
func formatNumber(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%g", value)
}
