import Foundation
import Hummingbird
import NIOCore
import Store

/// One leg (stream) of a media session as the API shows it: where the engine receives and where it sends, the
/// negotiated codec and the counters and quality estimates of RFC 3550.
public struct MediaStreamInfo: Sendable, Equatable {
    /// The leg's number in its session (0: the caller's side, 1: the callee's).
    public var index: Int
    /// The engine's address and ports for this leg (what SDP advertises).
    public var localAddress: String
    public var localRTPPort: Int
    public var localRTCPPort: Int
    /// Where the engine sends the leg's media ("host:port"), once known.
    public var remoteAddress: String?
    /// "PCMA/8000"; nil while unknown (plain relay).
    public var codec: String?
    public var packetsIn: UInt64
    public var bytesIn: UInt64
    public var packetsOut: UInt64
    public var bytesOut: UInt64
    /// Packets dropped on the leg (any reason).
    public var packetsDropped: UInt64
    /// RFC 3550 A.3 cumulative packets lost from the endpoint, and the fraction of expected packets lost (0…1).
    public var packetsLost: Int64
    public var lossFraction: Double
    /// RFC 3550 A.8 interarrival jitter (ms).
    public var jitterMilliseconds: Double
    /// Round-trip time from RTCP (ms), once measured.
    public var roundTripMilliseconds: Double?
    /// E-model MOS estimate (1…4.5).
    public var meanOpinionScore: Double

    public init(index: Int, localAddress: String, localRTPPort: Int, localRTCPPort: Int, remoteAddress: String?, codec: String?,
                packetsIn: UInt64, bytesIn: UInt64, packetsOut: UInt64, bytesOut: UInt64, packetsDropped: UInt64,
                packetsLost: Int64, lossFraction: Double, jitterMilliseconds: Double, roundTripMilliseconds: Double?,
                meanOpinionScore: Double) {
        self.index = index
        self.localAddress = localAddress
        self.localRTPPort = localRTPPort
        self.localRTCPPort = localRTCPPort
        self.remoteAddress = remoteAddress
        self.codec = codec
        self.packetsIn = packetsIn
        self.bytesIn = bytesIn
        self.packetsOut = packetsOut
        self.bytesOut = bytesOut
        self.packetsDropped = packetsDropped
        self.packetsLost = packetsLost
        self.lossFraction = lossFraction
        self.jitterMilliseconds = jitterMilliseconds
        self.roundTripMilliseconds = roundTripMilliseconds
        self.meanOpinionScore = meanOpinionScore
    }
}

/// One active media session: the call it belongs to and its legs.
public struct MediaSessionInfo: Sendable, Equatable {
    /// The session id (the call id for a B2BUA call).
    public var id: String
    public var callID: String
    public var tenantID: String
    /// Parties on hold through the API (`caller`, `callee`).
    public var held: [String]
    public var streams: [MediaStreamInfo]

    public init(id: String, callID: String, tenantID: String, held: [String] = [], streams: [MediaStreamInfo]) {
        self.id = id
        self.callID = callID
        self.tenantID = tenantID
        self.held = held
        self.streams = streams
    }
}

/// Where the API reads active media sessions from (the executable adapts its media engine and B2BUA). The call
/// source given to `AdminAPIService` serves them when it also conforms to this protocol.
public protocol MediaSessionSource: Sendable {
    /// Every active media session of a call, with a fresh statistics snapshot.
    func mediaSessions() async -> [MediaSessionInfo]
}

struct MediaStreamDTO: Encodable {
    var s: MediaStreamInfo

    enum CodingKeys: String, CodingKey {
        case index, localAddress = "local_address", localRTPPort = "local_rtp_port", localRTCPPort = "local_rtcp_port"
        case remoteAddress = "remote_address", codec, packetsIn = "packets_in", bytesIn = "bytes_in"
        case packetsOut = "packets_out", bytesOut = "bytes_out", packetsDropped = "packets_dropped"
        case packetsLost = "packets_lost", lossFraction = "loss_fraction", jitter = "jitter_ms", rtt = "rtt_ms", mos
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(s.index, forKey: .index)
        try c.encode(s.localAddress, forKey: .localAddress)
        try c.encode(s.localRTPPort, forKey: .localRTPPort)
        try c.encode(s.localRTCPPort, forKey: .localRTCPPort)
        try c.encode(s.remoteAddress, forKey: .remoteAddress)
        try c.encode(s.codec, forKey: .codec)
        try c.encode(s.packetsIn, forKey: .packetsIn)
        try c.encode(s.bytesIn, forKey: .bytesIn)
        try c.encode(s.packetsOut, forKey: .packetsOut)
        try c.encode(s.bytesOut, forKey: .bytesOut)
        try c.encode(s.packetsDropped, forKey: .packetsDropped)
        try c.encode(s.packetsLost, forKey: .packetsLost)
        try c.encode(s.lossFraction.isFinite ? s.lossFraction : 0, forKey: .lossFraction)
        try c.encode(s.jitterMilliseconds.isFinite ? s.jitterMilliseconds : 0, forKey: .jitter)
        try c.encode(s.roundTripMilliseconds.flatMap { $0.isFinite ? $0 : nil }, forKey: .rtt)
        try c.encode(s.meanOpinionScore.isFinite ? s.meanOpinionScore : 0, forKey: .mos)
    }
}

struct MediaSessionDTO: Encodable {
    var session: MediaSessionInfo

    enum CodingKeys: String, CodingKey {
        case id, callID = "call_id", tenantID = "tenant_id", held, streams
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(session.id, forKey: .id)
        try c.encode(session.callID, forKey: .callID)
        try c.encode(session.tenantID, forKey: .tenantID)
        try c.encode(session.held, forKey: .held)
        try c.encode(session.streams.map { MediaStreamDTO(s: $0) }, forKey: .streams)
    }
}

extension AdminAPIService {
    /// The media sessions the caller may see: the system administrator every tenant's (or the one it names), a
    /// tenant administrator or API key its tenant's; extension users get 403.
    func visibleMediaSessions(_ caller: Caller, requestedTenant: String?) async throws -> [MediaSessionInfo] {
        try caller.requireAdministrator()
        var all = await (calls as? any MediaSessionSource)?.mediaSessions() ?? []
        if !(caller.isSystemAdmin && requestedTenant == nil) {
            let tenantID = try tenantScope(caller, requested: requestedTenant)
            all = all.filter { $0.tenantID == tenantID }
        }
        return all
    }
}

extension AdminAPIRoutes {
    static func registerMediaSessions(_ g: RouterGroup<APIRequestContext>, _ s: AdminAPIService) {
        g.get("media/sessions") { request, context -> Response in
            let caller = try context.requireCaller()
            let page = try PageRequest(request)
            let all = try await s.visibleMediaSessions(caller, requestedTenant: request.uri.queryParameters.get("tenant_id"))
                .sorted { $0.id < $1.id }
            let p = page.page(all, key: { $0.id })
            return try APIJSON.response(Page(items: p.items.map { MediaSessionDTO(session: $0) }, nextCursor: p.nextCursor))
        }
        g.get("media/sessions/:id") { _, context -> Response in
            let caller = try context.requireCaller()
            let id = try context.parameters.require("id")
            guard let session = try await s.visibleMediaSessions(caller, requestedTenant: nil).first(where: { $0.id == id })
            else { throw Problem.notFound("media session") }
            return try APIJSON.response(MediaSessionDTO(session: session))
        }
    }
}
