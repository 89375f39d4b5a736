import TandemBase

/// What to do with one received ng datagram.
public enum NGInbound: Hashable, Sendable {
    /// A valid request to execute; answer with `NGProtocolHandler.encode(_:cookie:)`.
    case request(cookie: [UInt8], NGRequest)
    /// Send these bytes back (an error reply, or a cached reply to a retransmission).
    case reply([UInt8])
    /// No cookie could be read: nothing can be answered; count and drop.
    case drop(NGFramingError)
}

/// The ng protocol as pure functions: bytes in → request or reply bytes; reply → bytes. No I/O, no state.
public enum NGProtocolHandler {
    /// Decodes one datagram; bad bencode or an invalid request becomes an error reply with the same cookie.
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: BencodeLimits = .default) -> NGInbound {
        let datagram: NGDatagram
        do {
            datagram = try NGDatagram(parsing: bytes, limits: limits)
        } catch {
            switch error {
            case .framing(let f): return .drop(f)
            case .body(let cookie, let e): return .reply(encode(.error(.invalidBencode(e)), cookie: cookie))
            }
        }
        do {
            return .request(cookie: datagram.cookie, try NGRequest(decoding: datagram.body))
        } catch {
            return .reply(encode(.error(error), cookie: datagram.cookie))
        }
    }

    /// Decodes one datagram held in an array.
    public static func decode(_ bytes: [UInt8], limits: BencodeLimits = .default) -> NGInbound {
        bytes.withUnsafeBytes { decode($0, limits: limits) }
    }

    /// Encodes `reply` under `cookie`.
    public static func encode(_ reply: NGReply, cookie: [UInt8]) -> [UInt8] {
        reply.encoded(cookie: cookie)
    }
}

/// Counters of an ng listener, for metrics.
public struct NGControlCounters: Hashable, Sendable {
    /// Requests handed out for execution.
    public var requests: UInt64 = 0
    /// Retransmissions answered from the cache.
    public var retransmissions: UInt64 = 0
    /// Error replies sent for bad bencode or invalid requests.
    public var errorReplies: UInt64 = 0
    /// Datagrams dropped because no cookie could be read.
    public var dropped: UInt64 = 0
    /// Creates zeroed counters.
    public init() {}
}

/// The ng listener's state: the retransmission cache and counters around the pure handler.
///
/// Owned by the single thread that reads the control socket; time is injected.
public struct NGControlState: Sendable {
    /// Replies by cookie.
    public private(set) var cache: NGReplyCache
    /// Counters.
    public private(set) var counters = NGControlCounters()
    /// Parser limits.
    public var limits: BencodeLimits

    /// Creates state with an empty cache.
    public init(cache: NGReplyCache = NGReplyCache(), limits: BencodeLimits = .default) {
        self.cache = cache
        self.limits = limits
    }

    /// Handles one datagram: a cached reply for a known cookie, an error reply, a request, or a drop.
    public mutating func receive(_ bytes: [UInt8], now: Instant) -> NGInbound {
        // The cookie is checked before the body so a retransmission is never executed twice.
        let cookie: [UInt8]? = bytes.withUnsafeBytes { raw in
            (try? NGDatagram.splitCookie(raw))?.cookie
        }
        if let cookie, let cached = cache.reply(for: cookie, now: now) {
            counters.retransmissions += 1
            return .reply(cached)
        }
        let inbound = NGProtocolHandler.decode(bytes, limits: limits)
        switch inbound {
        case .request: counters.requests += 1
        case .reply(let reply):
            counters.errorReplies += 1
            if let cookie { cache.store(reply, for: cookie, now: now) }
        case .drop: counters.dropped += 1
        }
        return inbound
    }

    /// Encodes the reply to an executed request and caches it for retransmissions.
    public mutating func complete(cookie: [UInt8], reply: NGReply, now: Instant) -> [UInt8] {
        let bytes = NGProtocolHandler.encode(reply, cookie: cookie)
        cache.store(bytes, for: cookie, now: now)
        return bytes
    }
}
