import Foundation

/// The contents of `golden.safetensors`: input sequences with the traces the training pipeline
/// computed for them (G sequences of T frames; shapes in docs/reference/model-format.md). Tensors the format
/// does not define are ignored.
public struct GoldenSet: Sendable, Equatable {
    /// Inputs, [G, T, n].
    public var inputs: FrameBatch
    /// Candidates c_k, [G, T, B, d], if stored.
    public var candidates: [Double]?
    /// State bits, [G, T, B, d].
    public var states: [Bool]
    /// Logits, [G, T, C].
    public var logits: [Double]
    /// Clip label indices, [G], if stored.
    public var labels: [Int]?

    /// Creates a golden set; array sizes must match `inputs` and the model dimensions used later.
    public init(inputs: FrameBatch, candidates: [Double]?, states: [Bool], logits: [Double], labels: [Int]?) {
        self.inputs = inputs
        self.candidates = candidates
        self.states = states
        self.logits = logits
        self.labels = labels
    }

    /// Reads a golden file and checks every tensor against the model's dimensions: shapes, finite
    /// values, state bits in {0, 1}, labels that are class indices.
    public static func load(from url: URL, config: ModelConfig) throws(ModelError) -> GoldenSet {
        let file = url.relativePath
        let tensors = try SafetensorsFile(contentsOf: url).tensors
        guard let input = tensors["inputs"] else { throw .missingTensor(file: file, tensor: "inputs") }
        let (g, t) = (input.shape.first ?? 0, input.shape.count > 1 ? input.shape[1] : 0)
        let (b, d, c) = (config.blocks, config.hidden, config.classes.count)
        func values(_ name: String, _ shape: [Int], required: Bool = true, rule: String? = nil,
                    _ accept: (Double) -> Bool = { _ in true }) throws(ModelError) -> [Double]? {
            guard let tensor = tensors[name] else {
                if required { throw .missingTensor(file: file, tensor: name) }
                return nil
            }
            guard tensor.shape == shape else { throw .shapeMismatch(file: file, tensor: name, expected: shape, actual: tensor.shape) }
            for (flat, value) in tensor.values.enumerated() {
                let violated = !value.isFinite ? "must be finite" : (accept(value) ? nil : rule)
                if let violated { throw .invalidValue(file: file, tensor: name, index: Model.index(flat, shape), value: value, rule: violated) }
            }
            return tensor.values
        }
        let inputs = try values("inputs", [g, t, config.inputs])!
        return GoldenSet(
            inputs: FrameBatch(clips: g, frames: t, width: config.inputs, values: inputs),
            candidates: try values("candidates", [g, t, b, d], required: false),
            states: try values("states", [g, t, b, d], rule: "state bits must be 0 or 1") { $0 == 0 || $0 == 1 }!.map { $0 == 1 },
            logits: try values("logits", [g, t, c])!,
            labels: try values("labels", [g], required: false, rule: "labels must be class indices") {
                $0 >= 0 && $0 < Double(c) && $0 == $0.rounded()
            }?.map { Int($0) })
    }

    /// The tensors of a golden file for a model with `blocks` blocks of `hidden` units and
    /// `classes` classes, all stored as F64.
    public func tensors(blocks: Int, hidden: Int, classes: Int) -> [String: Tensor] {
        let (g, t) = (inputs.clips, inputs.frames)
        var result = [
            "inputs": Tensor(shape: [g, t, inputs.width], values: inputs.values),
            "states": Tensor(shape: [g, t, blocks, hidden], values: states.map { $0 ? 1 : 0 }),
            "logits": Tensor(shape: [g, t, classes], values: logits),
        ]
        if let candidates { result["candidates"] = Tensor(shape: [g, t, blocks, hidden], values: candidates) }
        if let labels { result["labels"] = Tensor(shape: [g], values: labels.map(Double.init)) }
        return result
    }
}

/// The largest disagreement between computed and golden values of one quantity.
public struct Deviation: Sendable, Equatable {
    /// Largest |computed - golden|.
    public var absolute: Double = 0
    /// Largest |computed - golden| / allowed, where allowed = max(1e-9, 1e-6 |golden|); <= 1 passes.
    public var ratio: Double = 0
    /// Flat index of the element with the largest `ratio`.
    public var index: Int = 0

    /// Absolute tolerance of `bmru model check`.
    public static let absoluteTolerance = 1e-9
    /// Relative tolerance of `bmru model check`.
    public static let relativeTolerance = 1e-6

    /// Whether every element was within tolerance.
    public var withinTolerance: Bool { ratio <= 1 }

    /// Folds one computed/golden pair into the maximum.
    mutating func include(_ computed: Double, _ golden: Double, at index: Int) {
        let difference = abs(computed - golden)
        let ratio = difference / max(Self.absoluteTolerance, Self.relativeTolerance * abs(golden))
        absolute = max(absolute, difference)
        if ratio > self.ratio { (self.ratio, self.index) = (ratio, index) }
    }
}

/// The result of running the reference network on a golden set.
public struct GoldenComparison: Sendable, Equatable {
    /// G.
    public let sequences: Int
    /// T.
    public let frames: Int
    /// State bits that differ.
    public let stateMismatches: Int
    /// Flat [G, T, B, d] index of the first differing state bit.
    public let firstStateMismatch: Int?
    /// Largest logit deviation; the flat index is into [G, T, C].
    public let logits: Deviation
    /// Largest candidate deviation (informational: not part of the pass criterion), if stored.
    public let candidates: Deviation?
    /// Clips whose majority-vote decision equals the stored label, if labels are stored.
    public let correctClips: Int?

    /// The criterion of `bmru model check`: every state bit equal, every logit within tolerance.
    public var passed: Bool { stateMismatches == 0 && logits.withinTolerance }
}

extension Network {
    /// Runs the network on the golden inputs and compares states and logits (and candidates when
    /// stored). The golden set must have been loaded for this model's config.
    public func compare(with golden: GoldenSet) throws(ModelError) -> GoldenComparison {
        let traces = try run(golden.inputs)
        let perClip = golden.inputs.frames * model.config.blocks * model.config.hidden
        var mismatches = 0
        var first: Int?
        var logits = Deviation()
        var candidates: Deviation? = golden.candidates == nil ? nil : Deviation()
        var correct = 0
        for (g, trace) in traces.enumerated() {
            for (i, bit) in trace.states.enumerated() where bit != golden.states[g * perClip + i] {
                mismatches += 1
                first = first ?? g * perClip + i
            }
            for (i, value) in trace.logits.enumerated() {
                let index = g * trace.logits.count + i
                logits.include(value, golden.logits[index], at: index)
            }
            if let stored = golden.candidates {
                for (i, value) in trace.candidates.enumerated() { candidates?.include(value, stored[g * perClip + i], at: g * perClip + i) }
            }
            if let labels = golden.labels, trace.decision.majority == labels[g] { correct += 1 }
        }
        return GoldenComparison(sequences: golden.inputs.clips, frames: golden.inputs.frames, stateMismatches: mismatches,
                                firstStateMismatch: first, logits: logits, candidates: candidates,
                                correctClips: golden.labels == nil ? nil : correct)
    }
}
