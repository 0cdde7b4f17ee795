import BMRU
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A verification report folder held by one run.
///
/// Opening it creates the folder and its subfolders, locks it against a second run (an advisory
/// `flock` on `.lock`, held by the open descriptor, so the kernel releases it however the process
/// ends), refuses a folder whose report was made by a different run unless `force`, and checks that
/// every folder takes a file before anything is simulated. Files are written whole or not at all
/// (a temporary file renamed into place).
final class ReportFolder: Sendable {
    /// Name of the lock file; it holds the process id of the run that last held the folder.
    static let lockFileName = ".lock"
    /// The report's file names, written last.
    static let reportFiles = ["report.json", "report.md"]

    /// The folder.
    let url: URL
    private let descriptor: Int32

    /// Opens `url` for the run identified by `runHash` (`Verifier.runHash`), with `subfolders`.
    ///
    /// A folder whose `report.json` has another `provenance.run_hash` is refused unless `force`, which
    /// removes that report and the `replaced` subfolders (`traces/`) first; a report without a run hash
    /// (written before reports had one) is taken over.
    init(_ url: URL, runHash: String, force: Bool, subfolders: [String], replaced: [String]) throws(VerifyError) {
        try Self.createDirectory(url)
        let lock = url.appendingPathComponent(Self.lockFileName)
        let descriptor = open(lock.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .file(lock.path, String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOf: lock, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            close(descriptor)
            throw .folderInUse(url.path, pid: holder)
        }
        let pid = Data("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.url = url
        self.descriptor = descriptor
        do {
            try claim(runHash: runHash, force: force, replaced: replaced)
            for folder in [url] + subfolders.map(url.appendingPathComponent) {
                try Self.createDirectory(folder)
                try Self.probe(folder)
            }
        } catch {
            release()
            throw error
        }
    }

    /// Releases the lock; the folder stays.
    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Writes `data` to `name` (a path relative to the folder), atomically.
    func write(_ data: Data, to name: String) throws(VerifyError) {
        try Self.write(data, to: url.appendingPathComponent(name))
    }

    /// Writes `data` to `file` through a temporary file renamed into place.
    static func write(_ data: Data, to file: URL) throws(VerifyError) {
        do { try data.write(to: file, options: .atomic) } catch { throw .file(file.path, fileErrorReason(error)) }
    }

    /// Refuses (or with `force` clears) a report made by a run other than `runHash`.
    private func claim(runHash: String, force: Bool, replaced: [String]) throws(VerifyError) {
        let report = url.appendingPathComponent(Self.reportFiles[0])
        guard FileManager.default.fileExists(atPath: report.path) else { return }
        if let earlier = try? Report.load(from: report).provenance, earlier.runHash == nil || earlier.runHash == runHash { return }
        guard force else { throw .differentRun(url.path) }
        for name in Self.reportFiles + replaced where FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) {
            do { try FileManager.default.removeItem(at: url.appendingPathComponent(name)) } catch {
                throw .file(url.appendingPathComponent(name).path, fileErrorReason(error))
            }
        }
    }

    private static func createDirectory(_ folder: URL) throws(VerifyError) {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw .file(folder.path, fileErrorReason(error))
        }
    }

    /// Writes and removes a 4 KiB file in `folder`: a read-only folder or a full disk fails here.
    private static func probe(_ folder: URL) throws(VerifyError) {
        let file = folder.appendingPathComponent(".write-check-\(getpid())")
        do { try Data(count: 4096).write(to: file) } catch { throw .file(folder.path, "cannot write: \(fileErrorReason(error))") }
        try? FileManager.default.removeItem(at: file)
    }
}
