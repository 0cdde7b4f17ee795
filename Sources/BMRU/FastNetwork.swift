/// The hand-optimised float64 kernels of an FQ-BMRU network, for throughput (`bmru model bench`):
/// the same arithmetic as the reference `Network`, bit for bit (FastNetworkTests), but blocked,
/// gathered and vectorised. Nothing that verifies a circuit or a model runs through it; the
/// oracles are `Network` and the numpy `scripts/train/reference.py` (docs/reference/model-format.md).
///
/// The parameters are repacked once into one flat buffer with transposed weights, so that each
/// layer is a sequence of contiguous axpy updates (vectorisable, and zero ReLU outputs are
/// skipped); running allocates only the results. Sums start from the bias and add the inputs in
/// order, skipping zero inputs, exactly like `Network`.
public struct FastNetwork: Sendable {
    /// The model being run.
    public let model: Model
    private let parameters: [Double]
    private let layout: Layout

    /// Prepares a model for running.
    public init(_ model: Model) {
        self.model = model
        let layout = Layout(model.config)
        var p = [Double]()
        p.reserveCapacity(layout.parameterCount)
        func append(_ layer: Linear) {
            for j in 0..<layer.inputs { for i in 0..<layer.outputs { p.append(layer.weight[i * layer.inputs + j]) } }
            p += layer.bias
        }
        append(model.pre)
        for block in model.blocks {
            append(block.cell.candidate)
            p += block.cell.alpha + block.cell.betaLo + block.cell.betaHi + block.cell.s0.map { $0 ? 1 : 0 }
            append(block.post)
        }
        append(model.classifier)
        assert(p.count == layout.parameterCount)
        self.parameters = p
        self.layout = layout
    }

    /// Runs every sequence of a batch, each from the initial states, and returns full traces.
    public func run(_ batch: FrameBatch) throws(ModelError) -> [Trace] {
        try check(batch)
        return (0..<batch.clips).map { clip in
            var trace = Trace(frames: batch.frames, width: batch.width, blocks: layout.blocks, hidden: layout.hidden,
                              classes: layout.classes)
            let span = batch.frames * batch.width
            trace.inputs = Array(batch.values[(clip * span)..<((clip + 1) * span)])
            let (cells, residuals) = (layout.blocks * layout.hidden, (layout.blocks + 1) * layout.hidden)
            trace.candidates.withUnsafeMutableBufferPointer { candidates in
            trace.states.withUnsafeMutableBufferPointer { states in
            trace.stateCurrents.withUnsafeMutableBufferPointer { currents in
            trace.blockOutputs.withUnsafeMutableBufferPointer { outputs in
            trace.residuals.withUnsafeMutableBufferPointer { stream in
            trace.logits.withUnsafeMutableBufferPointer { logits in
                process(batch, clip: clip) { t, scratch in
                    let l = layout
                    for i in 0..<cells {
                        candidates[t * cells + i] = scratch[l.c + i]
                        states[t * cells + i] = scratch[l.s + i] == 1
                        currents[t * cells + i] = scratch[l.h + i]
                        outputs[t * cells + i] = scratch[l.p + i]
                    }
                    for i in 0..<residuals { stream[t * residuals + i] = scratch[l.u + i] }
                    for i in 0..<l.classes { logits[t * l.classes + i] = scratch[l.logits + i] }
                }
            }}}}}}
            return trace
        }
    }

    /// Runs every sequence of a batch and keeps only the clip decisions. Small models
    /// (d <= `laneThreshold`) run `Lanes.scalarCount` clips at once, one clip per SIMD lane; larger
    /// ones one clip at a time with the blocked kernel. Both give exactly the decisions of
    /// `Network.run(_:)` (bit-identical sums).
    public func decide(_ batch: FrameBatch) throws(ModelError) -> [ClipDecision] {
        try check(batch)
        let classes = layout.classes
        if layout.hidden <= Self.laneThreshold {
            var decisions: [ClipDecision] = []
            decisions.reserveCapacity(batch.clips)
            for first in stride(from: 0, to: batch.clips, by: Lanes.scalarCount) {
                let lanes = min(Lanes.scalarCount, batch.clips - first)
                var votes = [[Int]](repeating: [Int](repeating: 0, count: classes), count: lanes)
                var sums = [[Double]](repeating: [Double](repeating: 0, count: classes), count: lanes)
                processLanes(batch, firstClip: first) { _, logits in
                    for g in 0..<lanes {
                        var (best, bestValue) = (0, logits[0][g])
                        sums[g][0] += bestValue
                        for c in 1..<classes {
                            let v = logits[c][g]
                            if v > bestValue { (best, bestValue) = (c, v) }
                            sums[g][c] += v
                        }
                        votes[g][best] += 1
                    }
                }
                for g in 0..<lanes { decisions.append(ClipDecision(votes: votes[g], integratedLogits: sums[g])) }
            }
            return decisions
        }
        return (0..<batch.clips).map { clip in
            var votes = [Int](repeating: 0, count: classes)
            var sums = [Double](repeating: 0, count: classes)
            process(batch, clip: clip) { _, scratch in
                let logits = UnsafeBufferPointer(rebasing: scratch[layout.logits..<(layout.logits + classes)])
                votes[ClipDecision.argmax(logits)] += 1
                for c in 0..<classes { sums[c] += logits[c] }
            }
            return ClipDecision(votes: votes, integratedLogits: sums)
        }
    }

    /// One value per clip of a group run together.
    typealias Lanes = SIMD4<Double>
    private typealias LaneBits = SIMD4<UInt64>
    /// Largest d for which `decide` runs clips in SIMD lanes.
    static let laneThreshold = 16

    /// Runs `Lanes.scalarCount` clips from `firstClip` in lockstep, one per lane (missing clips
    /// past the end repeat the last one), calling `record` with the logits after every frame.
    /// Lane g does exactly the operations of `process` for its clip.
    @inline(__always)
    private func processLanes(_ batch: FrameBatch, firstClip: Int, record: (Int, UnsafeMutablePointer<Lanes>) -> Void) {
        let l = layout
        let (n, d, classes, L) = (l.inputs, l.hidden, l.classes, Lanes.scalarCount)
        let linear = model.config.readout == .linear
        let clips = (0..<L).map { min(firstClip + $0, batch.clips - 1) }
        let widest = max(n, d)
        withUnsafeTemporaryAllocation(of: Lanes.self, capacity: l.scratchCount + n) { buffer in
        withUnsafeTemporaryAllocation(of: LaneBits.self, capacity: widest) { signs in
        parameters.withUnsafeBufferPointer { params in
        batch.values.withUnsafeBufferPointer { inputs in
            let w = params.baseAddress!, v = inputs.baseAddress!, m = buffer.baseAddress!, z = signs.baseAddress!
            m.initialize(repeating: Lanes(), count: l.scratchCount + n)
            let x = m + l.scratchCount
            for k in 0..<l.blocks {
                for i in 0..<d { m[l.s + k * d + i] = Lanes(repeating: w[l.block(k) + l.s0 + i]) }
            }
            for t in 0..<batch.frames {
                for j in 0..<n {
                    var xj = Lanes()
                    for g in 0..<L { xj[g] = v[(clips[g] * batch.frames + t) * n + j] }
                    x[j] = xj
                }
                let u = m + l.u
                Self.affineLanes(w + l.pre, x, inputs: n, outputs: d, into: u, signs: z)
                for k in 0..<l.blocks {
                    let b = w + l.block(k), a = m + l.a
                    let c = m + l.c + k * d, s = m + l.s + k * d, h = m + l.h + k * d, p = m + l.p + k * d
                    let (uk, next) = (u + k * d, u + (k + 1) * d)
                    for i in 0..<d { a[i] = Self.relu(uk[i]) }
                    Self.affineLanes(b + l.candidate, a, inputs: d, outputs: d, into: c, signs: z)
                    for i in 0..<d {
                        let ci = Self.relu(c[i])
                        c[i] = ci
                        let set = ci .> Lanes(repeating: b[l.betaHi + i]), low = ci .< Lanes(repeating: b[l.betaLo + i])
                        let state = set .| (.!low .& (s[i] .== 1))
                        s[i] = Lanes().replacing(with: 1, where: state)
                        h[i] = Lanes(repeating: b[l.alpha + i]) * s[i]
                    }
                    Self.affineLanes(b + l.post, h, inputs: d, outputs: d, into: p, signs: z)
                    for i in 0..<d {
                        p[i] = Self.relu(p[i])
                        next[i] = uk[i] + p[i]
                    }
                }
                let a = m + l.a, last = u + l.blocks * d
                for i in 0..<d { a[i] = linear ? last[i] : Self.relu(last[i]) }
                Self.affineLanes(w + l.classifier, a, inputs: d, outputs: classes, into: m + l.logits, signs: z)
                record(t, m + l.logits)
            }
        }}}}
    }

    /// `max(v, 0)` per lane exactly as Swift's `max` (`0 >= v ? 0 : v`: -0 becomes +0, NaN stays).
    @inline(__always)
    private static func relu(_ v: Lanes) -> Lanes { v.replacing(with: 0, where: v .<= 0) }

    /// `affine` per lane, without branches: a zero input's product w * 0 (= +-0, the weights
    /// being finite) is replaced by -0 (sign bit or-ed in), and y + (-0) == y bit for bit, so
    /// each lane gets exactly the result of skipping its zero inputs.
    @inline(__always)
    private static func affineLanes(_ layer: UnsafePointer<Double>, _ x: UnsafePointer<Lanes>, inputs: Int, outputs: Int,
                                    into y: UnsafeMutablePointer<Lanes>, signs: UnsafeMutablePointer<LaneBits>) {
        for j in 0..<inputs { signs[j] = LaneBits().replacing(with: 1 << 63, where: x[j] .== 0) }
        let bias = layer + inputs * outputs
        for i in 0..<outputs {
            var acc = Lanes(repeating: bias[i])
            for j in 0..<inputs {
                let term = Lanes(repeating: layer[j &* outputs &+ i]) * x[j]
                acc += unsafeBitCast(unsafeBitCast(term, to: LaneBits.self) | signs[j], to: Lanes.self)
            }
            y[i] = acc
        }
    }

    private func check(_ batch: FrameBatch) throws(ModelError) {
        guard batch.width == layout.inputs else { throw .inputWidth(frame: 0, expected: layout.inputs, actual: batch.width) }
    }

    /// Runs one clip, calling `record` with the scratch buffer after every frame.
    @inline(__always)
    private func process(_ batch: FrameBatch, clip: Int, record: (Int, UnsafeMutableBufferPointer<Double>) -> Void) {
        let l = layout
        let (n, d, classes) = (l.inputs, l.hidden, l.classes)
        let linear = model.config.readout == .linear
        var scratch = [Double](repeating: 0, count: l.scratchCount)
        let widest = max(n, d)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: widest) { offsets in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: widest) { values in
        let gather = Gather(offsets: offsets.baseAddress!, values: values.baseAddress!)
        parameters.withUnsafeBufferPointer { params in
        batch.values.withUnsafeBufferPointer { inputs in
        scratch.withUnsafeMutableBufferPointer { buffer in
            let w = params.baseAddress!, x = inputs.baseAddress!, m = buffer.baseAddress!
            for k in 0..<l.blocks { (m + l.s + k * d).update(from: w + l.block(k) + l.s0, count: d) }
            for t in 0..<batch.frames {
                let u = m + l.u
                Self.affine(w + l.pre, x + (clip * batch.frames + t) * n, inputs: n, outputs: d, into: u, gather: gather)
                for k in 0..<l.blocks {
                    let b = w + l.block(k), a = m + l.a
                    let c = m + l.c + k * d, s = m + l.s + k * d, h = m + l.h + k * d, p = m + l.p + k * d
                    let (uk, next) = (u + k * d, u + (k + 1) * d)
                    for i in 0..<d { a[i] = max(uk[i], 0) }
                    Self.affine(b + l.candidate, a, inputs: d, outputs: d, into: c, gather: gather)
                    for i in 0..<d {
                        c[i] = max(c[i], 0)
                        // FQCell.nextState without branches: set if c > beta_hi, else reset if
                        // c < beta_lo, else hold.
                        let set = c[i] > b[l.betaHi + i] ? 1 : 0, hold = c[i] < b[l.betaLo + i] ? 0 : 1
                        let previous = s[i] == 1 ? 1 : 0
                        s[i] = Double(set | (hold & previous))
                        h[i] = b[l.alpha + i] * s[i]
                    }
                    Self.affine(b + l.post, h, inputs: d, outputs: d, into: p, gather: gather)
                    for i in 0..<d {
                        p[i] = max(p[i], 0)
                        next[i] = uk[i] + p[i]
                    }
                }
                let a = m + l.a, last = u + l.blocks * d
                for i in 0..<d { a[i] = linear ? last[i] : max(last[i], 0) }
                Self.affine(w + l.classifier, a, inputs: d, outputs: classes, into: m + l.logits, gather: gather)
                record(t, buffer)
            }
        }}}}}
    }

    /// y = W x + b with W stored transposed (column j contiguous) followed by b: every output
    /// starts from its bias and adds the products w_ij x_j in input order, skipping zero inputs
    /// (adding 0 changes nothing), so each output sees exactly the operations of `Network`'s loop
    /// `y = b; for j where x_j != 0 { y += W[:, j] * x_j }` (no fused multiply-add; see
    /// FastNetworkTests).
    ///
    /// Fast path: the nonzero inputs are first gathered (branch-free) into `gather`, then the
    /// outputs are computed in register-resident blocks of 16 (then 4, 2, 1), each block walking
    /// the gathered inputs once: no stores inside the inner loop and no data-dependent branches.
    @inline(__always)
    private static func affine(_ layer: UnsafePointer<Double>, _ x: UnsafePointer<Double>, inputs: Int, outputs: Int,
                               into y: UnsafeMutablePointer<Double>, gather: Gather) {
        let (offsets, values) = (gather.offsets, gather.values)
        var count = 0
        for j in 0..<inputs {
            let xj = x[j]
            offsets[count] = j &* outputs
            values[count] = xj
            // count += (xj != 0 ? 1 : 0) in integer arithmetic: a compare would be compiled to
            // a branch, mispredicted on about half of the ReLU outputs. m is |xj|'s bits, and
            // m | -m has its top bit set exactly when m != 0.
            let m = xj.bitPattern & ~(1 << 63)
            count &+= Int(truncatingIfNeeded: (m | (0 &- m)) >> 63)
        }
        let bias = layer + inputs * outputs
        var i = 0
        while i &+ 16 <= outputs {
            var y0 = load8(bias + i), y1 = load8(bias + i + 8)
            for q in 0..<count {
                let column = layer + offsets[q] + i, xj = values[q]
                y0 += load8(column) * xj
                y1 += load8(column + 8) * xj
            }
            store8(y0, y + i)
            store8(y1, y + i + 8)
            i &+= 16
        }
        while i &+ 4 <= outputs {
            var y0 = load4(bias + i)
            for q in 0..<count { y0 += load4(layer + offsets[q] + i) * values[q] }
            store4(y0, y + i)
            i &+= 4
        }
        while i &+ 2 <= outputs {
            var y0 = load2(bias + i)
            for q in 0..<count { y0 += load2(layer + offsets[q] + i) * values[q] }
            store2(y0, y + i)
            i &+= 2
        }
        while i < outputs {
            var yi = bias[i]
            for q in 0..<count { yi += layer[offsets[q] + i] * values[q] }
            y[i] = yi
            i &+= 1
        }
    }

    @inline(__always) private static func load8(_ p: UnsafePointer<Double>) -> SIMD8<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Double>.self)
    }
    @inline(__always) private static func store8(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Double>.self)
    }
    @inline(__always) private static func load4(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
    }
    @inline(__always) private static func store4(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Double>.self)
    }

    @inline(__always) private static func load2(_ p: UnsafePointer<Double>) -> SIMD2<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD2<Double>.self)
    }
    @inline(__always) private static func store2(_ v: SIMD2<Double>, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD2<Double>.self)
    }

    /// Per-clip scratch for `affine`: column offsets and values of the nonzero inputs.
    private struct Gather {
        let offsets: UnsafeMutablePointer<Int>
        let values: UnsafeMutablePointer<Double>
    }

    /// Offsets into the flat parameter buffer and the per-clip scratch buffer.
    private struct Layout: Sendable {
        let inputs, hidden, blocks, classes: Int
        // Parameters: pre (n*d + d), blocks, classifier (d*C + C). Inside a block, relative to
        // `block(k)`: candidate (d*d + d), alpha, beta_lo, beta_hi, s0 (d each), post (d*d + d).
        let pre = 0
        var candidate: Int { 0 }
        var alpha: Int { hidden * hidden + hidden }
        var betaLo: Int { alpha + hidden }
        var betaHi: Int { betaLo + hidden }
        var s0: Int { betaHi + hidden }
        var post: Int { s0 + hidden }
        var blockSize: Int { post + hidden * hidden + hidden }
        func block(_ k: Int) -> Int { inputs * hidden + hidden + k * blockSize }
        var classifier: Int { block(blocks) }
        var parameterCount: Int { classifier + hidden * classes + classes }
        // Scratch: residual stream u_0..u_B, then c, s, h, p for all blocks, a ReLU buffer, logits.
        var u: Int { 0 }
        var c: Int { (blocks + 1) * hidden }
        var s: Int { c + blocks * hidden }
        var h: Int { s + blocks * hidden }
        var p: Int { h + blocks * hidden }
        var a: Int { p + blocks * hidden }
        var logits: Int { a + hidden }
        var scratchCount: Int { logits + classes }

        init(_ config: ModelConfig) {
            (inputs, hidden, blocks, classes) = (config.inputs, config.hidden, config.blocks, config.classes.count)
        }
    }
}
