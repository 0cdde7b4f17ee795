import BMRU
import ClipSources
import Foundation
import Netlist
import PDK
import Verify

/// A robustness sweep as written in a sweep file (`bmru sweep`, format in docs/robustness.md): one
/// model, PDK and characterization, a clip selection, and the axes whose product are the circuit
/// variants. Jobs are variants x clips.
///
/// Paths are relative to the folder of the file they are read from.
public struct SweepDefinition: Sendable, Equatable, Codable {
    /// Identifies the file.
    public var format = Self.formatName
    /// Revision of the schema.
    public var formatVersion = Self.currentVersion
    /// The model folder.
    public var model: String
    /// PDK name or path to a pdk.json.
    public var pdk: String
    /// Folder of the characterization the decks are calibrated with (nil: nominal sizing). It is
    /// measured at the PDK's default corner without variation and used unchanged in every variant,
    /// as a chip is trimmed once.
    public var characterization: String?
    /// Memory-cell variant (`CellTiming`, default filtered) and how each job is simulated (`RunMode`,
    /// default fast: the whole circuit; `partitioned`: cut at its gate lines, stage by stage).
    public var cells: CellTiming?, mode: RunMode?
    /// Whether biases are mirror outputs of one reference; nil in definitions written while ideal
    /// sources were the compiler's default, and read as they ran: false. `bmru sweep` writes it.
    public var mirroredBiases: Bool?
    /// A job's simulation is stopped after this many seconds (default 1800); `bmru sweep run
    /// --timeout` overrides it.
    public var timeout: Double?
    /// The clips every variant runs.
    public var clips: ClipSelection
    /// The axes.
    public var axes: Axes

    /// The file's `format` value and the schema revision this version writes and reads.
    public static let formatName = "bmru-sweep", currentVersion = 1

    /// What varies between variants. Every list defaults to the nominal single value.
    public struct Axes: Sendable, Equatable, Codable {
        /// Process corners of the PDK (default: the PDK's default corner).
        public var corners: [String]?
        /// Temperatures, degrees Celsius (default 27).
        public var temperatures: [Double]?
        /// Supply voltages as multiples of the compiler's nominal supply (default 1).
        public var supplyScales: [Double]?
        /// Amperes per model unit (default: the model's).
        public var unitCurrents: [Double]?
        /// Shot-noise scales (`ShotNoise.scale`; 0 is no noise; default [0]).
        public var noise: [Double]?
        /// Monte Carlo samples of the PDK's statistical models (nil: none).
        public var monteCarlo: MonteCarlo?

        /// Axes with the given lists.
        public init(corners: [String]? = nil, temperatures: [Double]? = nil, supplyScales: [Double]? = nil,
                    unitCurrents: [Double]? = nil, noise: [Double]? = nil, monteCarlo: MonteCarlo? = nil) {
            (self.corners, self.temperatures, self.supplyScales) = (corners, temperatures, supplyScales)
            (self.unitCurrents, self.noise, self.monteCarlo) = (unitCurrents, noise, monteCarlo)
        }

        enum CodingKeys: String, CodingKey {
            case corners, temperatures, supplyScales = "supply_scales", unitCurrents = "unit_currents", noise
            case monteCarlo = "monte_carlo"
        }
    }

    /// Monte Carlo sampling: `samples` dies, each the same circuit for every clip.
    public struct MonteCarlo: Sendable, Equatable, Codable {
        /// Number of samples (dies).
        public var samples: Int
        /// Base seed: sample s draws from a seed derived from (seed, s) alone.
        public var seed: Int
        /// Global (die-to-die process) variation; it replaces the process corner, so it needs the
        /// default corner only.
        public var global: Bool
        /// Local device mismatch (per transistor).
        public var mismatch: Bool

        /// Sampling with the given settings.
        public init(samples: Int, seed: Int = 1, global: Bool = false, mismatch: Bool = true) {
            (self.samples, self.seed, self.global, self.mismatch) = (samples, seed, global, mismatch)
        }

        enum CodingKeys: String, CodingKey { case samples, seed, global, mismatch }

        /// Reads `samples`; `seed` (default 1), `global` (false) and `mismatch` (true) may be omitted.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            samples = try c.decode(Int.self, forKey: .samples)
            seed = try c.decodeIfPresent(Int.self, forKey: .seed) ?? 1
            global = try c.decodeIfPresent(Bool.self, forKey: .global) ?? false
            mismatch = try c.decodeIfPresent(Bool.self, forKey: .mismatch) ?? true
        }

        /// The statistical variation the samples switch on.
        public var variation: StatisticalVariation { StatisticalVariation(global: global, mismatch: mismatch) }
    }

    /// A sweep with the given contents.
    public init(model: String, pdk: String, characterization: String?, cells: CellTiming? = nil,
                mode: RunMode? = nil, mirroredBiases: Bool? = nil, clips: ClipSelection, axes: Axes) {
        (self.model, self.pdk, self.characterization) = (model, pdk, characterization)
        (self.cells, self.mode, self.mirroredBiases, self.clips, self.axes) = (cells, mode, mirroredBiases, clips, axes)
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", model, pdk, characterization, cells, mode
        case mirroredBiases = "mirrored_biases", timeout = "timeout_s", clips, axes
    }

    /// Whether `pdk` is a path (to a pdk.json or its folder) rather than a catalog name, as `bmru`'s
    /// `--pdk` reads it.
    public var pdkIsPath: Bool { PDKCatalog.isPath(pdk) }

    /// The name of the copy of the definition kept in a sweep folder (its paths relative to it).
    public static let fileName = "sweep.json"

    /// Writes the definition as a sweep file to `url`, atomically.
    public func write(to url: URL) throws(SweepError) {
        try AtomicFile.write(try AtomicFile.json(self), to: url)
    }

    /// Reads and checks a sweep file.
    public static func load(from url: URL) throws(SweepError) -> SweepDefinition {
        let definition: SweepDefinition
        do { definition = try JSONDecoder().decode(SweepDefinition.self, from: Data(contentsOf: url)) } catch {
            throw .definition(url.path, fileErrorReason(error))
        }
        do { try definition.validate() } catch let SweepError.definition(_, reason) { throw .definition(url.path, reason) } catch {
            throw error
        }
        return definition
    }

    /// Throws `SweepError.definition` (with an empty path) naming the first field out of range.
    public func validate() throws(SweepError) {
        func fail(_ reason: String) -> SweepError { .definition("", reason) }
        guard format == Self.formatName else { throw fail("format is '\(format)', expected '\(Self.formatName)'") }
        guard formatVersion == Self.currentVersion else {
            throw fail("format_version \(formatVersion) is not supported (this bmru reads \(Self.currentVersion))")
        }
        if mode == .partitioned, cells == .sampled {
            throw fail("mode: partitioned cannot run sampled cells (their clock lines are shared by a block)")
        }
        if let timeout, !(timeout.isFinite && timeout > 0 && timeout <= 1e6) {
            throw fail("timeout_s: \(timeout) is outside (0, 1e6] seconds")
        }
        do { try clips.validate() } catch { throw fail("clips: \(error.description.replacingOccurrences(of: "inputs: ", with: ""))") }
        func nonEmpty<T>(_ list: [T]?, _ name: String) throws(SweepError) {
            if let list, list.isEmpty { throw fail("axes.\(name) is empty (omit it for the nominal value)") }
        }
        try nonEmpty(axes.corners, "corners")
        try nonEmpty(axes.temperatures, "temperatures")
        try nonEmpty(axes.supplyScales, "supply_scales")
        try nonEmpty(axes.unitCurrents, "unit_currents")
        try nonEmpty(axes.noise, "noise")
        for t in axes.temperatures ?? [] where !(t.isFinite && (-55...150).contains(t)) {
            throw fail("axes.temperatures: \(t) is outside -55...150 degrees C")
        }
        for s in axes.supplyScales ?? [] where !(s.isFinite && (0.5...1.5).contains(s)) {
            throw fail("axes.supply_scales: \(s) is outside 0.5...1.5")
        }
        for i in axes.unitCurrents ?? [] where !(i.isFinite && (1e-12...1e-6).contains(i)) {
            throw fail("axes.unit_currents: \(i) A is outside 1e-12...1e-6 A")
        }
        for n in axes.noise ?? [] where !(n.isFinite && (0...1000).contains(n)) {
            throw fail("axes.noise: \(n) is outside 0...1000")
        }
        if let mc = axes.monteCarlo {
            guard (1...100_000).contains(mc.samples) else { throw fail("axes.monte_carlo.samples: \(mc.samples) is outside 1...100000") }
            guard (0...Int(Int32.max)).contains(mc.seed) else { throw fail("axes.monte_carlo.seed: \(mc.seed) is outside 0...\(Int32.max)") }
            guard mc.global || mc.mismatch else { throw fail("axes.monte_carlo: neither global nor mismatch is on") }
        }
    }
}
