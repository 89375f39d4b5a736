import TandemBase

/// Remembers recent replies by cookie so a retransmitted request gets the same answer without re-execution.
///
/// rtpengine answers a repeated cookie from its cache rather than running the command twice
/// (an `offer` retransmitted by a SIP proxy must not allocate a second set of ports).
/// Bounded by entry count and by age; owned by one thread (the ng listener), not thread-safe.
public struct NGReplyCache: Sendable {
    private struct Entry: Sendable {
        var reply: [UInt8]
        var storedAt: Instant
    }

    /// Most entries kept; the oldest is evicted first.
    public let capacity: Int
    /// How long a reply stays valid, in milliseconds.
    public let maxAgeMilliseconds: Int64
    private var entries: [[UInt8]: Entry] = [:]
    /// Insertion order for FIFO eviction; `head` skips consumed slots without shifting.
    private var order: [[UInt8]] = []
    private var head = 0

    /// Creates an empty cache; rtpengine keeps replies for about 30 s.
    public init(capacity: Int = 4096, maxAgeMilliseconds: Int64 = 30_000) {
        self.capacity = max(1, capacity)
        self.maxAgeMilliseconds = maxAgeMilliseconds
    }

    /// Number of cached replies.
    public var count: Int { entries.count }

    /// The cached reply for `cookie` if present and younger than the maximum age.
    public func reply(for cookie: [UInt8], now: Instant) -> [UInt8]? {
        guard let entry = entries[cookie], now.milliseconds(since: entry.storedAt) < maxAgeMilliseconds else { return nil }
        return entry.reply
    }

    /// Stores `reply` under `cookie`, evicting the oldest entries beyond capacity.
    public mutating func store(_ reply: [UInt8], for cookie: [UInt8], now: Instant) {
        if entries.updateValue(Entry(reply: reply, storedAt: now), forKey: cookie) == nil {
            order.append(cookie)
        }
        while entries.count > capacity, head < order.count {
            entries[order[head]] = nil
            head += 1
        }
        // Compact the order array once the consumed prefix dominates, keeping memory bounded.
        if head > capacity {
            order.removeFirst(head)
            head = 0
        }
    }
}
