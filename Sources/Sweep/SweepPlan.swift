import BMRU
import Foundation
import Ngspice
import PDK
import Verify

/// A planned sweep (`DIR/plan.json`): every job with its variant, clip, seed, shard and key, and
/// the hashes of what the decks are made from. `bmru sweep run`, `status` and `merge` work from it,
/// so that any machine sharing `DIR` runs exactly the same jobs.
public struct SweepPlan: Sendable, Equatable, Codable {
    /// Identifies the file.
    public var format = Self.formatName
    /// Revision of the schema.
    public var formatVersion = 1
    /// The sweep, its paths relative to the plan's folder.
    public var definition: SweepDefinition
    /// BMRUKit's version that made the plan; every job result must come from the same.
    public var bmrukit: String
    /// Model and PDK name; SHA-256 of the model files, the PDK's model files and the characterization.
    public var model: String, pdk: String
    /// Memory cells per block of the model.
    public var hidden: Int
    public var modelHash: String, pdkHash: String, characterizationHash: String?
    /// Where the clips come from.
    public var inputs: String
    /// The clips, in job order.
    public var clips: [PlannedClip]
    /// The variants, in job order.
    public var variants: [Variant]
    /// Number of shards (Slurm array tasks).
    public var shards: Int
    /// Every job: variant-major, clip-minor (job id = variant id x clips + clip index).
    public var jobs: [PlannedJob]

    /// The `format` of plan files.
    public static let formatName = "bmru-sweep-plan"
    /// File and folder names inside a sweep folder.
    public static let fileName = "plan.json", jobsFolder = "jobs", slurmFolder = "slurm"

    /// A clip of the plan.
    public struct PlannedClip: Sendable, Equatable, Codable {
        /// Name (unique in the sweep), label and number of frames.
        public var name: String, label: Int?, frames: Int
    }

    /// One job: a variant on a clip.
    public struct PlannedJob: Sendable, Equatable, Codable {
        /// Job id, variant id and clip index.
        public var id: Int, variant: Int, clip: Int
        /// The simulator seed (Monte Carlo die, noise); nil when nothing is random.
        public var seed: Int?
        /// The shard (array task) that runs it.
        public var shard: Int
        /// SHA-256 of what it simulates (`SweepSetup.key`).
        public var key: String
    }

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", definition, bmrukit, model, pdk, hidden, modelHash = "model_hash"
        case pdkHash = "pdk_hash", characterizationHash = "characterization_hash", inputs, clips, variants, shards, jobs
    }

    /// Plans `definition` (read from a file in `base`) into `shards` shards; its paths are rewritten
    /// relative to `folder`, where the plan will be written.
    public static func make(_ definition: SweepDefinition, relativeTo base: URL, shards: Int, folder: URL,
                            version: String) throws(SweepError) -> SweepPlan {
        guard shards >= 1 else { throw .setup("shards must be >= 1, got \(shards)") }
        let setup = try SweepSetup(definition, relativeTo: base)
        let variants = try setup.variants()
        var jobs: [PlannedJob] = []
        jobs.reserveCapacity(variants.count * setup.clips.count)
        // Monte Carlo samples share their deck text (only the seed differs): one deck per
        // (condition, clip).
        struct DeckKey: Hashable { var condition: Variant, clip: Int }
        var decks: [DeckKey: SimulationJob] = [:]
        for variant in variants {
            let verifier = try setup.verifier(for: variant, timeout: nil)
            for (index, clip) in setup.clips.enumerated() {
                var condition = variant
                (condition.id, condition.sample) = (0, nil)
                let deckKey = DeckKey(condition: condition, clip: index)
                var job: SimulationJob
                if let cached = decks[deckKey] {
                    job = cached
                } else {
                    do { job = try verifier.job(for: clip) } catch { throw .setup(error.description) }
                    decks[deckKey] = job
                }
                let seed = setup.seed(variant: variant, clip: index)
                job.seed = seed
                let id = jobs.count
                jobs.append(PlannedJob(id: id, variant: variant.id, clip: index, seed: seed, shard: 0, key: setup.key(job)))
            }
        }
        for index in jobs.indices { jobs[index].shard = shard(of: index, jobs: jobs.count, shards: shards) }
        var relative = definition
        func rebase(_ path: String) -> String {
            PDK.relativePath(of: URL(fileURLWithPath: path, relativeTo: base), from: folder)
        }
        relative.model = rebase(definition.model)
        if definition.pdkIsPath { relative.pdk = rebase(definition.pdk) }
        relative.characterization = definition.characterization.map(rebase)
        relative.clips.data = definition.clips.data.map(rebase)
        relative.clips.inputs = definition.clips.inputs.map(rebase)
        return SweepPlan(definition: relative, bmrukit: version, model: setup.model.config.name, pdk: setup.pdk.name,
                         hidden: setup.model.config.hidden, modelHash: setup.modelHash, pdkHash: setup.pdkHash,
                         characterizationHash: setup.characterizationHash, inputs: setup.clipsDescription,
                         clips: setup.clips.map { PlannedClip(name: $0.name, label: $0.label, frames: $0.frames.count) },
                         variants: variants, shards: shards, jobs: jobs)
    }

    /// The same jobs distributed over `count` shards.
    public func resharded(_ count: Int) -> SweepPlan {
        var plan = self
        plan.shards = count
        for index in plan.jobs.indices { plan.jobs[index].shard = Self.shard(of: index, jobs: jobs.count, shards: count) }
        return plan
    }

    /// The shard of job `id` of `jobs`: consecutive jobs in equal blocks, so that the first shards to
    /// finish hold whole variants (a Monte Carlo die's clips are consecutive jobs).
    static func shard(of id: Int, jobs: Int, shards: Int) -> Int { id * shards / max(jobs, 1) }

    /// Whether `other` runs the same jobs (shards aside).
    public func sameJobs(as other: SweepPlan) -> Bool {
        jobs.map(\.key) == other.jobs.map(\.key) && variants == other.variants && clips == other.clips
            && bmrukit == other.bmrukit
    }

    /// Reads `DIR/plan.json`.
    public static func load(from folder: URL) throws(SweepError) -> SweepPlan {
        let url = folder.appendingPathComponent(fileName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .plan(folder.path, "no sweep plan here (\(fileName): \(fileErrorReason(error))); run 'bmru sweep plan' first")
        }
        do {
            let plan = try JSONDecoder().decode(SweepPlan.self, from: data)
            guard plan.format == formatName else { throw SweepError.plan(url.path, "format is '\(plan.format)', expected '\(formatName)'") }
            return plan
        } catch let error as SweepError {
            throw error
        } catch {
            throw .plan(url.path, "not a sweep plan: \(error)")
        }
    }

    /// Writes `DIR/plan.json` atomically.
    public func write(to folder: URL) throws(SweepError) {
        try AtomicFile.write(try AtomicFile.json(self), to: folder.appendingPathComponent(Self.fileName))
    }
}

/// Files written whole or not at all (Foundation's atomic write: a temporary sibling, then a
/// rename), so that a killed writer or a concurrent reader never sees half a file.
enum AtomicFile {
    /// Pretty-printed JSON with sorted keys and no escaped slashes, newline-terminated.
    static func json(_ value: some Encodable) throws(SweepError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(value) + Data("\n".utf8) } catch { throw .file("json", "\(error)") }
    }

    /// Writes `data` to `url` atomically, creating its folder if needed.
    static func write(_ data: Data, to url: URL) throws(SweepError) {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        } catch {
            throw .file(url.path, fileErrorReason(error))
        }
    }
}
