/// A codec Tandem can use on a stream, in local order of preference.
public struct SDPCodec: Sendable, Hashable {
    /// The encoding name, such as `PCMU` or `opus`; matched case-insensitively.
    public var encodingName: String
    /// The RTP clock rate in Hz.
    public var clockRate: UInt32
    /// The channel count (1 unless written in the rtpmap).
    public var channels: Int
    /// The payload type used in our offers; the answerer keeps the offerer's number instead.
    public var payloadType: UInt8
    /// The fmtp parameters we want to receive with, verbatim.
    public var formatParameters: String?

    /// Creates a codec.
    public init(encodingName: String, clockRate: UInt32, channels: Int = 1, payloadType: UInt8, formatParameters: String? = nil) {
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
        self.payloadType = payloadType
        self.formatParameters = formatParameters
    }

    /// G.711 µ-law, static payload type 0.
    public static let pcmu = SDPCodec(encodingName: "PCMU", clockRate: 8000, payloadType: 0)
    /// G.711 A-law, static payload type 8.
    public static let pcma = SDPCodec(encodingName: "PCMA", clockRate: 8000, payloadType: 8)
    /// G.722; its RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2).
    public static let g722 = SDPCodec(encodingName: "G722", clockRate: 8000, payloadType: 9)
    /// Opus, always written as 48000/2 (RFC 7587 §7).
    public static let opus = SDPCodec(encodingName: "opus", clockRate: 48000, channels: 2, payloadType: 96,
                                      formatParameters: "minptime=10;useinbandfec=1")

    /// Whether an offered or answered format is this codec: name (any case), clock rate and channels.
    public func matches(_ other: SDPRTPMap) -> Bool {
        encodingName.lowercased() == other.encodingName.lowercased() && clockRate == other.clockRate
            && channels == (other.channels ?? 1)
    }
}

/// RFC 4733 telephone-event support.
public struct SDPTelephoneEvent: Sendable, Hashable {
    /// The payload type for telephone-event/8000 in our offers; other clock rates take free dynamic numbers.
    public var payloadType: UInt8
    /// The events we handle, as an fmtp range list (RFC 4733 §2.4.1).
    public var events: String

    /// Creates telephone-event support; DTMF digits and flash (0-16) by default.
    public init(payloadType: UInt8 = 101, events: String = "0-16") {
        self.payloadType = payloadType
        self.events = events
    }
}

/// Whether a stream uses SDES-keyed SRTP (RFC 4568).
public enum SDPSRTPPolicy: Sendable, Hashable {
    /// Plain RTP only: `RTP/SAVP` offers are rejected and crypto lines in `RTP/AVP` offers ignored.
    case disabled
    /// Offer `RTP/AVP` with crypto lines (best-effort SRTP, as many PBXes do) and accept either.
    case optional
    /// Offer `RTP/SAVP`; reject streams without an acceptable crypto line.
    case required
}

/// How the answer orders the accepted formats.
public enum SDPAnswerOrder: Sendable, Hashable {
    /// The offer's relative order, as RFC 3264 §6.1 recommends unless there is a reason not to (the default).
    case offerer
    /// Our own codec preference order (RFC 3264 §6.1 allows it), to steer the offerer towards our first choice.
    case local
}

/// What Tandem can do on one stream (one `m=` line): codecs, DTMF, packetisation, SRTP, RTCP multiplexing.
public struct SDPMediaCapability: Sendable, Hashable {
    /// The media type this capability answers: `audio` or `video`.
    public var media: String
    /// Our RTP port for this stream.
    public var port: UInt16
    /// Codecs in preference order.
    public var codecs: [SDPCodec]
    /// Telephone-event support, or nil.
    public var telephoneEvent: SDPTelephoneEvent?
    /// The packetisation interval we want to receive, in milliseconds.
    public var ptime: Int?
    /// The longest packetisation interval we accept, in milliseconds.
    public var maxPtime: Int?
    /// SDES crypto suites in preference order.
    public var cryptoSuites: [String]
    /// When SRTP is used.
    public var srtp: SDPSRTPPolicy
    /// Whether we accept RTP and RTCP on one port (RFC 5761).
    public var supportsRTCPMux: Bool
    /// Our direction: sendrecv normally, sendonly or inactive to put the peer on hold (RFC 6337 §5.3).
    public var direction: SDPDirection
    /// Bandwidth lines to write on this stream.
    public var bandwidths: [SDPBandwidth]

    /// Creates a capability.
    public init(media: String = "audio", port: UInt16, codecs: [SDPCodec], telephoneEvent: SDPTelephoneEvent? = SDPTelephoneEvent(),
                ptime: Int? = nil, maxPtime: Int? = nil, cryptoSuites: [String] = [], srtp: SDPSRTPPolicy = .disabled,
                supportsRTCPMux: Bool = true, direction: SDPDirection = .sendrecv, bandwidths: [SDPBandwidth] = []) {
        self.media = media
        self.port = port
        self.codecs = codecs
        self.telephoneEvent = telephoneEvent
        self.ptime = ptime
        self.maxPtime = maxPtime
        self.cryptoSuites = cryptoSuites
        self.srtp = srtp
        self.supportsRTCPMux = supportsRTCPMux
        self.direction = direction
        self.bandwidths = bandwidths
    }
}

/// The session-level fields of descriptions Tandem writes.
public struct SDPLocalSession: Sendable, Hashable {
    /// The `o=` user name.
    public var username: String
    /// The `o=` session identifier, constant for the session.
    public var sessionID: String
    /// The `o=` version; the caller increments it for each new offer or answer that changes (RFC 3264 §8).
    public var sessionVersion: UInt64
    /// Our media address, written in `o=` and the session `c=`.
    public var address: String
    /// The `s=` value.
    public var sessionName: String

    /// Creates session fields.
    public init(username: String = "tandem", sessionID: String, sessionVersion: UInt64, address: String, sessionName: String = "Tandem") {
        self.username = username
        self.sessionID = sessionID
        self.sessionVersion = sessionVersion
        self.address = address
        self.sessionName = sessionName
    }
}

/// Where SDES master keys come from; injected so tests are deterministic.
public protocol SDESKeyGenerator {
    /// Returns `count` fresh random bytes of key and salt.
    mutating func keySalt(count: Int) -> [UInt8]
}

/// SDES keys from the system's cryptographic random source (`getrandom` on Linux).
public struct SystemSDESKeyGenerator: SDESKeyGenerator {
    private var rng = SystemRandomNumberGenerator()

    /// Creates the generator.
    public init() {}

    /// Returns `count` random bytes.
    public mutating func keySalt(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
    }
}
