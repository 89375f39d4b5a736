import CSpanDSP

/// G.722 at 64 kbit/s (spandsp): 16 kHz mono PCM in, one byte per two samples out.
/// The RTP clock stays at 8000 Hz (RFC 3551 §4.5.2), see `CodecDescriptor.g722`.
public final class G722Encoder: AudioEncoder {
    private let state: OpaquePointer
    /// Samples in one frame (320 for 20 ms).
    public let frameSamples: Int
    /// G722.
    public var descriptor: CodecDescriptor { .g722 }
    /// 16000 Hz.
    public var sampleRate: Int { 16000 }
    /// Always mono.
    public var channels: Int { 1 }
    /// One byte per two samples.
    public var maxPayloadSize: Int { frameSamples / 2 }

    /// Creates a 64 kbit/s encoder. Allocates its C state once.
    public init(frameSamples: Int = 320) throws(CodecError) {
        guard frameSamples > 0, frameSamples % 2 == 0 else { throw .unsupportedConfiguration }
        guard let state = g722_encode_init(nil, 64000, 0) else { throw .libraryFailure(code: -1) }
        self.state = state
        self.frameSamples = frameSamples
    }

    deinit { _ = g722_encode_free(state) }

    /// Encodes an even number of samples (any count, normally `frameSamples`); returns the bytes written.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        // Two 16 kHz samples make one 8-bit G.722 code word (G.722 §1.2).
        guard pcm.count % 2 == 0 else { throw .wrongFrameSize(expected: frameSamples, got: pcm.count) }
        let needed = pcm.count / 2
        guard output.count >= needed else { throw .outputTooSmall(needed: needed, available: output.count) }
        guard let source = pcm.baseAddress, let destination = output.baseAddress else { return 0 }
        return Int(g722_encode(state, destination.assumingMemoryBound(to: UInt8.self), source, Int32(pcm.count)))
    }

    /// Resets the ADPCM state, as at the start of a new stream.
    public func reset() { _ = g722_encode_init(state, 64000, 0) }
}

/// G.722 at 64 kbit/s (spandsp) with pitch-repetition concealment: one byte in, two 16 kHz samples out.
public final class G722Decoder: AudioDecoder {
    private let state: OpaquePointer
    /// Samples one `conceal(into:)` call produces (320 for 20 ms).
    public let frameSamples: Int
    /// The concealer fed with every decoded frame.
    public let concealer = PacketLossConcealer()
    /// G722.
    public var descriptor: CodecDescriptor { .g722 }
    /// 16000 Hz.
    public var sampleRate: Int { 16000 }
    /// Always mono.
    public var channels: Int { 1 }

    /// Creates a 64 kbit/s decoder. Allocates its C state once.
    public init(frameSamples: Int = 320) throws(CodecError) {
        guard frameSamples > 0 else { throw .unsupportedConfiguration }
        guard let state = g722_decode_init(nil, 64000, 0) else { throw .libraryFailure(code: -1) }
        self.state = state
        self.frameSamples = frameSamples
    }

    deinit { _ = g722_decode_free(state) }

    /// Decodes every byte of `payload` into two samples each; throws if `output` is too short. Does not allocate.
    public func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        let needed = payload.count * 2
        guard output.count >= needed else { throw .outputTooSmall(needed: needed, available: output.count) }
        guard let source = payload.baseAddress, let destination = output.baseAddress, payload.count > 0 else { return 0 }
        let count = Int(g722_decode(state, destination, source.assumingMemoryBound(to: UInt8.self), Int32(payload.count)))
        concealer.received(UnsafeMutableBufferPointer(rebasing: output[0..<count]))
        return count
    }

    /// Synthesises `min(frameSamples, output.count)` samples for a lost packet. The ADPCM state is not advanced,
    /// so the next good packet decodes with slightly stale predictors until G.722's adaptation catches up.
    public func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        concealer.conceal(into: UnsafeMutableBufferPointer(rebasing: output[0..<min(frameSamples, output.count)]))
    }

    /// Resets the ADPCM state and the concealment history.
    public func reset() {
        _ = g722_decode_init(state, 64000, 0)
        concealer.reset()
    }
}
