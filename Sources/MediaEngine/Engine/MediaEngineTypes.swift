import Codecs
import RTP
import SRTP

/// A media session (the media of one call) on one worker. A plain value; cheap to copy and compare.
public struct MediaSessionHandle: Hashable, Sendable {
    /// Engine-wide session number.
    public let number: UInt64
    /// The worker that owns the session for its whole life.
    public let worker: Int
}

/// One leg of a session: an RTP/RTCP port pair facing one endpoint.
public struct MediaLegHandle: Hashable, Sendable {
    /// The session the leg belongs to.
    public let session: MediaSessionHandle
    /// Index into the worker's leg table.
    let slot: Int32
    /// Distinguishes reuses of the same slot.
    let generation: UInt32
}

/// A numeric IP address and UDP port, as control-plane values.
public struct MediaAddress: Hashable, Sendable, CustomStringConvertible {
    /// Numeric IPv4 or IPv6 host, e.g. "192.0.2.1" or "2001:db8::1".
    public var host: String
    /// UDP port.
    public var port: Int

    /// An address from a host and port.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What a leg needs when it is created.
public struct LegOptions: Sendable {
    /// RTCP multiplexed on the RTP port (RFC 5761); the odd port is still reserved.
    public var rtcpMux: Bool
    /// Bind the leg on the engine's IPv6 address instead of its IPv4 one.
    public var isIPv6: Bool

    /// Options for a leg; IPv4 without rtcp-mux by default.
    public init(rtcpMux: Bool = false, isIPv6: Bool = false) {
        self.rtcpMux = rtcpMux
        self.isIPv6 = isIPv6
    }
}

/// Where a leg's endpoint should send media.
public struct LegInfo: Hashable, Sendable {
    /// The leg.
    public let leg: MediaLegHandle
    /// The advertised (possibly NAT public) address to put in SDP.
    public let address: String
    /// The RTP port (even).
    public let rtpPort: Int
    /// The RTCP port (RTP + 1), or the RTP port with rtcp-mux.
    public let rtcpPort: Int
}

/// SDP media direction of the endpoint behind a leg (RFC 3264 §5.1), from that endpoint's view.
public enum MediaDirection: Sendable, Hashable {
    /// The endpoint sends and receives.
    case sendrecv
    /// The endpoint only sends: its packets are relayed, nothing is sent to it.
    case sendonly
    /// The endpoint only receives: its packets are dropped, media is sent to it.
    case recvonly
    /// Neither.
    case inactive

    /// Whether the leg is on hold, which suspends its media timeout.
    public var isHold: Bool { self != .sendrecv }
    var acceptsFromEndpoint: Bool { self == .sendrecv || self == .sendonly }
    var sendsToEndpoint: Bool { self == .sendrecv || self == .recvonly }
}

/// SRTP keying for one direction of a leg (an SDES a=crypto line, RFC 4568).
public struct SRTPKeying: Sendable, Hashable {
    /// The crypto suite.
    public var suite: SRTPSuite
    /// Master key and salt.
    public var keyParameters: SDESKeyParameters

    /// Keying from a suite and its master key/salt.
    public init(suite: SRTPSuite, keyParameters: SDESKeyParameters) {
        self.suite = suite
        self.keyParameters = keyParameters
    }
}

/// Changes to a leg from signalling; nil fields are left as they are.
public struct LegUpdate: Sendable {
    /// The endpoint's RTP address from its SDP; latching may replace it.
    public var remoteRTP: MediaAddress?
    /// The endpoint's RTCP address (a=rtcp), if it differs from RTP port + 1.
    public var remoteRTCP: MediaAddress?
    /// SRTP keys for packets from the endpoint, `.some(nil)` to turn SRTP off.
    public var inboundSRTP: SRTPKeying??
    /// SRTP keys for packets to the endpoint, `.some(nil)` to turn SRTP off.
    public var outboundSRTP: SRTPKeying??
    /// The endpoint's direction.
    public var direction: MediaDirection?
    /// Drop packets from sources other than the latched one (until a verified re-latch).
    public var strictSource: Bool?
    /// The RTP clock rate used for jitter statistics (8000 by default).
    public var clockRate: Int?
    /// Drop all media from the endpoint (ng `block media`); hold semantics aside, nothing is relayed.
    public var blockMedia: Bool?
    /// Drop RFC 4733 telephone-event packets from the endpoint (ng `block DTMF`).
    public var blockDTMF: Bool?
    /// The payload types the endpoint uses for telephone-event (for `blockDTMF`).
    public var telephoneEventPayloadTypes: [UInt8]?
    /// Rewrite SSRC, sequence number and timestamp of packets sent to this leg's endpoint so it sees
    /// one continuous stream when the source behind the linked leg changes (re-INVITE, switch).
    public var rewritesOutboundStream: Bool?
    /// RTCP multiplexed on the RTP port (RFC 5761), once the answer agreed to it.
    public var rtcpMux: Bool?
    /// Learn the endpoint's address from its packets (symmetric RTP, the default); false sends only to
    /// the signalled address and accepts any source (ng `asymmetric`).
    public var learnsSource: Bool?

    /// An update with the given changes.
    public init(
        remoteRTP: MediaAddress? = nil, remoteRTCP: MediaAddress? = nil,
        inboundSRTP: SRTPKeying?? = nil, outboundSRTP: SRTPKeying?? = nil,
        direction: MediaDirection? = nil, strictSource: Bool? = nil, clockRate: Int? = nil,
        blockMedia: Bool? = nil, blockDTMF: Bool? = nil, telephoneEventPayloadTypes: [UInt8]? = nil,
        rewritesOutboundStream: Bool? = nil
    ) {
        self.blockMedia = blockMedia
        self.blockDTMF = blockDTMF
        self.telephoneEventPayloadTypes = telephoneEventPayloadTypes
        self.rewritesOutboundStream = rewritesOutboundStream
        self.remoteRTP = remoteRTP
        self.remoteRTCP = remoteRTCP
        self.inboundSRTP = inboundSRTP
        self.outboundSRTP = outboundSRTP
        self.direction = direction
        self.strictSource = strictSource
        self.clockRate = clockRate
    }
}

/// Something that happened on a leg, reported once.
public struct MediaEvent: Hashable, Sendable {
    /// What happened.
    public enum Kind: Hashable, Sendable {
        /// The first RTP packet arrived on the leg.
        case streamStarted(SSRC)
        /// No RTP for the configured media timeout on a leg not on hold.
        case mediaTimeout
        /// The endpoint's RTP SSRC changed.
        case ssrcChanged(from: SSRC, to: SSRC)
        /// A playback into the leg ended (completed, stopped or barged in).
        case playbackEnded(PlaybackEnd)
        /// The endpoint pressed a key: the first packet of an RFC 4733 event on one of the leg's
        /// telephone-event payload types.
        case dtmf(DTMFDigit)
        /// A conference participant started (true) or stopped (false) talking.
        case talking(Bool)
        /// A conference participant was kicked out of its room.
        case kicked
    }

    /// The leg it happened on; slot -1 for an event about a whole conference room.
    public let leg: MediaLegHandle
    /// What happened.
    public let kind: Kind
    /// The conference room, for events of a participant's leg or of a room.
    public let room: ConferenceRoomHandle?

    /// An event.
    public init(leg: MediaLegHandle, kind: Kind, room: ConferenceRoomHandle? = nil) {
        self.leg = leg
        self.kind = kind
        self.room = room
    }
}

/// Why packets were dropped on a leg, per reason.
public struct DropCounters: Hashable, Sendable {
    /// From a source other than the latched peer while strict source checking is on.
    public var sourceMismatch: UInt64 = 0
    /// Not RTP or RTCP, or too short/malformed to be.
    public var malformed: UInt64 = 0
    /// SRTP/SRTCP authentication failed.
    public var srtpAuthentication: UInt64 = 0
    /// SRTP/SRTCP replayed or older than the replay window.
    public var srtpReplay: UInt64 = 0
    /// Other SRTP failures (on unprotect or protect).
    public var srtpOther: UInt64 = 0
    /// The leg's direction (hold) forbids relaying it.
    public var direction: UInt64 = 0
    /// The leg is not linked, or the destination has no known peer address yet.
    public var noDestination: UInt64 = 0
    /// sendmmsg refused the datagram.
    public var sendFailed: UInt64 = 0
    /// RTP from an endpoint whose media is blocked (`LegUpdate.blockMedia`).
    public var blocked: UInt64 = 0
    /// RFC 4733 telephone-event RTP from an endpoint whose DTMF is blocked (`LegUpdate.blockDTMF`).
    public var blockedDTMF: UInt64 = 0

    /// All drops.
    public var total: UInt64 {
        sourceMismatch &+ malformed &+ srtpAuthentication &+ srtpReplay &+ srtpOther &+ direction &+ noDestination
            &+ sendFailed &+ blocked &+ blockedDTMF
    }

    /// No drops.
    public init() {}
}

/// A snapshot of one leg's statistics.
public struct LegStatistics: Sendable {
    /// The leg.
    public let leg: MediaLegHandle
    /// Datagrams received on the leg's sockets, including dropped ones.
    public var packetsIn: UInt64
    /// Bytes received.
    public var bytesIn: UInt64
    /// Datagrams sent to the leg's endpoint.
    public var packetsOut: UInt64
    /// Bytes sent.
    public var bytesOut: UInt64
    /// RTCP datagrams among `packetsIn`.
    public var rtcpPacketsIn: UInt64
    /// Drops by reason.
    public var dropped: DropCounters
    /// RFC 3550 A.3 packets expected from the endpoint's current SSRC.
    public var expectedPackets: UInt32
    /// RFC 3550 A.3 cumulative packets lost.
    public var cumulativeLost: Int32
    /// RFC 3550 A.8 interarrival jitter, in milliseconds.
    public var jitterMilliseconds: Double
    /// E-model MOS estimate (G.711 with PLC; one-way delay taken as half of `roundTripMilliseconds`
    /// when known, else 0).
    public var meanOpinionScore: Double
    /// The last round-trip time between the engine and this leg's endpoint (RFC 3550 §6.4.1: from the
    /// LSR/DLSR of the endpoint's reports on SRs relayed to it), in milliseconds; nil until measured.
    public var roundTripMilliseconds: Double?
    /// The endpoint's current RTP SSRC, if any RTP arrived.
    public var ssrc: SSRC?
    /// The latched (or signalled) RTP peer address.
    public var peer: MediaAddress?
    /// Whether the media timeout fired and no RTP has arrived since.
    public var isTimedOut: Bool
    /// When what this leg's endpoint receives is transcoded or played: the pipeline's counters
    /// (frames decoded and concealed, unknown payload types, undecodable payloads, …); nil when relayed.
    public var pipeline: AudioPipelineCounters? = nil
}

/// A snapshot of a session's legs.
public struct SessionStatistics: Sendable {
    /// The session.
    public let session: MediaSessionHandle
    /// Its legs, in creation order.
    public var legs: [LegStatistics]
}
