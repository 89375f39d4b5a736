import SDP

/// A media leg as call control sees it: where the engine receives the party's RTP and RTCP. The engine
/// behind `CallMediaService` owns the real handles; `session` and `index` name the leg to it.
public struct CallMediaLeg: Sendable, Hashable {
    /// The media session's id (the call id).
    public var session: String
    /// The leg's number within its session (0: caller side, 1: callee side).
    public var index: Int
    /// The address to advertise in SDP.
    public var address: String
    public var rtpPort: Int
    public var rtcpPort: Int

    public init(session: String, index: Int, address: String, rtpPort: Int, rtcpPort: Int) {
        self.session = session
        self.index = index
        self.address = address
        self.rtpPort = rtpPort
        self.rtcpPort = rtcpPort
    }
}

/// Where and how a party sends and receives on its leg, from its SDP.
public struct CallMediaRemote: Sendable, Hashable {
    /// RTP destination (host, port); nil while on hold with `c=0.0.0.0` or with no address.
    public var rtp: CallEndpointAddress?
    /// RTCP destination from `a=rtcp`, or nil (the engine uses RTP + 1).
    public var rtcp: CallEndpointAddress?
    /// The party's direction attribute.
    public var direction: SDPDirection

    public init(rtp: CallEndpointAddress?, rtcp: CallEndpointAddress?, direction: SDPDirection) {
        self.rtp = rtp
        self.rtcp = rtcp
        self.direction = direction
    }
}

/// A numeric host and a port.
public struct CallEndpointAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The audio format negotiated on one leg: what the party sends and expects.
public struct CallAudioFormat: Sendable, Hashable {
    /// Encoding name as in `a=rtpmap` ("PCMU", "opus").
    public var name: String
    public var clockRate: Int
    public var channels: Int
    public var payloadType: UInt8
    public var ptimeMilliseconds: Int
    public var telephoneEventPayloadType: UInt8?
    /// The party's `a=fmtp` for the payload type, if any.
    public var formatParameters: String?

    public init(name: String, clockRate: Int, channels: Int = 1, payloadType: UInt8, ptimeMilliseconds: Int = 20,
                telephoneEventPayloadType: UInt8? = nil, formatParameters: String? = nil) {
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.payloadType = payloadType
        self.ptimeMilliseconds = ptimeMilliseconds
        self.telephoneEventPayloadType = telephoneEventPayloadType
        self.formatParameters = formatParameters
    }

    /// "PCMU/8000", for records and logs.
    public var label: String { name + "/" + String(clockRate) }
}

/// What the B2BUA needs from a media engine: one session per call with a leg per side, remote addresses from
/// SDP, a link relaying the two legs, and per-leg audio formats (the engine relays when they match and
/// transcodes when they differ). Implemented by `tandem serve` over the in-process `MediaEngine`; PBX never sees
/// the engine's types.
public protocol CallMediaService: Sendable {
    /// True when the engine can decode and encode this codec (so it can transcode to and from it).
    func canTranscode(name: String, clockRate: Int) -> Bool
    /// Creates the call's media session.
    func createSession(id: String) async throws -> Void
    /// Adds a leg (an even/odd port pair) to session `id`.
    func addLeg(session id: String, ipv6: Bool) async throws -> CallMediaLeg
    /// Points a leg at its party and sets the party's direction.
    func updateLeg(_ leg: CallMediaLeg, remote: CallMediaRemote) async throws
    /// Relays the two legs to each other.
    func link(_ a: CallMediaLeg, _ b: CallMediaLeg) async throws
    /// Sets a leg's negotiated audio format (nil: unknown, plain relay).
    func setAudioFormat(_ format: CallAudioFormat?, for leg: CallMediaLeg) async throws
    /// Deletes session `id`: every port returns. Never fails for an unknown id.
    func deleteSession(id: String) async
    /// Holds the party on `leg`: its media is no longer relayed and it hears hold music (default: nothing).
    func startHold(_ leg: CallMediaLeg) async throws
    /// Ends `startHold`: the music stops and the legs relay again (default: nothing).
    func stopHold(_ leg: CallMediaLeg) async throws
    /// Terminates SDES-SRTP on a leg: packets from the party are decrypted with `inbound` (its key), packets to it
    /// encrypted with `outbound` (Tandem's key); the other leg stays plain RTP.
    func setSRTP(_ leg: CallMediaLeg, inbound: CallSRTPKey, outbound: CallSRTPKey) async throws
}

/// A media service that cannot terminate SRTP.
public struct CallMediaSRTPUnsupported: Error {}

extension CallMediaService {
    public func setSRTP(_ leg: CallMediaLeg, inbound: CallSRTPKey, outbound: CallSRTPKey) async throws {
        throw CallMediaSRTPUnsupported()
    }
}
