import CSamplerate
import CSndfile
import Foundation

/// A mono recording as 64-bit samples in [-1, 1).
public struct Audio: Sendable, Equatable {
    /// The samples, channels averaged.
    public var samples: [Double]
    /// Samples per second.
    public var sampleRate: Int
    /// What the reader noticed but could work around, one line each naming the file (a truncated
    /// file: only the samples present are used).
    public var warnings: [String] = []

    /// A recording with the given samples.
    public init(samples: [Double], sampleRate: Int, warnings: [String] = []) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.warnings = warnings
    }

    /// Reads any audio file libsndfile understands (WAV 16-bit PCM and the other common formats),
    /// averages its channels, and resamples it to `sampleRate` when that is given and differs.
    ///
    /// Integer samples are scaled like the training pipeline's reader (soundfile, the same library):
    /// 16-bit values divided by 32768. A non-finite sample (a float file) is an error; a file shorter
    /// than its header announces is read as far as it goes, with a warning in `warnings`.
    public static func read(_ url: URL, sampleRate target: Int? = nil) throws(AudioError) -> Audio {
        var info = SF_INFO()
        guard let file = sf_open(url.path, Int32(SFM_READ), &info) else {
            throw .unreadable(file: url.path, reason: openFailure(url, libsndfile: String(cString: sf_strerror(nil))))
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
            for channel in 0..<channels {
                let sample = interleaved[frame * channels + channel]
                guard sample.isFinite else { throw .nonFinite(file: url.path, frame: frame, channel: channel, value: sample) }
                sum += sample
            }
            mono[frame] = sum / Double(channels)
        }
        var warnings: [String] = []
        if let truncation = truncation(log(file)) {
            warnings.append("\(url.path): truncated: \(truncation); only the \(read) frames present are used")
        }
        let audio = Audio(samples: mono, sampleRate: Int(info.samplerate), warnings: warnings)
        guard let target, target != audio.sampleRate else { return audio }
        return try audio.resampled(to: target, file: url.path)
    }

    /// Why `url` could not be opened: the file system's reason, else libsndfile's, except that
    /// libsndfile blames an existing file's existence when its MPEG decoder gives up on corrupt data.
    private static func openFailure(_ url: URL, libsndfile reason: String) -> String {
        var status = stat()
        guard stat(url.path, &status) == 0 else { return String(cString: strerror(errno)) }
        guard status.st_mode & S_IFMT == S_IFREG else { return "not a regular file" }
        return reason.contains("does not exist") ? "not audio in a format libsndfile reads (corrupt or unknown data)" : reason
    }

    /// libsndfile's log of opening `file`: the chunks it read and, in parentheses, sizes that
    /// disagree with the file (`data : 32000 (should be 15978)`).
    private static func log(_ file: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        _ = sf_command(file, Int32(SFC_GET_LOG_INFO), &buffer, Int32(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// How a file is shorter than its header says, from libsndfile's log: the `data` chunk's
    /// announced and actual sizes; nil when they agree.
    static func truncation(_ log: String) -> String? {
        for line in log.split(separator: "\n") where line.hasPrefix("data") && line.contains("(should be") {
            let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            guard numbers.count == 2, numbers[1] < numbers[0] else { continue }
            return "its header announces \(numbers[0]) bytes of samples, the file holds \(numbers[1])"
        }
        return nil
    }

    /// The ratios libsamplerate converts between, output rate over input rate.
    public static let resamplingRatios = 1.0 / 256...256

    /// The recording at another sample rate, by libsamplerate's best band-limited sinc converter.
    /// Fails when the rates are more than `resamplingRatios` apart.
    public func resampled(to rate: Int, file: String = "audio") throws(AudioError) -> Audio {
        let ratio = Double(rate) / Double(sampleRate)
        guard Self.resamplingRatios.contains(ratio) else {
            throw .unreadable(file: file, reason: "its sample rate \(sampleRate) Hz cannot be converted to \(rate) Hz "
                + "(libsamplerate converts ratios 1/256...256)")
        }
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
        return Audio(samples: output.prefix(generated).map(Double.init), sampleRate: rate, warnings: warnings)
    }
}

/// Why an audio file could not be used; each description is one line naming the file.
public enum AudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is missing, corrupt or not audio.
    case unreadable(file: String, reason: String)
    /// The file holds no samples.
    case empty(file: String)
    /// A sample is NaN or infinite (a float file); `frame` counts from 0.
    case nonFinite(file: String, frame: Int, channel: Int, value: Double)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): "\(file): cannot read audio: \(reason)"
        case let .empty(file): "\(file): the audio file holds no samples"
        case let .nonFinite(file, frame, channel, value):
            "\(file): sample \(frame) of channel \(channel) is \(value); audio samples must be finite"
        }
    }

    /// Equality by description: the `Double` payload may be NaN, which never equals itself.
    public static func == (lhs: AudioError, rhs: AudioError) -> Bool {
        lhs.description == rhs.description
    }
}
