import Foundation

/// A dense affine layer y = W x + b. The weight is row-major [outputs, inputs], the layout of the
/// `*.weight` tensors.
public struct Linear: Sendable, Equatable {
    /// Rows of `weight`: the output size.
    public let outputs: Int
    /// Columns of `weight`: the input size.
    public let inputs: Int
    /// Row-major weights, `outputs * inputs` values; element (i, j) is `weight[i * inputs + j]`.
    public var weight: [Double]
    /// `outputs` biases.
    public var bias: [Double]

    /// Creates a layer; the sizes must agree (a programming error otherwise).
    public init(inputs: Int, weight: [Double], bias: [Double]) {
        precondition(inputs >= 1 && weight.count == bias.count * inputs, "weight \(weight.count) != \(bias.count) x \(inputs)")
        self.outputs = bias.count
        self.inputs = inputs
        self.weight = weight
        self.bias = bias
    }

    /// W x + b, summed in input order starting from the bias.
    public func callAsFunction(_ x: [Double]) -> [Double] {
        precondition(x.count == inputs, "input has \(x.count) values, expected \(inputs)")
        return (0..<outputs).map { i in
            var sum = bias[i]
            for j in 0..<inputs { sum += weight[i * inputs + j] * x[j] }
            return sum
        }
    }
}

/// One first-quadrant BMRU cell layer (the hardware cell) with its candidate projection:
/// c = ReLU(W_c x + b_c); the state sets where c > beta_hi, resets where c < beta_lo, else holds.
public struct FQCell: Sendable, Equatable {
    /// Candidate projection W_c, b_c (signed).
    public var candidate: Linear
    /// High state current per unit, > 0.
    public var alpha: [Double]
    /// Lower threshold per unit, >= 0.
    public var betaLo: [Double]
    /// Hysteresis width beta_hi - beta_lo per unit, > 0.
    public var delta: [Double]
    /// Initial state bits.
    public var s0: [Bool]

    /// Creates a cell layer; all per-unit arrays must have `candidate.outputs` entries.
    public init(candidate: Linear, alpha: [Double], betaLo: [Double], delta: [Double], s0: [Bool]) {
        let d = candidate.outputs
        precondition(alpha.count == d && betaLo.count == d && delta.count == d && s0.count == d, "cell arrays must have \(d) entries")
        self.candidate = candidate
        self.alpha = alpha
        self.betaLo = betaLo
        self.delta = delta
        self.s0 = s0
    }

    /// State size d.
    public var hidden: Int { candidate.outputs }

    /// Upper threshold beta_lo + delta, computed in float64 from the stored values as the format
    /// prescribes.
    public var betaHi: [Double] { zip(betaLo, delta).map { $0 + $1 } }

    /// The state update of one unit: set above `betaHi`, reset below `betaLo`, hold otherwise
    /// (including exactly at either threshold). Shared by `step` and `Network`.
    @inlinable
    public static func nextState(candidate c: Double, betaLo: Double, betaHi: Double, previous: Bool) -> Bool {
        c > betaHi ? true : (c < betaLo ? false : previous)
    }

    /// One time step: updates `state` in place and returns the candidates and the state currents
    /// alpha * s.
    public func step(_ input: [Double], state: inout [Bool]) -> (candidate: [Double], current: [Double]) {
        let c = candidate(input).map { max($0, 0) }
        let hi = betaHi
        for i in 0..<hidden {
            state[i] = Self.nextState(candidate: c[i], betaLo: betaLo[i], betaHi: hi[i], previous: state[i])
        }
        return (c, (0..<hidden).map { state[$0] ? alpha[$0] : 0 })
    }
}

/// One residual block: ReLU, FQ-BMRU cell layer, post-projection, ReLU; its output adds to the
/// residual stream.
public struct Block: Sendable, Equatable {
    /// The cell layer with its candidate projection.
    public var cell: FQCell
    /// Post-projection W_post, b_post (d -> d).
    public var post: Linear

    /// Creates a block.
    public init(cell: FQCell, post: Linear) {
        self.cell = cell
        self.post = post
    }
}

/// A trained FQ-BMRU network (docs/reference/model-format.md): pre-projection, residual blocks, classifier.
/// Load it with `Model.load(from:)` and run it with `Network`.
public struct Model: Sendable, Equatable {
    /// Architecture, units and feature settings.
    public var config: ModelConfig
    /// Pre-projection n -> d on the signed input features.
    public var pre: Linear
    /// The residual blocks in order.
    public var blocks: [Block]
    /// Classifier d -> C.
    public var classifier: Linear

    /// Creates a model; layer sizes must match `config` (a programming error otherwise).
    public init(config: ModelConfig, pre: Linear, blocks: [Block], classifier: Linear) {
        let d = config.hidden
        precondition(pre.inputs == config.inputs && pre.outputs == d && blocks.count == config.blocks
            && blocks.allSatisfy { $0.cell.candidate.inputs == d && $0.cell.hidden == d && $0.post.inputs == d && $0.post.outputs == d }
            && classifier.inputs == d && classifier.outputs == config.classes.count, "layer sizes do not match the config")
        self.config = config
        self.pre = pre
        self.blocks = blocks
        self.classifier = classifier
    }

    /// File names inside a model directory.
    public static let configFileName = "config.json"
    /// See `configFileName`.
    public static let tensorsFileName = "model.safetensors"
    /// See `configFileName`.
    public static let goldenFileName = "golden.safetensors"

    /// Loads and validates `config.json` and `model.safetensors` from a model directory.
    public static func load(from directory: URL) throws(ModelError) -> Model {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .unreadable(file: directory.relativePath, reason: "is a file; a model is a folder holding config.json and model.safetensors")
        }
        let config = try ModelConfig.load(from: directory.appendingPathComponent(configFileName))
        let url = directory.appendingPathComponent(tensorsFileName)
        let file = try SafetensorsFile(contentsOf: url)
        return try Model(config: config, tensors: file.tensors, file: url.relativePath)
    }

    /// Builds a model from named tensors, checking that exactly the tensors of the format are
    /// present with the shapes `config` implies, every value is finite, and the hardware
    /// constraints hold: alpha > 0, beta_lo >= 0, delta > 0, s0 in {0, 1}. `file` names the source
    /// in errors (also for config problems, which `Model.load` has already reported by then).
    public init(config: ModelConfig, tensors: [String: Tensor], file: String) throws(ModelError) {
        try config.validate(file: file)
        let (n, d, c) = (config.inputs, config.hidden, config.classes.count)
        var used = Set<String>()
        func values(_ name: String, _ shape: [Int], rule: String? = nil, _ accept: (Double) -> Bool = { _ in true }) throws(ModelError) -> [Double] {
            guard let tensor = tensors[name] else { throw .missingTensor(file: file, tensor: name) }
            guard tensor.shape == shape else { throw .shapeMismatch(file: file, tensor: name, expected: shape, actual: tensor.shape) }
            used.insert(name)
            for (flat, value) in tensor.values.enumerated() {
                let violated = !value.isFinite ? "must be finite" : (accept(value) ? nil : rule)
                if let violated { throw .invalidValue(file: file, tensor: name, index: Self.index(flat, shape), value: value, rule: violated) }
            }
            return tensor.values
        }
        func linear(_ prefix: String, inputs: Int, outputs: Int) throws(ModelError) -> Linear {
            Linear(inputs: inputs, weight: try values("\(prefix).weight", [outputs, inputs]), bias: try values("\(prefix).bias", [outputs]))
        }
        let pre = try linear("pre", inputs: n, outputs: d)
        var blocks: [Block] = []
        for k in 0..<config.blocks {
            let p = "blocks.\(k).cell"
            let cell = FQCell(
                candidate: try linear(p, inputs: d, outputs: d),
                alpha: try values("\(p).alpha", [d], rule: "alpha must be > 0") { $0 > 0 },
                betaLo: try values("\(p).beta_lo", [d], rule: "beta_lo must be >= 0") { $0 >= 0 },
                delta: try values("\(p).delta", [d], rule: "delta must be > 0") { $0 > 0 },
                s0: try values("\(p).s0", [d], rule: "s0 must be 0 or 1") { $0 == 0 || $0 == 1 }.map { $0 == 1 })
            blocks.append(Block(cell: cell, post: try linear("blocks.\(k).post", inputs: d, outputs: d)))
        }
        let classifier = try linear("classifier", inputs: d, outputs: c)
        if let extra = tensors.keys.sorted().first(where: { !used.contains($0) }) {
            throw .unexpectedTensor(file: file, tensor: extra)
        }
        self.init(config: config, pre: pre, blocks: blocks, classifier: classifier)
    }

    /// Learned scalars: every tensor element except the initial state bits s0.
    public var parameterCount: Int {
        let layers = [pre, classifier] + blocks.flatMap { [$0.cell.candidate, $0.post] }
        return layers.reduce(0) { $0 + $1.weight.count + $1.bias.count } + blocks.count * 3 * config.hidden
    }

    /// The tensors of `model.safetensors`, stored as `dtype`.
    public func tensors(dtype: DType = .f64) -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        func add(_ name: String, _ values: [Double], _ shape: [Int]) {
            result[name] = Tensor(dtype: dtype, shape: shape, values: values)
        }
        func add(_ prefix: String, _ layer: Linear) {
            add("\(prefix).weight", layer.weight, [layer.outputs, layer.inputs])
            add("\(prefix).bias", layer.bias, [layer.outputs])
        }
        add("pre", pre)
        for (k, block) in blocks.enumerated() {
            let p = "blocks.\(k).cell"
            add(p, block.cell.candidate)
            add("\(p).alpha", block.cell.alpha, [config.hidden])
            add("\(p).beta_lo", block.cell.betaLo, [config.hidden])
            add("\(p).delta", block.cell.delta, [config.hidden])
            add("\(p).s0", block.cell.s0.map { $0 ? 1 : 0 }, [config.hidden])
            add("blocks.\(k).post", block.post)
        }
        add("classifier", classifier)
        return result
    }

    /// Writes `config.json` and `model.safetensors` into `directory`, creating it if needed.
    /// Storing as F32 rounds the parameters: reload the model to get the stored values.
    public func write(to directory: URL, dtype: DType = .f64) throws(ModelError) {
        let configURL = directory.appendingPathComponent(Self.configFileName)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try config.encoded().write(to: configURL, options: .atomic)
        } catch {
            throw .unwritable(file: configURL.relativePath, reason: fileErrorReason(error))
        }
        try SafetensorsFile(tensors: tensors(dtype: dtype), metadata: ["format": ModelConfig.formatName])
            .write(to: directory.appendingPathComponent(Self.tensorsFileName))
    }

    /// The multi-index of a row-major flat index, for error messages.
    public static func index(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var result = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            result[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return result
    }
}
