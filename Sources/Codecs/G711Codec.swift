/// The two G.711 companding laws.
public enum G711Law: Sendable, Hashable {
    /// µ-law, RTP payload "PCMU" (static PT 0).
    case uLaw
    /// A-law, RTP payload "PCMA" (static PT 8).
    case aLaw

    /// The matching codec descriptor.
    public var descriptor: CodecDescriptor { self == .uLaw ? .pcmu : .pcma }
}

/// G.711 frame encoder (8 kHz mono, one byte per sample). Stateless apart from its configuration.
public final class G711Encoder: AudioEncoder {
    /// The companding law.
    public let law: G711Law
    /// Samples in one frame (160 for 20 ms).
    public let frameSamples: Int
    /// PCMU or PCMA.
    public var descriptor: CodecDescriptor { law.descriptor }
    /// Always 8000 Hz.
    public var sampleRate: Int { 8000 }
    /// Always mono.
    public var channels: Int { 1 }
    /// One byte per sample.
    public var maxPayloadSize: Int { frameSamples }

    /// Creates an encoder for frames of `frameSamples` samples (G.711 itself accepts any length).
    public init(law: G711Law, frameSamples: Int = 160) {
        self.law = law
        self.frameSamples = frameSamples
    }

    /// Encodes all of `pcm` (any length); throws if `output` cannot hold one byte per sample. Does not allocate.
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, into output: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
        guard output.count >= pcm.count else { throw .outputTooSmall(needed: pcm.count, available: output.count) }
        switch law {
        case .uLaw: return G711.encodeULaw(pcm, into: output)
        case .aLaw: return G711.encodeALaw(pcm, into: output)
        }
    }
}

/// G.711 frame decoder with pitch-repetition concealment (G.711 Appendix I style, see `PacketLossConcealer`).
public final class G711Decoder: AudioDecoder {
    /// The companding law.
    public let law: G711Law
    /// Samples one `conceal(into:)` call produces (160 for 20 ms).
    public let frameSamples: Int
    /// The concealer fed with every decoded frame.
    public let concealer = PacketLossConcealer()
    /// PCMU or PCMA.
    public var descriptor: CodecDescriptor { law.descriptor }
    /// Always 8000 Hz.
    public var sampleRate: Int { 8000 }
    /// Always mono.
    public var channels: Int { 1 }

    /// Creates a decoder whose concealment frames are `frameSamples` long.
    public init(law: G711Law, frameSamples: Int = 160) {
        self.law = law
        self.frameSamples = frameSamples
    }

    /// Decodes every byte of `payload`; throws if `output` is shorter than the payload. Does not allocate.
    public func decode(_ payload: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Int16>) throws(CodecError) -> Int {
        guard output.count >= payload.count else { throw .outputTooSmall(needed: payload.count, available: output.count) }
        let count: Int
        switch law {
        case .uLaw: count = G711.decodeULaw(payload, into: output)
        case .aLaw: count = G711.decodeALaw(payload, into: output)
        }
        concealer.received(UnsafeMutableBufferPointer(rebasing: output[0..<count]))
        return count
    }

    /// Synthesises `min(frameSamples, output.count)` samples for a lost packet. Does not allocate.
    public func conceal(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        concealer.conceal(into: UnsafeMutableBufferPointer(rebasing: output[0..<min(frameSamples, output.count)]))
    }
}
