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
        /// What was done to the file to classify it (`KeywordSpotter.features(_:)`); empty when nothing.
        public var warnings: [String]
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
        mfcc = MFCC(try MFCCSettings(features, file: file))
    }

    /// The model's features of one audio file, and warnings (one line each, naming the file) about
    /// what was done to it: a truncated file read as far as it goes, a recording longer than the
    /// model's clip of which only the first `clipSamples` are used.
    public func features(_ url: URL) throws(AudioError) -> (features: [[Double]], warnings: [String]) {
        let settings = mfcc.settings
        let audio = try Audio.read(url, sampleRate: settings.sampleRate)
        var warnings = audio.warnings
        if audio.samples.count > settings.clipSamples {
            let rate = Double(settings.sampleRate)
            warnings.append("\(url.path): \(audio.samples.count) samples (\(Self.seconds(Double(audio.samples.count) / rate))) "
                + "are longer than the model's clip: only the first \(settings.clipSamples) "
                + "(\(Self.seconds(Double(settings.clipSamples) / rate))) are used")
        }
        return (mfcc.features(audio.samples), warnings)
    }

    /// A duration such as `1 s` or `600.5 s`.
    private static func seconds(_ value: Double) -> String { String(format: "%.4g s", value) }

    /// The features and decision for one audio file; the detection carries `features(_:)`'s warnings.
    public func detect(_ url: URL) throws -> (features: [[Double]], trace: Trace, detection: Detection) {
        let (features, warnings) = try features(url)
        let trace = try network.run(features)
        let decision = trace.decision
        let classes = network.model.config.classes
        let detection = Detection(
            file: url.path, prediction: classes[decision.majority],
            scores: Dictionary(uniqueKeysWithValues: zip(classes, decision.integratedLogits)),
            votes: Dictionary(uniqueKeysWithValues: zip(classes, decision.votes)), warnings: warnings)
        return (features, trace, detection)
    }
}

extension MFCCSettings {
    /// The longest clip a model may describe, in samples (`clip_samples`; 10 minutes at 16 kHz).
    public static let maximumClipSamples = 10_000_000
    /// The most mel bands a model may describe (`n_mels`).
    public static let maximumMelBands = 1024

    /// The settings a model's `features` describe, checked: every recorded field of the training
    /// pipeline's recipe (scripts/train/features.py) is read, a value this front end does not
    /// implement or a field it does not know is refused, and the numbers must describe a usable
    /// front end (docs/model-format.md). Fields the features do not give keep the pipeline's
    /// defaults (`win_length`: `n_fft`, `fmax`: half the sample rate, as librosa). Errors name `file`
    /// and the field.
    public init(_ features: ModelConfig.Features, file: String) throws(ModelError) {
        self.init()
        func fail(_ field: String, _ problem: String) -> ModelError {
            .invalidField(file: file, field: "features.\(field)", problem: problem)
        }
        let extra = features.extra
        func number(_ field: String, _ valid: (Double) -> Bool = { _ in true }, _ rule: String) throws(ModelError) -> Double? {
            guard let value = extra[field] else { return nil }
            guard let number = value.number else { throw fail(field, "is \(value), expected a number") }
            guard number.isFinite, valid(number) else { throw fail(field, "is \(value), \(rule)") }
            return number
        }
        func integer(_ field: String, _ range: ClosedRange<Int>) throws(ModelError) -> Int? {
            let rule = "must be an integer in \(range.lowerBound)...\(range.upperBound)"
            return try number(field, { $0 == $0.rounded() && Double(range.lowerBound) <= $0 && $0 <= Double(range.upperBound) }, rule)
                .map { Int($0) }
        }
        func string(_ field: String, _ accepted: [String]) throws(ModelError) -> String? {
            guard let value = extra[field] else { return nil }
            guard let text = value.string, accepted.contains(text) else {
                throw fail(field, "is \(value); this front end implements " + accepted.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            return text
        }
        func boolean(_ field: String) throws(ModelError) -> Bool? {
            guard let value = extra[field] else { return nil }
            guard let flag = value.bool else { throw fail(field, "is \(value), expected true or false") }
            return flag
        }
        /// A string setting whose JSON null means "none" (librosa's None).
        func optionalString(_ field: String, _ accepted: String) throws(ModelError) -> Bool? {
            guard let value = extra[field] else { return nil }
            if value == .null { return false }
            guard value.string == accepted else {
                throw fail(field, "is \(value); this front end implements \"\(accepted)\" and null")
            }
            return true
        }
        if let unknown = extra.keys.sorted().first(where: { !Self.recipeFields.contains($0) }) {
            throw fail(unknown, "is not a setting of this front end (" + Self.recipeFields.sorted().joined(separator: ", ") + ")")
        }
        if let value = features.sampleRate { sampleRate = value }
        if let value = features.nMfcc { coefficients = value }
        if let value = features.nFft { (fftSize, windowLength) = (value, value) }
        if let value = features.hopLength { hopLength = value }
        if features.sampleRate != nil { maxFrequency = Double(sampleRate) / 2 }
        if let normalization = features.normalization, normalization != Self.normalization {
            throw fail("normalization", "is \"\(normalization)\"; this front end implements \"\(Self.normalization)\"")
        }
        if let value = try integer("win_length", 1...max(1, fftSize)) { windowLength = value }
        if let value = try string("window", Window.allCases.map(\.rawValue)) { window = Window(rawValue: value)! }
        if let value = try boolean("center") { center = value }
        _ = try string("pad_mode", ["constant"])
        if let value = try number("power", { $0 == 1 || $0 == 2 }, "this front end implements 1 (magnitude) and 2 (power)") {
            power = value
        }
        if let value = try integer("n_mels", 1...Self.maximumMelBands) { melBands = value }
        if let value = try number("fmin", { $0 >= 0 }, "must be >= 0") { minFrequency = value }
        if let value = try number("fmax", { $0 > 0 }, "must be > 0") { maxFrequency = value }
        if let value = try boolean("mel_htk") { melScale = value ? .htk : .slaney }
        if let value = try optionalString("mel_norm", "slaney") { melAreaNormalization = value }
        if let value = try number("db_ref", { $0 > 0 }, "must be > 0") { referencePower = value }
        if let value = try number("db_amin", { $0 > 0 }, "must be > 0") { amin = value }
        if extra["db_top_db"] == .null {
            topDB = nil
        } else if let value = try number("db_top_db", { $0 >= 0 }, "must be >= 0 (or null: no floor)") {
            topDB = value
        }
        _ = try number("dct_type", { $0 == 2 }, "this front end implements the DCT-II (2)")
        if let value = try optionalString("dct_norm", "ortho") { orthonormalDCT = value }
        if let value = try number("lifter", { $0 >= 0 }, "must be >= 0") { lifter = value }
        if let value = try number("normalization_eps", { $0 > 0 }, "must be > 0") { normalizationEpsilon = value }
        _ = try string("clip_pad", [Self.clipPad])
        if let value = try integer("clip_samples", 1...Self.maximumClipSamples) {
            clipSamples = value
        } else if let frames = features.frames {
            let (clip, overflow) = (frames - 1).multipliedReportingOverflow(by: hopLength)
            clipSamples = overflow ? Int.max : clip + (center ? 0 : fftSize)
            guard clipSamples <= Self.maximumClipSamples else {
                throw fail("frames", "is \(frames): \(frames) frames of \(hopLength) samples exceed the longest clip, \(Self.maximumClipSamples) samples")
            }
        }
        try check(frames: features.frames, fail: fail)
    }

    /// The recipe fields `init(_:file:)` reads from `features.extra`, and `description`, which is text.
    static let recipeFields: Set<String> = [
        "win_length", "window", "center", "pad_mode", "power", "n_mels", "fmin", "fmax", "mel_htk", "mel_norm",
        "db_ref", "db_amin", "db_top_db", "dct_type", "dct_norm", "lifter", "normalization_eps", "clip_samples",
        "clip_pad", "description",
    ]
    /// The one `normalization` implemented.
    static let normalization = "per_clip_per_coefficient"
    /// The one `clip_pad` implemented, as the pipeline records it.
    static let clipPad = "zeros at end / crop end"

    /// The rules between settings: a hop no longer than the FFT, mel bands between 0 Hz and the
    /// Nyquist frequency with no band empty, no more coefficients than bands, and `frames` equal to
    /// the frames the clip gives.
    private func check(frames: Int?, fail: (String, String) -> ModelError) throws(ModelError) {
        guard hopLength <= fftSize else {
            throw fail("hop_length", "is \(hopLength), must be <= n_fft (\(fftSize)): samples between frames would be skipped")
        }
        let nyquist = Double(sampleRate) / 2
        guard maxFrequency <= nyquist else {
            throw fail("fmax", "is \(maxFrequency) Hz, above the Nyquist frequency \(nyquist) Hz of sample_rate \(sampleRate)")
        }
        guard minFrequency < maxFrequency else {
            throw fail("fmin", "is \(minFrequency) Hz, must be below fmax (\(maxFrequency) Hz)")
        }
        guard coefficients <= melBands else {
            throw fail("n_mfcc", "is \(coefficients), must be <= n_mels (\(melBands)): the DCT gives one coefficient per band")
        }
        if let empty = MFCC.melFilterbank(self).firstIndex(where: { $0.allSatisfy { $0 == 0 } }) {
            throw fail("n_mels", "is \(melBands): band \(empty) holds no FFT bin at n_fft \(fftSize) between fmin and fmax")
        }
        guard self.frames >= 1 else {
            throw fail("clip_samples", "is \(clipSamples), shorter than one FFT frame (n_fft \(fftSize)) with center false")
        }
        if let frames, frames != self.frames {
            throw fail("frames", "is \(frames), but clip_samples \(clipSamples) with hop_length \(hopLength) give \(self.frames)")
        }
    }
}
