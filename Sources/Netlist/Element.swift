import PDK

/// One line of a circuit or subcircuit.
///
/// Names are given bare (`m1`, `bias`); the writer adds the SPICE type letter (see
/// `SpiceWriter.elementName`). Source polarity follows SPICE: a current source's value flows from
/// its positive node through the source to its negative node, i.e. it is pushed into `negative`.
public enum Element: Sendable, Equatable {
    /// A transistor.
    case mosfet(MOSFET)
    /// A resistor between two nodes, in ohms.
    case resistor(name: String, positive: String, negative: String, ohms: Value)
    /// A capacitor between two nodes, in farads.
    case capacitor(name: String, positive: String, negative: String, farads: Value)
    /// An independent voltage source, in volts.
    case voltageSource(name: String, positive: String, negative: String, value: SourceValue)
    /// An independent current source, in amperes.
    case currentSource(name: String, positive: String, negative: String, value: SourceValue)
    /// A voltage that follows a piecewise-linear table of time (ngspice's `B` source,
    /// `v = pwl(time, ...)`), linear between the points and constant after the last. Unlike a PWL
    /// source's, its points are not simulator breakpoints: the simulator steps by its own error
    /// control, so a table of thousands of accepted points from another run costs no forced steps.
    case timeTable(name: String, positive: String, negative: String, points: [PWLPoint])
    /// An instance of a subcircuit defined in the same circuit.
    case instance(Instance)
    /// A comment line.
    case comment(String)
}

/// A transistor of the PDK: an `M` line for a plain model, an `X` line when the PDK wraps its
/// devices in subcircuits (GF180's `nfet_03v3`).
public struct MOSFET: Sendable, Equatable {
    /// The element name.
    public var name: String
    /// Drain node.
    public var drain: String
    /// Gate node.
    public var gate: String
    /// Source node.
    public var source: String
    /// Bulk node.
    public var bulk: String
    /// The PDK device (model name and whether it is a subcircuit).
    public var device: PDKDescriptor.Device
    /// Drawn channel width in metres.
    public var width: Value
    /// Drawn channel length in metres.
    public var length: Value
    /// Parallel devices (`m=`), written only when not 1.
    public var multiplier: Int

    /// A transistor with the given terminals and geometry.
    public init(name: String, drain: String, gate: String, source: String, bulk: String,
                device: PDKDescriptor.Device, width: Value, length: Value, multiplier: Int = 1) {
        self.name = name
        self.drain = drain
        self.gate = gate
        self.source = source
        self.bulk = bulk
        self.device = device
        self.width = width
        self.length = length
        self.multiplier = multiplier
    }
}

/// A subcircuit instance: `X name nodes... subcircuit param=value...`.
public struct Instance: Sendable, Equatable {
    /// The element name.
    public var name: String
    /// The subcircuit's name.
    public var subcircuit: String
    /// The nodes connected to the subcircuit's ports, in port order.
    public var nodes: [String]
    /// Parameter overrides.
    public var parameters: [Parameter]

    /// An instance of `subcircuit` connecting `nodes`.
    public init(name: String, subcircuit: String, nodes: [String], parameters: [Parameter] = []) {
        self.name = name
        self.subcircuit = subcircuit
        self.nodes = nodes
        self.parameters = parameters
    }

    /// An instance of `subcircuit` connecting each of its ports to the node `connections` maps it to
    /// (a port missing from `connections` keeps its own name), so callers wire by name, not position.
    public init(name: String, of subcircuit: Subcircuit, connections: [String: String],
                parameters: [Parameter] = []) {
        self.init(name: name, subcircuit: subcircuit.name,
                  nodes: subcircuit.ports.map { connections[$0] ?? $0 }, parameters: parameters)
    }
}

/// What an independent source produces.
public enum SourceValue: Sendable, Equatable {
    /// A constant.
    case dc(Value)
    /// A piecewise-linear waveform through the points, in increasing time; constant after the last.
    case pwl([PWLPoint])
    /// A value supplied at run time by the host program (`EXTERNAL`, ngspice's shared-library callback).
    case external
    /// A periodic trapezoidal pulse (a clock).
    case pulse(Pulse)
    /// Zero-mean white noise for the transient (ngspice's `trnoise`): a new Gaussian value of
    /// standard deviation `rms` every `step` seconds, linearly interpolated between; drawn from the
    /// random generator that the job's seed sets.
    case whiteNoise(rms: Double, step: Double)
}

/// SPICE's `PULSE`: `initial` until `delay`, then every `period` a ramp of `rise` to `pulsed`, held
/// for `width`, a ramp of `fall` back. Its corners are simulator breakpoints, like PWL corners.
public struct Pulse: Sendable, Equatable {
    /// Value outside the pulse and inside it.
    public var initial, pulsed: Double
    /// Start of the first rise, the two ramp times, the flat top and the repetition period, seconds.
    public var delay, rise, fall, width, period: Double

    /// A pulse train; see the type's description for the meaning of each time.
    public init(initial: Double, pulsed: Double, delay: Double, rise: Double, fall: Double, width: Double,
                period: Double) {
        (self.initial, self.pulsed, self.delay, self.rise, self.fall, self.width, self.period)
            = (initial, pulsed, delay, rise, fall, width, period)
    }
}

/// One corner of a piecewise-linear waveform. A PWL corner is also a simulator breakpoint, so the
/// transient steps exactly onto it.
public struct PWLPoint: Sendable, Equatable {
    /// Time in seconds.
    public var time: Double
    /// Source value at that time.
    public var value: Double

    /// The point (`time`, `value`).
    public init(_ time: Double, _ value: Double) {
        self.time = time
        self.value = value
    }
}

/// A number, or a reference to a parameter evaluated by ngspice (written `{name}`), so that one
/// parsed deck can be re-run with `alterparam` instead of being regenerated.
public enum Value: Sendable, Equatable, ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// A literal number.
    case number(Double)
    /// The value of a `.param` or subcircuit parameter.
    case parameter(String)

    /// A literal number.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A literal number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}
