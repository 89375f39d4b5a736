import Codecs

/// What one leg negotiated for audio: the codec and payload types it receives and sends, and its packetisation time.
///
/// A value built by the control plane from SDP and handed to `AudioPipeline`; any thread.
public struct AudioEndpointFormat: Sendable, Hashable {
    /// The audio codec (`CodecDescriptor.pcmu`, `.opus`, …).
    public var codec: CodecDescriptor
    /// The audio payload type on this leg.
    public var payloadType: UInt8
    /// The packetisation time in milliseconds (`a=ptime`, or the codec's usual 20).
    public var ptimeMilliseconds: Int
    /// The telephone-event (RFC 4733) payload type, or nil when the leg did not negotiate one.
    /// Its clock is taken to be the audio codec's RTP clock (RFC 4733 §2.1 asks for the same rate).
    public var telephoneEventPayloadType: UInt8?
    /// The comfort noise (RFC 3389) payload type, or nil when the leg did not negotiate CN.
    public var comfortNoisePayloadType: UInt8?
    /// The remote side's Opus `a=fmtp` (what it can receive), when the codec is Opus.
    public var opus: OpusFormatParameters?

    /// A format; telephone-event, CN and Opus parameters default to absent.
    public init(codec: CodecDescriptor, payloadType: UInt8, ptimeMilliseconds: Int = 20,
                telephoneEventPayloadType: UInt8? = nil, comfortNoisePayloadType: UInt8? = nil,
                opus: OpusFormatParameters? = nil) {
        self.codec = codec
        self.payloadType = payloadType
        self.ptimeMilliseconds = ptimeMilliseconds
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.comfortNoisePayloadType = comfortNoisePayloadType
        self.opus = opus
    }

    /// The RTP clock of the telephone-event payload type, in Hz.
    public var telephoneEventClockRate: Int { codec.rtpClockRate }

    /// The widest audio bandwidth this leg's stream can carry, as a sampling rate in Hz: what is worth keeping when
    /// transcoding from it (8000 for G.711: encoding its audio at 48 kHz would only spend CPU on empty bands).
    var sourceBandwidthRate: Int {
        switch codec.name.lowercased() {
        case "opus":
            // RFC 7587 §6.1: sprop-maxcapturerate says how wide the sender's audio actually is.
            if let capture = opus?.spropMaxCaptureRate { return min(48000, max(8000, capture)) }
            return 48000
        default:
            return codec.sampleRate
        }
    }
}

/// Why an `AudioPipeline` could not be built. Raised at set-up only, never per packet.
public enum AudioPipelineError: Error, Equatable, Sendable {
    /// No encoder or decoder for this codec name, or an unsupported variant (e.g. stereo L16).
    case unsupportedCodec(String)
    /// The packetisation time is not one the codec can carry (Opus: 10, 20, 40 or 60 ms; others 10–60 in 10s).
    case unsupportedPacketTime(Int)
    /// A codec refused its configuration.
    case codec(CodecError)
    /// The resampler refused the rate pair.
    case resampler(ResamplerError)
    /// The in-band DTMF generator refused its rate.
    case tone(ToneError)
}
