import Foundation
import Ngspice

/// The smoke test of a PDK corner: subthreshold current mirrors, NMOS and PMOS, at pA..nA.
///
/// A mirror whose output follows its input to within a few percent over 10 pA..3 nA shows that the
/// models load, that the devices are wired the right way round, and that the simulation options
/// resolve picoampere currents. Every mirror of the check is in one deck and solved by one operating
/// point.
public struct MirrorCheck: Sendable {
    /// One mirror of the check.
    public struct Measurement: Sendable, Codable, Equatable {
        /// `nmos` or `pmos`.
        public var polarity: String
        /// Input (reference) current in amperes.
        public var input: Double
        /// Output width over input width.
        public var widthRatio: Double
        /// Measured output current in amperes.
        public var output: Double
        /// Gate-source voltage magnitude of the input device in volts.
        public var gateVoltage: Double

        enum CodingKeys: String, CodingKey {
            case polarity, input, widthRatio = "width_ratio", output, gateVoltage = "gate_voltage"
        }

        /// Output over input current.
        public var ratio: Double { output / input }
        /// Relative deviation of `ratio` from `widthRatio`.
        public var error: Double { ratio / widthRatio - 1 }
    }

    /// Input currents in amperes (default 10 pA, 1 nA, 3 nA).
    public var currents: [Double]
    /// Output-to-input width ratios (default 1 and 2).
    public var widthRatios: [Double]
    /// Channel length of every device (default 4 um: long channels match and keep the Early voltage high).
    public var length: Double
    /// Unit (input) width in metres.
    public var width: Double
    /// Supply in volts; outputs are held at half of it.
    public var supply: Double
    /// Simulator tolerances.
    public var options: SimulationOptions

    /// A check with the given settings.
    public init(currents: [Double] = [10e-12, 1e-9, 3e-9], widthRatios: [Double] = [1, 2], length: Double = 4e-6,
                width: Double = 1e-6, supply: Double = 1.8, options: SimulationOptions = SimulationOptions()) {
        self.currents = currents
        self.widthRatios = widthRatios
        self.length = length
        self.width = width
        self.supply = supply
        self.options = options
    }

    /// The deck measuring every mirror of the check in `corner` of `pdk`.
    public func deck(pdk: PDK, corner: String?) throws(PDKError) -> [String] {
        var lines = ["* BMRUKit mirror check: \(pdk.name) \(try pdk.corner(corner))"]
        lines += try pdk.modelStatements(corner: corner)
        lines.append(options.statement)
        lines.append("vdd vdd 0 \(supply)")
        lines.append("vhalf half 0 \(supply / 2)")
        for (index, probe) in probes.enumerated() {
            let nmos = probe.polarity == "nmos"
            let (rail, gate, out) = (nmos ? "0" : "vdd", "g\(index)", "o\(index)")
            // The reference current flows into the NMOS diode from vdd, or out of the PMOS diode to ground.
            lines.append(nmos ? "iin\(index) vdd \(gate) \(probe.input)" : "iin\(index) \(gate) 0 \(probe.input)")
            lines.append(device(pdk, nmos: nmos, name: "in\(index)", drain: gate, gate: gate, rail: rail, width: width))
            lines.append(device(pdk, nmos: nmos, name: "out\(index)", drain: out, gate: gate, rail: rail,
                                width: width * probe.widthRatio))
            lines.append("vo\(index) \(out) half 0")
        }
        lines.append(".end")
        return lines
    }

    /// Runs the check in `session` and returns one measurement per mirror.
    public func run(pdk: PDK, corner: String?, session: NgspiceSession) throws -> [Measurement] {
        try session.load(lines: try deck(pdk: pdk, corner: corner))
        try session.run(.op)
        return try probes.enumerated().map { index, probe in
            var measurement = probe
            let gate = try session.vector("v(g\(index))")[0]
            measurement.gateVoltage = probe.polarity == "nmos" ? gate : supply - gate
            // Current into the + terminal of vo: positive when the PMOS output sources current.
            let current = try session.vector("vo\(index)#branch")[0]
            measurement.output = probe.polarity == "nmos" ? -current : current
            return measurement
        }
    }

    private var probes: [Measurement] {
        ["nmos", "pmos"].flatMap { polarity in
            currents.flatMap { current in
                widthRatios.map { Measurement(polarity: polarity, input: current, widthRatio: $0, output: 0, gateVoltage: 0) }
            }
        }
    }

    private func device(_ pdk: PDK, nmos: Bool, name: String, drain: String, gate: String, rail: String,
                        width: Double) -> String {
        let device = nmos ? pdk.descriptor.devices.nmos : pdk.descriptor.devices.pmos
        let prefix = device.subcircuit ? "x" : "m"
        return "\(prefix)\(name) \(drain) \(gate) \(rail) \(rail) \(device.model) w=\(width) l=\(length)"
    }
}
