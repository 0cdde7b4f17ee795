import Netlist

/// Candidate-current probes added to a compiled deck.
///
/// The compiler exposes state and class probes but none for the candidates, so the verifier adds
/// them itself without changing the circuit electrically: the source of each candidate node's PMOS
/// diode (`d_c<k>_<i>` in layer `b<k>_cand`, the ReLU carrying exactly the candidate current) is
/// moved to a new port `cs<k>_<i>`, tied to its rail by a top-level 0 V source `sense_c<k>_<i>`.
/// The current then still comes from the same supply. (This belongs in `Netlist.Compiler`; until it
/// moves there it depends on the compiler's node and element names, checked here.)
enum CandidateProbes {
    /// The 0 V source carrying unit `unit`'s candidate current of block `block`.
    static func probe(block: Int, unit: Int) -> Probe { .current(source: "sense_c\(block)_\(unit)") }

    /// Adds a candidate probe for every cell of `circuit` and saves it.
    static func insert(into circuit: inout Circuit, blocks: Int, hidden: Int) throws(VerifyError) {
        for k in 0..<blocks {
            let layer = "b\(k)_cand"
            guard let sub = circuit.subcircuits.firstIndex(where: { $0.name == layer }),
                  let top = circuit.elements.firstIndex(where: {
                      if case let .instance(instance) = $0 { instance.subcircuit == layer } else { false }
                  }),
                  case var .instance(instance) = circuit.elements[top]
            else { throw .compile(clip: layer, "compiled deck has no layer \(layer) to probe candidates in") }
            for i in 0..<hidden {
                let (node, port) = ("c\(k)_\(i)", "cs\(k)_\(i)")
                guard let index = circuit.subcircuits[sub].elements.firstIndex(where: {
                    if case let .mosfet(m) = $0 { m.name == "d_\(node)" && m.drain == node && m.gate == node } else { false }
                }), case var .mosfet(diode) = circuit.subcircuits[sub].elements[index]
                else { throw .compile(clip: layer, "no candidate diode d_\(node)") }
                let rail = diode.source
                diode.source = port
                circuit.subcircuits[sub].elements[index] = .mosfet(diode)
                circuit.subcircuits[sub].ports.append(port)
                instance.nodes.append(port)
                circuit.elements.append(.voltageSource(name: "sense_c\(k)_\(i)", positive: rail, negative: port, value: .dc(0)))
                circuit.saves.append(probe(block: k, unit: i))
            }
            circuit.elements[top] = .instance(instance)
        }
    }
}
