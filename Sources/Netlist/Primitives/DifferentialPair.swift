import PDK

/// The readout: a 2-input current comparator built on a subthreshold differential pair with tail
/// current; `out` goes to vdd when I(a) > I(b) and to vss otherwise.
///
/// The input currents flow into NMOS diodes (`a`, `b`), whose gate voltages differ by
/// n U_T ln(I_a / I_b) (about 1.7 mV for 5 %). The pair (ma, mb, widened by `pairWidthFactor` so
/// that its common source stays above the tail device's saturation voltage when the tail current is
/// comparable to the inputs) steers the tail current (NMOS `mt`, gate line `tail`); a PMOS mirror
/// load (diode pb on mb's drain, pa on ma's drain) makes the single-ended node `n1` fall when
/// I_a > I_b. One stage only swings to about 0.7 V (drain-induced effects balance a 5 % difference),
/// so a second stage (PMOS `po` on `n1`, NMOS load `no` on the tail line) restores rail levels.
/// Nine transistors. Ports: `a`, `b`, `tail`, `out`, `vdd`, `vss`.
public struct DifferentialPair: Sendable, Equatable {
    /// The subcircuit's name.
    public var name: String
    /// The size of every device but the pair.
    public var size: DeviceSize
    /// The pair's width over `size.width`.
    public var pairWidthFactor: Double

    /// A comparator with the given sizes.
    public init(name: String = "readout", size: DeviceSize = .unit, pairWidthFactor: Double = 4) {
        self.name = name
        self.size = size
        self.pairWidthFactor = pairWidthFactor
    }

    /// The port names, in order.
    public static let ports = ["a", "b", "tail", "out", "vdd", "vss"]

    /// The comparator as a subcircuit of `pdk`.
    public func subcircuit(pdk: PDK) throws(NetlistError) -> Subcircuit {
        let pair = DeviceSize(width: size.width * pairWidthFactor, length: size.length)
        try size.check(against: pdk, what: "comparator \(name) device")
        try pair.check(against: pdk, what: "comparator \(name) pair device")
        func device(_ name: String, _ polarity: Polarity, _ drain: String, _ gate: String, _ source: String,
                    _ size: DeviceSize) -> Element {
            transistor(name, polarity, drain: drain, gate: gate, source: source,
                       bulk: polarity == .nmos ? "vss" : "vdd", size: size, pdk: pdk)
        }
        return Subcircuit(
            name: name, ports: Self.ports,
            elements: [
                device("da", .nmos, "a", "a", "vss", size),
                device("db", .nmos, "b", "b", "vss", size),
                device("ma", .nmos, "n1", "a", "s", pair),
                device("mb", .nmos, "pb", "b", "s", pair),
                device("mt", .nmos, "s", "tail", "vss", size),
                device("pb", .pmos, "pb", "pb", "vdd", size),
                device("pa", .pmos, "n1", "pb", "vdd", size),
                device("po", .pmos, "out", "n1", "vdd", size),
                device("no", .nmos, "out", "tail", "vss", size),
            ],
            doc: ["current comparator: out high when I(a) > I(b); input diodes and loads \(describe(size)), "
                + "pair \(describe(pair)), tail and second-stage load on the tail gate line"])
    }
}
