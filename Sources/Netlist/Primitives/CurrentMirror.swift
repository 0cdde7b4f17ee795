import PDK

/// A subthreshold current mirror: one diode-connected input device and N outputs, each copying the
/// input current times its own ratio. NMOS mirrors sink (current flows into `in` and into every
/// output), PMOS mirrors source (current flows out of `in` and out of every output).
///
/// Ports: `in`, `out1` ... `outN`, `rail` (vss for NMOS, vdd for PMOS). With `diode` false the input
/// device is left out and `in` is a gate line driven elsewhere (a `ReLU` at a summing node), so one
/// diode can feed the output banks of many weights.
///
/// Ratios are realised by `outputSize(ratio:)`: integer parts as parallel fingers, the rest in the
/// width, and ratios too small for a minimum-width device in the length. The realised ratio is only
/// nominal: drain-voltage effects and GF180's binned models make the real one differ (measured in
/// `outputSize`), which the compiler corrects from a characterization table.
public struct CurrentMirror: Sendable, Equatable {
    /// The subcircuit's name.
    public var name: String
    /// NMOS (sinking) or PMOS (sourcing).
    public var polarity: Polarity
    /// Output-to-input current ratio of each output, all > 0.
    public var ratios: [Double]
    /// The input device's size; outputs are sized relative to it.
    public var unit: DeviceSize
    /// Whether the mirror contains its diode-connected input device.
    public var diode: Bool
    /// The narrowest output drawn before lengthening, metres (`outputSize`).
    public var narrowestOutput: Double

    /// A mirror with the given outputs.
    public init(name: String, polarity: Polarity, ratios: [Double], unit: DeviceSize = mirrorUnit,
                diode: Bool = true, narrowestOutput: Double = standardNarrowestOutput) {
        self.name = name
        self.polarity = polarity
        self.ratios = ratios
        self.unit = unit
        self.diode = diode
        self.narrowestOutput = narrowestOutput
    }

    /// The port names, in order.
    public var ports: [String] { ["in"] + ratios.indices.map { "out\($0 + 1)" } + ["rail"] }

    /// The geometry of an output with current ratio `ratio` to a `unit` input device.
    ///
    /// - ratio >= 1: m = floor(ratio) parallel fingers of width unit.width * ratio / m (each finger
    ///   between 1 and 2 unit widths, so its current density stays close to the input's);
    /// - 1 > ratio, ratio * unit.width >= the floor max(`narrowest`, PDK minimum width): one device of
    ///   width ratio * unit.width;
    /// - smaller: a device of the floor's width, lengthened by the missing factor (W/L keeps the
    ///   ratio) up to `maximumLength`; smaller still: `maximumLength` long and narrower, down to the
    ///   minimum width (below that, longer: weights that small are omitted, `Compiler.minimumRatio`).
    ///
    /// This is the nominal rule only. Measured (typical, `unit` = `mirrorUnit`, 100 pA..3 nA, output
    /// at 0.9 V): generic180 (one unbinned card) follows it within 7 % from 0.05 to 2.5. GF180 NMOS is
    /// within 5 % from 0.3 to 2.5 and PMOS within 7 % from 0.5 to 2.5 (+12..15 % at 0.3); narrower
    /// outputs carry far more than their share (1.5x at 0.1 with W = 0.4 um, 1.9..3.1x at 0.05 with
    /// the minimum width 0.22 um), because GF180's models are binned in W (0.22-0.5-1.2-10 um) and L,
    /// and a device outside the unit's bin has other parameters. The output current is still monotone
    /// in the size, so the compiler picks sizes by inverting a characterization table (as the paper
    /// did), not from this. What a table cannot correct is how the ratio drifts with the input
    /// current: 7.4 % (NMOS) / 8.2 % (PMOS) from 0.1 to 3 nA at W = 0.22 um, 3.7 % / 6.1 % at 0.4 um;
    /// hence the floor (docs/design/calibration.md). Lengthening instead from 1.33 um (the unit's W bin)
    /// drifts least, but doubled kws-yes-d4's gate area and made its block-0 candidates less accurate.
    public static func outputSize(ratio: Double, unit: DeviceSize, narrowest: Double = standardNarrowestOutput,
                                  pdk: PDK) throws(NetlistError) -> (size: DeviceSize, multiplier: Int)
    {
        guard ratio.isFinite, ratio > 0 else { throw .invalidParameter("mirror ratio \(ratio) must be > 0") }
        guard narrowest.isFinite, narrowest >= 0 else {
            throw .invalidParameter("narrowest mirror output \(narrowest) m must be >= 0")
        }
        try unit.check(against: pdk, what: "mirror unit device")
        let wmin = pdk.descriptor.wmin
        if ratio >= 1 {
            let fingers = Int(ratio.rounded(.down))
            return (DeviceSize(width: unit.width * ratio / Double(fingers), length: unit.length).snapped(to: pdk), fingers)
        }
        let nominal = ratio * unit.width
        let floor = max(narrowest, wmin)
        if nominal >= floor { return (DeviceSize(width: nominal, length: unit.length).snapped(to: pdk), 1) }
        let width = max(wmin, min(floor, nominal * maximumLength / unit.length))
        return (DeviceSize(width: width, length: unit.length * width / nominal).snapped(to: pdk), 1)
    }

    /// The narrowest output `outputSize` draws by default before lengthening, metres: a tenth of the
    /// `mirrorUnit` width, where GF180's ratio drift over 0.1..3 I_u is half that of a minimum-width
    /// output for 8 % more gate area in kws-yes-d4 (docs/design/calibration.md).
    public static let standardNarrowestOutput = 0.4e-6

    /// The longest channel drawn for a fractional ratio, metres: GF180's model bins end near 50 um,
    /// and longer devices are slow. It bounds the smallest realisable weight (`Compiler.minimumRatio`).
    public static let maximumLength = 20e-6

    /// The default input device of a weight mirror: W = 4 um, L = 2 um. Four times the `DeviceSize.unit`
    /// width so that fractional weights down to about 0.3 are still realised by width inside the same
    /// GF180 model bin (W 1.2..10 um), and its 8 um^2 gate matches better; W/L = 2 stays in weak
    /// inversion up to a few nanoamperes.
    public static let mirrorUnit = DeviceSize(width: 4e-6, length: 2e-6)

    /// The mirror as a subcircuit of `pdk`.
    public func subcircuit(pdk: PDK) throws(NetlistError) -> Subcircuit {
        guard !ratios.isEmpty else { throw .invalidParameter("mirror \(name) has no outputs") }
        try unit.check(against: pdk, what: "mirror \(name) input")
        var elements: [Element] = []
        var doc = ["\(polarity.rawValue) current mirror, \(polarity == .nmos ? "sinking" : "sourcing"): "
            + (diode ? "diode-connected input \(describe(unit))" : "input is a gate line driven elsewhere")]
        if diode {
            elements.append(transistor("in", polarity, drain: "in", gate: "in", source: "rail", bulk: "rail",
                                       size: unit, pdk: pdk))
        }
        for (index, ratio) in ratios.enumerated() {
            let (size, fingers) = try Self.outputSize(ratio: ratio, unit: unit, narrowest: narrowestOutput, pdk: pdk)
            let port = "out\(index + 1)"
            elements.append(transistor(port, polarity, drain: port, gate: "in", source: "rail", bulk: "rail",
                                       size: size, multiplier: fingers, pdk: pdk))
            doc.append("\(port): ratio \(ratio), \(describe(size, multiplier: fingers))")
        }
        return Subcircuit(name: name, ports: ports, elements: elements, doc: doc)
    }
}

/// A ReLU: one diode-connected transistor at a summing node (`sum`).
///
/// An NMOS diode (to `rail` = vss) conducts only the net current flowing into the node, a PMOS diode
/// (to `rail` = vdd) only the net current drawn out of it; a net current of the other sign drives the
/// node to the rail and the diode off. The diode's gate voltage (the node itself) drives the next
/// layer's mirrors (`CurrentMirror` with `diode: false`). The same device, fed by an ideal current
/// source, is the reference of every bias gate line (the cell's I_thresh, I_width, I_gain).
public struct ReLU: Sendable, Equatable {
    /// The subcircuit's name.
    public var name: String
    /// NMOS (net current in) or PMOS (net current out).
    public var polarity: Polarity
    /// The diode's size: the mirrors it drives are sized relative to it (a bias reference takes the
    /// size of the devices it biases).
    public var size: DeviceSize

    /// A ReLU diode of the given polarity and size (default: a weight mirror's input device).
    public init(name: String, polarity: Polarity, size: DeviceSize = CurrentMirror.mirrorUnit) {
        self.name = name
        self.polarity = polarity
        self.size = size
    }

    /// The port names, in order.
    public static let ports = ["sum", "rail"]

    /// The diode as a subcircuit of `pdk`.
    public func subcircuit(pdk: PDK) throws(NetlistError) -> Subcircuit {
        try size.check(against: pdk, what: "ReLU \(name)")
        return Subcircuit(
            name: name, ports: Self.ports,
            elements: [transistor("d", polarity, drain: "sum", gate: "sum", source: "rail", bulk: "rail", size: size,
                                  pdk: pdk)],
            doc: ["ReLU: diode-connected \(polarity.rawValue) \(describe(size)); conducts only the "
                + (polarity == .nmos ? "net current into sum" : "net current drawn from sum")])
    }
}
