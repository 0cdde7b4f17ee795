import Foundation
import Netlist
import Ngspice
import PDK

/// Where a compile finds the characterization that matches it, so that decks are calibrated unless
/// the user asks for the nominal circuit: the committed tables first, then a cache of tables this
/// machine measured, and otherwise a new measurement (about 20 s on two cores) saved to the cache.
///
/// A folder matches when its `characterization.json` was measured on the same PDK, corner, unit
/// current, cell size and cell topology (`Characterization.disagreement`) and holds bias-mirror
/// tables (revision 3): tables cached before those existed cannot size the default deck's biases, so
/// they are measured again.
public struct CharacterizationStore: Sendable {
    /// Folders whose subfolders hold committed tables (`results/characterization`), searched first.
    public var committed: [URL]
    /// The folder of measured tables, one subfolder per PDK, corner, unit current and cell.
    public var cache: URL

    /// A store searching `committed` before `cache`.
    public init(committed: [URL], cache: URL) {
        self.committed = committed
        self.cache = cache
    }

    /// The committed tables beside the PDK catalog (`<repository>/results/characterization` when the
    /// catalog is the repository's `pdk/`), and the cache in `$BMRUKIT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/bmrukit`, else `~/.cache/bmrukit` (subfolder `characterization`).
    public static func standard(catalog: PDKCatalog,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> CharacterizationStore {
        let repository = catalog.directory.deletingLastPathComponent()
        let base: URL
        if let explicit = environment["BMRUKIT_CACHE_DIR"], !explicit.isEmpty {
            base = URL(fileURLWithPath: explicit)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            base = URL(fileURLWithPath: xdg).appendingPathComponent("bmrukit")
        } else {
            base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/bmrukit")
        }
        return CharacterizationStore(committed: [repository.appendingPathComponent("results/characterization")],
                                     cache: base.appendingPathComponent("characterization"))
    }

    /// The cache subfolder of one measurement: `<pdk>-<corner>-<unit current>A-w<W>-l<L>`, and
    /// `-switched` for switched cells.
    public func cacheFolder(pdk: String, corner: String, unitCurrent: Double, cellSize: DeviceSize,
                            cellTopology: MemoryCell.Topology = .feedback) -> URL {
        let name = "\(pdk)-\(corner)-\(unitCurrent)A-w\(cellSize.width)-l\(cellSize.length)"
            + (cellTopology == .feedback ? "" : "-\(cellTopology)")
        return cache.appendingPathComponent(String(name.map { $0.isLetter || $0.isNumber || "-.".contains($0) ? $0 : "_" }))
    }

    /// The first stored tables that match, with their folder; nil when none does. Unreadable folders
    /// are skipped: they cannot be the match.
    public func find(pdk: String, corner: String, unitCurrent: Double, cellSize: DeviceSize,
                     cellTopology: MemoryCell.Topology = .feedback) -> (Characterization, URL)? {
        var folders: [URL] = []
        for parent in committed {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path))?.sorted() ?? []
            folders += names.map { parent.appendingPathComponent($0) }
        }
        folders.append(cacheFolder(pdk: pdk, corner: corner, unitCurrent: unitCurrent, cellSize: cellSize, cellTopology: cellTopology))
        for folder in folders {
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(Characterization.fileName).path),
                  let tables = try? Characterization.load(from: folder),
                  tables.disagreement(pdk: pdk, corner: corner, unitCurrent: unitCurrent, cellSize: cellSize,
                                      cellTopology: cellTopology) == nil,
                  !tables.biasMirrors.isEmpty
            else { continue }
            return (tables, folder)
        }
        return nil
    }

    /// The matching tables, measured through `pool` and saved to the cache when none is stored;
    /// `measuring` is called first in that case (to tell the user why the command waits).
    public func tables(for pdk: PDK, corner: String, unitCurrent: Double, cellSize: DeviceSize,
                       cellTopology: MemoryCell.Topology = .feedback, pool: WorkerPool,
                       measuring: (URL) -> Void = { _ in }) async throws(CharacterizeError) -> (Characterization, URL) {
        if let found = find(pdk: pdk.name, corner: corner, unitCurrent: unitCurrent, cellSize: cellSize, cellTopology: cellTopology) {
            return found
        }
        let folder = cacheFolder(pdk: pdk.name, corner: corner, unitCurrent: unitCurrent, cellSize: cellSize,
                                 cellTopology: cellTopology)
        measuring(folder)
        let tables = try await Characterization.measure(pdk: pdk, corner: corner, unitCurrent: unitCurrent,
                                                        cellSize: cellSize, cellTopology: cellTopology, pool: pool)
        try tables.write(to: folder)
        return (tables, folder)
    }
}
