import BMRU
import Foundation
import PDK

/// Measured behaviour of the primitives in one PDK corner: the tables the compiler uses to turn
/// model parameters into sizes and bias currents.
///
/// `bmru characterize` measures them (the `Characterize` module: one sweep per table, reduced by
/// sweep name) and writes them as `characterization.json` (format in
/// docs/reference/characterization.md). This module only reads and uses them, so compiling a
/// network needs no simulator.
public struct Characterization: Sendable, Equatable {
    /// The file's `format` value and the schema revision this version writes. Files without a format
    /// are revision 0, read with the defaults of the fields they lack (docs/reference/characterization.md).
    public static let formatName = "bmru-characterization", currentVersion = 3

    /// Identifies the file (`formatName`).
    public var format = Self.formatName
    /// Revision of the schema the tables were read from or are written in.
    public var formatVersion = Self.currentVersion
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
    /// drain voltage of a real summing node (empty in revision-0 tables measured before they
    /// existed: factor 1).
    public var drainFactors: [DrainFactor]
    /// The narrowest weight-mirror output the tables were measured with, metres
    /// (`CurrentMirror.outputSize`); the compiler sizes with the same rule, since the tables describe
    /// only those devices. 0 in revision-0 tables measured before the rule had a floor: the PDK's
    /// minimum width.
    public var narrowestOutput: Double
    /// The bias mirrors, measured through the `BiasReference` as the compiler builds them (empty in
    /// revisions 0 to 2, measured before they existed: such tables cannot size mirrored biases).
    public var biasMirrors: [BiasTable] { recordedBiasMirrors ?? [] }
    /// `biasMirrors` as the file records it: nil in revisions 0 to 2, so they re-encode to their own bytes.
    fileprivate var recordedBiasMirrors: [BiasTable]?
    /// The size of every memory-cell device the cell table was measured with (the cell's nine, its
    /// bias diodes and its candidate diode, `Compiler.cellSize`): a cell's thresholds depend on it, so
    /// the compiler builds cells of this size from these tables. `DeviceSize.unit` in revisions 0 and 1.
    public var cellSize: DeviceSize { recordedCellSize ?? .unit }
    /// `cellSize` as the file records it: nil in revisions 0 and 1, which do not write it, so they
    /// re-encode to their own bytes.
    fileprivate var recordedCellSize: DeviceSize?
    /// The memory cell's topology the cell table was measured with (`feedback` when the file does
    /// not say: every table before switched cells existed).
    public var cellTopology: MemoryCell.Topology { recordedCellTopology ?? .feedback }
    /// `cellTopology` as the file records it: written only for switched cells, so that tables of
    /// feedback cells keep their bytes.
    fileprivate var recordedCellTopology: MemoryCell.Topology?

    /// Tables with the given parts, in the current format (by default without drain factors, every
    /// factor 1, without an output floor, the PDK's minimum width, with unit-size cells and without
    /// bias-mirror tables).
    public init(pdk: String, corner: String, unitCurrent: Double, supply: Double, mirrors: [MirrorTable],
                cell: CellTable, readout: ReadoutTable, drainFactors: [DrainFactor] = [], narrowestOutput: Double = 0,
                cellSize: DeviceSize = .unit, cellTopology: MemoryCell.Topology = .feedback, biasMirrors: [BiasTable] = []) {
        (self.pdk, self.corner, self.unitCurrent, self.supply) = (pdk, corner, unitCurrent, supply)
        (self.mirrors, self.cell, self.readout, self.recordedBiasMirrors) = (mirrors, cell, readout, biasMirrors)
        (self.drainFactors, self.narrowestOutput, self.recordedCellSize) = (drainFactors, narrowestOutput, cellSize)
        recordedCellTopology = cellTopology == .feedback ? nil : cellTopology
    }

    /// Why these tables do not describe a deck of `pdk` in `corner` at `unitCurrent` amperes per unit
    /// with cells of `cellSize` and `cellTopology`, in one phrase; nil when they do. Sizes and biases computed from
    /// tables of another PDK, corner, unit current or cell are silently wrong by the difference.
    public func disagreement(pdk: String, corner: String, unitCurrent: Double, cellSize: DeviceSize,
                             cellTopology: MemoryCell.Topology = .feedback) -> String? {
        if self.pdk != pdk { return "measured on PDK \(self.pdk), the deck is for \(pdk)" }
        if self.corner != corner { return "measured at corner \(self.corner), the deck is for \(corner)" }
        if abs(self.unitCurrent - unitCurrent) > 1e-9 * unitCurrent {
            return "measured at unit current \(self.unitCurrent) A, the deck's is \(unitCurrent) A"
        }
        return cellDisagreement(cellSize: cellSize, cellTopology: cellTopology)
    }

    /// Why these tables' cell fits do not describe cells of `cellSize` and `cellTopology`; nil when they do.
    public func cellDisagreement(cellSize: DeviceSize, cellTopology: MemoryCell.Topology) -> String? {
        if self.cellSize != cellSize {
            return "its cells were measured at \(describe(self.cellSize)), the deck's are \(describe(cellSize))"
        }
        if self.cellTopology != cellTopology {
            return "its cells have the \(self.cellTopology) topology, the deck's the \(cellTopology)"
        }
        return nil
    }

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

        /// The factor of a `polarity` output into a `node` node.
        public init(polarity: Polarity, node: Polarity, factor: Double) {
            (self.polarity, self.node, self.factor) = (polarity, node, factor)
        }
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

        /// A table of the given measurements.
        public init(polarity: Polarity, inputs: [Double], widths: [Double], ratio: [[Double]]) {
            (self.polarity, self.inputs, self.widths, self.ratio) = (polarity, inputs, widths, ratio)
        }
    }

    /// Output current of bias mirrors against nominal width ratio: outputs on a gate line of the
    /// `BiasReference` (PMOS on `refp`, NMOS on `refn`) into a diode of type `node`, at the reference
    /// current I_u.
    ///
    /// Biases are calibrated apart from weights because their input is always the reference, whose
    /// PMOS line is a copy: the copy's drain sits at the PMOS diode's gate, not at its own, so on
    /// GF180 (typical, I_u = 0.5 nA) every PMOS bias sized from the weight tables came out 3..6 %
    /// high, enough to move a feedback cell's reset threshold (the difference of two such biases) by
    /// tens of picoamperes.
    public struct BiasTable: Sendable, Equatable, Codable {
        /// The outputs' type.
        public var polarity: Polarity
        /// The type of the diode at the node the outputs drive.
        public var node: Polarity
        /// Whether that diode is a memory cell's bias diode (`cellSize`) rather than a summing node's.
        public var cell: Bool
        /// Nominal width ratios (`CurrentMirror.outputSize`), increasing.
        public var widths: [Double]
        /// Measured output current over I_u at every width.
        public var ratio: [Double]

        /// A table of the given measurements.
        public init(polarity: Polarity, node: Polarity, cell: Bool, widths: [Double], ratio: [Double]) {
            (self.polarity, self.node, self.cell, self.widths, self.ratio) = (polarity, node, cell, widths, ratio)
        }
    }

    /// One switching measurement of the memory cell.
    public struct CellPoint: Sendable, Equatable, Codable {
        /// Bias currents set, amperes.
        public var threshold, width, gain: Double
        /// Input current at which the cell switched on and off, and its high output current, amperes.
        public var on, off, high: Double

        /// A measurement at the given biases.
        public init(threshold: Double, width: Double, gain: Double, on: Double, off: Double, high: Double) {
            (self.threshold, self.width, self.gain, self.on, self.off, self.high) = (threshold, width, gain, on, off, high)
        }
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
        /// Second-order coefficients, per ampere (0 in revision-0 tables measured before they existed).
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
    }

    /// The memory cell's measurements and their fits.
    public struct CellTable: Sendable, Equatable, Codable {
        /// I_thresh x I_width / I_thresh (I_gain = I_u); points whose cell did not switch off on the
        /// ramp (a hysteresis too close to I_thresh) are left out. Revision-0 tables measured before
        /// the grid hold their I_thresh and I_width sweeps here.
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
    }

    /// The readout's switching point against its reference input.
    public struct ReadoutTable: Sendable, Equatable, Codable {
        /// Reference current on input b, amperes.
        public var levels: [Double]
        /// Relative offset (I_a at the flip / I_b - 1) at each level.
        public var offsets: [Double]
        /// Tail current, amperes.
        public var tail: Double

        /// A table of the given offsets.
        public init(levels: [Double], offsets: [Double], tail: Double) {
            (self.levels, self.offsets, self.tail) = (levels, offsets, tail)
        }
    }

    /// The readout's tail current: a tenth of the unit current, as in the primitive's test. The
    /// compiler biases the readout with it, so the tables measure the readout at the same tail.
    public static func readoutTail(_ unitCurrent: Double) -> Double { 0.1 * unitCurrent }

    // MARK: Using the tables

    /// The measured `DrainFactor` of a `polarity` output driving a node whose diode is of type `node`
    /// (1 in revision-0 tables measured before drain factors existed).
    public func drainFactor(_ polarity: Polarity, into node: Polarity) -> Double {
        drainFactors.first { $0.polarity == polarity && $0.node == node }?.factor ?? 1
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
    /// The centred ratios are inverted finger count by finger count (`invert`): monotone
    /// piecewise-linear interpolation in log-log space, proportional to the width beyond the measured
    /// points.
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
        return Self.invert(table.centredColumn(around: unitCurrent, range: range), widths: table.widths, at: weight)
    }

    /// The nominal width ratio of a bias output of `polarity` into a node whose diode is of type
    /// `node` (a memory cell's bias diode when `cell`) that carries `ratio` times the unit current,
    /// from the `BiasTable`s, inverted like `width(for:)`.
    public func biasWidth(for ratio: Double, polarity: Polarity, node: Polarity, cell: Bool) throws(CharacterizationError)
        -> Double
    {
        guard ratio.isFinite, ratio > 0 else { throw .invalid("bias ratio \(ratio) must be > 0") }
        guard let table = biasMirrors.first(where: { $0.polarity == polarity && $0.node == node && $0.cell == cell }) else {
            throw .invalid("no table of \(polarity.rawValue) bias mirrors into \(cell ? "cell bias" : node.rawValue) diodes "
                + "(revision \(formatVersion) tables predate them): measure again with bmru characterize")
        }
        return Self.invert(table.ratio, widths: table.widths, at: ratio)
    }

    /// The width at which the measured `ratios` (one per width of `widths`) reach `target`.
    ///
    /// `CurrentMirror.outputSize` draws m = floor(width) fingers from width 2 on, and the current
    /// jumps where m changes (GF180 PMOS bias outputs: 1.045 x nominal at 1.9, 1.073 x at 2), so the
    /// widths of one finger count are inverted apart: monotone piecewise-linear interpolation in
    /// log-log space (a non-monotone step flattened first), proportional to the width from the
    /// nearest measured point out to the edges of the finger count. The finger count whose range
    /// comes closest to `target` is taken (a target in a jump between two is realised by the nearer).
    private static func invert(_ ratios: [Double], widths: [Double], at target: Double) -> Double {
        func fingers(_ width: Double) -> Int { max(1, Int(width.rounded(.down))) }
        var best: (width: Double, miss: Double)?
        var start = 0
        while start < widths.count {
            let m = fingers(widths[start])
            var end = start
            while end < widths.count, fingers(widths[end]) == m { end += 1 }
            var curve: [Double] = []
            for value in ratios[start..<end] { curve.append(max(value, curve.last ?? 0)) }
            let run = Array(widths[start..<end])
            // The finger count's nominal range: [m, m + 1), from 0 for one finger, unbounded for the last.
            let low = m == 1 ? 0 : Double(m), high = end == widths.count ? .infinity : Double(m + 1).nextDown
            let width: Double
            if target <= curve[0] {
                width = max(run[0] * target / curve[0], low)
            } else if target >= curve[curve.count - 1] {
                width = min(run[run.count - 1] * target / curve[curve.count - 1], high)
            } else {
                let upper = curve.firstIndex { $0 >= target }!
                let (lo, hi) = (upper - 1, upper)
                if curve[hi] > curve[lo] {
                    let t = log(target / curve[lo]) / log(curve[hi] / curve[lo])
                    width = exp(log(run[lo]) + t * log(run[hi] / run[lo]))
                } else {
                    width = run[hi]
                }
            }
            // What this finger count gives at that width, extrapolated like the width.
            let reached = width <= run[0] ? curve[0] * width / run[0]
                : width >= run[run.count - 1] ? curve[curve.count - 1] * width / run[run.count - 1] : target
            let miss = abs(log(reached / target))
            if best == nil || miss < best!.miss { best = (width, miss) }
            start = end
        }
        return best!.width
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


    // MARK: File

    /// File name of the tables inside a characterization folder.
    public static let fileName = "characterization.json"

    /// Reads `characterization.json` from `directory`.
    public static func load(from directory: URL) throws(CharacterizationError) -> Characterization {
        let url = directory.appendingPathComponent(fileName)
        do {
            return try JSONDecoder().decode(Characterization.self, from: Data(contentsOf: url))
        } catch {
            throw .file(url.path, fileErrorReason(error))
        }
    }

    /// The tables as the text of `characterization.json`: JSON with sorted keys, indented.
    public func encoded() throws(CharacterizationError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { return try encoder.encode(self) } catch { throw .invalid("cannot encode the tables: \(error)") }
    }
}

extension Characterization: Codable {
    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", pdk, corner, unitCurrent, supply, mirrors, cell, readout
        case drainFactors, narrowestOutput, recordedCellSize = "cellSize", recordedCellTopology = "cellTopology"
        case recordedBiasMirrors = "biasMirrors"
    }

    /// Reads the current revision, or an older one with the defaults of the fields it lacks
    /// (revision 0: no `format_version`; revision 1: no `cellSize`; revision 2: no `biasMirrors`);
    /// refuses another `format` and
    /// newer revisions.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let format = try c.decodeIfPresent(String.self, forKey: .format)
        guard format == nil || format == Self.formatName else {
            throw DecodingError.dataCorruptedError(forKey: .format, in: c, debugDescription:
                "format is '\(format ?? "")', expected '\(Self.formatName)'")
        }
        switch try c.decodeIfPresent(Int.self, forKey: .formatVersion) ?? 0 {
        case 0:
            self = try Version0(from: decoder).tables
        case let version where (1...Self.currentVersion).contains(version):
            try self.init(pdk: c.decode(String.self, forKey: .pdk), corner: c.decode(String.self, forKey: .corner),
                          unitCurrent: c.decode(Double.self, forKey: .unitCurrent), supply: c.decode(Double.self, forKey: .supply),
                          mirrors: c.decode([MirrorTable].self, forKey: .mirrors), cell: c.decode(CellTable.self, forKey: .cell),
                          readout: c.decode(ReadoutTable.self, forKey: .readout),
                          drainFactors: c.decode([DrainFactor].self, forKey: .drainFactors),
                          narrowestOutput: c.decode(Double.self, forKey: .narrowestOutput),
                          cellSize: version >= 2 ? c.decode(DeviceSize.self, forKey: .recordedCellSize) : .unit,
                          cellTopology: version >= 2 ? c.decodeIfPresent(MemoryCell.Topology.self, forKey: .recordedCellTopology)
                              ?? .feedback : .feedback,
                          biasMirrors: version >= 3 ? c.decode([BiasTable].self, forKey: .recordedBiasMirrors) : [])
            if version < 2 { recordedCellSize = nil }
            if version < 3 { recordedBiasMirrors = nil }
            formatVersion = version
        case let version:
            throw DecodingError.dataCorruptedError(forKey: .formatVersion, in: c, debugDescription:
                "format_version \(version) is not supported (this bmru reads 0 to \(Self.currentVersion))")
        }
    }
}

/// Revision 0: tables written before the file had a `format` and `format_version`. Every field added
/// since the first tables may be missing and is read as the tables measured without it behaved:
/// no `drainFactors` (factor 1), no `narrowestOutput` (0: the PDK's minimum width), fits without
/// their second-order coefficients (0), and `thresholdSweep` and `widthSweep` in place of the cell's
/// `grid` (read as the grid).
private struct Version0: Decodable {
    var pdk, corner: String
    var unitCurrent, supply: Double
    var mirrors: [Characterization.MirrorTable]
    var cell: Cell
    var readout: Characterization.ReadoutTable
    var drainFactors: [Characterization.DrainFactor]?
    var narrowestOutput: Double?

    struct Fit: Decodable {
        var constant, threshold, width, gain: Double
        var thresholdSquared, widthSquared, thresholdWidth: Double?

        var fit: Characterization.CellFit {
            .init(constant: constant, threshold: threshold, width: width, gain: gain,
                  thresholdSquared: thresholdSquared ?? 0, widthSquared: widthSquared ?? 0, thresholdWidth: thresholdWidth ?? 0)
        }
    }

    struct Cell: Decodable {
        var grid: [Characterization.CellPoint]?
        var thresholdSweep, widthSweep: [Characterization.CellPoint]?
        var gainSweep: [Characterization.CellPoint]
        var on, off, high: Fit
    }

    /// The tables in the current types, revision 0.
    var tables: Characterization {
        get throws {
            guard let grid = cell.grid ?? cell.thresholdSweep.flatMap({ t in cell.widthSweep.map { t + $0 } }) else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                    "cell has neither grid nor thresholdSweep and widthSweep"))
            }
            var tables = Characterization(
                pdk: pdk, corner: corner, unitCurrent: unitCurrent, supply: supply, mirrors: mirrors,
                cell: .init(grid: grid, gainSweep: cell.gainSweep, on: cell.on.fit, off: cell.off.fit, high: cell.high.fit),
                readout: readout, drainFactors: drainFactors ?? [], narrowestOutput: narrowestOutput ?? 0)
            tables.formatVersion = 0
            (tables.recordedCellSize, tables.recordedBiasMirrors) = (nil, nil)
            return tables
        }
    }
}

extension Characterization.CellFit {
    /// The least-squares fit of `y` over `points`; inputs scaled by `scale` (amperes) so the normal
    /// equations are well conditioned. Nil when the points do not determine the seven coefficients.
    public init?(fitting points: [Characterization.CellPoint], _ y: (Characterization.CellPoint) -> Double, scale: Double) {
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
        guard let c = solveLinear(normal, right) else { return nil }
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

/// Why characterization tables could not be read or used; one line each.
public enum CharacterizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file could not be read, or is not a characterization.
    case file(String, String)
    /// An argument is out of range, or the tables cannot answer it.
    case invalid(String)

    public var description: String {
        switch self {
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
