import PDK

/// The bias reference of the network's bias domain: the one reference current I_u (on a chip, the
/// output of a bandgap-derived reference; in the deck an ideal source) into an NMOS diode, copied 1:1
/// into a PMOS diode. Every bias of the network is a mirror output of one of the two gate lines: NMOS
/// outputs on `refn` sink, PMOS outputs on `refp` source.
///
/// Ports: `refn` (where I_u enters; the NMOS gate line), `refp` (the PMOS gate line), `vdd`, `vss`.
///
/// The copy's drain sits at the PMOS diode's gate, not at its own gate voltage, so the PMOS line
/// carries I_u times a factor a few percent above 1 (GF180 typical: PMOS biases sized as weights came
/// out 3-6 % high). The characterization measures every bias output through this same reference
/// (`Characterization.BiasTable`), so the compiler's calibration absorbs the factor with the
/// outputs' own errors.
public struct BiasReference: Sendable, Equatable {
    /// The subcircuit's name.
    public static let name = "bias_reference"
    /// The port names, in order.
    public static let ports = ["refn", "refp", "vdd", "vss"]
    /// The size of the two diodes and the copy: a weight mirror's input device, so bias outputs are
    /// sized by the same rule (`CurrentMirror.outputSize`) as weights.
    public var size: DeviceSize

    /// A reference of devices of `size`.
    public init(size: DeviceSize = CurrentMirror.mirrorUnit) {
        self.size = size
    }

    /// The reference as a subcircuit of `pdk`.
    public func subcircuit(pdk: PDK) throws(NetlistError) -> Subcircuit {
        try size.check(against: pdk, what: "bias reference")
        return Subcircuit(name: Self.name, ports: Self.ports, elements: [
            transistor("d_refn", .nmos, drain: "refn", gate: "refn", source: "vss", bulk: "vss", size: size, pdk: pdk),
            transistor("copy", .nmos, drain: "refp", gate: "refn", source: "vss", bulk: "vss", size: size, pdk: pdk),
            transistor("d_refp", .pmos, drain: "refp", gate: "refp", source: "vdd", bulk: "vdd", size: size, pdk: pdk),
        ], doc: ["bias reference: I_u into refn (NMOS diode \(describe(size))), copied 1:1 into the PMOS diode at refp"])
    }
}
