import SpiceValues

/// A signal of a compiled network that its deck can carry a probe for: the vocabulary in which the
/// compiler says what it built, so that a simulation is read by meaning rather than by node names.
///
/// `probe` is the one place that names the deck's probes, and `node` the nodes they sit on;
/// `Compilation.probes` lists the signals a deck carries, in the order it saves them.
public enum NetworkSignal: Hashable, Sendable, CustomStringConvertible {
    /// The state current s_k of unit `unit` of block `block`: a 0 V source between the cell's output
    /// and the state node.
    case state(block: Int, unit: Int)
    /// The candidate current c_k: the current of the candidate node's PMOS ReLU diode, the current
    /// the cell compares (with `Compiler.probeDiodeCurrents`).
    case candidate(block: Int, unit: Int)
    /// The block output p_k: the current of the post-projection node's NMOS diode (with
    /// `Compiler.probeDiodeCurrents`).
    case blockOutput(block: Int, unit: Int)
    /// Readout input A (0: the class-0 side, `Compiler.readoutInput`) or B (1): a 0 V source in front
    /// of the readout.
    case readoutInput(Int)
    /// The readout's output voltage: high when class 0 wins.
    case decision
    /// The current of one of `NetworkSignal.supplies`: negative while the circuit draws from it.
    case supply(String)

    /// The three supplies: `vdd_cell` (memory cells), `vdd_ff` (feedforward mirrors, converters,
    /// readout) and `vdd_bias` (bias sources), in the manifest's and the reports' order.
    public static let supplies = ["vdd_cell", "vdd_ff", "vdd_bias"]

    /// The readout's decision node.
    static let decisionNode = "decision"

    /// The node the signal flows into or sits on: `s<k>_<i>` (cell output), `c<k>_<i>`, `p<k>_<i>`,
    /// `cls_a` / `cls_b`, `decision`, or the supply's name.
    public var node: String {
        switch self {
        case let .state(k, i): "s\(k)_\(i)"
        case let .candidate(k, i): "c\(k)_\(i)"
        case let .blockOutput(k, i): "p\(k)_\(i)"
        case let .readoutInput(side): side == 0 ? "cls_a" : "cls_b"
        case .decision: Self.decisionNode
        case let .supply(name): name
        }
    }

    /// How the deck measures the signal: the current of its 0 V source (`sense(from:to:)`), the
    /// decision node's voltage, a supply's current.
    public var probe: Probe {
        switch self {
        case .state, .candidate, .blockOutput, .readoutInput: .current(source: senseSource)
        case .decision: .voltage(node)
        case let .supply(name): .current(source: name)
        }
    }

    /// The 0 V source that carries the signal from `positive` to `negative`, so that its current is
    /// the signal.
    func sense(from positive: String, to negative: String) -> Element {
        .voltageSource(name: senseSource, positive: positive, negative: negative, value: .dc(0))
    }

    /// `sense_<node>`; a state's is named after its cell's state node, `sense_h<k>_<i>`.
    private var senseSource: String {
        if case let .state(k, i) = self { return "sense_h\(k)_\(i)" }
        return "sense_\(node)"
    }

    /// Whether it is a candidate current.
    var isCandidate: Bool {
        if case .candidate = self { return true }
        return false
    }

    /// For a probed diode current: the port its diode's source moves to, `<c|p>s<k>_<i>`.
    var diodePort: String? {
        switch self {
        case let .candidate(k, i): "cs\(k)_\(i)"
        case let .blockOutput(k, i): "ps\(k)_\(i)"
        default: nil
        }
    }

    public var description: String {
        switch self {
        case let .state(k, i): "state b\(k).u\(i)"
        case let .candidate(k, i): "candidate b\(k).u\(i)"
        case let .blockOutput(k, i): "block output b\(k).u\(i)"
        case let .readoutInput(side): side == 0 ? "readout input A" : "readout input B"
        case .decision: "decision"
        case let .supply(name): "supply \(name)"
        }
    }
}
