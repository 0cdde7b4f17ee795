import Foundation
import Testing
import TestSupport

/// `bmru sweep` end to end, locally and through a real Slurm (scripts/slurm-local.sh starts one;
/// scripts/test.sh does, and sets BMRUKIT_REQUIRE_SLURM so that CI cannot skip these).
@Suite("bmru sweep")
struct SweepCommandTests {
    static let slurmUp: Bool = {
        guard let run = try? CLI.shell("sinfo -h -o %T") else { return false }
        return run.status == 0 && run.stdout.split(separator: "\n").contains { ["idle", "mixed", "allocated"].contains(String($0)) }
    }()
    static let slurmRequired = ProcessInfo.processInfo.environment["BMRUKIT_REQUIRE_SLURM"] == "1"

    /// 2 Monte Carlo dies x 2 golden clips x 10 frames of kws-yes-d4 on GF180, calibrated.
    static let sweep = """
        {"format": "bmru-sweep", "format_version": 1, "model": "\(TestSupport.repository.path)/results/models/kws-yes-d4",
         "pdk": "gf180mcu", "characterization": "\(TestSupport.repository.path)/results/characterization/gf180mcu",
         "clips": {"clips": 2, "frames": 10}, "axes": {"monte_carlo": {"samples": 2, "seed": 5}}}
        """

    func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bmru-cli-sweep-\(name)-\(UUID().uuidString)")
    }

    /// report.json without `execution`, the part that records how the jobs ran.
    func comparable(_ folder: URL) throws -> NSDictionary {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("report.json")))
        let report = NSMutableDictionary(dictionary: try #require(object as? [String: Any]))
        report.removeObject(forKey: "execution")
        return report
    }

    /// Waits until Slurm no longer lists job `id` (at most `seconds`).
    func wait(for id: String, seconds: Double = 600) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let queue = try CLI.shell("squeue -h -j \(id) -o %i")
            if queue.status != 0 || queue.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            Thread.sleep(forTimeInterval: 1)
        }
        Issue.record("Slurm job \(id) still queued after \(seconds) s")
    }

    /// The array and merge job ids printed by `bmru sweep submit`.
    func ids(_ output: String) throws -> (array: String, merge: String) {
        let words = output.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\n" }).map(String.init)
        let array = try #require(words.firstIndex(of: "array").map { words[$0 + 2] })
        let merge = try #require(words.lastIndex(of: "job").map { words[$0 + 1] })
        return (array, merge)
    }

    @Test("Through Slurm: 4 array tasks and the dependent merge give the local report; a cancelled task's jobs are listed, resubmitted alone, and the report is again the local one")
    func slurm() throws {
        if !Self.slurmUp {
            #expect(!Self.slurmRequired, "BMRUKIT_REQUIRE_SLURM=1 but Slurm is not up (bash scripts/slurm-local.sh start)")
            return
        }
        let (local, cluster, cancelled) = (temporary("local"), temporary("slurm"), temporary("cancel"))
        let file = try CLI.file(Self.sweep, suffix: ".json")
        defer { for url in [local, cluster, cancelled, file] { try? FileManager.default.removeItem(at: url) } }
        let run = try CLI.run(["sweep", file.path, "--report", local.path, "--jobs", "2"])
        #expect(run.status == 0, "\(run.stderr)")

        let plan = try CLI.run(["sweep", "plan", file.path, "--out", cluster.path, "--shards", "4"])
        #expect(plan.status == 0 && plan.stdout.contains("4 jobs (2 clips x 2 variants) in 4 shards"), "\(plan.stderr)")
        let submitted = try CLI.run(["sweep", "submit", cluster.path])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try wait(for: try ids(submitted.stdout).merge)
        #expect(try comparable(cluster) == comparable(local))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: cluster.appendingPathComponent("report.json"))) as? [String: Any]
        let runners = ((report?["execution"] as? [String: Any])?["runners"] as? [String: Int]) ?? [:]
        #expect(runners.count == 4 && runners.keys.allSatisfy { $0.hasPrefix("slurm ") }, "\(runners)")

        // Hold the array, cancel task 2, release the rest: its job is missing after the merge job fails.
        #expect(try CLI.run(["sweep", "plan", file.path, "--out", cancelled.path, "--shards", "4"]).status == 0)
        let held = try CLI.run(["sweep", "submit", cancelled.path, "--sbatch-arg", "--hold"])
        let (array, merge) = try ids(held.stdout)
        #expect(try CLI.shell("scancel \(array)_2 && scontrol release \(array)").status == 0)
        try wait(for: merge)
        #expect(!FileManager.default.fileExists(atPath: cancelled.appendingPathComponent("report.json").path))
        let status = try CLI.run(["sweep", "status", cancelled.path])
        #expect(status.stdout.contains("    2     1     0       0        1"), "\(status.stdout)")
        #expect(status.stdout.contains("bmru sweep submit \(cancelled.path) --missing"))
        let before = try FileManager.default.contentsOfDirectory(atPath: cancelled.appendingPathComponent("jobs").path)
        let resubmitted = try CLI.run(["sweep", "submit", cancelled.path, "--missing"])
        #expect(resubmitted.status == 0 && resubmitted.stdout.contains("(1 tasks)"), "\(resubmitted.stdout)\(resubmitted.stderr)")
        try wait(for: try ids(resubmitted.stdout).merge)
        let after = try FileManager.default.contentsOfDirectory(atPath: cancelled.appendingPathComponent("jobs").path)
        #expect(before.count == 3 && after.count == 4 && Set(before).isSubset(of: Set(after)))
        #expect(try comparable(cancelled) == comparable(local))
    }

    /// A partitioned sweep from flags: 2 Monte Carlo dies x 1 golden clip x 6 frames of kws-yes-d4 on GF180, calibrated.
    static let partitionedFlags = [
        "--model", "\(TestSupport.repository.path)/results/models/kws-yes-d4", "--pdk", "gf180mcu",
        "--characterization", "\(TestSupport.repository.path)/results/characterization/gf180mcu",
        "--clips", "1", "--frames", "6", "--monte-carlo", "2", "--seed", "5", "--mode", "partitioned",
    ]

    @Test("Partitioned, from flags: the local run's report names the mode; through Slurm, 2 array tasks and the merge give the same report")
    func partitioned() throws {
        let (local, cluster) = (temporary("partitioned-local"), temporary("partitioned-slurm"))
        defer { for url in [local, cluster] { try? FileManager.default.removeItem(at: url) } }
        let run = try CLI.run(["sweep"] + Self.partitionedFlags + ["--out", local.path, "--jobs", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: local.appendingPathComponent("report.json"))) as? [String: Any]
        #expect((report?["sweep"] as? [String: Any])?["mode"] as? String == "partitioned")
        if !Self.slurmUp {
            #expect(!Self.slurmRequired, "BMRUKIT_REQUIRE_SLURM=1 but Slurm is not up (bash scripts/slurm-local.sh start)")
            return
        }
        let plan = try CLI.run(["sweep", "plan"] + Self.partitionedFlags + ["--out", cluster.path, "--shards", "2"])
        #expect(plan.status == 0 && plan.stdout.contains("2 jobs (1 clips x 2 variants) in 2 shards"), "\(plan.stderr)")
        let submitted = try CLI.run(["sweep", "submit", cluster.path])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        try wait(for: try ids(submitted.stdout).merge)
        #expect(try comparable(cluster) == comparable(local))
    }

    @Test("submit without Slurm on PATH, and merge of an incomplete sweep, are one-line errors")
    func errors() throws {
        let out = temporary("errors")
        let file = try CLI.file(Self.sweep, suffix: ".json")
        defer { for url in [out, file] { try? FileManager.default.removeItem(at: url) } }
        #expect(try CLI.run(["sweep", "plan", file.path, "--out", out.path, "--shards", "2"]).status == 0)
        let noSlurm = try CLI.run(["sweep", "submit", out.path], environment: ["PATH": "/nonexistent"])
        #expect(noSlurm.status == 1 && noSlurm.stderr.contains("sbatch is not on PATH"), "\(noSlurm.stderr)")
        let merge = try CLI.run(["sweep", "merge", out.path])
        #expect(merge.status == 2 && merge.stderr.contains("4 of 4 jobs have no result"), "\(merge.stderr)")
        #expect(merge.stderr.split(separator: "\n").count == 1)
        let other = try CLI.run(["sweep", "plan", file.path, "--out", out.path, "--shards", "2", "--pvt"])
        #expect(other.status != 0)
        let mode = try CLI.run(["sweep", "plan", file.path, "--out", out.path, "--mode", "partitioned"])
        #expect(mode.status != 0 && mode.stderr.contains("with a sweep file, set its 'mode' field"), "\(mode.stderr)")
    }
}
