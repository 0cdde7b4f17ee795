import Foundation
import PDK
import Verify

/// Reads a sweep folder's plan and job results: the status of every shard, and the merged report.
public struct SweepResults: Sendable {
    /// The plan.
    public let plan: SweepPlan
    /// The result of each job, by job id; absent when the job has not run.
    public let results: [Int: JobResult]
    /// The folder read.
    public let folder: URL

    /// Reads the plan and every job file of `folder`.
    public init(folder: URL) throws(SweepError) {
        self.folder = folder
        plan = try SweepPlan.load(from: folder)
        var results: [Int: JobResult] = [:]
        for job in plan.jobs {
            if let result = JobResult.load(JobResult.url(job: job.id, in: folder)) { results[job.id] = result }
        }
        self.results = results
    }

    /// Done, failed and missing jobs of one shard.
    public struct ShardStatus: Sendable, Equatable, Codable {
        /// The shard, its jobs, and how many are done, failed and missing.
        public var shard: Int, jobs: Int, done: Int, failed: Int, missing: Int
    }

    /// Whether a result belongs to the plan's job: same key, build and PDK.
    func matches(_ result: JobResult, _ job: SweepPlan.PlannedJob) -> Bool {
        result.key == job.key && result.bmrukit == plan.bmrukit && result.pdkHash == plan.pdkHash && result.job == job.id
    }

    /// The status of every shard. A result from another deck counts as missing.
    public func status() -> [ShardStatus] {
        var shards = (0..<plan.shards).map { ShardStatus(shard: $0, jobs: 0, done: 0, failed: 0, missing: 0) }
        for job in plan.jobs {
            shards[job.shard].jobs += 1
            if let result = results[job.id], matches(result, job) {
                if result.report.status == "ok" { shards[job.shard].done += 1 } else { shards[job.shard].failed += 1 }
            } else {
                shards[job.shard].missing += 1
            }
        }
        return shards
    }

    /// The shards that hold a missing or failed job: what `bmru sweep submit --missing` runs again.
    public func shardsToRerun() -> [Int] {
        status().filter { $0.failed + $0.missing > 0 }.map(\.shard)
    }

    /// The merged report. Refuses (`SweepError.merge`) a result made by another BMRUKit version, deck
    /// or PDK than the plan's, and missing jobs unless `partial`.
    public func report(partial: Bool = false) throws(SweepError) -> SweepReport {
        var missing: [Int] = []
        for job in plan.jobs {
            guard let result = results[job.id] else {
                missing.append(job.id)
                continue
            }
            if result.bmrukit != plan.bmrukit {
                throw .merge("job \(job.id) was run by bmru \(result.bmrukit), the plan by \(plan.bmrukit)")
            }
            if result.pdkHash != plan.pdkHash {
                throw .merge("job \(job.id) was run with other PDK model files (hash \(result.pdkHash.prefix(12)), planned \(plan.pdkHash.prefix(12)))")
            }
            if result.key != job.key || result.job != job.id {
                throw .merge("job \(job.id) simulated a different deck than planned (key \(result.key.prefix(12)), planned \(job.key.prefix(12)))")
            }
        }
        if !missing.isEmpty, !partial {
            throw .merge("\(missing.count) of \(plan.jobs.count) jobs have no result (first: job \(missing[0])); "
                + "'bmru sweep status \(folder.path)' lists them, --partial merges what is there")
        }
        return SweepReport(plan: plan, results: results, folder: folder)
    }
}

extension SweepReport {
    /// Aggregates the results of `plan`. Agreements are over the jobs with a result (a failed
    /// simulation counts as disagreeing); missing jobs, in a partial merge, are left out.
    init(plan: SweepPlan, results: [Int: JobResult], folder: URL) {
        let reports = plan.jobs.map { results[$0.id]?.report }
        func ok(_ report: ClipReport?) -> ClipReport? { report?.status == "ok" ? report : nil }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        let clipCount = plan.clips.count
        let definition = plan.definition
        sweep = Provenance(
            model: plan.model, modelHash: plan.modelHash, pdk: plan.pdk, pdkHash: plan.pdkHash,
            characterization: definition.characterization, characterizationHash: plan.characterizationHash,
            calibration: definition.characterization == nil ? "none (nominal sizing)"
                : "once, at the PDK's default corner, 27 C, nominal supply, without variation; the same in every variant",
            cells: (definition.cells ?? .filtered).rawValue, mode: (definition.mode ?? .fast).rawValue,
            mirroredBiases: definition.mirroredBiases ?? false, inputs: plan.inputs, clips: clipCount,
            axes: definition.axes, bmrukit: plan.bmrukit)
        let failed = reports.filter { $0 != nil && $0!.status != "ok" }.count
        let missing = reports.filter { $0 == nil }.count
        jobs = JobCounts(planned: plan.jobs.count, done: plan.jobs.count - missing, failed: failed, missing: missing)

        // Variants.
        variants = plan.variants.map { variant in
            let own = (0..<clipCount).map { reports[variant.id * clipCount + $0] }
            let ran = own.compactMap(ok)
            var first: WrongBit?
            for (index, report) in own.enumerated() {
                guard let bit = report?.firstWrongStateBit else { continue }
                if first == nil || bit.frame < first!.frame {
                    first = WrongBit(clip: plan.clips[index].name, block: bit.block, unit: bit.unit, frame: bit.frame)
                }
            }
            let present = own.compactMap { $0 }.count
            return VariantSummary(variant: variant, clips: present, agreeing: ran.filter(\.agrees).count,
                                  failed: own.filter { $0 != nil && $0!.status != "ok" }.count,
                                  clipAgreement: Double(ran.filter(\.agrees).count) / Double(max(1, present)),
                                  stateBitAgreement: mean(ran.compactMap(\.frameStateAgreement)),
                                  powerNW: mean(ran.compactMap { $0.power?.totalNW }), firstWrongStateBit: first)
        }

        // Conditions and dies.
        var order: [String] = [], members: [String: [VariantSummary]] = [:]
        for summary in variants {
            let key = summary.variant.condition
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(summary)
        }
        var dieAgreements: [Double] = []
        conditions = order.map { key in
            let dies = members[key]!
            let variant = dies[0].variant
            // A die counts once all its clips have a result (in a partial merge, incomplete dies are
            // left out of the die figures; their jobs still count in the clip agreement).
            let agreements = dies.filter { $0.clips == clipCount }.map(\.clipAgreement)
            dieAgreements += agreements
            let own = dies.flatMap { die in (0..<clipCount).map { reports[die.variant.id * clipCount + $0] } }
            let ran = own.compactMap(ok)
            // RMS pooled from each job's RMS and count, over the jobs with every state bit right.
            func pooled(_ part: (ClipReport) -> Discrepancy?) -> Double? {
                let parts = ran.filter { $0.frameStateAgreement == 1 }.compactMap(part)
                let count = parts.reduce(0) { $0 + $1.count }
                return count == 0 ? nil : (parts.reduce(0) { $0 + $1.rmsUnits * $1.rmsUnits * Double($1.count) } / Double(count)).squareRoot()
            }
            let (candidate, state) = (pooled(\.candidateDiscrepancy), pooled(\.stateDiscrepancy))
            return Condition(condition: key, corner: variant.corner, temperature: variant.temperature,
                             supplyScale: variant.supplyScale, unitCurrent: variant.unitCurrent, noise: variant.noise,
                             dies: agreements.count,
                             clipAgreement: Double(ran.filter(\.agrees).count) / Double(max(1, own.compactMap { $0 }.count)),
                             stateBitAgreement: mean(ran.compactMap(\.frameStateAgreement)),
                             failed: own.filter { $0 != nil && $0!.status != "ok" }.count,
                             yield99: Double(agreements.filter { $0 >= 0.99 }.count) / Double(max(1, agreements.count)),
                             yield100: Double(agreements.filter { $0 >= 1 }.count) / Double(max(1, agreements.count)),
                             worstDie: agreements.min() ?? 0, powerNW: Spread(ran.compactMap { $0.power?.totalNW }),
                             candidateRMSUnits: candidate, stateRMSUnits: state,
                             suppression: candidate.flatMap { c in state.flatMap { $0 > 0 ? c / $0 : nil } })
        }

        // Clips and cells.
        perClip = plan.clips.enumerated().map { index, clip in
            let own = plan.variants.map { reports[$0.id * clipCount + index] }
            let ran = own.compactMap(ok)
            return ClipSummary(clip: clip.name, label: clip.label, referenceDecision: own.compactMap { $0 }.first?.referenceDecision,
                               runs: own.compactMap { $0 }.count,
                               agreement: Double(ran.filter(\.agrees).count) / Double(max(1, own.compactMap { $0 }.count)),
                               stateBitAgreement: mean(ran.compactMap(\.frameStateAgreement)))
        }
        let ran = reports.compactMap(ok)
        let cellCount = ran.first?.cellStateAgreement?.count ?? 0
        var failures: [String: [Int]] = [:]
        for report in ran where !report.agrees {
            let part = report.firstWrongStateBit.map { "b\($0.block).u\($0.unit)" } ?? "readout"
            failures[part, default: []].append(report.firstWrongStateBit?.frame ?? -1)
        }
        let hidden = max(1, plan.hidden)
        cells = (0..<cellCount).map { cell in
            let (block, unit) = (cell / hidden, cell % hidden)
            return CellSummary(block: block, unit: unit,
                               stateAgreement: mean(ran.compactMap { $0.cellStateAgreement?[cell] }),
                               firstToFail: ran.filter { $0.firstWrongStateBit?.block == block && $0.firstWrongStateBit?.unit == unit }.count)
        }
        var histogram = Array(repeating: 0, count: 10)
        for agreement in dieAgreements { histogram[min(9, Int(agreement * 10))] += 1 }
        let worst = conditions.filter { $0.clipAgreement < 1 }.min {
            ($0.clipAgreement, $0.stateBitAgreement ?? 0) < ($1.clipAgreement, $1.stateBitAgreement ?? 0)
        }
        summary = Summary(
            clipAgreement: Double(ran.filter(\.agrees).count) / Double(max(1, reports.compactMap { $0 }.count)),
            stateBitAgreement: mean(ran.compactMap(\.frameStateAgreement)), dies: dieAgreements.count,
            yield99: Double(dieAgreements.filter { $0 >= 0.99 }.count) / Double(max(1, dieAgreements.count)),
            yield100: Double(dieAgreements.filter { $0 >= 1 }.count) / Double(max(1, dieAgreements.count)),
            dieAgreementHistogram: histogram, worstCondition: worst?.condition,
            firstFailures: failures.map { part, frames in
                let known = frames.filter { $0 >= 0 }.sorted()
                return FirstFailure(part: part, jobs: frames.count, medianFrame: known.isEmpty ? nil : known[known.count / 2])
            }.sorted { ($0.jobs, $1.part) > ($1.jobs, $0.part) })

        // Execution.
        let finished = plan.jobs.compactMap { results[$0.id] }
        var runners: [String: Int] = [:]
        for result in finished { runners[result.runner, default: 0] += 1 }
        let slurmJobs = Set(finished.compactMap { result -> String? in
            guard result.runner.hasPrefix("slurm ") else { return nil }
            return String(result.runner.dropFirst(6).prefix { $0 != "_" })
        }).sorted()
        let seconds = finished.map(\.report.seconds).reduce(0, +)
        execution = Execution(runners: runners, slurmJobs: slurmJobs, coreSeconds: seconds,
                              secondsPerJob: finished.isEmpty ? nil : seconds / Double(finished.count))
    }

    /// Writes report.json, report.md and report.html into `folder`, each atomically.
    public func write(to folder: URL) throws(SweepError) {
        try AtomicFile.write(try AtomicFile.json(self), to: folder.appendingPathComponent("report.json"))
        try AtomicFile.write(Data(markdown().utf8), to: folder.appendingPathComponent("report.md"))
        try AtomicFile.write(Data(html().utf8), to: folder.appendingPathComponent("report.html"))
    }
}
