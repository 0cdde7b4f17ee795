import PDK

/// What the compiler made of each parameter, and totals.
public struct Manifest: Sendable, Equatable, Codable {
    /// The model's name.
    public var model: String
    /// PDK and corner.
    public var pdk: String, corner: String
    /// Amperes per unit and supply volts.
    public var unitCurrent: Double, supply: Double
    /// Whether sizes and biases come from a characterization (else nominal).
    public var characterized: Bool
    /// Continuous or sampled memory cells.
    public var cells: CellTiming
    /// With sampled cells, each block's comparison window within a frame.
    public var sampleWindows: [SampleWindow]?
    /// Every learned parameter (and s0) with its elements, in tensor order.
    public var parameters: [Entry]
    /// Device and bias totals.
    public var totals: Totals

    enum CodingKeys: String, CodingKey {
        case model, pdk, corner, unitCurrent = "unit_current", supply, characterized, cells
        case sampleWindows = "sample_windows", parameters, totals
    }

    /// When block `block`'s cells compare: from `open` to `close` seconds after each frame starts.
    public struct SampleWindow: Sendable, Equatable, Codable {
        /// The block.
        public var block: Int
        /// Window start and end within the frame, seconds.
        public var open, close: Double
    }

    /// One parameter and the elements realising it.
    public struct Entry: Sendable, Equatable, Codable {
        /// Tensor name and index, e.g. `pre.weight[2][5]`.
        public var parameter: String
        /// Its value in model units.
        public var value: Double
        /// Its elements (several when replicated; none for a zero weight).
        public var elements: [ElementInfo]
    }

    /// One element: a transistor output, a bias source or an initial condition.
    public struct ElementInfo: Sendable, Equatable, Codable {
        /// Path of the element: subcircuit instance and element name as written.
        public var name: String
        /// `mirror output`, `omitted` (a weight below `Compiler.minimumRatio`), `bias source`, `cell bias`
        /// or `initial condition`.
        public var kind: String
        /// Transistor type, for outputs.
        public var polarity: Polarity?
        /// Drawn width and length in metres and multiplier, for outputs.
        public var width: Double?, length: Double?, multiplier: Int?
        /// Nominal width ratio chosen for the weight, for outputs.
        public var widthRatio: Double?
        /// Current in amperes (nominal for outputs at one unit of input), for sources; volts for `.ic`.
        public var current: Double?

        enum CodingKeys: String, CodingKey {
            case name, kind, polarity, width, length, multiplier, widthRatio = "width_ratio", current
        }
    }

    /// Totals over the whole deck.
    public struct Totals: Sendable, Equatable, Codable {
        /// Transistors (fingers counted).
        public var transistors: Int
        /// Sum of W L over all transistors, m^2.
        public var gateArea: Double
        /// Sum of the magnitudes of all bias currents as designed (ideal or mirrored; the mirrored
        /// reference not included), amperes.
        public var biasCurrent: Double
        /// Power drawn from `vdd_bias` by those biases and the mirrored reference, watts (the rest depends on the signals:
        /// measure it from the supply currents of a transient).
        public var biasPower: Double

        enum CodingKeys: String, CodingKey {
            case transistors, gateArea = "gate_area", biasCurrent = "bias_current", biasPower = "bias_power"
        }
    }
}
