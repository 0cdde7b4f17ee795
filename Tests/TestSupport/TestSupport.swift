import Foundation
import PDK

/// Paths and settings shared by the test targets.
public enum TestSupport {
    /// The repository's top folder.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The process environment with PDK_ROOT pointing at the GF180 models: the environment's own,
    /// else `../shared/pdk` beside the checkout (as CI lays it out).
    public static func environment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if environment["PDK_ROOT"]?.isEmpty ?? true {
            environment["PDK_ROOT"] = repository.deletingLastPathComponent().appendingPathComponent("shared/pdk").path
        }
        // Characterizations the commands measure go to one folder per test run, not the user's cache.
        environment["BMRUKIT_CACHE_DIR"] = cache.path
        return environment
    }

    /// The characterization cache of this test run's commands (`BMRUKIT_CACHE_DIR`).
    public static let cache = FileManager.default.temporaryDirectory
        .appendingPathComponent("bmrukit-test-cache-\(ProcessInfo.processInfo.processIdentifier)")

    /// The Speech Commands test clips: `$BMRUKIT_DATA`, else `../shared/data/speech_commands_v0.02_test`.
    public static var speechCommands: URL {
        if let path = ProcessInfo.processInfo.environment["BMRUKIT_DATA"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repository.deletingLastPathComponent().appendingPathComponent("shared/data/speech_commands_v0.02_test")
    }

    /// The repository's PDK catalog (`pdk/`).
    public static let catalog = PDKCatalog(directory: repository.appendingPathComponent("pdk"))
}
