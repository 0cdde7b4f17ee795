import Crypto
import Foundation
import Ngspice

/// SHA-256 of `data` as lowercase hex: the model hash of the provenance, the resume keys and the
/// provenance hashes of sweeps.
public func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

/// SHA-256 hex of the contents of `files` concatenated in the given order; nil when one cannot be read.
/// The model, PDK and characterization hashes of the provenance.
public func sha256Hex(files: [URL]) -> String? {
    var data = Data()
    for file in files {
        guard let contents = try? Data(contentsOf: file) else { return nil }
        data += contents
    }
    return sha256Hex(data)
}

extension SimulationJob {
    /// SHA-256 hex of what the job simulates (deck, commands, seed, analysis, vectors), without its
    /// timeout: jobs with equal keys give the same result, so a saved result is reused under its key.
    public var key: String {
        var job = self
        job.timeout = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return sha256Hex((try? encoder.encode(job)) ?? Data())
    }
}

/// One simulated clip as saved in the report's `samples/` folder: what resuming needs.
///
/// A clip's file is written the moment its job ends, and is reused by a later run whose job for the
/// clip has the same `key` (the same deck, commands and vectors), so an interrupted run simulates only
/// what is missing or changed. Failed clips are not saved: they run again.
struct SavedClip: Codable {
    /// The clip's job key (`SimulationJob.key`).
    var key: String
    /// The frame-end samples of the clip's transient.
    var samples: CircuitSamples
    /// Simulation seconds inside the worker, and how many times the job was started.
    var seconds: Double, attempts: Int
    /// The simulator that ran the job (`JobOutcome.simulator`); nil in files saved before it was kept.
    var simulator: String?
    /// ngspice's statistics of the clip's transients, summed over its partitions; nil in files saved
    /// before they were kept.
    var statistics: SimulatorStatistics?

    /// The saved clip in `url`; nil when it is absent or unreadable (a clip to simulate again).
    static func load(_ url: URL) -> SavedClip? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(SavedClip.self, from: data)
    }

    /// The saved clip of a finished job (written to `file`, atomically), or why the clip failed;
    /// throws when the file cannot be written.
    static func make(_ outcome: JobOutcome, key: String, sampling: CircuitSamples.Sampling,
                     file: URL) throws(VerifyError) -> Result<SavedClip, ClipFailure> {
        try make(CircuitSamples.read(outcome, sampling), key: key, seconds: outcome.seconds, attempts: outcome.attempts,
                 simulator: outcome.simulator, statistics: outcome.statistics, file: file)
    }

    /// The saved clip of `samples` (written to `file`, atomically), or the clip's failure; throws when
    /// the file cannot be written.
    static func make(_ read: Result<CircuitSamples, ClipFailure>, key: String, seconds: Double, attempts: Int,
                     simulator: String?, statistics: SimulatorStatistics?, file: URL) throws(VerifyError)
        -> Result<SavedClip, ClipFailure>
    {
        let samples: CircuitSamples
        switch read {
        case let .failure(failure): return .failure(failure)
        case let .success(read): samples = read
        }
        let saved = SavedClip(key: key, samples: samples, seconds: seconds, attempts: attempts, simulator: simulator,
                              statistics: statistics)
        let data: Data
        do { data = try JSONEncoder().encode(saved) } catch { throw .file(file.path, "samples hold a non-finite value") }
        try ReportFolder.write(data, to: file)
        return .success(saved)
    }
}
