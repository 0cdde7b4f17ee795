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
    }
}
