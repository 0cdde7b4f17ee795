import Foundation

/// Finds the file and line of a parameter that ngspice could not evaluate.
///
/// ngspice reports a bad `.param` (a garbage value in a model file, an undefined name in an
/// expression) with the deck's line number of the instance that used it and the assignment it choked
/// on (`... | : |par_vth|=|0.00x7#148|`), never with the file that holds it: a corrupted PDK file
/// gave only "Cannot compute substitute". This walks the deck and the files it includes (`.include`,
/// `.inc`, `.lib FILE SECTION`, relative paths against the including file's folder, as ngspice
/// resolves them) for that assignment.
struct ParameterSource {
    /// The deck's own lines; nil to read them from `file` (only when an error is to be located).
    var lines: [String]?
    /// The deck file; nil for lines given directly (reported as `netlist line N`).
    var file: String?
    /// The folder the deck's relative include paths resolve against.
    var folder: String

    /// `FILE line N: NAME=VALUE` for the assignment ngspice reports in `stderr`; nil when ngspice
    /// names none or it is not found.
    func locate(_ stderr: [String]) -> String? {
        guard let (name, value) = Self.assignment(in: stderr) else { return nil }
        var visited = Set<String>()
        func read(_ path: String) -> [String]? {
            // Split the bytes at "\n": a String sees "\r\n", common in model files, as one character.
            (try? Data(contentsOf: URL(fileURLWithPath: path)))?
                .split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
        }
        func search(_ lines: [String], file: String?, folder: String) -> String? {
            for (index, line) in lines.enumerated() {
                if Self.line(line, assigns: name, value) { return "\(file ?? "netlist") line \(index + 1): \(name) = \(value)" }
                guard let path = Self.includedFile(line) else { continue }
                let url = URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: folder, isDirectory: true))
                    .standardizedFileURL
                guard visited.insert(url.path).inserted, let included = read(url.path) else { continue }
                let found = search(included, file: url.path, folder: url.deletingLastPathComponent().path)
                if let found { return found }
            }
            return nil
        }
        if let file { visited.insert(URL(fileURLWithPath: file).standardizedFileURL.path) }
        return search(lines ?? file.flatMap(read) ?? [], file: file, folder: folder)
    }

    /// The assignment at the end of ngspice's `Formula() error` dump: `... | : |NAME|=|VALUE|`.
    static func assignment(in stderr: [String]) -> (name: String, value: String)? {
        for line in stderr.reversed() {
            guard let marker = line.range(of: "| : |", options: .backwards) else { continue }
            let fields = line[marker.upperBound...].split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[1] == "=", !fields[0].isEmpty else { continue }
            return (String(fields[0]), String(fields[2]))
        }
        return nil
    }

    /// The file of an `.include`, `.inc` or `.lib FILE SECTION` line (a `.lib SECTION` line starts a
    /// section and names no file).
    static func includedFile(_ line: String) -> String? {
        let words = line.split(whereSeparator: \.isWhitespace)
        guard let keyword = words.first?.lowercased() else { return nil }
        let path: Substring
        switch keyword {
        case ".include" where words.count >= 2, ".inc" where words.count >= 2, ".lib" where words.count >= 3:
            path = words[1]
        default: return nil
        }
        return path.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
    }

    /// Whether `line` assigns `value` to `name`, compared as ngspice prints an assignment: lower case,
    /// without white space, quotes or braces.
    static func line(_ line: String, assigns name: String, _ value: String) -> Bool {
        let text = line.lowercased(), name = name.lowercased()
        let assignment = "=" + normalized(value)
        var start = text.startIndex
        while let range = text.range(of: name, range: start..<text.endIndex) {
            start = range.upperBound
            if range.lowerBound > text.startIndex, isNameCharacter(text[text.index(before: range.lowerBound)]) { continue }
            if normalized(text[range.upperBound...]).hasPrefix(assignment) { return true }
        }
        return false
    }

    private static func normalized(_ text: some StringProtocol) -> String {
        String(text.lowercased().filter { !$0.isWhitespace && !"'\"{}".contains($0) })
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_"
    }
}
