import Codecs

/// A WAV prompt decoded, mixed down to mono and converted once to a leg's sample rate: immutable, so any number of
/// `PlaybackSource`s on any workers can play it at the same time without copying (music on hold, IVR prompts).
///
/// Loading (control side) reads the file, decodes 16-bit PCM, µ-law or A-law, averages stereo to mono, and converts
/// the rate with `PlaybackConversion` (8–48 kHz, including 11.025/22.05/44.1 kHz). It blocks and allocates: a 60 s
/// 44.1 kHz stereo prompt takes about 170 ms to convert to 8 kHz in a release build, so load prompts off any latency
/// sensitive thread and cache them.
public final class PlaybackPrompt: @unchecked Sendable {
    /// The rate of `samples`, in Hz.
    public let sampleRate: Int
    /// The converted samples (never empty). Immutable after init.
    let samples: UnsafeBufferPointer<Int16>

    /// Loads and converts the WAV file at `path`. Throws `.file` for a missing, unreadable, corrupt or unsupported
    /// file and `.empty` for one without samples.
    public convenience init(wavFile path: String, sampleRate: Int) throws(PlaybackError) {
        let file: WAVFile
        do { file = try WAVFile(contentsOf: path) } catch { throw .file(error) }
        try self.init(wav: file, sampleRate: sampleRate)
    }

    /// Converts an already parsed WAV file.
    public init(wav: WAVFile, sampleRate: Int) throws(PlaybackError) {
        guard Resampler.supportedRates.contains(sampleRate) else { throw .unsupportedSampleRate(sampleRate) }
        let interleaved = wav.samples()
        let channels = wav.format.channels
        guard channels > 0, interleaved.count >= channels else { throw .empty }
        var mono = interleaved
        if channels > 1 {
            mono = [Int16](repeating: 0, count: interleaved.count / channels)
            for frame in 0..<mono.count {
                var sum = 0
                for channel in 0..<channels { sum += Int(interleaved[frame * channels + channel]) }
                mono[frame] = Int16(clamping: sum / channels)
            }
        }
        let converted = PlaybackConversion.convert(mono, from: wav.format.sampleRate, to: sampleRate)
        guard !converted.isEmpty else { throw .empty }
        let buffer = UnsafeMutableBufferPointer<Int16>.allocate(capacity: converted.count)
        _ = buffer.initialize(from: converted)
        self.sampleRate = sampleRate
        samples = UnsafeBufferPointer(buffer)
    }

    deinit {
        samples.deallocate()
    }

    /// Milliseconds of audio.
    public var durationMilliseconds: Int { samples.count * 1000 / sampleRate }
}
