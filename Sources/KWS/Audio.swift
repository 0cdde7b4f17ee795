import CSamplerate
import CSndfile
import Foundation

/// A mono recording as 64-bit samples in [-1, 1).
public struct Audio: Sendable, Equatable {
    /// The samples, channels averaged.
    public var samples: [Double]
    /// Samples per second.
    public var sampleRate: Int

    /// A recording with the given samples.
    public init(samples: [Double], sampleRate: Int) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// Reads any audio file libsndfile understands (WAV 16-bit PCM and the other common formats),
    /// averages its channels, and resamples it to `sampleRate` when that is given and differs.
    ///
    /// Integer samples are scaled like the training pipeline's reader (soundfile, the same library):
    /// 16-bit values divided by 32768.
    public static func read(_ url: URL, sampleRate target: Int? = nil) throws(AudioError) -> Audio {
        var info = SF_INFO()
        guard let file = sf_open(url.path, Int32(SFM_READ), &info) else {
            throw .unreadable(file: url.path, reason: String(cString: sf_strerror(nil)))
        }
        defer { sf_close(file) }
        let channels = Int(info.channels)
        let frames = Int(info.frames)
        guard channels > 0, info.samplerate > 0 else {
            throw .unreadable(file: url.path, reason: "no channels or no sample rate")
        }
        guard frames > 0 else { throw .empty(file: url.path) }
        var interleaved = [Double](repeating: 0, count: frames * channels)
        let read = interleaved.withUnsafeMutableBufferPointer { sf_readf_double(file, $0.baseAddress, sf_count_t(frames)) }
        guard read > 0 else { throw .unreadable(file: url.path, reason: "no samples could be decoded") }
        var mono = [Double](repeating: 0, count: Int(read))
        for frame in 0..<Int(read) {
            var sum = 0.0
            for channel in 0..<channels { sum += interleaved[frame * channels + channel] }
            mono[frame] = sum / Double(channels)
        }
        let audio = Audio(samples: mono, sampleRate: Int(info.samplerate))
        guard let target, target != audio.sampleRate else { return audio }
        return try audio.resampled(to: target, file: url.path)
    }

    /// The recording at another sample rate, by libsamplerate's best band-limited sinc converter.
    public func resampled(to rate: Int, file: String = "audio") throws(AudioError) -> Audio {
        let ratio = Double(rate) / Double(sampleRate)
        let input = samples.map { Float($0) }
        var output = [Float](repeating: 0, count: Int((Double(samples.count) * ratio).rounded(.up)) + 16)
        var generated = 0
        let status: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                var data = SRC_DATA()
                data.data_in = source.baseAddress
                data.input_frames = source.count
                data.data_out = destination.baseAddress
                data.output_frames = destination.count
                data.src_ratio = ratio
                let status = src_simple(&data, Int32(SRC_SINC_BEST_QUALITY), 1)
                generated = data.output_frames_gen
                return status
            }
        }
        guard status == 0 else {
            throw .unreadable(file: file, reason: "resampling failed: \(String(cString: src_strerror(status)))")
        }
        return Audio(samples: output.prefix(generated).map(Double.init), sampleRate: rate)
    }
}

/// Why an audio file could not be used; each description is one line naming the file.
public enum AudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is missing, corrupt or not audio.
    case unreadable(file: String, reason: String)
    /// The file holds no samples.
    case empty(file: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "\(file): cannot read audio: \(reason)"
        case let .empty(file): "\(file): the audio file holds no samples"
        }
    }
}
