import CFFTW
import Foundation
import Synchronization

/// The settings of the MFCC front end; the defaults are those of the training pipeline
/// (scripts/train/features.py, librosa 0.11), which the committed models were trained with. Each
/// setting is the librosa argument recorded under the same name in a model's `features`
/// (`MFCCSettings(_:file:)` reads and checks them; docs/model-format.md).
public struct MFCCSettings: Sendable, Equatable, Codable {
    /// Sample rate the clip is read at.
    public var sampleRate = 16000
    /// Clip length in samples: longer clips are cropped at the end, shorter ones padded with zeros.
    public var clipSamples = 16000
    /// FFT size.
    public var fftSize = 512
    /// Window length in samples, at most `fftSize` (the window is centred in the FFT frame and
    /// zero-padded, as librosa does).
    public var windowLength = 512
    /// The window function.
    public var window = Window.hann
    /// Whether frames are centred on their hop positions (`fftSize / 2` zeros padded on both sides
    /// of the clip) or start at them (no padding).
    public var center = true
    /// Hop between frames in samples.
    public var hopLength = 160
    /// Exponent of the magnitude spectrum: 2 (power) or 1 (magnitude).
    public var power = 2.0
    /// Mel bands.
    public var melBands = 40
    /// The mel scale of the band edges.
    public var melScale = MelScale.slaney
    /// Whether each mel band is scaled to unit area (librosa's `norm="slaney"`) or left at unit peak.
    public var melAreaNormalization = true
    /// Coefficients kept after the DCT.
    public var coefficients = 13
    /// Lowest mel band edge in hertz.
    public var minFrequency = 0.0
    /// Highest mel band edge in hertz.
    public var maxFrequency = 8000.0
    /// Reference power of 0 dB.
    public var referencePower = 1.0
    /// Power floor before the logarithm.
    public var amin = 1e-10
    /// Dynamic range kept below the clip's loudest mel value, in dB; nil keeps all.
    public var topDB: Double? = 80.0
    /// Whether the DCT-II is orthonormal (`norm="ortho"`) or scipy's unnormalised one (factor 2).
    public var orthonormalDCT = true
    /// Cepstral liftering parameter L: coefficient k is scaled by 1 + (L / 2) sin(pi (k + 1) / L);
    /// 0 leaves the coefficients as they are.
    public var lifter = 0.0
    /// Added to the variance in the per-clip normalisation.
    public var normalizationEpsilon = 1e-6

    /// A window function, as scipy's `get_window(name, length, fftbins=True)` (periodic).
    public enum Window: String, Sendable, Codable, CaseIterable {
        /// 0.5 - 0.5 cos(2 pi n / N).
        case hann
        /// 0.54 - 0.46 cos(2 pi n / N).
        case hamming
    }

    /// A mel scale, as librosa's `hz_to_mel`.
    public enum MelScale: String, Sendable, Codable {
        /// Slaney's: linear below 1 kHz (200/3 Hz per mel), logarithmic above (`htk=False`).
        case slaney
        /// HTK's: 2595 log10(1 + f / 700) (`htk=True`).
        case htk
    }

    /// The training pipeline's settings.
    public init() {}

    /// Frames per clip: `1 + clipSamples / hopLength` when centred (101 for 1 s at 10 ms), else
    /// `1 + (clipSamples - fftSize) / hopLength` (0 when the clip is shorter than one FFT frame).
    public var frames: Int {
        center ? 1 + clipSamples / hopLength : (clipSamples < fftSize ? 0 : 1 + (clipSamples - fftSize) / hopLength)
    }
}

/// MFCC features exactly as the training pipeline computes them, with FFTW for the spectra.
///
/// Per clip (the defaults of `MFCCSettings`): crop or zero-pad to `clipSamples`; centre the frames
/// by padding `fftSize / 2` zeros on both sides; periodic Hann window; power spectrum; Slaney mel
/// filterbank (weights rounded to float32, as librosa stores them); `10 log10(max(amin, S))` floored
/// at the clip maximum minus `topDB`; orthonormal DCT-II; then each coefficient normalised to zero
/// mean and unit variance over the clip's frames. The result is frame-major,
/// `[frames][coefficients]`, as the model reads it. The other settings follow librosa 0.11's
/// `melspectrogram`, `power_to_db` and `mfcc` with the same arguments.
public final class MFCC: Sendable {
    /// The settings in use.
    public let settings: MFCCSettings
    private let window: [Double]  // [fftSize], the window centred and zero-padded
    private let filterbank: [[Double]]  // [melBands][fftSize / 2 + 1]
    private let dct: [[Double]]  // [coefficients][melBands], lifter included
    private let plan: OpaquePlan

    /// FFTW's planner is not thread-safe; executing a plan on new arrays is.
    private static let plannerLock = Mutex(())

    /// Prepares the window, filterbank, DCT matrix and FFT plan for `settings`, which must be
    /// consistent: read from a model with `MFCCSettings(_:file:)`, which checks them, or the defaults.
    public init(_ settings: MFCCSettings = MFCCSettings()) {
        self.settings = settings
        let n = settings.fftSize
        let length = settings.windowLength
        let (a0, a1) = settings.window == .hann ? (0.5, 0.5) : (0.54, 0.46)
        var window = [Double](repeating: 0, count: n)
        for i in 0..<length { window[(n - length) / 2 + i] = a0 - a1 * cos(2 * Double.pi * Double(i) / Double(length)) }
        self.window = window
        filterbank = Self.melFilterbank(settings)
        let bands = settings.melBands
        dct = (0..<settings.coefficients).map { k in
            let scale = !settings.orthonormalDCT ? 2 : (k == 0 ? (1 / Double(bands)).squareRoot() : (2 / Double(bands)).squareRoot())
            let lifter = settings.lifter > 0
                ? 1 + settings.lifter / 2 * sin(Double.pi * Double(k + 1) / settings.lifter) : 1
            return (0..<bands).map { m in
                lifter * scale * cos(Double.pi * Double(k) * (2 * Double(m) + 1) / (2 * Double(bands)))
            }
        }
        plan = Self.plannerLock.withLock { _ in
            let input = fftw_alloc_real(n)
            let output = fftw_alloc_complex(n / 2 + 1)
            defer { fftw_free(input); fftw_free(output) }
            return OpaquePlan(fftw_plan_dft_r2c_1d(Int32(n), input, output, UInt32(FFTW_ESTIMATE)))
        }
    }

    deinit {
        Self.plannerLock.withLock { _ in fftw_destroy_plan(plan.plan) }
    }

    /// The normalised features of one recording at `settings.sampleRate`: `[frames][coefficients]`.
    public func features(_ samples: [Double]) -> [[Double]] {
        let raw = coefficients(samples)
        let frames = raw.first?.count ?? 0
        var result = [[Double]](repeating: [Double](repeating: 0, count: settings.coefficients), count: frames)
        for (k, row) in raw.enumerated() {
            let mean = row.reduce(0, +) / Double(frames)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(frames)
            let scale = 1 / (variance + settings.normalizationEpsilon).squareRoot()
            for t in 0..<frames { result[t][k] = (row[t] - mean) * scale }
        }
        return result
    }

    /// The un-normalised cepstral coefficients, `[coefficients][frames]`.
    public func coefficients(_ samples: [Double]) -> [[Double]] {
        let n = settings.fftSize
        let half = n / 2
        let offset = settings.center ? half : 0
        var padded = [Double](repeating: 0, count: settings.clipSamples + n)
        for i in 0..<min(samples.count, settings.clipSamples) { padded[offset + i] = samples[i] }
        let frames = settings.frames
        let bins = half + 1
        let input = fftw_alloc_real(n)!
        let output = fftw_alloc_complex(bins)!
        defer { fftw_free(input); fftw_free(output) }
        var mel = [[Double]](repeating: [Double](repeating: 0, count: frames), count: settings.melBands)
        var power = [Double](repeating: 0, count: bins)
        for t in 0..<frames {
            let start = t * settings.hopLength
            for i in 0..<n { input[i] = padded[start + i] * window[i] }
            fftw_execute_dft_r2c(plan.plan, input, output)
            for k in 0..<bins {
                let (re, im) = (output[k].0, output[k].1)
                power[k] = settings.power == 2 ? re * re + im * im : (re * re + im * im).squareRoot()
            }
            for m in 0..<settings.melBands {
                var sum = 0.0
                for (k, weight) in filterbank[m].enumerated() where weight != 0 { sum += weight * power[k] }
                mel[m][t] = sum
            }
        }
        let reference = 10 * log10(max(settings.amin, settings.referencePower))
        var decibels = mel.map { $0.map { 10 * log10(max(settings.amin, $0)) - reference } }
        if let topDB = settings.topDB {
            let floor = (decibels.joined().max() ?? 0) - topDB
            decibels = decibels.map { $0.map { max($0, floor) } }
        }
        return dct.map { basis in
            (0..<frames).map { t in
                var sum = 0.0
                for m in 0..<settings.melBands { sum += basis[m] * decibels[m][t] }
                return sum
            }
        }
    }

    /// librosa's `filters.mel` (`htk` and `norm` from the settings), rounded to float32 like librosa.
    static func melFilterbank(_ settings: MFCCSettings) -> [[Double]] {
        let bins = settings.fftSize / 2 + 1
        let frequencies = (0..<bins).map { Double($0) * Double(settings.sampleRate) / Double(settings.fftSize) }
        let scale = settings.melScale
        let low = hertzToMel(settings.minFrequency, scale)
        let high = hertzToMel(settings.maxFrequency, scale)
        let count = settings.melBands + 2
        let edges = (0..<count).map { melToHertz(low + (high - low) * Double($0) / Double(count - 1), scale) }
        return (0..<settings.melBands).map { m in
            let lowerWidth = edges[m + 1] - edges[m]
            let upperWidth = edges[m + 2] - edges[m + 1]
            let norm = 2 / (edges[m + 2] - edges[m])
            return frequencies.map { f in
                let lower = -(edges[m] - f) / lowerWidth
                let upper = (edges[m + 2] - f) / upperWidth
                // librosa stores the triangle in float32, then scales it in place (a second rounding).
                let triangle = Double(Float(max(0, min(lower, upper))))
                return settings.melAreaNormalization ? Double(Float(triangle * norm)) : triangle
            }
        }
    }

    // The Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
    private static let linearStep = 200.0 / 3
    private static let logStart = 1000.0
    private static let logStep = log(6.4) / 27

    static func hertzToMel(_ hertz: Double, _ scale: MFCCSettings.MelScale = .slaney) -> Double {
        if scale == .htk { return 2595 * log10(1 + hertz / 700) }
        return hertz < logStart ? hertz / linearStep : logStart / linearStep + log(hertz / logStart) / logStep
    }

    static func melToHertz(_ mel: Double, _ scale: MFCCSettings.MelScale = .slaney) -> Double {
        if scale == .htk { return 700 * (pow(10, mel / 2595) - 1) }
        let start = logStart / linearStep
        return mel < start ? mel * linearStep : logStart * exp(logStep * (mel - start))
    }
}

/// An FFTW plan, immutable once made; FFTW allows executing it from several threads on new arrays.
private struct OpaquePlan: @unchecked Sendable {
    let plan: fftw_plan?
    init(_ plan: fftw_plan?) { self.plan = plan }
}
