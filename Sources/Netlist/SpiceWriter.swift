import PDK
import SpiceValues

/// The one place where netlist text is made: turns a `Circuit` into ngspice deck lines.
///
/// The output is a function of the circuit value alone (no dictionaries, dates or locale): the same
/// circuit always gives byte-identical text. Numbers are printed by `spiceNumber` (nine significant
/// digits at most, C-locale form, no float debris). Lines longer than `lineWidth` are wrapped at
/// token boundaries with `+` continuation lines; a PWL time/value pair is one token and is never split.
///
/// Order: title, model statements, the circuit (parameters, subcircuits, top-level elements), then
/// one marked simulation block with everything ngspice-specific: `.options`, `.ic`, `.save`, the
/// analyses and the batch-mode `.control` block.
///
/// Naming rule (`sanitize`): names are lowercased (ngspice lowercases everything anyway, so two names
/// differing only in case would collide silently), and every character outside `a-z`, `0-9` and `_`
/// becomes `_` (ngspice gives `.`, `=`, `(` and `,` meanings inside names). The ground node is `0`.
/// An element is written as its SPICE type letter followed by its sanitised name, unless the name
/// already starts with that letter (`m1` stays `m1`, an X-device `m1` becomes `xm1`, an instance
/// `cell` becomes `xcell`). Two elements of one scope, or two subcircuits, that end up with the same
/// written name are an error rather than a silently broken deck.
public struct SpiceWriter: Sendable {
    /// The longest line written, unless a single token is longer (model paths are never split).
    public var lineWidth: Int

    /// A writer wrapping lines at `lineWidth` characters.
    public init(lineWidth: Int = 100) {
        self.lineWidth = lineWidth
    }

    /// The deck as lines, title first and `.end` last, ready for `NgspiceSession.load(lines:)`.
    public func lines(_ circuit: Circuit) throws(NetlistError) -> [String] {
        var out = ["* " + circuit.title.split(whereSeparator: \.isNewline).joined(separator: " ")]
        out += circuit.models
        if !circuit.parameters.isEmpty {
            out += wrap([".param"] + (try circuit.parameters.map(assignment)))
        }
        var names = Set<String>()
        for subcircuit in circuit.subcircuits {
            guard names.insert(try Self.sanitize(subcircuit.name)).inserted else {
                throw .duplicateName(subcircuit.name, scope: "subcircuit definitions")
            }
        }
        for subcircuit in circuit.subcircuits {
            out += try lines(subcircuit, in: circuit)
        }
        out += try lines(circuit.elements, scope: "top level", in: circuit)
        let simulation = circuit.options != nil || !circuit.initialConditions.isEmpty || !circuit.saves.isEmpty
            || !circuit.analyses.isEmpty || circuit.batchOutput != nil
        if simulation {
            // Everything below is how to simulate the circuit above, kept apart so that the circuit
            // itself reads in any SPICE.
            out += ["*", "* simulation (ngspice): options, initial states, saved vectors, analyses"]
        }
        if let options = circuit.options { out.append(options.statement) }
        for condition in circuit.initialConditions {
            guard case .voltage = condition.node else { throw .invalidValue(".ic", "only node voltages can be set") }
            out.append(".ic " + (try Self.expression(condition.node)) + "=" + (try number(condition.volts, ".ic")))
        }
        if !circuit.saves.isEmpty {
            out += wrap([".save"] + (try circuit.saves.map(Self.expression)))
        }
        for analysis in circuit.analyses {
            guard analysis != .deck else { throw .invalidAnalysis("'deck' is not an analysis statement") }
            out.append("." + analysis.command)
        }
        if let raw = circuit.batchOutput {
            guard !raw.isEmpty, raw.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
                throw .invalidValue("batch output", "'\(raw)' must be a plain file name")
            }
            // `batchmode` is set only by `ngspice -b`: the library, which runs its decks itself, skips the block.
            out += ["* ngspice only: 'ngspice -b' runs the analyses and writes the saved vectors beside this deck",
                    ".control", "if $?batchmode", "  run", "  write $inputdir/" + raw, "  quit", "end", ".endc"]
        }
        out.append(".end")
        return out
    }

    /// The deck as one text, lines ended by newlines (for files and `ngspice -b`).
    public func text(_ circuit: Circuit) throws(NetlistError) -> String {
        try lines(circuit).map { $0 + "\n" }.joined()
    }

    private func lines(_ subcircuit: Subcircuit, in circuit: Circuit) throws(NetlistError) -> [String] {
        let name = try Self.sanitize(subcircuit.name)
        var header = [".subckt", name] + (try subcircuit.ports.map(Self.sanitize))
        guard Set(header.dropFirst(2)).count == subcircuit.ports.count else {
            throw .duplicateName("a port", scope: "subcircuit \(name)")
        }
        if !subcircuit.parameters.isEmpty {
            header += ["params:"] + (try subcircuit.parameters.map(assignment))
        }
        var out = wrap(header)
        out += subcircuit.doc.map { "* " + $0 }
        out += try lines(subcircuit.elements, scope: "subcircuit \(name)", in: circuit)
        out.append(".ends \(name)")
        return out
    }

    private func lines(_ elements: [Element], scope: String, in circuit: Circuit) throws(NetlistError)
        -> [String]
    {
        var written = Set<String>()
        var out: [String] = []
        for element in elements {
            if case let .comment(text) = element {
                out.append("* " + text.split(whereSeparator: \.isNewline).joined(separator: " "))
                continue
            }
            let tokens = try self.tokens(element, in: circuit)
            guard written.insert(tokens[0]).inserted else { throw .duplicateName(tokens[0], scope: scope) }
            out += wrap(tokens)
        }
        return out
    }

    private func tokens(_ element: Element, in circuit: Circuit) throws(NetlistError) -> [String] {
        switch element {
        case let .mosfet(device):
            var tokens = [try Self.elementName(device.name, letter: device.device.subcircuit ? "x" : "m")]
            tokens += try [device.drain, device.gate, device.source, device.bulk].map(Self.sanitize)
            tokens += [device.device.model, "w=" + (try value(device.width, device.name)),
                       "l=" + (try value(device.length, device.name))]
            guard device.multiplier >= 1 else { throw .invalidValue(device.name, "multiplier \(device.multiplier) < 1") }
            if device.multiplier != 1 { tokens.append("m=\(device.multiplier)") }
            return tokens
        case let .resistor(name, positive, negative, ohms):
            return [try Self.elementName(name, letter: "r"), try Self.sanitize(positive), try Self.sanitize(negative),
                    try value(ohms, name)]
        case let .capacitor(name, positive, negative, farads):
            return [try Self.elementName(name, letter: "c"), try Self.sanitize(positive), try Self.sanitize(negative),
                    try value(farads, name)]
        case let .voltageSource(name, positive, negative, source):
            return [try Self.elementName(name, letter: "v"), try Self.sanitize(positive), try Self.sanitize(negative)]
                + (try tokens(source, name))
        case let .currentSource(name, positive, negative, source):
            return [try Self.elementName(name, letter: "i"), try Self.sanitize(positive), try Self.sanitize(negative)]
                + (try tokens(source, name))
        case let .timeTable(name, positive, negative, points):
            guard !points.isEmpty else { throw .invalidValue(name, "empty table") }
            var pairs: [String] = []
            var previous = -Double.infinity
            for (index, point) in points.enumerated() {
                guard point.time > previous else { throw .invalidValue(name, "table times must increase") }
                previous = point.time
                let last = index == points.count - 1
                pairs.append(try number(point.time, name) + ", " + (try number(point.value, name)) + (last ? ")" : ","))
            }
            return [try Self.elementName(name, letter: "b"), try Self.sanitize(positive), try Self.sanitize(negative),
                    "v=pwl(time,"] + pairs
        case let .instance(instance):
            let target = try Self.sanitize(instance.subcircuit)
            var definition: Subcircuit?
            for candidate in circuit.subcircuits where try Self.sanitize(candidate.name) == target {
                definition = candidate
            }
            guard let definition else { throw .unknownSubcircuit(instance.subcircuit, instance: instance.name) }
            guard definition.ports.count == instance.nodes.count else {
                throw .portMismatch(instance: instance.name, expected: definition.ports.count, got: instance.nodes.count)
            }
            return [try Self.elementName(instance.name, letter: "x")] + (try instance.nodes.map(Self.sanitize))
                + [target] + (try instance.parameters.map(assignment))
        case .comment:
            preconditionFailure("comments are written by the caller")
        }
    }

    private func tokens(_ source: SourceValue, _ name: String) throws(NetlistError) -> [String] {
        switch source {
        case let .dc(amount):
            return ["dc", try value(amount, name)]
        case .external:
            // Not `dc 0 external`: that form crashes ngspice 39 at run time.
            return ["external"]
        case let .pwl(points):
            guard !points.isEmpty else { throw .invalidValue(name, "empty PWL") }
            var pairs: [String] = []
            var previous = -Double.infinity
            for point in points {
                guard point.time > previous else { throw .invalidValue(name, "PWL times must increase") }
                previous = point.time
                pairs.append(try number(point.time, name) + " " + (try number(point.value, name)))
            }
            return ["pwl("] + pairs + [")"]
        case let .pulse(pulse):
            guard pulse.delay >= 0, pulse.rise > 0, pulse.fall > 0, pulse.width >= 0,
                  pulse.rise + pulse.width + pulse.fall <= pulse.period
            else { throw .invalidValue(name, "a pulse needs rise, fall > 0 and rise + width + fall <= period") }
            let values = [pulse.initial, pulse.pulsed, pulse.delay, pulse.rise, pulse.fall, pulse.width, pulse.period]
            return ["pulse("] + (try values.map { v throws(NetlistError) in try number(v, name) }) + [")"]
        case let .whiteNoise(rms, step):
            guard rms >= 0, step > 0 else { throw .invalidValue(name, "noise needs rms >= 0 and step > 0") }
            return ["dc", "0", "trnoise(", try number(rms, name), try number(step, name), "0", "0", ")"]
        }
    }

    private func assignment(_ parameter: Parameter) throws(NetlistError) -> String {
        try Self.sanitize(parameter.name) + "=" + (try value(parameter.value, parameter.name))
    }

    private func value(_ value: Value, _ owner: String) throws(NetlistError) -> String {
        switch value {
        case let .number(number): try self.number(number, owner)
        case let .parameter(name): "{" + (try Self.sanitize(name)) + "}"
        }
    }

    private func number(_ value: Double, _ owner: String) throws(NetlistError) -> String {
        guard value.isFinite else { throw .invalidValue(owner, "\(value) is not a finite number") }
        return spiceNumber(value)
    }

    /// Joins tokens into lines of at most `lineWidth` characters, continuing with `+ `.
    private func wrap(_ tokens: [String]) -> [String] {
        var lines: [String] = []
        var line = ""
        for token in tokens {
            if line.isEmpty {
                line = token
            } else if line.count + 1 + token.count <= lineWidth {
                line += " " + token
            } else {
                lines.append(line)
                line = "+ " + token
            }
        }
        return lines + [line]
    }

    // MARK: Names

    /// A name as written: lowercased, with every character outside `a-z0-9_` replaced by `_`.
    public static func sanitize(_ name: String) throws(NetlistError) -> String {
        guard !name.isEmpty else { throw .emptyName }
        return String(name.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" ? $0 : "_" })
    }

    /// An element's written name: `letter` followed by the sanitised name, unless the name starts with it.
    public static func elementName(_ name: String, letter: Character) throws(NetlistError) -> String {
        let clean = try sanitize(name)
        return clean.first == letter ? clean : String(letter) + clean
    }

    /// The `.save` expression of a probe, which is also the name `NgspiceSession.vector` accepts for it.
    public static func expression(_ probe: Probe) throws(NetlistError) -> String {
        switch probe {
        case let .voltage(node, path):
            let prefix = try path.map { name throws(NetlistError) in try elementName(name, letter: "x") + "." }.joined()
            return "v(" + prefix + (try sanitize(node)) + ")"
        case let .current(source):
            return "i(" + (try elementName(source, letter: "v")) + ")"
        }
    }
}
