/// L16: 16-bit linear PCM in network byte order, channels interleaved (RFC 3551 §4.5.11).
public enum L16 {
    /// The descriptor for L16 at `sampleRate` with `channels`; 44.1 kHz has static payload types 10 (stereo)
    /// and 11 (mono) per RFC 3551 Table 4, every other rate is dynamic.
    public static func descriptor(sampleRate: Int, channels: Int) -> CodecDescriptor {
        let staticType: UInt8? = sampleRate == 44100 ? (channels == 2 ? 10 : channels == 1 ? 11 : nil) : nil
        return CodecDescriptor(name: "L16", rtpClockRate: sampleRate, sampleRate: sampleRate, channels: channels,
                               staticPayloadType: staticType, frameDurations: [10, 20, 30])
    }

    /// Writes `min(pcm.count, output.count / 2)` samples big-endian; returns the bytes written. Does not allocate.
    public static func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(pcm.count, output.count / 2)
        guard count > 0, let source = pcm.baseAddress, let destination = output.baseAddress else { return 0 }
        for index in 0..<count {
            destination.storeBytes(of: source[index].bigEndian, toByteOffset: index * 2, as: Int16.self)
        }
        return count * 2
    }

    /// Reads `min(payload.count / 2, output.count)` big-endian samples; returns the samples written. A trailing
    /// odd byte is ignored. Does not allocate.
    public static func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        let count = min(payload.count / 2, output.count)
        guard count > 0, let source = payload.baseAddress, let destination = output.baseAddress else { return 0 }
        for index in 0..<count {
            destination[index] = Int16(bigEndian: source.loadUnaligned(fromByteOffset: index * 2, as: Int16.self))
        }
        return count
    }
}

/// L16 frame encoder for any rate and one or two channels.
public final class L16Encoder: AudioEncoder {
    /// L16 at the configured rate and channels.
    public let descriptor: CodecDescriptor
    /// Samples per channel in one frame.
    public let frameSamples: Int
    /// The configured rate in Hz (also the RTP clock rate).
    public var sampleRate: Int { descriptor.sampleRate }
    /// 1 or 2.
    public var channels: Int { descriptor.channels }
    /// Two bytes per sample per channel.
    public var maxPayloadSize: Int { frameSamples * channels * 2 }

    /// Creates an encoder; `frameSamples` is per channel (320 for 20 ms at 16 kHz).
    public init(sampleRate: Int, channels: Int = 1, frameSamples: Int) throws(CodecError) {
        guard (1...2).contains(channels), (1000...192_000).contains(sampleRate), frameSamples > 0 else {
            throw .unsupportedConfiguration
        }
        self.descriptor = L16.descriptor(sampleRate: sampleRate, channels: channels)
        self.frameSamples = frameSamples
    }

    /// Encodes interleaved PCM (a whole number of sample frames); returns the bytes written. Does not allocate.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        guard pcm.count % channels == 0 else { throw .wrongFrameSize(expected: frameSamples * channels, got: pcm.count) }
        guard output.count >= pcm.count * 2 else { throw .outputTooSmall(needed: pcm.count * 2, available: output.count) }
        return L16.encode(pcm, into: output)
    }
}

/// L16 frame decoder for any rate and one or two channels. Conceals a loss by fading out the last frame's tail.
public final class L16Decoder: AudioDecoder {
    /// L16 at the configured rate and channels.
    public let descriptor: CodecDescriptor
    /// Samples per channel one `conceal(into:)` call produces.
    public let frameSamples: Int
    /// The configured rate in Hz.
    public var sampleRate: Int { descriptor.sampleRate }
    /// 1 or 2.
    public var channels: Int { descriptor.channels }
    private var lastSample: (Int16, Int16) = (0, 0)

    /// Creates a decoder; `frameSamples` is per channel.
    public init(sampleRate: Int, channels: Int = 1, frameSamples: Int) throws(CodecError) {
        guard (1...2).contains(channels), (1000...192_000).contains(sampleRate), frameSamples > 0 else {
            throw .unsupportedConfiguration
        }
        self.descriptor = L16.descriptor(sampleRate: sampleRate, channels: channels)
        self.frameSamples = frameSamples
    }

    /// Decodes a payload of whole sample frames; returns samples per channel. Throws on a ragged payload.
    public func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        guard payload.count % (2 * channels) == 0 else { throw .invalidPayload }
        let values = payload.count / 2
        guard output.count >= values else { throw .outputTooSmall(needed: values, available: output.count) }
        let count = L16.decode(payload, into: output)
        if count >= channels {
            lastSample = (output[count - channels], output[count - 1])
        }
        return count / channels
    }

    /// Ramps linearly from the last received sample to silence over one frame. Does not allocate.
    public func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        let frames = min(frameSamples, output.count / channels)
        guard frames > 0 else { return 0 }
        for frame in 0..<frames {
            let remaining = frames - frame - 1
            for channel in 0..<channels {
                let start = Int(channel == 0 ? lastSample.0 : lastSample.1)
                output[frame * channels + channel] = Int16(truncatingIfNeeded: start * remaining / frames)
            }
        }
        lastSample = (0, 0)
        return frames
    }
}
