import PDK
import SpiceValues

/// A complete SPICE deck as a value: what `SpiceWriter` prints, in this order.
///
/// Circuits are built by generator functions from parameters (the primitives of this module, later
/// the compiler) and printed by one writer, so that no module assembles netlist text itself and the
/// same value always gives the same bytes.
public struct Circuit: Sendable, Equatable {
    /// The deck's title (its first line).
    public var title: String
    /// Model statements, verbatim: the `.include`/`.lib` lines of `PDK.modelStatements(corner:)`.
    public var models: [String]
    /// Simulator tolerances, written as one `.options` line; nil leaves ngspice's defaults.
    public var options: SimulationOptions?
    /// Top-level `.param` definitions, in order.
    public var parameters: [Parameter]
    /// Subcircuit definitions, in order; instances may only name these.
    public var subcircuits: [Subcircuit]
    /// Top-level elements.
    public var elements: [Element]
    /// Vectors to keep (`.save`); empty keeps ngspice's default (every node and source current).
    public var saves: [Probe]
    /// Analysis statements run by `run` (`Analysis.deck` is not a statement and is rejected).
    public var analyses: [Analysis]
    /// Node voltages held during the operating point and released at t = 0 (`.ic`): how a bistable
    /// circuit (the memory cell) is started in a chosen state without `uic`.
    public var initialConditions: [InitialCondition]
    /// A raw file, beside the deck, that `ngspice -b deck.cir` writes the saved vectors to: the deck
    /// ends with a marked ngspice control block that, in batch mode only (`batchmode`), runs the
    /// analyses, writes `$inputdir/<name>` (ngspice sets `inputdir` to the deck's folder) and quits
    /// with status 0. Without it a batch run without `-r` simulates nothing and exits 1. The library
    /// (`bmru simulate`) skips the block and runs the deck's analyses itself. Nil: no block.
    public var batchOutput: String? = nil

    /// A circuit with the given parts.
    public init(title: String, models: [String] = [], options: SimulationOptions? = SimulationOptions(),
                parameters: [Parameter] = [], subcircuits: [Subcircuit] = [], elements: [Element] = [],
                saves: [Probe] = [], analyses: [Analysis] = [], initialConditions: [InitialCondition] = []) {
        self.title = title
        self.models = models
        self.options = options
        self.parameters = parameters
        self.subcircuits = subcircuits
        self.elements = elements
        self.saves = saves
        self.analyses = analyses
        self.initialConditions = initialConditions
    }

    /// Adds a subcircuit definition unless an identical one is already there, so that generators can
    /// hand the same primitive to several users; a different definition under the same name is an error.
    public mutating func define(_ subcircuit: Subcircuit) throws(NetlistError) {
        if let existing = subcircuits.first(where: { $0.name == subcircuit.name }) {
            guard existing == subcircuit else { throw .duplicateName(subcircuit.name, scope: "circuit") }
            return
        }
        subcircuits.append(subcircuit)
    }
}

/// A `.subckt` definition: a named, reusable block with ports.
public struct Subcircuit: Sendable, Equatable {
    /// The subcircuit's name.
    public var name: String
    /// Port nodes, in the order instances connect them.
    public var ports: [String]
    /// Parameters with their defaults (`params:`), which instances may override.
    public var parameters: [Parameter]
    /// The subcircuit's elements; nodes not among the ports are internal.
    public var elements: [Element]
    /// Comment lines printed after the `.subckt` line: what the block is, its ports and sizes.
    public var doc: [String]

    /// A subcircuit with the given parts.
    public init(name: String, ports: [String], parameters: [Parameter] = [], elements: [Element] = [],
                doc: [String] = []) {
        self.name = name
        self.ports = ports
        self.parameters = parameters
        self.elements = elements
        self.doc = doc
    }
}

/// A named value: a `.param` line, a subcircuit default or an instance override.
public struct Parameter: Sendable, Equatable {
    /// The parameter's name.
    public var name: String
    /// Its value.
    public var value: Value

    /// A parameter `name = value`.
    public init(_ name: String, _ value: Value) {
        self.name = name
        self.value = value
    }
}

/// A vector to save, named the way the writer names nodes and sources.
public enum Probe: Sendable, Equatable {
    /// The voltage of `node`, inside the instances `path` (outermost first; empty for the top level).
    case voltage(String, path: [String] = [])
    /// The current through the top-level voltage source `source` (into its positive node).
    case current(source: String)
}

/// A node voltage imposed at the operating point (`.ic v(node)=volts`).
public struct InitialCondition: Sendable, Equatable {
    /// The node, as a voltage probe (top level or inside instances).
    public var node: Probe
    /// The voltage held at the operating point.
    public var volts: Double

    /// Holds `node` at `volts` during the operating point.
    public init(_ node: Probe, volts: Double) {
        self.node = node
        self.volts = volts
    }
}
