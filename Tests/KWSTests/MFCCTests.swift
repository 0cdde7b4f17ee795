import BMRU
import Foundation
import Testing
import TestSupport
@testable import KWS

@Suite("MFCC")
struct MFCCTests {
    @Test("Swift MFCCs match the training pipeline's on real clips (max |diff| < 1e-4 after normalisation)")
    func golden() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mfcc-golden.safetensors")
        let golden = try SafetensorsFile(contentsOf: fixture)
        let clips = try #require(golden.metadata["clips"].flatMap {
            try? JSONDecoder().decode([String].self, from: Data($0.utf8))
        })
        let expected = try #require(golden.tensors["features"])
        let expectedRaw = try #require(golden.tensors["raw"])
        #expect(expected.shape == [clips.count, 101, 13])
        let mfcc = MFCC()
        var worst = 0.0
        var worstRaw = 0.0
        for (c, clip) in clips.enumerated() {
            let audio = try Audio.read(TestSupport.speechCommands.appendingPathComponent(clip), sampleRate: 16000)
            let features = mfcc.features(audio.samples)
            let raw = mfcc.coefficients(audio.samples)
            #expect(features.count == 101 && features[0].count == 13)
            for t in 0..<101 {
                for k in 0..<13 {
                    let index = (c * 101 + t) * 13 + k
                    worst = max(worst, abs(features[t][k] - expected.values[index]))
                    worstRaw = max(worstRaw, abs(raw[k][t] - expectedRaw.values[index]))
                }
            }
        }
        #expect(worst < 1e-4, "max |diff| of normalised features \(worst)")
        #expect(worstRaw < 1e-3, "max |diff| of raw cepstra (dB scale) \(worstRaw)")
    }

    @Test("The Slaney mel scale round-trips and is linear below 1 kHz")
    func melScale() {
        for hertz in [0.0, 200, 999, 1000, 1001, 4000, 8000] {
            #expect(abs(MFCC.melToHertz(MFCC.hertzToMel(hertz)) - hertz) < 1e-9)
        }
        #expect(abs(MFCC.hertzToMel(1000) - 15) < 1e-12)
        #expect(abs(MFCC.hertzToMel(500) - 7.5) < 1e-12)
    }

    @Test("Short clips are zero-padded and long clips cropped to one second")
    func length() {
        let mfcc = MFCC()
        let tone = (0..<8000).map { sin(2 * Double.pi * 440 * Double($0) / 16000) }
        let padded = mfcc.coefficients(tone)
        let explicit = mfcc.coefficients(tone + [Double](repeating: 0, count: 8000))
        #expect(padded == explicit)
        let long = mfcc.coefficients(tone + tone + tone)
        #expect(long == mfcc.coefficients(tone + tone))
    }
}

@Suite("Audio")
struct AudioTests {
    func temporary(_ suffix: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bmrukit-audio-\(UUID().uuidString)\(suffix)")
    }

    /// A 16-bit PCM WAV file with the given interleaved samples.
    func wav(_ samples: [Int16], channels: Int, rate: Int) -> Data {
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); append(UInt32(36 + samples.count * 2))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); append(UInt32(16)); append(UInt16(1)); append(UInt16(channels))
        append(UInt32(rate)); append(UInt32(rate * channels * 2)); append(UInt16(channels * 2)); append(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); append(UInt32(samples.count * 2))
        for sample in samples { append(sample) }
        return data
    }

    @Test("A real 16 kHz clip reads as 16-bit samples divided by 32768")
    func realClip() throws {
        let folder = TestSupport.speechCommands.appendingPathComponent("yes")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().first)
        let audio = try Audio.read(folder.appendingPathComponent(name))
        #expect(audio.sampleRate == 16000)
        #expect(audio.samples.count > 8000 && audio.samples.count <= 16000)
        #expect(audio.samples.allSatisfy { abs($0) <= 1 })
        #expect(audio.samples.allSatisfy { ($0 * 32768).rounded() == $0 * 32768 })
    }

    @Test("Stereo is averaged and other rates are resampled to 16 kHz")
    func stereoAndRate() throws {
        let url = temporary(".wav")
        defer { try? FileManager.default.removeItem(at: url) }
        let frames = 44100
        let samples: [Int16] = (0..<frames).flatMap { i -> [Int16] in
            let value = Int16(8000 * sin(2 * Double.pi * 440 * Double(i) / 44100))
            return [value, value / 2]
        }
        try wav(samples, channels: 2, rate: 44100).write(to: url)
        let native = try Audio.read(url)
        #expect(native.sampleRate == 44100 && native.samples.count == frames)
        #expect(abs(native.samples[100] - (Double(samples[200]) + Double(samples[201])) / 2 / 32768) < 1e-12)
        let resampled = try Audio.read(url, sampleRate: 16000)
        #expect(resampled.sampleRate == 16000)
        #expect(abs(resampled.samples.count - 16000) <= 2)
        // The 440 Hz tone keeps its amplitude (0.75 x 8000 / 32768) through the converter.
        let peak = resampled.samples[1000..<15000].map(abs).max() ?? 0
        #expect(abs(peak - 0.75 * 8000 / 32768) < 0.005)
    }

    @Test("Corrupt, empty and non-audio files give a one-line error naming the file")
    func badFiles() throws {
        let cases: [(String, Data)] = [
            ("text", Data("this is not audio".utf8)),
            ("truncated", wav([1, 2, 3, 4], channels: 1, rate: 16000).prefix(30)),
            ("empty", wav([], channels: 1, rate: 16000)),
            ("zero", Data()),
        ]
        for (name, data) in cases {
            let url = temporary("-\(name).wav")
            defer { try? FileManager.default.removeItem(at: url) }
            try data.write(to: url)
            #expect {
                try Audio.read(url)
            } throws: { error in
                let text = (error as? AudioError)?.description ?? ""
                return text.contains(url.path) && !text.contains("\n")
            }
        }
        #expect(throws: AudioError.self) { try Audio.read(URL(fileURLWithPath: "/nonexistent/clip.wav")) }
        // Random data behind an MPEG frame header: libsndfile's MPEG decoder gives up and libsndfile
        // then says the file does not exist.
        let mpeg = temporary("-mpeg.wav")
        defer { try? FileManager.default.removeItem(at: mpeg) }
        try (Data([0xFF, 0xFB, 0x90, 0x64]) + Data((0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) })).write(to: mpeg)
        #expect(throws: AudioError.unreadable(file: mpeg.path, reason: "not audio in a format libsndfile reads (corrupt or unknown data)")) {
            try Audio.read(mpeg)
        }
    }

    /// A 32-bit float WAV file with the given mono samples.
    func floatWAV(_ samples: [Float], rate: Int) -> Data {
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: Array("RIFF".utf8)); append(UInt32(36 + samples.count * 4))
        data.append(contentsOf: Array("WAVEfmt ".utf8)); append(UInt32(16)); append(UInt16(3)); append(UInt16(1))
        append(UInt32(rate)); append(UInt32(rate * 4)); append(UInt16(4)); append(UInt16(32))
        data.append(contentsOf: Array("data".utf8)); append(UInt32(samples.count * 4))
        for sample in samples { append(sample.bitPattern) }
        return data
    }

    @Test("A NaN or infinite sample in a float WAV is an error naming the file and the sample", arguments: [Float.nan, .infinity])
    func nonFinite(value: Float) throws {
        let url = temporary("-float.wav")
        defer { try? FileManager.default.removeItem(at: url) }
        var samples = [Float](repeating: 0.1, count: 16000)
        samples[1234] = value
        try floatWAV(samples, rate: 16000).write(to: url)
        #expect(throws: AudioError.nonFinite(file: url.path, frame: 1234, channel: 0, value: Double(value))) { try Audio.read(url) }
        #expect(AudioError.nonFinite(file: url.path, frame: 1234, channel: 0, value: Double(value)).description
            == "\(url.path): sample 1234 of channel 0 is \(Double(value)); audio samples must be finite")
    }

    @Test("A truncated real clip is read as far as it goes, with a warning naming the file")
    func truncated() throws {
        let folder = TestSupport.speechCommands.appendingPathComponent("yes")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().first)
        let whole = try Data(contentsOf: folder.appendingPathComponent(name))
        let url = temporary("-truncated.wav")
        defer { try? FileManager.default.removeItem(at: url) }
        try whole.prefix(whole.count / 2).write(to: url)
        let audio = try Audio.read(url)
        #expect(audio.samples == Array(try Audio.read(folder.appendingPathComponent(name)).samples.prefix(audio.samples.count)))
        #expect(audio.warnings.count == 1)
        #expect(audio.warnings.first?.hasPrefix("\(url.path): truncated: its header announces") == true, "\(audio.warnings)")
        #expect(try Audio.read(folder.appendingPathComponent(name)).warnings.isEmpty)
    }

    @Test("A recording longer than the model's clip is classified on its first clip_samples, with a warning")
    func longRecording() throws {
        let model = try Model.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4"))
        let spotter = try KeywordSpotter(model: model)
        let clip = TestSupport.speechCommands.appendingPathComponent("yes")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: clip.path).sorted().first)
        let audio = try Audio.read(clip.appendingPathComponent(name))
        let url = temporary("-long.wav")
        defer { try? FileManager.default.removeItem(at: url) }
        let padded = audio.samples + [Double](repeating: 0, count: 16000 - audio.samples.count)
        try wav((padded + padded + padded).map { Int16($0 * 32768) }, channels: 1, rate: 16000).write(to: url)
        let (features, warnings) = try spotter.features(url)
        #expect(features == spotter.mfcc.features(audio.samples))
        #expect(warnings == ["\(url.path): 48000 samples (3 s) are longer than the model's clip: only the first 16000 (1 s) are used"])
        #expect(try spotter.detect(clip.appendingPathComponent(name)).detection.warnings.isEmpty)
    }

    @Test("Sample rates further apart than libsamplerate converts are an error naming the file")
    func resamplingRange() throws {
        let url = temporary("-1hz.wav")
        defer { try? FileManager.default.removeItem(at: url) }
        try wav([1, 2, 3, 4], channels: 1, rate: 1).write(to: url)
        #expect(throws: AudioError.unreadable(file: url.path, reason: "its sample rate 1 Hz cannot be converted to 16000 Hz (libsamplerate converts ratios 1/256...256)")) {
            try Audio.read(url, sampleRate: 16000)
        }
    }
}

@Suite("MFCC recipe from config.json")
struct MFCCRecipeTests {
    /// The committed kws-yes-d4 model's `features`: the training pipeline's full recipe.
    static func pipelineFeatures() throws -> ModelConfig.Features {
        try ModelConfig.load(from: TestSupport.repository.appendingPathComponent("results/models/kws-yes-d4/config.json")).features
    }

    /// The pipeline's features with `changes` (config.json names and JSON values) applied.
    static func features(_ changes: [String: JSONValue]) throws -> ModelConfig.Features {
        var features = try pipelineFeatures()
        for (field, value) in changes {
            switch field {
            case "frames": features.frames = value.number.map { Int($0) }
            case "n_fft": features.nFft = value.number.map { Int($0) }
            case "hop_length": features.hopLength = value.number.map { Int($0) }
            case "sample_rate": features.sampleRate = value.number.map { Int($0) }
            case "n_mfcc": features.nMfcc = value.number.map { Int($0) }
            case "normalization": features.normalization = value.string
            default: features.extra[field] = value
            }
        }
        return features
    }

    @Test("The committed kws models' recipes load as the pipeline's settings", arguments: ["kws-yes-d4", "kws-yes-d16"])
    func committedModels(name: String) throws {
        let config = try ModelConfig.load(from: TestSupport.repository.appendingPathComponent("results/models/\(name)/config.json"))
        #expect(try MFCCSettings(config.features, file: "config.json") == MFCCSettings())
    }

    @Test("Every implemented recipe field matches librosa on a real clip (raw cepstra within 1e-3 dB)")
    func variants() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mfcc-variants.safetensors")
        let file = try SafetensorsFile(contentsOf: fixture)
        let clip = try #require(file.metadata["clip"])
        let variants = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(try #require(file.metadata["variants"]).utf8))
        #expect(variants.count == 12)
        let audio = try Audio.read(TestSupport.speechCommands.appendingPathComponent(clip), sampleRate: 16000)
        for (index, change) in variants.enumerated() {
            let expected = try #require(file.tensors["variant.\(index)"])
            let mfcc = MFCC(try MFCCSettings(try Self.features(change), file: "config.json"))
            let raw = mfcc.coefficients(audio.samples)
            let (coefficients, frames) = (raw.count, raw.first?.count ?? 0)
            #expect(expected.shape == [frames, coefficients], "\(change)")
            guard expected.shape == [frames, coefficients] else { continue }
            var worst = 0.0
            for t in 0..<frames { for k in 0..<coefficients { worst = max(worst, abs(raw[k][t] - expected.values[t * coefficients + k])) } }
            #expect(worst < 1e-3, "\(change): max |diff| \(worst)")
        }
    }

    @Test("A recipe the front end does not implement, or nonsense numbers, give one line naming config.json and the field",
          arguments: [
              (["window": .string("blackman")], "features.window: is \"blackman\"; this front end implements \"hann\", \"hamming\""),
              (["pad_mode": .string("reflect")], "features.pad_mode: is \"reflect\"; this front end implements \"constant\""),
              (["power": .number(3)], "features.power: is 3, this front end implements 1 (magnitude) and 2 (power)"),
              (["mel_norm": .number(1)], "features.mel_norm: is 1; this front end implements \"slaney\" and null"),
              (["dct_type": .number(3)], "features.dct_type: is 3, this front end implements the DCT-II (2)"),
              (["dct_norm": .string("forward")], "features.dct_norm: is \"forward\"; this front end implements \"ortho\" and null"),
              (["lifter": .number(-1)], "features.lifter: is -1, must be >= 0"),
              (["center": .string("yes")], "features.center: is \"yes\", expected true or false"),
              (["mel_htk": .number(0)], "features.mel_htk: is 0, expected true or false"),
              (["clip_pad": .string("reflect")], "features.clip_pad: is \"reflect\"; this front end implements \"zeros at end / crop end\""),
              (["normalization": .string("global")], "features.normalization: is \"global\"; this front end implements \"per_clip_per_coefficient\""),
              (["preemphasis": .number(0.97)], "features.preemphasis: is not a setting of this front end"),
              (["n_mels": .number(0)], "features.n_mels: is 0, must be an integer in 1...1024"),
              (["n_mels": .number(-3)], "features.n_mels: is -3, must be an integer in 1...1024"),
              (["n_mels": .number(1e12)], "features.n_mels: is 1000000000000, must be an integer in 1...1024"),
              (["n_mels": .number(40.5)], "features.n_mels: is 40.5, must be an integer in 1...1024"),
              (["n_mels": .string("40")], "features.n_mels: is \"40\", expected a number"),
              (["n_mels": .number(200)], "features.n_mels: is 200: band 0 holds no FFT bin"),
              (["n_mfcc": .number(41)], "features.n_mfcc: is 41, must be <= n_mels (40)"),
              (["fmin": .number(9000)], "features.fmin: is 9000.0 Hz, must be below fmax (8000.0 Hz)"),
              (["fmax": .number(9000)], "features.fmax: is 9000.0 Hz, above the Nyquist frequency 8000.0 Hz of sample_rate 16000"),
              (["fmin": .number(-1)], "features.fmin: is -1, must be >= 0"),
              (["db_top_db": .number(-1)], "features.db_top_db: is -1, must be >= 0 (or null: no floor)"),
              (["db_amin": .number(0)], "features.db_amin: is 0, must be > 0"),
              (["db_ref": .number(-1)], "features.db_ref: is -1, must be > 0"),
              (["normalization_eps": .number(0)], "features.normalization_eps: is 0, must be > 0"),
              (["win_length": .number(1024)], "features.win_length: is 1024, must be an integer in 1...512"),
              (["hop_length": .number(1000)], "features.hop_length: is 1000, must be <= n_fft (512)"),
              (["clip_samples": .number(1e20)], "features.clip_samples: is 1e+20, must be an integer in 1...10000000"),
              (["clip_samples": .number(-5)], "features.clip_samples: is -5, must be an integer in 1...10000000"),
              (["clip_samples": .number(32000)], "features.frames: is 101, but clip_samples 32000 with hop_length 160 give 201"),
              (["center": .bool(false)], "features.frames: is 101, but clip_samples 16000 with hop_length 160 give 97"),
              (["center": .bool(false), "clip_samples": .number(100), "frames": .number(1)],
               "features.clip_samples: is 100, shorter than one FFT frame (n_fft 512) with center false"),
          ] as [([String: JSONValue], String)])
    func rejects(change: [String: JSONValue], message: String) throws {
        let features = try Self.features(change)
        #expect {
            _ = try MFCCSettings(features, file: "m/config.json")
        } throws: { error in
            let text = (error as? ModelError)?.description ?? "\(error)"
            return text.hasPrefix("m/config.json: field " + message) && !text.contains("\n")
        }
    }
}
