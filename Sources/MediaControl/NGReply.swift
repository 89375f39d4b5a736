/// One ng reply; `dictionary` gives the wire dictionary, `encoded(cookie:)` the whole datagram.
public enum NGReply: Hashable, Sendable {
    /// `{"result": "pong"}` to a ping.
    case pong
    /// `{"result": "ok"}` with an optional warning (block/unblock, recording, stop media).
    case ok(warning: String? = nil)
    /// Offer or answer: the rewritten SDP.
    case sdp(String, warning: String? = nil)
    /// Delete: optional statistics of the deleted call (same keys as query).
    case deleted(NGCallStatistics?, warning: String? = nil)
    /// Query: the call's statistics.
    case query(NGCallStatistics)
    /// List: active call-ids.
    case list(callIDs: [String])
    /// Statistics: node-wide counters.
    case statistics(NGGlobalStatistics)
    /// Play media: duration in milliseconds when known.
    case played(durationMilliseconds: Int64?)
    /// `{"result": "ok"}` plus these keys (Tandem's conference commands).
    case fields([String: BencodeValue])
    /// `{"result": "error", "error-reason": ...}`; no other keys (ng protocol).
    case error(reason: String)

    /// The error reply for a rejected request.
    public static func error(_ e: NGRequestError) -> NGReply { .error(reason: e.reason) }

    /// The reply dictionary; allocates.
    public var dictionary: BencodeValue {
        var d: [String: BencodeValue] = [:]
        func ok(_ warning: String?) {
            d["result"] = .string("ok")
            if let warning { d["warning"] = .string(warning) }
        }
        switch self {
        case .pong:
            d["result"] = .string("pong")
        case .ok(let warning):
            ok(warning)
        case .sdp(let sdp, let warning):
            ok(warning)
            d["sdp"] = .string(sdp)
        case .deleted(let stats, let warning):
            ok(warning)
            stats?.add(to: &d)
        case .query(let stats):
            ok(nil)
            stats.add(to: &d)
        case .list(let ids):
            ok(nil)
            d["calls"] = .stringList(ids)
        case .statistics(let s):
            ok(nil)
            d["statistics"] = s.bencode
        case .played(let duration):
            ok(nil)
            if let duration { d["duration"] = .integer(duration) }
        case .fields(let fields):
            d = fields
            ok(nil)
        case .error(let reason):
            d["result"] = .string("error")
            d["error-reason"] = .string(reason)
        }
        return .dictionary(d)
    }

    /// `<cookie> <dictionary>` as bytes.
    public func encoded(cookie: [UInt8]) -> [UInt8] {
        NGDatagram(cookie: cookie, body: dictionary).encoded
    }
}
