import Foundation

/// A process design kit ready to use: its descriptor and the folder its model files are in.
public struct PDK: Sendable, Equatable {
    /// What the PDK provides.
    public let descriptor: PDKDescriptor
    /// The `pdk.json` the descriptor was read from.
    public let descriptorFile: URL
    /// The resolved folder of the model files.
    public let modelRoot: URL

    /// The PDK's name.
    public var name: String { descriptor.name }

    /// Reads a descriptor and resolves its model folder with `environment` (for `$PDK_ROOT`).
    ///
    /// A model root naming an unset variable is a `missingVariable` error that names the variable and
    /// the folder it should lead to.
    public init(descriptorFile: URL, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(PDKError)
    {
        let descriptor = try Self.readDescriptor(descriptorFile)
        self.descriptor = descriptor
        self.descriptorFile = descriptorFile
        modelRoot = try Self.resolve(root: descriptor.modelRoot, beside: descriptorFile, environment: environment)
    }

    /// Reads and checks a `pdk.json` without resolving its model folder.
    public static func readDescriptor(_ descriptorFile: URL) throws(PDKError) -> PDKDescriptor {
        let data: Data
        do {
            data = try Data(contentsOf: descriptorFile)
        } catch {
            // Foundation's reading errors carry no POSIX reason on Linux; say the common ones plainly.
            let path = descriptorFile.path
            let reason = !FileManager.default.fileExists(atPath: path) ? "no such file"
                : !FileManager.default.isReadableFile(atPath: path) ? "permission denied" : error.localizedDescription
            throw .invalidDescriptor(file: path, reason: "cannot read: \(reason)")
        }
        let descriptor: PDKDescriptor
        do {
            descriptor = try JSONDecoder().decode(PDKDescriptor.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalidDescriptor(file: descriptorFile.path, reason: "missing field '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .invalidDescriptor(file: descriptorFile.path, reason: "field '\(field)': \(context.debugDescription)")
        } catch {
            throw .invalidDescriptor(file: descriptorFile.path, reason: "not valid JSON")
        }
        guard descriptor.corners[descriptor.defaultCorner] != nil else {
            throw .invalidDescriptor(file: descriptorFile.path,
                                     reason: "default_corner '\(descriptor.defaultCorner)' is not among the corners")
        }
        return descriptor
    }

    private static func resolve(root: String, beside file: URL, environment: [String: String]) throws(PDKError) -> URL {
        if root == "embedded" { return file.deletingLastPathComponent() }
        guard root.hasPrefix("$") else {
            return URL(fileURLWithPath: root, relativeTo: file.deletingLastPathComponent()).standardizedFileURL
        }
        let variable = String(root.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        let rest = String(root.dropFirst(1 + variable.count))
        guard let value = environment[variable], !value.isEmpty else {
            throw .missingVariable(variable: variable, expected: root)
        }
        let folder = URL(fileURLWithPath: value + rest).standardizedFileURL
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw .missingModelFile(path: folder.path, hint: "\(variable)=\(value) should contain \(rest.dropFirst())")
        }
        return folder
    }

    /// The corner to use: `corner` if given (it must exist), else the descriptor's default.
    public func corner(_ corner: String?) throws(PDKError) -> String {
        let name = corner ?? descriptor.defaultCorner
        guard descriptor.corners[name] != nil else {
            throw .unknownCorner(pdk: self.name, corner: name, available: descriptor.corners.keys.sorted())
        }
        return name
    }

    /// The model statements a deck needs for `corner`: `.include` and `.lib` lines, plus the
    /// statistical libraries and switches when `statistics` asks for them.
    ///
    /// Paths are absolute, or relative to `deckFolder` when given: ngspice resolves a relative
    /// `.include`/`.lib` path against the folder of the file that names it (not the working
    /// directory, and it expands no environment variables), so a deck written into `deckFolder`
    /// with relative paths runs with `ngspice -b` from anywhere and can be committed without the
    /// machine's absolute paths. (Decks loaded line by line through the library have no folder:
    /// they need absolute paths.)
    ///
    /// Every referenced file is checked to exist, so a broken installation fails here with the path
    /// rather than inside ngspice.
    public func modelStatements(corner: String?, statistics: StatisticalVariation = .none, relativeTo deckFolder: URL? = nil)
        throws(PDKError) -> [String]
    {
        let name = try self.corner(corner)
        let selected = descriptor.corners[name]!
        var libraries = selected.libs
        var switches: [String] = []
        if statistics != .none {
            guard let stats = descriptor.statistics else { throw .noStatistics(pdk: self.name) }
            if statistics.global {
                guard !stats.libs.isEmpty else { throw .noStatistics(pdk: self.name) }
                // The statistical libraries define the devices around typical themselves: loading a
                // corner's libraries beside them redefines every device.
                guard name == descriptor.defaultCorner else {
                    throw .globalVariationAtCorner(pdk: self.name, corner: name)
                }
                libraries = stats.libs
            }
            if statistics.mismatch { libraries += stats.mismatchLibs ?? [] }
            switches = [".param \(stats.globalSwitch)=\(statistics.global ? 1 : 0) \(stats.mismatchSwitch)=\(statistics.mismatch ? 1 : 0)"]
        }
        var lines: [String] = []
        for include in selected.includes {
            lines.append(".include \(try path(include, relativeTo: deckFolder))")
        }
        lines += switches
        for library in libraries {
            lines.append(".lib \(try path(library.file, relativeTo: deckFolder)) \(library.section)")
        }
        return lines
    }

    /// The PDK as a deck with `statistics` sees it: its devices replaced by the statistical ones
    /// the descriptor names, when variation is on and it names some.
    public func varied(_ statistics: StatisticalVariation) -> PDK {
        guard statistics != .none, let devices = descriptor.statistics?.devices else { return self }
        var descriptor = self.descriptor
        descriptor.devices = devices
        return PDK(descriptor: descriptor, descriptorFile: descriptorFile, modelRoot: modelRoot)
    }

    private init(descriptor: PDKDescriptor, descriptorFile: URL, modelRoot: URL) {
        (self.descriptor, self.descriptorFile, self.modelRoot) = (descriptor, descriptorFile, modelRoot)
    }

    /// Every model file the descriptor names (any corner, and the statistical libraries), sorted
    /// by path: what a hash of the PDK's models covers.
    public var modelFiles: [URL] {
        var names = Set<String>()
        for corner in descriptor.corners.values {
            names.formUnion(corner.includes)
            names.formUnion(corner.libs.map(\.file))
        }
        names.formUnion(descriptor.statistics?.libs.map(\.file) ?? [])
        names.formUnion(descriptor.statistics?.mismatchLibs?.map(\.file) ?? [])
        return names.sorted().map { modelRoot.appendingPathComponent($0).standardizedFileURL }
    }

    private func path(_ file: String, relativeTo folder: URL?) throws(PDKError) -> String {
        let url = modelRoot.appendingPathComponent(file).standardizedFileURL
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw .missingModelFile(path: url.path, hint: "listed in \(descriptorFile.path)")
        }
        guard let folder else { return url.path }
        return Self.relativePath(of: url, from: folder)
    }

    /// The path of `file` as seen from `folder` (`../../pdk/x.lib`); both made absolute and
    /// standardized first (symbolic links are kept, so the path follows the layout as named).
    public static func relativePath(of file: URL, from folder: URL) -> String {
        let target = file.standardizedFileURL.pathComponents, base = folder.standardizedFileURL.pathComponents
        let common = zip(target, base).prefix { $0 == $1 }.count
        return (Array(repeating: "..", count: base.count - common) + target[common...]).joined(separator: "/")
    }
}

/// Which statistical variation a Monte Carlo deck turns on.
public enum StatisticalVariation: String, Sendable, CaseIterable, Codable {
    /// Nominal models only.
    case none
    /// Global (process, die-to-die) variation.
    case global
    /// Local device mismatch.
    case mismatch
    /// Both global variation and mismatch.
    case globalAndMismatch = "global+mismatch"

    /// Whether global (die-to-die) variation is on.
    public var global: Bool { self == .global || self == .globalAndMismatch }
    /// Whether local device mismatch is on.
    public var mismatch: Bool { self == .mismatch || self == .globalAndMismatch }

    /// The variation with global variation and mismatch switched as given.
    public init(global: Bool, mismatch: Bool) {
        self = switch (global, mismatch) {
        case (false, false): .none
        case (true, false): .global
        case (false, true): .mismatch
        case (true, true): .globalAndMismatch
        }
    }
}

/// Why a PDK could not be found or used; each description is one line naming the file or variable.
public enum PDKError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No folder with PDK descriptors was found.
    case catalogNotFound(searched: [String])
    /// No PDK of that name is in the catalog.
    case unknownPDK(name: String, available: [String])
    /// A `pdk.json` cannot be read or lacks a field.
    case invalidDescriptor(file: String, reason: String)
    /// The model root names an environment variable that is not set.
    case missingVariable(variable: String, expected: String)
    /// A model file or folder the descriptor names does not exist.
    case missingModelFile(path: String, hint: String)
    /// The PDK has no such corner.
    case unknownCorner(pdk: String, corner: String, available: [String])
    /// Statistical variation was asked of a PDK without statistical models (of that kind).
    case noStatistics(pdk: String)
    /// Global variation was asked at a corner other than the default: it replaces the corners.
    case globalVariationAtCorner(pdk: String, corner: String)

    public var description: String {
        switch self {
        case let .catalogNotFound(searched):
            "no PDK descriptors found (looked in \(searched.joined(separator: ", "))); set BMRUKIT_PDK_DIR to the repository's pdk/ folder"
        case let .unknownPDK(name, available):
            "unknown PDK '\(name)' (available: \(available.joined(separator: ", ")), or a path to a pdk.json)"
        case let .invalidDescriptor(file, reason): "\(file): \(reason)"
        case let .missingVariable(variable, expected):
            "\(variable) is not set: the PDK's models are expected at \(expected) (e.g. export \(variable)=../shared/pdk)"
        case let .missingModelFile(path, hint): "model file or folder not found: \(path) (\(hint))"
        case let .unknownCorner(pdk, corner, available):
            "PDK \(pdk) has no corner '\(corner)' (available: \(available.joined(separator: ", ")))"
        case let .noStatistics(pdk): "PDK \(pdk) has no statistical models for this variation"
        case let .globalVariationAtCorner(pdk, corner):
            "PDK \(pdk): global variation draws the process itself and cannot be combined with corner '\(corner)' (use the default corner)"
        }
    }
}
