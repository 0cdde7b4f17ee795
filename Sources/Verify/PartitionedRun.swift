import Crypto
import Foundation
import Netlist
import Ngspice

/// Simulates one clip as its `Partitioning`: stage by stage on a `SimulationRunner` (the worker
/// pool), the partitions of a stage in parallel, each imported line driven by the voltage its owner
/// computed at its own accepted time points (docs/design/partitioned-simulation.md).
///
/// Partitions of one stage read only lines of earlier stages, so a stage starts when the one before
/// it has ended. What comes back is, per signal of `CircuitSamples.signals`, the series of the
/// partition that probes it, and for each supply every partition's, so that `CircuitSamples` reads
/// a partitioned run as it reads a whole-circuit transient.
struct PartitionedRun: Sendable {
    /// The clip's partitions.
    var partitioning: Partitioning
    /// ngspice commands run in every partition before its transient (`Verifier.commands`).
    var commands: [String]
    /// A partition's job is stopped after this many seconds (nil: never).
    var timeout: Double?
    /// The clip's seed of the simulator's random numbers (Monte Carlo draws, noise sources); each
    /// partition's job draws from its own seed derived from it (`seed(_:partition:)`). nil: none set.
    var seed: Int?
    /// Volts within which a handed-over waveform's points are dropped (`Waveform.thinned`): 1 uV,
    /// 30 ppm of a subthreshold current (n U_T = 34 mV per e-fold). Every kept point is a table entry
    /// the reading partition searches at each evaluation: against 100 nV (the simulator's vntol) it cut
    /// kws-yes-d4's analysis time per clip from 6.6 to 5.6 s with the same frame-end samples within
    /// 0.4 pA; 10 uV changed a state bit (docs/notes/2026-12-05-partitioned-simulation.md).
    var tolerance = 1e-6

    /// A finished run.
    struct Outcome: Sendable {
        /// Per signal of `signals`, its series (a supply: one per partition).
        var series: [[CircuitSamples.Series]]
        /// Simulation seconds summed over every partition's job (core-seconds).
        var seconds = 0.0
        /// The simulator that ran the jobs.
        var simulator: String?
        /// ngspice's statistics summed over every partition (nil when a job reported none).
        var statistics: SimulatorStatistics? = SimulatorStatistics()
    }

    /// The seed of partition `name`'s job in a clip seeded with `seed`: the first four bytes of
    /// SHA-256("<seed> <name>") as a big-endian number, modulo Int32.max, plus 1: in 1...Int32.max
    /// (ngspice's `setseed` takes a C int; a sweep's job seeds lie in the same range).
    ///
    /// Every partition is a deck of its own, and ngspice draws a deck's `agauss` values (mismatch)
    /// and `trnoise` values in the order of its devices from the seed its job sets. With the clip's
    /// seed in every partition, the first devices of every partition would draw the same numbers: a
    /// correlation between unrelated devices that the whole circuit does not have. Derived seeds give
    /// each partition its own stream, and depend on (seed, name) alone, so a Monte Carlo die (one
    /// seed) is the same circuit for every clip, as the partitions' decks are for a given model and
    /// compiler. Distinct names collide with a probability of about n^2 / 2^32 (5e-8 for the 15 decks
    /// of kws-yes-d4, 4e-6 for the 135 of a d = 64 model).
    static func seed(_ seed: Int, partition name: String) -> Int {
        let digest = Array(SHA256.hash(data: Data("\(seed) \(name)".utf8)))
        let bits = digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return Int(bits % UInt32(Int32.max)) + 1
    }

    /// Runs every stage and collects the series of `signals`; a failed partition fails the clip
    /// (`kind` from its job's failure), and so does a signal that no partition probes.
    func run(on runner: any SimulationRunner, signals: [NetworkSignal]) async -> Result<Outcome, ClipFailure> {
        var waveforms: [String: Waveform] = [:]
        var series: [NetworkSignal: [CircuitSamples.Series]] = [:]
        var outcome = Outcome(series: [])
        for stage in partitioning.stages {
            var jobs: [SimulationJob] = []
            do {
                for partition in stage {
                    let saves = try partition.circuit.saves.map { probe throws(NetlistError) in try SpiceWriter.expression(probe) }
                    jobs.append(SimulationJob(deck: try SpiceWriter().lines(try partition.circuit(driving: waveforms)),
                                              commands: commands, seed: seed.map { Self.seed($0, partition: partition.name) },
                                              vectors: saves, timeout: timeout))
                }
            } catch {
                return .failure(ClipFailure(description: "partition deck: \(error)", kind: .setup))
            }
            for job in await runner.run(jobs) {
                let partition = stage[job.index]
                outcome.seconds += job.seconds
                outcome.simulator = outcome.simulator ?? job.simulator
                outcome.statistics = outcome.statistics.flatMap { total in job.statistics.map { total + $0 } }
                guard case let .success(result) = job.result, let time = result.vectors["time"] else {
                    let reason = if case let .failure(failure) = job.result { failure.description } else { "no time vector" }
                    let kind: ClipReport.FailureKind = if case let .failure(failure) = job.result { .init(failure) } else { .circuit }
                    return .failure(ClipFailure(description: "partition \(partition.name): \(reason)", kind: kind,
                                                seconds: outcome.seconds, attempts: job.attempts, simulator: job.simulator))
                }
                for (signal, probe) in zip(partition.probes, partition.circuit.saves) {
                    guard let name = try? SpiceWriter.expression(probe), let values = result.vectors[name] else { continue }
                    series[signal, default: []].append(CircuitSamples.Series(time: time, values: values))
                }
                for line in partition.exports {
                    guard let name = try? SpiceWriter.expression(.voltage(line)), let values = result.vectors[name] else {
                        return .failure(ClipFailure(description: "partition \(partition.name) returned no v(\(line))", kind: .circuit))
                    }
                    waveforms[line] = Waveform(times: time, values: values).thinned(tolerance: tolerance)
                }
            }
        }
        for signal in signals {
            guard let parts = series[signal] else {
                return .failure(ClipFailure(description: "no partition probes \(signal)", kind: .setup, seconds: outcome.seconds))
            }
            outcome.series.append(parts)
        }
        return .success(outcome)
    }
}
