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
/// width, and ratios below a third in the length. The realised ratio is only
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

    /// A mirror with the given outputs.
    public init(name: String, polarity: Polarity, ratios: [Double], unit: DeviceSize = mirrorUnit,
                diode: Bool = true) {
        self.name = name
        self.polarity = polarity
        self.ratios = ratios
        self.unit = unit
        self.diode = diode
    }

    /// The port names, in order.
    public var ports: [String] { ["in"] + ratios.indices.map { "out\($0 + 1)" } + ["rail"] }

    /// The geometry of an output with current ratio `ratio` to a `unit` input device.
    ///
    /// - ratio >= 1: m = floor(ratio) parallel fingers of width unit.width * ratio / m (each finger
    ///   between 1 and 2 unit widths, so its current density stays close to the input's);
    /// - 1 > ratio >= `narrowestRatio`: one device of width ratio * unit.width;
    /// - smaller: one device `narrowestRatio` * unit.width wide, lengthened by the missing factor (W/L
    ///   keeps the ratio), up to `maximumLength`; beyond it, `maximumLength` long and narrower, down to
    ///   the PDK's minimum width, and past that longer again.
    ///
    /// This is the nominal rule only; the compiler picks sizes by inverting a characterization table
    /// (as the paper did). Why narrow outputs are lengthened rather than narrowed: GF180's models are
    /// binned in W (0.22-0.5-1.2-10 um), and an output in another bin than the 4 um unit carries
    /// another share of the current at each level. Measured (typical, outputs at 0.9 V, 0.1 to 3 nA
    /// into the unit), the drift of the ratio across the levels at weight 0.1: W = 0.4 um 3.7 % NMOS,
    /// 6.1 % PMOS; W = 1.25 um, L = 6.25 um 4.2 % and 1.7 %; at 0.05 the minimum width (0.22 um)
    /// drifts 7.4 % and 8.2 %, 1.25 um by 12.5 um 5.0 % and 1.6 %. A table can centre a drift, not
    /// remove it. generic180 (one unbinned card) follows the nominal rule within 7 % from 0.05 to 2.5.
    public static func outputSize(ratio: Double, unit: DeviceSize, pdk: PDK) throws(NetlistError)
        -> (size: DeviceSize, multiplier: Int)
    {
        guard ratio.isFinite, ratio > 0 else { throw .invalidParameter("mirror ratio \(ratio) must be > 0") }
        try unit.check(against: pdk, what: "mirror unit device")
        if ratio >= 1 {
            let fingers = Int(ratio.rounded(.down))
            return (DeviceSize(width: unit.width * ratio / Double(fingers), length: unit.length), fingers)
        }
        if ratio >= narrowestRatio { return (DeviceSize(width: ratio * unit.width, length: unit.length), 1) }
        let narrowest = narrowestRatio * unit.width
        let length = unit.length * narrowestRatio / ratio
        if length <= maximumLength { return (DeviceSize(width: narrowest, length: length), 1) }
        let width = max(ratio * unit.width * maximumLength / unit.length, pdk.descriptor.wmin)
        return (DeviceSize(width: width, length: unit.length * width / (ratio * unit.width)), 1)
    }

    /// The narrowest output as a fraction of the unit's width: a third, so the 4 um `mirrorUnit`'s
    /// outputs stay at least 1.33 um wide, inside its GF180 model bin (W 1.2..10 um) with a margin.
    public static let narrowestRatio = 1.0 / 3

    /// The longest channel a mirror output is drawn with, metres, before it is made narrower than
    /// `narrowestRatio`: GF180's model bins end near 50 um, and longer devices are slow. It bounds
    /// the smallest weight the compiler realises (`Compiler.minimumRatio`).
    public static let maximumLength = 20e-6

    /// The default input device of a weight mirror: W = 4 um, L = 2 um. Four times the `DeviceSize.unit`
    /// width so that fractional weights down to a third are realised by width inside the same GF180
    /// model bin (W 1.2..10 um) and smaller ones by length in it, and its 8 um^2 gate matches better;
    /// W/L = 2 stays in weak inversion up to a few nanoamperes.
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
            let (size, fingers) = try Self.outputSize(ratio: ratio, unit: unit, pdk: pdk)
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
