/// What SDP and the RTP layer need to know about a codec: its rtpmap name, RTP clock rate,
/// sampling rate, channels, default payload type and frame sizes.
public struct CodecDescriptor: Hashable, Sendable {
    /// The encoding name as it appears in `a=rtpmap` (case-insensitive on the wire).
    public var name: String
    /// The RTP timestamp clock rate advertised in SDP.
    public var rtpClockRate: Int
    /// The rate at which the codec actually samples audio.
    public var sampleRate: Int
    /// Channels as advertised in `a=rtpmap` (Opus always says 2, RFC 7587 §7).
    public var channels: Int
    /// The static payload type from RFC 3551, or nil for dynamic ones.
    public var staticPayloadType: UInt8?
    /// Packetisation times the codec supports, in milliseconds.
    public var frameDurations: [Int]
    /// The `a=fmtp` parameter list Tandem offers for this codec as a receiver, or nil for none.
    public var formatParameters: String? = nil

    /// G.711 µ-law (RFC 3551 §4.5.14).
    public static let pcmu = CodecDescriptor(name: "PCMU", rtpClockRate: 8000, sampleRate: 8000, channels: 1,
                                             staticPayloadType: 0, frameDurations: [10, 20, 30, 40, 60])
    /// G.711 A-law (RFC 3551 §4.5.14).
    public static let pcma = CodecDescriptor(name: "PCMA", rtpClockRate: 8000, sampleRate: 8000, channels: 1,
                                             staticPayloadType: 8, frameDurations: [10, 20, 30, 40, 60])
    /// G.722 samples at 16 kHz but advertises an 8000 Hz RTP clock: an error in RFC 1890 kept by RFC 3551 §4.5.2.
    public static let g722 = CodecDescriptor(name: "G722", rtpClockRate: 8000, sampleRate: 16000, channels: 1,
                                             staticPayloadType: 9, frameDurations: [10, 20, 30, 40, 60])
    /// Opus always advertises 48000/2 in SDP (RFC 7587 §7), whatever it encodes internally.
    public static let opus = CodecDescriptor(name: "opus", rtpClockRate: 48000, sampleRate: 48000, channels: 2,
                                             staticPayloadType: nil, frameDurations: [10, 20, 40, 60],
                                             // What WebRTC peers offer: 10 ms minimum, and we can use FEC (RFC 7587 §6.1).
                                             formatParameters: "minptime=10;useinbandfec=1")
    /// 16-bit linear PCM, 16 kHz mono (RFC 3551 §4.5.11); other rates come from `L16.descriptor(sampleRate:channels:)`.
    public static let l16Mono16k = CodecDescriptor(name: "L16", rtpClockRate: 16000, sampleRate: 16000, channels: 1,
                                                   staticPayloadType: nil, frameDurations: [10, 20, 30])

    /// The codecs Tandem supports, in its default preference order.
    public static let all: [CodecDescriptor] = [.opus, .g722, .pcmu, .pcma, .l16Mono16k]

    /// RTP timestamp ticks in one frame of `milliseconds`.
    public func timestampIncrement(milliseconds: Int) -> Int { rtpClockRate * milliseconds / 1000 }
    /// Samples per channel in one frame of `milliseconds` at the codec's sampling rate.
    public func samplesPerFrame(milliseconds: Int) -> Int { sampleRate * milliseconds / 1000 }
}
