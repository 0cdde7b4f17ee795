import BMRU
import Foundation

/// Keyword spotting in software: audio file -> MFCC -> the reference network -> clip decision.
///
/// The MFCC settings come from the model's `config.json`, so a model is always fed the features it
/// was trained on; a model whose features are not MFCC (a synthetic task) is refused.
public struct KeywordSpotter: Sendable {
    /// One file's outcome.
    public struct Detection: Sendable, Equatable, Codable {
        /// The audio file.
        public var file: String
        /// The class by majority vote of per-frame argmax (the clip decision).
        public var prediction: String
        /// Time-integrated logits per class, in the model's class order.
        public var scores: [String: Double]
        /// Frames won by each class.
        public var votes: [String: Int]
    }

    /// The network.
    public let network: Network
    /// The front end.
    public let mfcc: MFCC

    /// A spotter for `model`; fails when its features are not MFCC or do not fit the model's inputs.
    public init(model: Model, file: String = "config.json") throws(ModelError) {
        let features = model.config.features
        guard features.kind == "mfcc" else {
            throw .invalidField(file: file, field: "features.kind",
                                 problem: "is \"\(features.kind)\"; keyword spotting needs \"mfcc\"")
        }
        network = Network(model)
        mfcc = MFCC(MFCCSettings(features))
    }

    /// The features and decision for one audio file.
    public func detect(_ url: URL) throws -> (features: [[Double]], trace: Trace, detection: Detection) {
        let audio = try Audio.read(url, sampleRate: mfcc.settings.sampleRate)
        let features = mfcc.features(audio.samples)
        let trace = try network.run(features)
        let decision = trace.decision
        let classes = network.model.config.classes
        let detection = Detection(
            file: url.path, prediction: classes[decision.majority],
            scores: Dictionary(uniqueKeysWithValues: zip(classes, decision.integratedLogits)),
            votes: Dictionary(uniqueKeysWithValues: zip(classes, decision.votes)))
        return (features, trace, detection)
    }
}

extension MFCCSettings {
    /// The settings a model's `features` describe; fields it does not give keep the pipeline's defaults.
    public init(_ features: ModelConfig.Features) {
        self.init()
        if let value = features.sampleRate { sampleRate = value }
        if let value = features.nMfcc { coefficients = value }
        if let value = features.nFft { fftSize = value }
        if let value = features.hopLength { hopLength = value }
        if let frames = features.frames { clipSamples = (frames - 1) * hopLength }
        if let value = features.extra["clip_samples"]?.number { clipSamples = Int(value) }
        if let value = features.extra["n_mels"]?.number { melBands = Int(value) }
        if let value = features.extra["fmin"]?.number { minFrequency = value }
        if let value = features.extra["fmax"]?.number { maxFrequency = value }
        if let value = features.extra["db_amin"]?.number { amin = value }
        if let value = features.extra["db_top_db"]?.number { topDB = value }
        if let value = features.extra["normalization_eps"]?.number { normalizationEpsilon = value }
    }
}
