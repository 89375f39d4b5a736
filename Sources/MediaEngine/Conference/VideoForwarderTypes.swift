import RTP
import TandemBase

/// The video codec families the forwarder knows; keyframe detection exists for VP8, VP9 and H.264.
public enum VideoCodecKind: UInt8, Hashable, Sendable {
    /// VP8 (RFC 7741).
    case vp8
    /// VP9 (RFC 9628).
    case vp9
    /// H.264 (RFC 6184).
    case h264
    /// H.265 (RFC 7798); no keyframe detection, switches on the first packet after the request.
    case h265
    /// AV1; no keyframe detection, switches on the first packet after the request.
    case av1
    /// Anything else; matched only by `VideoPayloadFormat.variant`, no keyframe detection.
    case other
}

/// One negotiated video payload format of a participant: its payload type and what it carries.
///
/// Two participants share a codec when `kind` and `variant` are equal. `variant` is the caller's
/// key for parameters that must match for a stream to be decodable as is (for H.264, say,
/// `packetization-mode` and the profile part of `profile-level-id`); 0 when nothing else matters.
public struct VideoPayloadFormat: Hashable, Sendable {
    /// The payload type this participant uses for the format (both directions).
    public var payloadType: PayloadType
    /// The codec family.
    public var kind: VideoCodecKind
    /// The caller's matching key within `kind`.
    public var variant: UInt16
    /// The RTP clock rate; 90000 for every video format in use (RFC 7741, RFC 6184).
    public var clockRate: UInt32

    /// Creates a format.
    public init(payloadType: PayloadType, kind: VideoCodecKind, variant: UInt16 = 0, clockRate: UInt32 = 90_000) {
        self.payloadType = payloadType
        self.kind = kind
        self.variant = variant
        self.clockRate = clockRate
    }
}

/// What a participant negotiated for its video stream; given at join, never changed afterwards.
public struct VideoParticipantFormat: Sendable {
    /// The payload formats, in preference order; at most `VideoForwarder.maxFormatsPerParticipant`.
    public var formats: [VideoPayloadFormat]
    /// The participant accepts RTCP FIR (`a=rtcp-fb:* ccm fir`, RFC 5104 §7.1).
    public var supportsFIR: Bool
    /// The participant accepts RTCP PLI (`a=rtcp-fb:* nack pli`, RFC 4585 §4.2); true for nearly all.
    public var supportsPLI: Bool
    /// The participant accepts generic NACK (`a=rtcp-fb:* nack`, RFC 4585 §4.2).
    public var supportsNACK: Bool
    /// The SSRC the participant sends with, when signalled (`a=ssrc`); otherwise learned from its
    /// first RTP packet.
    public var sourceSSRC: SSRC?
    /// The SSRC of the one stream the forwarder sends to this participant; also the sender SSRC of
    /// the RTCP feedback the forwarder sends to it.
    public var outgoingSSRC: SSRC
    /// The first outgoing sequence number (RFC 3550 §5.1 suggests a random one).
    public var initialSequenceNumber: UInt16
    /// The first outgoing timestamp (RFC 3550 §5.1 suggests a random one).
    public var initialTimestamp: UInt32

    /// Creates a format; initial sequence number and timestamp default to values mixed from the SSRC.
    public init(
        formats: [VideoPayloadFormat], outgoingSSRC: SSRC, supportsFIR: Bool = false, supportsPLI: Bool = true,
        supportsNACK: Bool = true, sourceSSRC: SSRC? = nil, initialSequenceNumber: UInt16? = nil,
        initialTimestamp: UInt32? = nil
    ) {
        self.formats = formats
        self.outgoingSSRC = outgoingSSRC
        self.supportsFIR = supportsFIR
        self.supportsPLI = supportsPLI
        self.supportsNACK = supportsNACK
        self.sourceSSRC = sourceSSRC
        // Any fixed bijection of the SSRC spreads the starting points; the caller may pass random ones.
        let mixed = outgoingSSRC.rawValue &* 0x9E37_79B1
        self.initialSequenceNumber = initialSequenceNumber ?? UInt16(truncatingIfNeeded: mixed >> 16)
        self.initialTimestamp = initialTimestamp ?? (mixed ^ 0x5BD1_E995)
    }
}

/// Timing and capacity settings of a forwarder.
public struct VideoForwarderConfiguration: Sendable {
    /// Participant slots (0..<capacity); storage for all of them is allocated up front.
    public var capacity: Int
    /// The largest RTP packet forwarded, in bytes; larger ones are dropped and counted.
    public var maxPacketSize: Int
    /// After a switch request, how long to keep forwarding the old source while waiting for a keyframe
    /// from the new one before switching anyway (ns).
    public var keyframeTimeout: UInt64
    /// The minimum gap between two keyframe requests (PLI/FIR) to one source (ns): both the re-send
    /// interval while a switch waits and the limit on requests relayed from receivers.
    public var keyframeRequestInterval: UInt64
    /// The smallest timestamp step on a switch, in 90 kHz ticks (the wall-clock gap if larger).
    public var minimumSwitchTimestampStep: UInt32
    /// Input packets accepted per second from one participant; the excess is dropped and counted.
    public var maxPacketsPerSecond: UInt32
    /// Burst size of that limit, in packets (a 1080p keyframe is on the order of 100 packets).
    public var packetBurst: UInt32
    /// NACK packets relayed per second from one receiver; the excess is dropped and counted.
    public var maxNACKsPerSecond: UInt32
    /// Remove RTP header extensions from forwarded packets. Extension IDs are negotiated per
    /// participant (RFC 8285 §6) and some carry per-hop state (transport-wide sequence numbers,
    /// abs-send-time), so forwarding them as is is right only when every participant negotiated the
    /// same `extmap` and no per-hop extension; stripping also drops useful ones (video orientation).
    public var stripsHeaderExtensions: Bool

    /// Creates a configuration.
    public init(
        capacity: Int = 200, maxPacketSize: Int = 1600, keyframeTimeout: UInt64 = 1_500_000_000,
        keyframeRequestInterval: UInt64 = 300_000_000, minimumSwitchTimestampStep: UInt32 = 90,
        maxPacketsPerSecond: UInt32 = 4000, packetBurst: UInt32 = 400, maxNACKsPerSecond: UInt32 = 100,
        stripsHeaderExtensions: Bool = false
    ) {
        self.capacity = capacity
        self.maxPacketSize = maxPacketSize
        self.keyframeTimeout = keyframeTimeout
        self.keyframeRequestInterval = keyframeRequestInterval
        self.minimumSwitchTimestampStep = minimumSwitchTimestampStep
        self.maxPacketsPerSecond = maxPacketsPerSecond
        self.packetBurst = packetBurst
        self.maxNACKsPerSecond = maxNACKsPerSecond
        self.stripsHeaderExtensions = stripsHeaderExtensions
    }
}

/// Where a forwarder's output goes: implemented by the media worker (SRTP protect, queue for
/// `sendmmsg`) and by tests.
///
/// Called on the forwarder's thread, synchronously, during `receiveRTP`, `receiveRTCP` or `tick`.
/// `packet` is the forwarder's scratch buffer and is valid only during the call: a sink that keeps
/// the bytes copies them. Used as a generic parameter, never as an existential.
public protocol VideoForwarderSink {
    /// Sends an RTP packet to `participant`.
    mutating func send(participant: Int, packet: UnsafeRawBufferPointer)
    /// Sends an RTCP packet (a keyframe request or relayed NACK) to `participant`.
    mutating func sendRTCP(participant: Int, packet: UnsafeRawBufferPointer)
}

/// Why a control call on the forwarder was refused. Control plane only.
public enum VideoForwarderError: Error, Equatable, Sendable {
    /// The participant index is outside `0..<capacity`.
    case participantOutOfRange
    /// The slot is already taken.
    case participantExists
    /// No participant in that slot.
    case unknownParticipant
    /// No formats, too many, or two with the same payload type.
    case invalidFormats
    /// More distinct (kind, variant) codecs in the room than the forwarder tracks.
    case tooManyCodecs
}

/// Counters of a forwarder; plain integers, updated on the forwarder's thread.
public struct VideoForwarderCounters: Equatable, Sendable {
    /// RTP packets that did not parse, or came from an unknown slot.
    public var malformedRTP: UInt64 = 0
    /// RTCP packets that did not parse.
    public var malformedRTCP: UInt64 = 0
    /// RTP packets larger than `maxPacketSize`.
    public var oversizedRTP: UInt64 = 0
    /// RTP packets from participants that are neither the source nor the pending one.
    public var fromNonSource: UInt64 = 0
    /// Packets of the pending source dropped while waiting for its keyframe.
    public var awaitingKeyframe: UInt64 = 0
    /// Source packets with a payload type the source did not negotiate.
    public var unknownPayloadType: UInt64 = 0
    /// Packets over a participant's rate limit.
    public var rateLimited: UInt64 = 0
    /// Source packets not sent to a receiver with no codec in common with the source (per receiver).
    public var noCommonCodec: UInt64 = 0
    /// Source packets older than the first one after a switch, not sent (per receiver) since they
    /// would reuse sequence numbers already spent.
    public var tooOldAfterSwitch: UInt64 = 0
    /// Source packets whose SSRC changed mid-stream (the source restarted).
    public var sourceSSRCChanges: UInt64 = 0
    /// Jumps of the current source's sequence numbers by more than 3000 without an SSRC change,
    /// each treated like a restart.
    public var sourceSequenceJumps: UInt64 = 0
    /// Retransmitted source packets sent only to the receivers that NACKed them.
    public var retransmissionsTargeted: UInt64 = 0
    /// RTP packets written to the sink.
    public var forwarded: UInt64 = 0
    /// Source switches done on a keyframe.
    public var switchesOnKeyframe: UInt64 = 0
    /// Source switches done because the keyframe wait timed out, or for codecs without detection.
    public var switchesWithoutKeyframe: UInt64 = 0
    /// PLIs sent.
    public var pliSent: UInt64 = 0
    /// FIRs sent.
    public var firSent: UInt64 = 0
    /// Keyframe requests from receivers not relayed because of the interval limit.
    public var keyframeRequestsRateLimited: UInt64 = 0
    /// NACK packets relayed to the source.
    public var nackRelayed: UInt64 = 0
    /// Lost-sequence entries of receiver NACKs dropped because they name packets of an earlier source
    /// (or of none).
    public var nackItemsDropped: UInt64 = 0
    /// NACK packets over a receiver's NACK limit.
    public var nackRateLimited: UInt64 = 0
    /// RTCP feedback for an SSRC the receiver was not sent, or when there is no source.
    public var feedbackUnmatched: UInt64 = 0
    /// RTCP packets of other types (reports, SDES, BYE, REMB): left to the caller.
    public var rtcpOther: UInt64 = 0

    /// Creates counters at zero.
    public init() {}
}

/// What the caller needs to write RTCP sender reports for one receiver's outgoing stream.
public struct VideoReceiverStatistics: Equatable, Sendable {
    /// The outgoing SSRC.
    public var ssrc: SSRC
    /// RTP packets sent (RFC 3550 §6.4.1 sender's packet count).
    public var packetsSent: UInt64
    /// Payload octets sent, headers and padding excluded (RFC 3550 §6.4.1 sender's octet count).
    public var payloadBytesSent: UInt64
    /// The timestamp of the newest packet sent, and when it was sent (monotonic ns), to relate RTP
    /// time to wall-clock time in a sender report; `lastSentAt` is 0 before the first packet.
    public var lastTimestamp: RTPTimestamp
    /// See `lastTimestamp`.
    public var lastSentAt: UInt64
    /// The newest sequence number sent.
    public var lastSequenceNumber: SequenceNumber
}
