import Foundation

/// The contents of a model's `config.json` (docs/reference/model-format.md): architecture, units and how the
/// input features are made. The free-form `training` object is kept verbatim but not interpreted:
/// it does not affect the network.
public struct ModelConfig: Codable, Sendable, Equatable {
    /// Always `"bmru-model"`.
    public var format: String
    /// Format revision: 1, or 2 for a model whose classifier reads the signed residual
    /// (`Readout.linear`), so that a reader of version 1 refuses it instead of applying a ReLU.
    public var formatVersion: Int
    /// Model name, also its folder name under `results/models/`.
    public var name: String
    /// Cell kind; only `"fq-bmru"` (the first-quadrant hardware cell) is defined.
    public var cell: String
    /// Input features per frame, n.
    public var inputs: Int
    /// State size d of every cell layer.
    public var hidden: Int
    /// Number of residual blocks.
    public var blocks: Int
    /// Class names in logit order.
    public var classes: [String]
    /// What the classifier reads from the last residual u_B; `relu` when the file has no `readout`.
    public var readout: Readout
    /// Amperes per model unit in the circuit (the paper: 1e-9).
    public var unitCurrent: Double
    /// How input frames are made from the raw signal.
    public var features: Features
    /// Free-form training metadata (seed, task, epochs, ...), if present.
    public var training: JSONValue?

    /// The supported `format` string.
    public static let formatName = "bmru-model"
    /// The `format_version`s this code reads: 1 (ReLU readout only) and 2 (any `Readout`).
    public static let supportedVersions = 1...2
    /// The supported `cell`.
    public static let fqCell = "fq-bmru"
    /// The unit currents a model may name, amperes: the circuits run at pA..nA (docs/power.md).
    public static let unitCurrentRange = 1e-15...1e-3
    /// The ranges of the integer `features` fields (docs/model-format.md): any audio front end fits,
    /// and a clip's buffers stay small.
    public static let featureRanges: [(field: String, range: ClosedRange<Int>)] = [
        ("sample_rate", 1000...384_000), ("n_mfcc", 1...1024), ("n_fft", 16...65536), ("hop_length", 1...65536),
        ("frames", 1...100_000),
    ]

    /// The classifier's input (the `readout` field): `relu` reads ReLU(u_B), as every model of
    /// format version 1 does; `linear` reads the signed u_B itself, as the published keyword spotter
    /// does (logits = W_cls u_B + b_cls), and needs format version 2.
    public enum Readout: String, Codable, Sendable, CaseIterable {
        /// logits = W_cls ReLU(u_B) + b_cls.
        case relu
        /// logits = W_cls u_B + b_cls.
        case linear

        /// The lowest `format_version` that can hold this readout: a version-1 reader ignores the
        /// field and would compute ReLU logits from a linear model.
        public var formatVersion: Int { self == .relu ? 1 : 2 }

        /// The classifier's input from the last residual value `u`.
        @inlinable
        public func input(_ u: Double) -> Double { self == .relu ? max(u, 0) : u }

        /// Decodes a string, naming the accepted values otherwise (reported as the field's problem).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let value = Self(rawValue: text) else {
                let accepted = Self.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "is \"\(text)\", expected \(accepted)")
            }
            self = value
        }
    }

    /// Feature extraction settings. For `kind == "mfcc"` every optional field is required; for
    /// `"raw"` (inputs given directly, e.g. synthetic tasks) none is. Settings the format does not
    /// name are kept in `extra`.
    public struct Features: Codable, Sendable, Equatable {
        /// `"mfcc"` or `"raw"`.
        public var kind: String
        /// Audio sample rate in Hz.
        public var sampleRate: Int?
        /// MFCC coefficients per frame; equals the model's `inputs`.
        public var nMfcc: Int?
        /// FFT size in samples.
        public var nFft: Int?
        /// Samples between frames.
        public var hopLength: Int?
        /// Frames per clip.
        public var frames: Int?
        /// Feature normalisation, e.g. `"per_clip_per_coefficient"`.
        public var normalization: String?
        /// Further settings, verbatim: e.g. the MFCC details (window, n_mels, fmin, fmax, mel_norm,
        /// dct_norm, ...) that scripts/train/features.py records for a Swift MFCC to match.
        public var extra: [String: JSONValue]

        /// Settings for inputs given directly.
        public static let raw = Features(kind: "raw")

        /// Creates feature settings.
        public init(kind: String, sampleRate: Int? = nil, nMfcc: Int? = nil, nFft: Int? = nil,
                    hopLength: Int? = nil, frames: Int? = nil, normalization: String? = nil,
                    extra: [String: JSONValue] = [:]) {
            self.kind = kind
            self.sampleRate = sampleRate
            self.nMfcc = nMfcc
            self.nFft = nFft
            self.hopLength = hopLength
            self.frames = frames
            self.normalization = normalization
            self.extra = extra
        }

        enum CodingKeys: String, CodingKey {
            case kind, frames, normalization
            case sampleRate = "sample_rate", nMfcc = "n_mfcc", nFft = "n_fft", hopLength = "hop_length"
        }

        /// Decodes the named fields, then keeps every other key in `extra`.
        public init(from decoder: any Decoder) throws {
            let named = try decoder.container(keyedBy: CodingKeys.self)
            kind = try named.decode(String.self, forKey: .kind)
            sampleRate = try named.decodeIfPresent(Int.self, forKey: .sampleRate)
            nMfcc = try named.decodeIfPresent(Int.self, forKey: .nMfcc)
            nFft = try named.decodeIfPresent(Int.self, forKey: .nFft)
            hopLength = try named.decodeIfPresent(Int.self, forKey: .hopLength)
            frames = try named.decodeIfPresent(Int.self, forKey: .frames)
            normalization = try named.decodeIfPresent(String.self, forKey: .normalization)
            let all = try decoder.container(keyedBy: AnyCodingKey.self)
            extra = [:]
            for key in all.allKeys where CodingKeys(rawValue: key.stringValue) == nil {
                extra[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
            }
        }

        /// Encodes the named fields and `extra` as one flat object.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: AnyCodingKey.self)
            for (key, value) in extra { try container.encode(value, forKey: AnyCodingKey(key)) }
            let named: [(CodingKeys, Int?)] = [(.sampleRate, sampleRate), (.nMfcc, nMfcc), (.nFft, nFft), (.hopLength, hopLength), (.frames, frames)]
            for (key, value) in named { try container.encodeIfPresent(value, forKey: AnyCodingKey(key.rawValue)) }
            try container.encode(kind, forKey: AnyCodingKey(CodingKeys.kind.rawValue))
            try container.encodeIfPresent(normalization, forKey: AnyCodingKey(CodingKeys.normalization.rawValue))
        }
    }

    /// Creates a config for the FQ-BMRU cell, at the lowest format version that holds `readout`.
    public init(name: String, inputs: Int, hidden: Int, blocks: Int, classes: [String], readout: Readout = .relu,
                unitCurrent: Double = 1e-9, features: Features = .raw, training: JSONValue? = nil) {
        self.format = Self.formatName
        self.formatVersion = readout.formatVersion
        self.name = name
        self.cell = Self.fqCell
        self.inputs = inputs
        self.hidden = hidden
        self.blocks = blocks
        self.classes = classes
        self.readout = readout
        self.unitCurrent = unitCurrent
        self.features = features
        self.training = training
    }

    enum CodingKeys: String, CodingKey {
        case format, name, cell, inputs, hidden, blocks, classes, readout, features, training
        case formatVersion = "format_version", unitCurrent = "unit_current"
    }

    /// Decodes the fields in declaration order; an absent `readout` is `relu`, the only readout of
    /// format version 1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(String.self, forKey: .format)
        formatVersion = try container.decode(Int.self, forKey: .formatVersion)
        name = try container.decode(String.self, forKey: .name)
        cell = try container.decode(String.self, forKey: .cell)
        inputs = try container.decode(Int.self, forKey: .inputs)
        hidden = try container.decode(Int.self, forKey: .hidden)
        blocks = try container.decode(Int.self, forKey: .blocks)
        classes = try container.decode([String].self, forKey: .classes)
        readout = try container.decodeIfPresent(Readout.self, forKey: .readout) ?? .relu
        unitCurrent = try container.decode(Double.self, forKey: .unitCurrent)
        features = try container.decode(Features.self, forKey: .features)
        training = try container.decodeIfPresent(JSONValue.self, forKey: .training)
    }

    /// Encodes every field; `readout` only when it is not `relu`, so that a version-1 config
    /// is written as it was read.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(format, forKey: .format)
        try container.encode(formatVersion, forKey: .formatVersion)
        try container.encode(name, forKey: .name)
        try container.encode(cell, forKey: .cell)
        try container.encode(inputs, forKey: .inputs)
        try container.encode(hidden, forKey: .hidden)
        try container.encode(blocks, forKey: .blocks)
        try container.encode(classes, forKey: .classes)
        if readout != .relu { try container.encode(readout, forKey: .readout) }
        try container.encode(unitCurrent, forKey: .unitCurrent)
        try container.encode(features, forKey: .features)
        try container.encodeIfPresent(training, forKey: .training)
    }

    /// Reads, decodes and validates a `config.json`.
    public static func load(from url: URL) throws(ModelError) -> ModelConfig {
        let file = url.relativePath
        let data = try SafetensorsFile.contents(of: url)
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as DecodingError {
            throw Self.describe(error, data: data, file: file)
        } catch {
            throw .invalidField(file: file, field: "(document)", problem: fileErrorReason(error))
        }
        try config.validate(file: file)
        return config
    }

    /// The config as pretty-printed JSON with snake_case keys, as stored in `config.json`. Fails
    /// only for a non-finite number, which JSON cannot hold.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Checks the values that decoding alone does not: format, cell kind, a readout its version
    /// holds, positive sizes, unique class names, the unit current and feature sizes within their ranges, and complete MFCC
    /// settings.
    public func validate(file: String) throws(ModelError) {
        func fail(_ field: String, _ problem: String) -> ModelError {
            .invalidField(file: file, field: field, problem: problem)
        }
        guard format == Self.formatName else { throw fail("format", "is \"\(format)\", expected \"\(Self.formatName)\"") }
        guard Self.supportedVersions.contains(formatVersion) else {
            let versions = Self.supportedVersions
            throw fail("format_version", "is \(formatVersion), this build reads \(versions.lowerBound) to \(versions.upperBound)")
        }
        guard !name.isEmpty else { throw fail("name", "must not be empty") }
        guard cell == Self.fqCell else { throw fail("cell", "is \"\(cell)\", expected \"\(Self.fqCell)\"") }
        guard formatVersion >= readout.formatVersion else {
            throw fail("readout", "is \"\(readout.rawValue)\", which needs format_version \(readout.formatVersion) (a reader of "
                + "version \(formatVersion) would ignore it)")
        }
        for (field, value) in [("inputs", inputs), ("hidden", hidden), ("blocks", blocks)] where value < 1 {
            throw fail(field, "is \(value), must be >= 1")
        }
        guard classes.count >= 2 else { throw fail("classes", "has \(classes.count) entries, needs >= 2") }
        guard Set(classes).count == classes.count, !classes.contains("") else {
            throw fail("classes", "names must be unique and non-empty")
        }
        guard Self.unitCurrentRange.contains(unitCurrent) else {
            throw fail("unit_current", "is \(unitCurrent), must be in \(Self.unitCurrentRange.lowerBound)...\(Self.unitCurrentRange.upperBound) A")
        }
        let values: [String: Int?] = [
            "sample_rate": features.sampleRate, "n_mfcc": features.nMfcc, "n_fft": features.nFft,
            "hop_length": features.hopLength, "frames": features.frames,
        ]
        for (field, range) in Self.featureRanges {
            guard let value = values[field] ?? nil else { continue }
            guard range.contains(value) else {
                throw fail("features.\(field)", "is \(value), must be in \(range.lowerBound)...\(range.upperBound)")
            }
        }
        switch features.kind {
        case "raw":
            break
        case "mfcc":
            for (field, _) in Self.featureRanges where (values[field] ?? nil) == nil {
                throw fail("features.\(field)", "required when kind is \"mfcc\"")
            }
            guard features.nMfcc == inputs else {
                throw fail("features.n_mfcc", "is \(features.nMfcc ?? 0), must equal inputs (\(inputs))")
            }
        default:
            throw fail("features.kind", "is \"\(features.kind)\", expected \"mfcc\" or \"raw\"")
        }
    }

    /// The integer fields, as dotted paths.
    static let integerFields = ["format_version", "inputs", "hidden", "blocks"]
        + ["sample_rate", "n_mfcc", "n_fft", "hop_length", "frames"].map { "features.\($0)" }

    /// The first integer field of a JSON document that holds a number no `Int` represents (4.5,
    /// 1e30): JSONDecoder reports such a number as invalid JSON without naming the field.
    private static func nonIntegerField(_ data: Data) -> (field: String, value: Double)? {
        guard let document = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        for field in integerFields {
            var value: JSONValue? = document
            for key in field.split(separator: ".") {
                guard case let .object(object) = value else { value = nil; break }
                value = object[String(key)]
            }
            if let number = value?.number, Int(exactly: number) == nil { return (field, number) }
        }
        return nil
    }

    /// Maps a decoding error to one line naming the field (snake_case path as in the file).
    private static func describe(_ error: DecodingError, data: Data, file: String) -> ModelError {
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (key.map { [$0] } ?? [])
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "(document)" : String(text.drop { $0 == "." })
        }
        switch error {
        case let .keyNotFound(key, context):
            return .invalidField(file: file, field: path(context, key), problem: "missing")
        case let .typeMismatch(type, context):
            return .invalidField(file: file, field: path(context), problem: "expected \(type)")
        case let .valueNotFound(type, context):
            return .invalidField(file: file, field: path(context), problem: "is null, expected \(type)")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty, let (field, value) = nonIntegerField(data) {
                return .invalidField(file: file, field: field, problem: "is \(JSONValue.number(value)), expected an integer")
            }
            let problem = context.codingPath.isEmpty ? "not valid JSON" : context.debugDescription
            return .invalidField(file: file, field: path(context), problem: problem)
        @unknown default:
            return .invalidField(file: file, field: "(document)", problem: "cannot decode")
        }
    }
}
