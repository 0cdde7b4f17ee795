import Foundation

/// The folder of PDK descriptors (`pdk/NAME/pdk.json`) and lookup by name or path.
///
/// The descriptors live in the repository's top-level `pdk/` folder rather than in a resource
/// bundle so that designers can read and review them, and add their own beside them. The folder is
/// found through `$BMRUKIT_PDK_DIR`, else by walking up from the working directory and from the
/// executable's location.
public struct PDKCatalog: Sendable {
    /// The folder holding one sub-folder per PDK.
    public let directory: URL

    /// A catalog of the descriptors in `directory`.
    public init(directory: URL) {
        self.directory = directory
    }

    /// Finds the catalog folder as described above; a `$BMRUKIT_PDK_DIR` without any `NAME/pdk.json`
    /// is an error.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(PDKError) -> PDKCatalog
    {
        var searched: [String] = []
        if let explicit = environment["BMRUKIT_PDK_DIR"], !explicit.isEmpty {
            let catalog = PDKCatalog(directory: URL(fileURLWithPath: explicit).standardizedFileURL)
            guard !catalog.names().isEmpty else { throw .catalogNotFound(searched: ["\(explicit) (BMRUKIT_PDK_DIR)"]) }
            return catalog
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        let starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                      executable.deletingLastPathComponent()]
        for start in starts {
            var folder = start.standardizedFileURL
            while true {
                let candidate = folder.appendingPathComponent("pdk")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("generic180/pdk.json").path) {
                    return PDKCatalog(directory: candidate)
                }
                searched.append(candidate.path)
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        throw .catalogNotFound(searched: Array(searched.prefix(4)) + (searched.count > 4 ? ["..."] : []))
    }

    /// The names of the PDKs in the catalog, sorted.
    public func names() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return entries.filter {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/pdk.json").path)
        }.sorted()
    }

    /// Whether `nameOrPath` names a descriptor by path (a `pdk.json` or its folder) rather than by
    /// catalog name.
    public static func isPath(_ nameOrPath: String) -> Bool { nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") }

    /// Loads a PDK by catalog name, or from a path to a `pdk.json` (or a folder holding one).
    public func pdk(_ nameOrPath: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(PDKError) -> PDK
    {
        if Self.isPath(nameOrPath) {
            var url = URL(fileURLWithPath: nameOrPath).standardizedFileURL
            if !url.path.hasSuffix(".json") { url.appendPathComponent("pdk.json") }
            return try PDK(descriptorFile: url, environment: environment)
        }
        let file = directory.appendingPathComponent("\(nameOrPath)/pdk.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw .unknownPDK(name: nameOrPath, available: names())
        }
        return try PDK(descriptorFile: file, environment: environment)
    }
}
