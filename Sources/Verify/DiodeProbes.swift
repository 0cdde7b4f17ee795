import Netlist

/// Candidate and block-output probes added to a compiled deck.
///
/// The compiler exposes state and class probes but none for the candidates c_k or the block outputs
/// p_k, so the verifier adds them itself without changing the circuit electrically: each of those
/// signals is the current of a diode (the candidate's PMOS diode `d_c<k>_<i>` in layer `b<k>_cand`,
/// the ReLU carrying exactly c; the block output's NMOS diode `d_p<k>_<i>` in layer `b<k>_post`),
/// whose source is moved to a new port `<signal>s<k>_<i>`, tied to its rail by a top-level 0 V source
/// `sense_<signal><k>_<i>`. The current still flows from or to the same rail. (This belongs in
/// `Netlist.Compiler`; until it moves there it depends on the compiler's node and element names,
/// checked here.)
enum DiodeProbes {
    /// A per-cell signal carried by a diode of the compiled deck.
    enum Signal: String, CaseIterable {
        /// c_k, at the PMOS diode of layer `b<k>_cand`.
        case candidate = "c"
        /// p_k, at the NMOS diode of layer `b<k>_post`.
        case blockOutput = "p"

        func layer(_ block: Int) -> String { self == .candidate ? "b\(block)_cand" : "b\(block)_post" }
    }

    /// The 0 V source carrying `signal` of unit `unit` of block `block`.
    static func probe(_ signal: Signal, block: Int, unit: Int) -> Probe {
        .current(source: "sense_\(signal.rawValue)\(block)_\(unit)")
    }

    /// Adds a probe of every signal for every cell of `circuit` and saves it.
    static func insert(into circuit: inout Circuit, blocks: Int, hidden: Int) throws(VerifyError) {
        for signal in Signal.allCases {
            for k in 0..<blocks { try insert(signal, block: k, hidden: hidden, into: &circuit) }
        }
    }

    private static func insert(_ signal: Signal, block k: Int, hidden: Int, into circuit: inout Circuit) throws(VerifyError) {
        let layer = signal.layer(k)
        guard let sub = circuit.subcircuits.firstIndex(where: { $0.name == layer }),
              let top = circuit.elements.firstIndex(where: {
                  if case let .instance(instance) = $0 { instance.subcircuit == layer } else { false }
              }),
              case var .instance(instance) = circuit.elements[top]
        else { throw .compile(clip: layer, "compiled deck has no layer \(layer) to probe") }
        for i in 0..<hidden {
            let node = "\(signal.rawValue)\(k)_\(i)", port = "\(signal.rawValue)s\(k)_\(i)"
            guard let index = circuit.subcircuits[sub].elements.firstIndex(where: {
                if case let .mosfet(m) = $0 { m.name == "d_\(node)" && m.drain == node && m.gate == node } else { false }
            }), case var .mosfet(diode) = circuit.subcircuits[sub].elements[index]
            else { throw .compile(clip: layer, "no diode d_\(node)") }
            let rail = diode.source
            diode.source = port
            circuit.subcircuits[sub].elements[index] = .mosfet(diode)
            circuit.subcircuits[sub].ports.append(port)
            instance.nodes.append(port)
            // Positive node first: i(sense) is then the diode's current for either polarity.
            let (positive, negative) = signal == .candidate ? (rail, port) : (port, rail)
            circuit.elements.append(.voltageSource(name: "sense_\(node)", positive: positive, negative: negative, value: .dc(0)))
            circuit.saves.append(probe(signal, block: k, unit: i))
        }
        circuit.elements[top] = .instance(instance)
    }
}
