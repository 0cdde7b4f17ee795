import BMRU
import Foundation
import Ngspice
import PDK

/// Measured behaviour of the primitives in one PDK corner: the tables the compiler uses to turn
/// model parameters into sizes and bias currents (`bmru characterize`).
///
/// Three independent sweeps, each one deck (run in parallel through a `WorkerPool`):
/// - weight mirrors (`CurrentMirror.mirrorUnit` diode, outputs held at half the supply), NMOS and PMOS:
///   output current against input current (0.05..5 I_u) and nominal width ratio, one operating point;
/// - the memory cell, slow triangle input (transient: a DC sweep cannot show hysteresis), a grid of
///   I_thresh x I_width / I_thresh and a sweep of I_gain; switch-on, switch-off and high level are
///   each fitted jointly over all points (`CellFit`: quadratic in I_thresh and I_width);
/// - the differential-pair readout: the input current at which it flips, against a fixed other
///   input, at three levels (its offset);
/// - the weight mirrors' drain factors: a unit output at I_u into a summing node of each diode type,
///   against the same output held at half the supply as in the tables.
public struct Characterization: Sendable, Equatable, Codable {
    /// The PDK's name.
    public var pdk: String
    /// The corner measured.
    public var corner: String
    /// The unit current I_u the sweeps are scaled to, in amperes.
    public var unitCurrent: Double
    /// Supply voltage, volts.
    public var supply: Double
    /// One table per mirror polarity (NMOS first).
    public var mirrors: [MirrorTable]
    /// The memory cell's sweeps and fits.
    public var cell: CellTable
    /// The readout's offsets.
    public var readout: ReadoutTable
    /// How much a mirror output's current changes between the tables' half-supply drain and the
    /// drain voltage of a real summing node (nil in tables measured before they existed: factor 1).
    public var drainFactors: [DrainFactor]?
    /// The narrowest weight-mirror output the tables were measured with, metres
    /// (`CurrentMirror.outputSize`); the compiler sizes with the same rule, since the tables describe
    /// only those devices. Nil in tables measured before the rule had a floor: the PDK's minimum width.
    public var narrowestOutput: Double?

    /// A weight mirror output's current at a summing node over its current at half the supply.
    ///
    /// In the network an output's drain sits at a diode's gate voltage, not at half the supply: a
    /// term against the node's diode (sourcing into an NMOS-diode node) sees nearly the whole supply,
    /// a term with it (sinking from that node) only the diode's few hundred mV. Drain-induced changes
    /// then push every positive term up and every negative term down (GF180 NMOS: +3 % / -3 %): each
    /// summing node came out 6-18 % high (golden clip 0 of kws-yes-d4, the class currents 3-14 %).
    public struct DrainFactor: Sendable, Equatable, Codable {
        /// The output transistor's type.
        public var polarity: Polarity
        /// The type of the diode at the node it drives.
        public var node: Polarity
        /// Measured current at that node over the current at half the supply, unit width, I_u.
        public var factor: Double
    }

    /// Output current of weight-mirror outputs against input current and nominal width ratio.
    public struct MirrorTable: Sendable, Equatable, Codable {
        /// NMOS (sinking) or PMOS (sourcing).
        public var polarity: Polarity
        /// Input currents, amperes, increasing.
        public var inputs: [Double]
        /// Nominal width ratios (`CurrentMirror.outputSize`), increasing.
        public var widths: [Double]
        /// Measured output/input current ratio, `ratio[input][width]`.
        public var ratio: [[Double]]
    }

    /// One switching measurement of the memory cell.
    public struct CellPoint: Sendable, Equatable, Codable {
        /// Bias currents set, amperes.
        public var threshold, width, gain: Double
        /// Input current at which the cell switched on and off, and its high output current, amperes.
        public var on, off, high: Double
    }

    /// A response of the cell to its three biases, quadratic in I_thresh and I_width and linear in
    /// I_gain: y = constant + threshold I_thresh + width I_width + gain I_gain + thresholdSquared
    /// I_thresh^2 + widthSquared I_width^2 + thresholdWidth I_thresh I_width (least squares over every
    /// measured point).
    ///
    /// One joint fit rather than one line per bias because the biases interact: the hysteresis is
    /// about 0.9 I_width at I_width/I_thresh = 0.4 but 0.5 at 0.05 (so a line through a width sweep
    /// at one I_thresh misses the switch-off current by ~10 %). Quadratic because the hysteresis is
    /// not linear in I_width: over a 7 x 7 grid (GF180, I_u = 0.5 nA, I_width 0.1..0.95 I_thresh) a
    /// plane misses the switch-off current by up to 4.5 pA, the quadratic by 3.2 pA (2.2 pA where
    /// beta_lo >= 0.15 I_u); fitted on the old three 1-D sweeps, the plane missed it by 5..15 pA.
    public struct CellFit: Sendable, Equatable, Codable {
        /// y at zero bias, amperes.
        public var constant: Double
        /// dy/dI_thresh, dy/dI_width, dy/dI_gain at zero bias (dimensionless).
        public var threshold, width, gain: Double
        /// Second-order coefficients, per ampere (0 in tables measured before they existed).
        public var thresholdSquared, widthSquared, thresholdWidth: Double

        /// A fit with the given coefficients.
        public init(constant: Double, threshold: Double, width: Double, gain: Double, thresholdSquared: Double = 0,
                    widthSquared: Double = 0, thresholdWidth: Double = 0) {
            (self.constant, self.threshold, self.width, self.gain) = (constant, threshold, width, gain)
            (self.thresholdSquared, self.widthSquared, self.thresholdWidth) = (thresholdSquared, widthSquared, thresholdWidth)
        }

        /// The fitted value at the given biases (amperes).
        public func callAsFunction(threshold t: Double, width w: Double, gain g: Double) -> Double {
            constant + threshold * t + width * w + gain * g + thresholdSquared * t * t + widthSquared * w * w
                + thresholdWidth * t * w
        }

        /// The derivatives of the fitted value by I_thresh, I_width and I_gain at the given biases.
        public func gradient(threshold t: Double, width w: Double, gain g: Double) -> [Double] {
            [threshold + 2 * thresholdSquared * t + thresholdWidth * w, width + 2 * widthSquared * w + thresholdWidth * t, gain]
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try self.init(constant: c.decode(Double.self, forKey: .constant), threshold: c.decode(Double.self, forKey: .threshold),
                          width: c.decode(Double.self, forKey: .width), gain: c.decode(Double.self, forKey: .gain),
                          thresholdSquared: c.decodeIfPresent(Double.self, forKey: .thresholdSquared) ?? 0,
                          widthSquared: c.decodeIfPresent(Double.self, forKey: .widthSquared) ?? 0,
                          thresholdWidth: c.decodeIfPresent(Double.self, forKey: .thresholdWidth) ?? 0)
        }
    }

    /// The memory cell's measurements and their fits.
    public struct CellTable: Sendable, Equatable, Codable {
        /// I_thresh x I_width / I_thresh (`gridThresholds` x `gridWidthFractions`, I_gain = I_u); points
        /// whose cell did not switch off on the ramp (a hysteresis too close to I_thresh) are left out.
        /// Tables measured before the grid hold their I_thresh and I_width sweeps here.
        public var grid: [CellPoint]
        /// I_gain swept (I_thresh I_u, I_width 0.4 I_u).
        public var gainSweep: [CellPoint]
        /// Switch-on current against the biases.
        public var on: CellFit
        /// Switch-off current against the biases.
        public var off: CellFit
        /// High level against the biases.
        public var high: CellFit

        /// A table of the given measurements and fits.
        public init(grid: [CellPoint], gainSweep: [CellPoint], on: CellFit, off: CellFit, high: CellFit) {
            (self.grid, self.gainSweep, self.on, self.off, self.high) = (grid, gainSweep, on, off, high)
        }

        /// The two sweeps that tables measured before the grid hold instead of `grid`.
        private enum LegacyKeys: String, CodingKey { case thresholdSweep, widthSweep }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let grid: [CellPoint]
            if let measured = try c.decodeIfPresent([CellPoint].self, forKey: .grid) {
                grid = measured
            } else {
                let legacy = try decoder.container(keyedBy: LegacyKeys.self)
                grid = try legacy.decode([CellPoint].self, forKey: .thresholdSweep) + legacy.decode([CellPoint].self, forKey: .widthSweep)
            }
            try self.init(grid: grid, gainSweep: c.decode([CellPoint].self, forKey: .gainSweep),
                          on: c.decode(CellFit.self, forKey: .on), off: c.decode(CellFit.self, forKey: .off),
                          high: c.decode(CellFit.self, forKey: .high))
        }
    }

    /// The readout's switching point against its reference input.
    public struct ReadoutTable: Sendable, Equatable, Codable {
        /// Reference current on input b, amperes.
        public var levels: [Double]
        /// Relative offset (I_a at the flip / I_b - 1) at each level.
        public var offsets: [Double]
        /// Tail current, amperes.
        public var tail: Double
    }

    // MARK: Using the tables

    /// The measured `DrainFactor` of a `polarity` output driving a node whose diode is of type `node`
    /// (1 in tables measured before drain factors existed).
    public func drainFactor(_ polarity: Polarity, into node: Polarity) -> Double {
        drainFactors?.first { $0.polarity == polarity && $0.node == node }?.factor ?? 1
    }

    /// The signal levels a weight mirror is calibrated for by default, multiples of the unit current.
    ///
    /// What a summing node or a cell threshold sees is the absolute current error, so the calibration
    /// centres where the current is, not where most terms are: over kws-yes-d4's golden clips the
    /// mirror inputs' 10th / 50th / 90th percentiles are 0.08 / 0.6 / 1.7 I_u by count but 0.43 / 1.2
    /// / 2.7 I_u weighted by current. On 20 training clips (GF180, filtered cells) centring on 0.5..5
    /// I_u instead of 0.1..3 took the error of A - B (frames with every bit right) from +0.031 to
    /// +0.009 units mean and from 0.050 to 0.032 RMS, and block-0 candidates' RMS error down 5..27 %
    /// (docs/design/calibration.md). The price is at the smallest currents: GF180 weight 0.05 reads 5.4 %
    /// high at 0.1 I_u.
    public static let signalRange = 0.5...5.0

    /// The nominal width ratio (output W over the unit's W, as `CurrentMirror.outputSize` realises
    /// it) whose measured current ratio is `weight` at the centre of `range` x `unitCurrent`
    /// (`MirrorTable.centredColumn`).
    ///
    /// The centred ratios are inverted by monotone piecewise-linear interpolation in log-log space (a
    /// non-monotone step is flattened first). Beyond the table the output is taken proportional to
    /// the width from the nearest end.
    /// With `node` (the type of the diode at the node the output drives), the weight is first divided
    /// by the measured `DrainFactor`, so the output gives `weight` at that node's voltage.
    public func width(for weight: Double, at unitCurrent: Double, polarity: Polarity, node: Polarity? = nil,
                      range: ClosedRange<Double> = signalRange) throws(CharacterizationError) -> Double
    {
        guard weight.isFinite, weight > 0 else { throw .invalid("weight \(weight) must be > 0") }
        let weight = weight / (node.map { drainFactor(polarity, into: $0) } ?? 1)
        guard let table = mirrors.first(where: { $0.polarity == polarity }) else {
            throw .invalid("no \(polarity.rawValue) mirror table")
        }
        let measured = table.centredColumn(around: unitCurrent, range: range)
        var curve: [Double] = []
        for value in measured { curve.append(max(value, curve.last ?? 0)) }
        let widths = table.widths
        if weight <= curve[0] { return widths[0] * weight / curve[0] }
        if weight >= curve[curve.count - 1] { return widths[widths.count - 1] * weight / curve[curve.count - 1] }
        let upper = curve.firstIndex { $0 >= weight }!
        let (lo, hi) = (upper - 1, upper)
        guard curve[hi] > curve[lo] else { return widths[hi] }
        let t = log(weight / curve[lo]) / log(curve[hi] / curve[lo])
        return exp(log(widths[lo]) + t * log(widths[hi] / widths[lo]))
    }

    /// The bias currents (amperes) that make the cell switch on at `on`, off at `on - width` and
    /// reach the high level `high` (amperes): the three fits solved together, by Newton's method from
    /// the solution of their linear parts.
    ///
    /// A hysteresis so small that the fits put I_width at or below zero (a few picoamperes: they do
    /// not follow the hysteresis down to zero width) gets the nominal I_width = `width`, and I_thresh
    /// and I_gain are solved for the other two targets with it.
    public func cellBiases(on: Double, width: Double, high: Double) throws(CharacterizationError)
        -> (threshold: Double, width: Double, gain: Double)
    {
        let fits = [cell.on, cell.off, cell.high], targets = [on, on - width, high]
        if let x = solveCell(fits, targets, fixedWidth: nil), x[1] > 0 { return (x[0], x[1], x[2]) }
        guard let y = solveCell([cell.on, cell.high], [on, high], fixedWidth: width) else {
            throw .invalid("the cell fits cannot be inverted")
        }
        return (y[0], width, y[2])
    }

    /// Biases (I_thresh, I_width, I_gain) at which `fits` take `targets`; with `fixedWidth`, I_width
    /// is that and the two fits are solved for I_thresh and I_gain. Nil when a Jacobian is singular or
    /// the iteration does not settle.
    private func solveCell(_ fits: [CellFit], _ targets: [Double], fixedWidth: Double?) -> [Double]? {
        // Unknowns in units of I_u (as the fits' inputs), so the system is well conditioned.
        let free = fixedWidth == nil ? [0, 1, 2] : [0, 2]
        func residual(_ x: [Double]) -> [Double] {
            zip(fits, targets).map { fit, target in
                (fit(threshold: x[0] * unitCurrent, width: x[1] * unitCurrent, gain: x[2] * unitCurrent) - target) / unitCurrent
            }
        }
        func jacobian(_ x: [Double]) -> [[Double]] {
            fits.map { fit in
                let g = fit.gradient(threshold: x[0] * unitCurrent, width: x[1] * unitCurrent, gain: x[2] * unitCurrent)
                return free.map { g[$0] }
            }
        }
        // From zero bias the first step is the solution of the fits' linear parts.
        var x = [0, (fixedWidth ?? 0) / unitCurrent, 0]
        for _ in 0..<50 {
            guard let step = solveLinear(jacobian(x), residual(x).map { -$0 }) else { return nil }
            for (index, variable) in free.enumerated() { x[variable] += step[index] }
            if step.allSatisfy({ abs($0) < 1e-12 }) { return x.map { $0 * unitCurrent } }
        }
        return nil
    }

    // MARK: Measuring

    /// Input-current multiples of I_u and nominal width ratios of the mirror sweep.
    public static let mirrorInputs = [0.05, 0.1, 0.2, 0.5, 1, 2, 5]
    /// See `mirrorInputs`.
    public static let mirrorWidths = [0.006, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5]
    /// I_thresh of the cell grid (multiples of I_u) and I_width as fractions of I_thresh: they span
    /// the trained models' cells (beta_hi up to 3 I_u, hysteresis up to 2.8 I_u, beta_lo down to a
    /// few percent of beta_hi) so the fits interpolate rather than extrapolate.
    static let gridThresholds = [0.25, 0.5, 1, 2, 3.5, 5.0], gridWidthFractions = [0.1, 0.3, 0.5, 0.7, 0.9]
    /// I_gain of the gain sweep, multiples of I_u (I_thresh I_u, I_width 0.4 I_u).
    static let gains = [0.25, 1, 2, 4.0]
    /// Readout reference levels, multiples of I_u.
    static let readoutLevels = [0.1, 1, 3.0]
    /// Duration of each cell ramp (up, then down), seconds.
    static let ramp = 0.5

    /// The sweep circuits (mirror NMOS, mirror PMOS, cell, readout); each saves what is measured.
    public static func circuits(pdk: PDK, corner: String?, unitCurrent: Double, supply: Double = 1.8)
        throws(CharacterizationError) -> [Circuit]
    {
        do {
            let models = try pdk.modelStatements(corner: corner)
            func base(_ title: String) -> Circuit {
                Circuit(title: title, models: models, elements: [
                    .voltageSource(name: "dd", positive: "vdd", negative: "0", value: .dc(.number(supply))),
                    .voltageSource(name: "half", positive: "half", negative: "0", value: .dc(.number(supply / 2))),
                ])
            }
            var decks: [Circuit] = []
            for polarity in Polarity.allCases {
                var circuit = base("characterization: \(polarity.rawValue) weight mirrors")
                let mirror = CurrentMirror(name: "mirror", polarity: polarity, ratios: mirrorWidths)
                try circuit.define(mirror.subcircuit(pdk: pdk))
                for (i, input) in mirrorInputs.enumerated() {
                    var connections = ["in": "in\(i)", "rail": polarity == .nmos ? "0" : "vdd"]
                    for w in mirrorWidths.indices {
                        connections["out\(w + 1)"] = "o\(i)_\(w)"
                        circuit.elements.append(.voltageSource(name: "o\(i)_\(w)", positive: "o\(i)_\(w)", negative: "half",
                                                               value: .dc(0)))
                        circuit.saves.append(.current(source: "o\(i)_\(w)"))
                    }
                    circuit.elements.append(.instance(Instance(name: "m\(i)", of: try mirror.subcircuit(pdk: pdk),
                                                               connections: connections)))
                    let current = Value.number(input * unitCurrent)
                    circuit.elements.append(polarity == .nmos
                        ? .currentSource(name: "in\(i)", positive: "0", negative: "in\(i)", value: .dc(current))
                        : .currentSource(name: "in\(i)", positive: "in\(i)", negative: "0", value: .dc(current)))
                }
                circuit.analyses = [.op]
                decks.append(circuit)
            }
            decks.append(try cellDeck(base("characterization: memory cell"), pdk: pdk, unitCurrent: unitCurrent))
            decks.append(try readoutDeck(base("characterization: readout"), pdk: pdk, unitCurrent: unitCurrent))
            decks.append(try drainDeck(base("characterization: mirror outputs at summing nodes"), pdk: pdk,
                                       unitCurrent: unitCurrent))
            return decks
        } catch let error as PDKError {
            throw .pdk(error.description)
        } catch let error as NetlistError {
            throw .netlist(error)
        } catch {
            throw .invalid("\(error)")
        }
    }

    /// Every cell of the grid and the gain sweep, (threshold, width, gain) in amperes, in deck order.
    static func cellBiasSets(unitCurrent iu: Double) -> [(Double, Double, Double)] {
        gridThresholds.flatMap { t in gridWidthFractions.map { (t * iu, $0 * t * iu, iu) } } + gains.map { (iu, 0.4 * iu, $0 * iu) }
    }

    /// A cell's output under a rising-then-falling input: the times it crossed half its peak going up
    /// and coming down, and the high level it held in between (the median). Not the peak: switching on
    /// overshoots, by a third at I_width = 3 I_u, and a fit to peaks set every cell's I_gain low (cell
    /// 1/1 of kws-yes-d4 held 0.56 units for alpha 0.90). Nil when the output never switched on and off.
    static func switching(time: [Double], output: [Double]) -> (on: Double, off: Double, high: Double)? {
        guard let peak = output.max(), peak > 0, let on = crossing(time, output, level: peak / 2, rising: true),
              let off = crossing(time, output, level: peak / 2, rising: false, from: on.index), off.index > on.index
        else { return nil }
        let held = output[on.index..<off.index].sorted()
        return (on.time, off.time, held[held.count / 2])
    }

    /// Peak of the input triangle of the cells with I_thresh `threshold` (amperes): 1.3 I_thresh.
    ///
    /// Each I_thresh has its own input, so every cell is swept at the same rate relative to its own
    /// currents (2.6 I_thresh per second), as `CalibrationTests` sweeps a calibrated cell (2.6 beta_hi
    /// per second). A switching cell lags its input (by about 0.6 ms, estimated from how the four
    /// checked cells' errors grew with the difference of ramp rates): with one triangle to 6.5 I_u
    /// for all, small cells were swept 10 times faster than in that check and their hysteresis read
    /// about 18 pA wider (at I_u = 1 nA: a cell calibrated to 400 / 150 pA switched at 393 / 161 pA).
    static func cellPeak(threshold: Double) -> Double { 1.3 * threshold }

    private static func cellDeck(_ base: Circuit, pdk: PDK, unitCurrent: Double) throws -> Circuit {
        var circuit = base
        let cell = MemoryCell(outputs: [1])
        let input = ReLU(name: "input_diode", polarity: .pmos, size: cell.size)
        let bias = ReLU(name: "bias_diode", polarity: .nmos, size: cell.size)
        for subcircuit in [try cell.subcircuit(pdk: pdk), try input.subcircuit(pdk: pdk), try bias.subcircuit(pdk: pdk)] {
            try circuit.define(subcircuit)
        }
        let biasSets = cellBiasSets(unitCurrent: unitCurrent)
        // One input diode per I_thresh drives the M1 of every cell with that threshold.
        let thresholds = Array(Set(biasSets.map(\.0))).sorted()
        for (k, threshold) in thresholds.enumerated() {
            let peak = cellPeak(threshold: threshold)
            circuit.elements += [
                .instance(Instance(name: "input\(k)", subcircuit: input.name, nodes: ["cin\(k)", "vdd"])),
                .currentSource(name: "input\(k)", positive: "cin\(k)", negative: "0",
                               value: .pwl([PWLPoint(0, 0), PWLPoint(ramp, peak), PWLPoint(2 * ramp, 0)])),
            ]
        }
        for (index, biases) in biasSets.enumerated() {
            let nodes = ["thresh", "width", "gain"].map { "\($0)\(index)" }
            for (node, current) in zip(nodes, [biases.0, biases.1, biases.2]) {
                circuit.elements += [
                    .instance(Instance(name: node, subcircuit: bias.name, nodes: [node, "0"])),
                    .currentSource(name: node, positive: "vdd", negative: node, value: .dc(.number(current))),
                ]
            }
            circuit.elements += [
                .instance(Instance(name: "cell\(index)", of: try cell.subcircuit(pdk: pdk), connections: [
                    "in": "cin\(thresholds.firstIndex(of: biases.0)!)", "thresh": nodes[0], "width": nodes[1], "gain": nodes[2], "out1": "out\(index)", "vss": "0",
                ])),
                .voltageSource(name: "out\(index)", positive: "out\(index)", negative: "half", value: .dc(0)),
            ]
            circuit.saves.append(.current(source: "out\(index)"))
        }
        circuit.analyses = [.tran(step: ramp / 1000, stop: 2 * ramp, maxStep: ramp / 1000)]
        return circuit
    }

    private static func readoutDeck(_ base: Circuit, pdk: PDK, unitCurrent: Double) throws -> Circuit {
        var circuit = base
        let readout = DifferentialPair(), bias = ReLU(name: "bias_diode", polarity: .nmos, size: readout.size)
        try circuit.define(readout.subcircuit(pdk: pdk))
        try circuit.define(bias.subcircuit(pdk: pdk))
        circuit.elements += [
            .instance(Instance(name: "tail", subcircuit: bias.name, nodes: ["tail", "0"])),
            .currentSource(name: "tail", positive: "vdd", negative: "tail", value: .dc(.number(readoutTail(unitCurrent)))),
        ]
        for (index, level) in readoutLevels.enumerated() {
            let reference = level * unitCurrent
            circuit.elements += [
                .currentSource(name: "a\(index)", positive: "0", negative: "a\(index)",
                               value: .pwl([PWLPoint(0, 0.9 * reference), PWLPoint(readoutRamp, 1.1 * reference)])),
                .currentSource(name: "b\(index)", positive: "0", negative: "b\(index)", value: .dc(.number(reference))),
                .instance(Instance(name: "ro\(index)", of: try readout.subcircuit(pdk: pdk), connections: [
                    "a": "a\(index)", "b": "b\(index)", "out": "out\(index)", "vss": "0",
                ])),
            ]
            circuit.saves.append(.voltage("out\(index)"))
        }
        circuit.analyses = [.tran(step: readoutRamp / 2000, stop: readoutRamp, maxStep: readoutRamp / 2000)]
        return circuit
    }

    /// Unit mirrors at I_u, one per output polarity, each with three unit outputs: held at half the
    /// supply (as in the tables), into an NMOS-diode node and into a PMOS-diode node (ReLU diodes of
    /// the network's size). A node whose diode has the output's own type also gets 2 I_u from an
    /// ideal source, so its diode carries about I_u, as at a real node where that term subtracts.
    private static func drainDeck(_ base: Circuit, pdk: PDK, unitCurrent: Double) throws -> Circuit {
        var circuit = base
        for polarity in Polarity.allCases {
            let mirror = CurrentMirror(name: "unit_\(polarity.rawValue)", polarity: polarity, ratios: [1, 1, 1])
            try circuit.define(mirror.subcircuit(pdk: pdk))
            let tag = polarity.rawValue, input = "in_\(tag)"
            var connections = ["in": input, "rail": polarity == .nmos ? "0" : "vdd", "out1": "o_\(tag)_half"]
            circuit.elements.append(.voltageSource(name: "o_\(tag)_half", positive: "o_\(tag)_half", negative: "half",
                                                   value: .dc(0)))
            circuit.saves.append(.current(source: "o_\(tag)_half"))
            for (index, node) in Polarity.allCases.enumerated() {
                let (drain, sum) = ("o_\(tag)_\(node.rawValue)", "n_\(tag)_\(node.rawValue)")
                let diode = ReLU(name: "node_\(tag)_\(node.rawValue)", polarity: node)
                try circuit.define(diode.subcircuit(pdk: pdk))
                connections["out\(index + 2)"] = drain
                circuit.elements += [
                    .voltageSource(name: drain, positive: drain, negative: sum, value: .dc(0)),
                    .instance(Instance(name: "d_\(tag)_\(node.rawValue)", subcircuit: diode.name,
                                       nodes: [sum, node == .nmos ? "0" : "vdd"])),
                ]
                if node == polarity {
                    let extra = Value.number(2 * unitCurrent)
                    circuit.elements.append(node == .nmos
                        ? .currentSource(name: "x_\(tag)", positive: "vdd", negative: sum, value: .dc(extra))
                        : .currentSource(name: "x_\(tag)", positive: sum, negative: "0", value: .dc(extra)))
                }
                circuit.saves.append(.current(source: drain))
            }
            circuit.elements.append(.instance(Instance(name: "m_\(tag)", of: try mirror.subcircuit(pdk: pdk),
                                                       connections: connections)))
            let current = Value.number(unitCurrent)
            circuit.elements.append(polarity == .nmos
                ? .currentSource(name: input, positive: "0", negative: input, value: .dc(current))
                : .currentSource(name: input, positive: input, negative: "0", value: .dc(current)))
        }
        circuit.analyses = [.op]
        return circuit
    }

    /// The readout's tail current: a tenth of the unit current, as in the primitive's test.
    public static func readoutTail(_ unitCurrent: Double) -> Double { 0.1 * unitCurrent }
    /// Duration of the readout's input ramp (0.9 -> 1.1 of the reference), seconds.
    static let readoutRamp = 0.05

    /// Runs the sweeps through `pool` and reduces them to tables.
    public static func measure(pdk: PDK, corner: String?, unitCurrent: Double = 1e-9, supply: Double = 1.8,
                               pool: WorkerPool) async throws(CharacterizationError) -> Characterization
    {
        guard unitCurrent.isFinite, unitCurrent > 0 else { throw .invalid("unit current \(unitCurrent) must be > 0") }
        let cornerName: String
        do { cornerName = try pdk.corner(corner) } catch { throw .pdk(error.description) }
        var jobs: [SimulationJob] = []
        for circuit in try circuits(pdk: pdk, corner: cornerName, unitCurrent: unitCurrent, supply: supply) {
            do {
                jobs.append(SimulationJob(deck: try SpiceWriter().lines(circuit),
                                          vectors: try circuit.saves.map(SpiceWriter.expression), timeout: 600))
            } catch { throw .netlist(error) }
        }
        let outcomes = await pool.run(jobs)
        var results: [SimulationResult] = []
        for outcome in outcomes {
            switch outcome.result {
            case let .success(result): results.append(result)
            case let .failure(failure): throw .simulation("sweep \(outcome.index): \(failure)")
            }
        }
        return try Characterization(pdk: pdk.name, corner: cornerName, unitCurrent: unitCurrent, supply: supply,
                                    results: results)
    }

    // MARK: Files

    /// File name of the tables inside a characterization folder.
    public static let fileName = "characterization.json"

    /// Writes the tables as `characterization.json` and their `charts()` as SVG files into
    /// `directory` (created if needed). Every text is made before any file is written.
    public func write(to directory: URL) throws(CharacterizationError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var files: [(String, Data)] = []
        do {
            files.append((Self.fileName, try encoder.encode(self)))
            for (name, chart) in charts() { files.append((name, Data(try chart.svg().utf8))) }
        } catch {
            throw .invalid("cannot write the tables: \(error)")
        }
        for (name, data) in files {
            let url = directory.appendingPathComponent(name)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try data.write(to: url)
            } catch {
                throw .file(url.path, fileErrorReason(error))
            }
        }
    }

    /// One chart per table, with its file name: each mirror table as measured ratio over nominal
    /// width ratio against input current (one curve per width; 1 is the nominal rule), the cell's
    /// three sweeps (each level against the bias it is meant to follow) and the readout's offset.
    public func charts() -> [(file: String, chart: LineChart)] {
        typealias Point = LineChart.Point
        var charts: [(String, LineChart)] = mirrors.map { table in
            let series = table.widths.enumerated().map { w, width in
                LineChart.Series(name: "width x\(width)", points: table.inputs.enumerated().map { i, input in
                    Point(input, table.ratio[i][w] / width)
                })
            }
            return ("mirror-\(table.polarity.rawValue).svg",
                    LineChart(title: "\(pdk) \(corner): \(table.polarity.rawValue) weight mirrors", xLabel: "input current (A)",
                              yLabel: "measured ratio / width ratio", logX: true, series: series))
        }
        charts.append(("cell.svg", LineChart(
            title: "\(pdk) \(corner): memory cell", xLabel: "bias current (A)", yLabel: "measured current (A)", series: [
                .init(name: "on vs I_thresh (I_width 0.1 I_thresh)",
                      points: cell.grid.filter { abs($0.width / $0.threshold - 0.1) < 1e-9 }.map { Point($0.threshold, $0.on) }),
                .init(name: "on - off vs I_width (I_thresh 3.5 I_u)",
                      points: cell.grid.filter { abs($0.threshold / unitCurrent - 3.5) < 1e-9 }.map { Point($0.width, $0.on - $0.off) }),
                .init(name: "high vs I_gain", points: cell.gainSweep.map { Point($0.gain, $0.high) }),
            ])))
        charts.append(("readout.svg", LineChart(
            title: "\(pdk) \(corner): readout", xLabel: "reference current (A)", yLabel: "offset (%)", logX: true,
            series: [.init(name: "offset", points: zip(readout.levels, readout.offsets).map { Point($0, 100 * $1) })])))
        return charts
    }

    /// Reads `characterization.json` from `directory`.
    public static func load(from directory: URL) throws(CharacterizationError) -> Characterization {
        let url = directory.appendingPathComponent(fileName)
        do {
            return try JSONDecoder().decode(Characterization.self, from: Data(contentsOf: url))
        } catch {
            throw .file(url.path, fileErrorReason(error))
        }
    }
}

extension Characterization {
    /// Reduces the five sweep results (in `circuits` order) to tables.
    init(pdk: String, corner: String, unitCurrent: Double, supply: Double, results: [SimulationResult])
        throws(CharacterizationError)
    {
        func vector(_ result: SimulationResult, _ probe: Probe) throws(CharacterizationError) -> [Double] {
            let name: String
            do { name = try SpiceWriter.expression(probe) } catch { throw .netlist(error) }
            guard let values = result.vectors[name], !values.isEmpty else { throw .measurement("no vector \(name)") }
            return values
        }
        self.pdk = pdk
        self.corner = corner
        self.unitCurrent = unitCurrent
        self.supply = supply
        mirrors = []
        narrowestOutput = CurrentMirror.standardNarrowestOutput
        for (deck, polarity) in Polarity.allCases.enumerated() {
            var ratio: [[Double]] = []
            for (i, input) in Self.mirrorInputs.enumerated() {
                var row: [Double] = []
                for w in Self.mirrorWidths.indices {
                    // Current into the + terminal: an NMOS output draws it out (negative).
                    let branch = try vector(results[deck], .current(source: "o\(i)_\(w)"))[0]
                    row.append((polarity == .nmos ? -branch : branch) / (input * unitCurrent))
                }
                ratio.append(row)
            }
            mirrors.append(MirrorTable(polarity: polarity, inputs: Self.mirrorInputs.map { $0 * unitCurrent },
                                       widths: Self.mirrorWidths, ratio: ratio))
        }
        let cellResult = results[2]
        guard let time = cellResult.vectors["time"] else { throw .measurement("cell sweep has no time vector") }
        let ramp = Self.ramp
        let input = { (threshold: Double, t: Double) in
            Self.cellPeak(threshold: threshold) * (t <= ramp ? t / ramp : (2 * ramp - t) / ramp)
        }
        var grid: [CellPoint] = [], gainSweep: [CellPoint] = []
        let gridCount = Self.gridThresholds.count * Self.gridWidthFractions.count
        for (index, biases) in Self.cellBiasSets(unitCurrent: unitCurrent).enumerated() {
            let output = try vector(cellResult, .current(source: "out\(index)"))
            guard let switching = Self.switching(time: time, output: output) else {
                // A grid cell whose hysteresis reaches below zero input never switches off: not a
                // cell the compiler builds, so it is left out; the gain sweep must switch.
                if index < gridCount { continue }
                throw .measurement("cell \(index) (I_thresh \(biases.0) A) did not switch on and off")
            }
            let point = CellPoint(threshold: biases.0, width: biases.1, gain: biases.2, on: input(biases.0, switching.on),
                                  off: input(biases.0, switching.off), high: switching.high)
            if index < gridCount { grid.append(point) } else { gainSweep.append(point) }
        }
        let points = grid + gainSweep
        guard grid.count >= gridCount / 2 else {
            throw .measurement("only \(grid.count) of \(gridCount) grid cells switched on and off")
        }
        cell = CellTable(grid: grid, gainSweep: gainSweep,
                         on: try CellFit(fitting: points, \.on, scale: unitCurrent),
                         off: try CellFit(fitting: points, \.off, scale: unitCurrent),
                         high: try CellFit(fitting: points, \.high, scale: unitCurrent))
        let readoutResult = results[3]
        guard let readoutTime = readoutResult.vectors["time"] else { throw .measurement("readout sweep has no time") }
        var offsets: [Double] = []
        for index in Self.readoutLevels.indices {
            let out = try vector(readoutResult, .voltage("out\(index)"))
            guard let flip = crossing(readoutTime, out, level: supply / 2, rising: true) else {
                throw .measurement("readout \(index) never flipped within +-10 %")
            }
            offsets.append(0.9 + 0.2 * flip.time / Self.readoutRamp - 1)
        }
        readout = ReadoutTable(levels: Self.readoutLevels.map { $0 * unitCurrent }, offsets: offsets,
                               tail: Self.readoutTail(unitCurrent))
        var factors: [DrainFactor] = []
        for polarity in Polarity.allCases {
            let tag = polarity.rawValue
            let half = try vector(results[4], .current(source: "o_\(tag)_half"))[0]
            for node in Polarity.allCases {
                let current = try vector(results[4], .current(source: "o_\(tag)_\(node.rawValue)"))[0]
                guard half != 0, (current / half).isFinite, current / half > 0 else {
                    throw .measurement("\(tag) output into a \(node.rawValue) node: \(current) A against \(half) A")
                }
                factors.append(DrainFactor(polarity: polarity, node: node, factor: current / half))
            }
        }
        drainFactors = factors
    }
}

extension Characterization.CellFit {
    /// The least-squares fit of `y` over `points`; inputs scaled by `scale` (amperes) so the normal
    /// equations are well conditioned.
    init(fitting points: [Characterization.CellPoint], _ y: (Characterization.CellPoint) -> Double, scale: Double) throws(CharacterizationError) {
        let rows = points.map { point -> [Double] in
            let (t, w, g) = (point.threshold / scale, point.width / scale, point.gain / scale)
            return [1, t, w, g, t * t, w * w, t * w]
        }
        let n = rows[0].count
        var normal = Array(repeating: Array(repeating: 0.0, count: n), count: n), right = Array(repeating: 0.0, count: n)
        for (row, point) in zip(rows, points) {
            for i in 0..<n {
                right[i] += row[i] * y(point) / scale
                for j in 0..<n { normal[i][j] += row[i] * row[j] }
            }
        }
        guard let c = solveLinear(normal, right) else { throw .measurement("cell sweeps do not determine a fit") }
        self.init(constant: c[0] * scale, threshold: c[1], width: c[2], gain: c[3], thresholdSquared: c[4] / scale,
                  widthSquared: c[5] / scale, thresholdWidth: c[6] / scale)
    }
}

extension Characterization.MirrorTable {
    /// For every width, the ratio midway (geometrically) between its smallest and largest value over
    /// `range` x `unitCurrent` (the range's ends and the table's inputs inside it). Sizing to it
    /// centres a weight's error over those signal levels instead of zeroing it at one: GF180 outputs
    /// drift by 1..8 % from 0.1 to 3 I_u (`CurrentMirror.outputSize`).
    public func centredColumn(around unitCurrent: Double, range: ClosedRange<Double>) -> [Double] {
        let (low, high) = (range.lowerBound * unitCurrent, range.upperBound * unitCurrent)
        let columns = ([low, high] + inputs.filter { $0 > low && $0 < high }).map(column(at:))
        return widths.indices.map { w in
            let values = columns.map { $0[w] }
            return (values.min()! * values.max()!).squareRoot()
        }
    }

    /// The measured ratio at every width for input current `current`, interpolated in log current
    /// (clamped to the table's range).
    public func column(at current: Double) -> [Double] {
        let logs = inputs.map { log($0) }, x = min(max(log(current), logs[0]), logs[logs.count - 1])
        let upper = min(max(logs.firstIndex { $0 >= x } ?? logs.count - 1, 1), logs.count - 1)
        let t = (x - logs[upper - 1]) / (logs[upper] - logs[upper - 1])
        return zip(ratio[upper - 1], ratio[upper]).map { $0 + t * ($1 - $0) }
    }
}

/// Why a characterization could not be made, read or used; one line each.
public enum CharacterizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The PDK or corner could not be used.
    case pdk(String)
    /// A sweep deck could not be built.
    case netlist(NetlistError)
    /// A sweep failed in ngspice or its worker.
    case simulation(String)
    /// A sweep ran but its result cannot be reduced (a cell that never switched, a missing vector).
    case measurement(String)
    /// A file could not be read or written.
    case file(String, String)
    /// An argument is out of range.
    case invalid(String)

    public var description: String {
        switch self {
        case let .pdk(reason): reason
        case let .netlist(error): error.description
        case let .simulation(reason): "characterization sweep failed: \(reason)"
        case let .measurement(reason): "characterization: \(reason)"
        case let .file(path, reason): "\(path): \(reason)"
        case let .invalid(reason): "characterization: \(reason)"
        }
    }
}

/// The solution x of `matrix` x = `right` (Gaussian elimination with partial pivoting); nil when the
/// matrix is singular.
func solveLinear(_ matrix: [[Double]], _ right: [Double]) -> [Double]? {
    var a = zip(matrix, right).map { $0 + [$1] }
    let n = right.count
    for column in 0..<n {
        let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) }!
        guard abs(a[pivot][column]) > 1e-12 else { return nil }
        a.swapAt(column, pivot)
        for row in 0..<n where row != column {
            let factor = a[row][column] / a[column][column]
            for k in column...n { a[row][k] -= factor * a[column][k] }
        }
    }
    return (0..<n).map { a[$0][n] / a[$0][$0] }
}

/// The first time at which `values` crosses `level` in the given direction after index `from`,
/// linearly interpolated between samples, with the index after the crossing.
func crossing(_ time: [Double], _ values: [Double], level: Double, rising: Bool, from: Int = 1)
    -> (time: Double, index: Int)?
{
    for index in max(from, 1)..<values.count {
        let (a, b) = (values[index - 1] - level, values[index] - level)
        if rising ? (a < 0 && b >= 0) : (a > 0 && b <= 0) {
            return (time[index - 1] + (time[index] - time[index - 1]) * a / (a - b), index)
        }
    }
    return nil
}
