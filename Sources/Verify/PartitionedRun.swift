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
    /// Volts within which a handed-over waveform's points are dropped (`Waveform.thinned`): the
    /// simulator's own vntol, 100 nV, about 3 ppm of a subthreshold current.
    var tolerance = 1e-7

    /// A finished run.
    struct Outcome: Sendable {
        /// Per signal of `signals`, its series (a supply: one per partition).
        var series: [[CircuitSamples.Series]]
        /// Simulation seconds summed over every partition's job (core-seconds), per stage.
        var stageSeconds: [Double]
        /// The simulator that ran the jobs.
        var simulator: String?
        /// ngspice's statistics summed over every partition (nil when a job reported none).
        var statistics: SimulatorStatistics? = SimulatorStatistics()
        /// Total simulation seconds.
        var seconds: Double { stageSeconds.reduce(0, +) }
    }

    /// Runs every stage and collects the series of `signals`; a failed partition fails the clip
    /// (`kind` from its job's failure), and so does a signal that no partition probes.
    func run(on runner: any SimulationRunner, signals: [NetworkSignal]) async -> Result<Outcome, ClipFailure> {
        var waveforms: [String: Waveform] = [:]
        var series: [NetworkSignal: [CircuitSamples.Series]] = [:]
        var outcome = Outcome(series: [], stageSeconds: [])
        for stage in partitioning.stages {
            var jobs: [SimulationJob] = []
            do {
                for partition in stage {
                    let saves = try partition.circuit.saves.map { probe throws(NetlistError) in try SpiceWriter.expression(probe) }
                    jobs.append(SimulationJob(deck: try SpiceWriter().lines(try partition.circuit(driving: waveforms)),
                                              commands: commands, vectors: saves, timeout: timeout))
                }
            } catch {
                return .failure(ClipFailure(description: "partition deck: \(error)", kind: .setup))
            }
            var seconds = 0.0
            for job in await runner.run(jobs) {
                let partition = stage[job.index]
                seconds += job.seconds
                outcome.simulator = outcome.simulator ?? job.simulator
                if let total = outcome.statistics, let statistics = job.statistics { outcome.statistics = total + statistics } else {
                    outcome.statistics = nil
                }
                guard case let .success(result) = job.result, let time = result.vectors["time"] else {
                    let reason = if case let .failure(failure) = job.result { failure.description } else { "no time vector" }
                    let kind: ClipReport.FailureKind = if case let .failure(failure) = job.result { .init(failure) } else { .circuit }
                    return .failure(ClipFailure(description: "partition \(partition.name): \(reason)", kind: kind,
                                                seconds: outcome.seconds + seconds, attempts: job.attempts, simulator: job.simulator))
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
            outcome.stageSeconds.append(seconds)
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
