import CNgspice
import Foundation

/// One loaded copy of libngspice and its entry points.
///
/// ngspice keeps all simulator state in globals, and `dlopen` of a path that is already loaded returns
/// the same handle. Each library therefore loads a private copy of the shared object (a file copy
/// under a unique name), so that several sessions in one process never share state and
/// an instance left unusable by ngspice's ControlledExit can be unloaded and loaded afresh. The copy
/// must be a real copy: glibc recognises a hard link by its inode and returns the loaded handle.
///
/// A loaded copy is never unloaded: after ngspice reports that its background thread has ended, that
/// thread still runs library code for a moment, and no API lets the caller join it, so `dlclose`
/// could unmap code under a running thread. A replaced or released instance costs its mapping (about
/// 8 MB) until the process exits; sessions are few and long-lived, so this stays small.
final class NgspiceLibrary {
    let handle: UnsafeMutableRawPointer
    let initialize: ngspice_init_fn
    let command: ngspice_command_fn
    let circuit: ngspice_circ_fn
    let vectorInfo: ngspice_get_vec_info_fn
    let currentPlot: ngspice_cur_plot_fn
    let allPlots: ngspice_all_plots_fn
    let allVectors: ngspice_all_vecs_fn
    let running: ngspice_running_fn
    let setBreakpoint: ngspice_set_bkpt_fn

    /// Loads a private copy of the library at `path` (a file name is searched for like `dlopen` does).
    init(path: String) throws(NgspiceError) {
        let source = try Self.resolve(path)
        let copy = try Self.privateCopy(of: source)
        defer { unlink(copy) }  // the mapping outlives the name
        guard let handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL) else {
            throw .libraryNotLoaded(path: source, reason: String(cString: dlerror()))
        }
        self.handle = handle
        do {
            initialize = try Self.symbol(handle, "ngSpice_Init")
            command = try Self.symbol(handle, "ngSpice_Command")
            circuit = try Self.symbol(handle, "ngSpice_Circ")
            vectorInfo = try Self.symbol(handle, "ngGet_Vec_Info")
            currentPlot = try Self.symbol(handle, "ngSpice_CurPlot")
            allPlots = try Self.symbol(handle, "ngSpice_AllPlots")
            allVectors = try Self.symbol(handle, "ngSpice_AllVecs")
            running = try Self.symbol(handle, "ngSpice_running")
            setBreakpoint = try Self.symbol(handle, "ngSpice_SetBkpt")
        } catch {
            dlclose(handle)  // no ngspice code has run yet
            throw error
        }
    }

    private static func symbol<T>(_ handle: UnsafeMutableRawPointer, _ name: String) throws(NgspiceError) -> T {
        guard let address = dlsym(handle, name) else { throw .missingSymbol(name) }
        return unsafeBitCast(address, to: T.self)
    }

    /// Finds the library file: an absolute or relative path as given, else the usual library folders.
    static func resolve(_ path: String) throws(NgspiceError) -> String {
        if path.contains("/") {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw .libraryNotLoaded(path: path, reason: "no such file")
            }
            return path
        }
        let folders = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                       "/usr/local/lib", "/opt/homebrew/lib"]
        for folder in folders where FileManager.default.isReadableFile(atPath: "\(folder)/\(path)") {
            return "\(folder)/\(path)"
        }
        throw .libraryNotLoaded(
            path: path, reason: "not found in \(folders.joined(separator: ", ")); install libngspice0-dev or set NGSPICE_LIBRARY")
    }

    /// A copy of the library file under a unique name in the temporary folder (`TMPDIR`), removed
    /// again once it is loaded. Copied with POSIX calls so that a full or unusable folder is named
    /// with the system's reason (`No space left on device`, `Not a directory`).
    private static func privateCopy(of source: String) throws(NgspiceError) -> String {
        let folder = FileManager.default.temporaryDirectory.path
        let name = "\(folder)/bmrukit-ngspice-\(getpid())-\(UUID().uuidString).so"
        // Read through a symbolic link: the copy must hold the library's bytes, not a link.
        let target = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
        let input = open(target, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw .libraryNotLoaded(path: source, reason: String(cString: strerror(errno))) }
        defer { close(input) }
        let output = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        var copied = output >= 0
        if copied {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            copying: while true {
                let count = read(input, &buffer, buffer.count)
                if count <= 0 { copied = count == 0; break }
                var written = 0
                while written < count {
                    let step = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, count - written) }
                    if step < 0 { copied = false; break copying }
                    written += step
                }
            }
            copied = close(output) == 0 && copied
        }
        guard copied else {
            let reason = String(cString: strerror(errno))
            unlink(name)
            throw .libraryNotLoaded(
                path: source, reason: "cannot make a private copy in the temporary folder \(folder) (TMPDIR): \(reason)")
        }
        return name
    }
}
