import Foundation
import Netlist
import Ngspice
import PDK
import SpiceValues

/// The smoke test of a PDK corner: subthreshold current mirrors, NMOS and PMOS, at pA..nA.
///
/// A mirror whose output follows its input to within a few percent over 10 pA..3 nA shows that the
/// models load, that the devices are wired the right way round, and that the simulation options
/// resolve picoampere currents. The mirrors are `CurrentMirror`s (outputs realised as the compiler
/// realises them: a ratio of 2 is two fingers) printed by `SpiceWriter`; every mirror of the check is
/// in one deck and solved by one operating point.
public struct MirrorCheck: Sendable {
    /// One mirror of the check.
    public struct Measurement: Sendable, Codable, Equatable {
        /// The mirror's transistor type.
        public var polarity: Polarity
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

    /// The circuit measuring every mirror of the check in `corner` of `pdk`: mirror `index` has its
    /// diode on gate line `g<index>`, fed by the current source `ref<index>`, and its output held at
    /// half the supply through the 0 V source `o<index>`.
    public func circuit(pdk: PDK, corner: String?) throws(CharacterizeError) -> Circuit {
        do {
            var circuit = Circuit(
                title: "BMRUKit mirror check: \(pdk.name) \(try pdk.corner(corner))",
                models: try pdk.modelStatements(corner: corner), options: options,
                elements: [.voltageSource(name: "dd", positive: "vdd", negative: "0", value: .dc(.number(supply))),
                           .voltageSource(name: "half", positive: "half", negative: "0", value: .dc(.number(supply / 2)))])
            let unit = DeviceSize(width: width, length: length)
            for (index, probe) in probes.enumerated() {
                let nmos = probe.polarity == .nmos
                let (gate, out) = ("g\(index)", "o\(index)")
                let ratio = widthRatios.firstIndex(of: probe.widthRatio)!
                let mirror = try CurrentMirror(name: "\(probe.polarity.rawValue)_mirror\(ratio)", polarity: probe.polarity,
                                               ratios: [probe.widthRatio], unit: unit).subcircuit(pdk: pdk)
                try circuit.define(mirror)
                circuit.elements += [
                    // The reference current flows into the NMOS diode from vdd, or out of the PMOS diode to ground.
                    .currentSource(name: "ref\(index)", positive: nmos ? "vdd" : gate, negative: nmos ? gate : "0",
                                   value: .dc(.number(probe.input))),
                    .instance(Instance(name: "m\(index)", of: mirror,
                                       connections: ["in": gate, "out1": out, "rail": nmos ? "0" : "vdd"])),
                    .voltageSource(name: out, positive: out, negative: "half", value: .dc(0)),
                ]
                circuit.saves += [.voltage(gate), .current(source: out)]
            }
            circuit.analyses = [.op]
            return circuit
        } catch {
            throw CharacterizeError(building: error)
        }
    }

    /// Runs the check in `session` and returns one measurement per mirror.
    public func run(pdk: PDK, corner: String?, session: NgspiceSession) throws(CharacterizeError) -> [Measurement] {
        let circuit = try circuit(pdk: pdk, corner: corner)
        do {
            try session.load(lines: try SpiceWriter().lines(circuit))
            try session.run(.op)
            return try probes.enumerated().map { index, probe in
                var measurement = probe
                let gate = try session.vector(SpiceWriter.expression(.voltage("g\(index)")))[0]
                measurement.gateVoltage = probe.polarity == .nmos ? gate : supply - gate
                // Current into the + terminal of the output's source: positive when a PMOS output sources current.
                let current = try session.vector(SpiceWriter.expression(.current(source: "o\(index)")))[0]
                measurement.output = probe.polarity == .nmos ? -current : current
                return measurement
            }
        } catch let error as NetlistError {
            throw .netlist(error)
        } catch {
            throw .simulation("mirror check: \(error)")
        }
    }

    /// Every mirror of the check, unmeasured: NMOS then PMOS, by current, then by width ratio.
    private var probes: [Measurement] {
        Polarity.allCases.flatMap { polarity in
            currents.flatMap { current in
                widthRatios.map { Measurement(polarity: polarity, input: current, widthRatio: $0, output: 0, gateVoltage: 0) }
            }
        }
    }
}
