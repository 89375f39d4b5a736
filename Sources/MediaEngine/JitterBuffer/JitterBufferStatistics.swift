/// Counters of one jitter buffer since it was created (never reset by a stream reset).
public struct JitterBufferStatistics: Sendable, Equatable {
    /// Packets offered to `insert`.
    public var packetsReceived = 0
    /// Packets dropped because the same sequence number was buffered or already played.
    public var duplicatePackets = 0
    /// Packets dropped because they arrived after their playout time.
    public var latePackets = 0
    /// Packets dropped because their payload exceeded the configured maximum.
    public var rejectedPackets = 0
    /// Packets never played because playout skipped over them (lost or too late).
    public var skippedPackets = 0
    /// Flushes because a packet did not fit in the buffer.
    public var overflowFlushes = 0
    /// Resets (SSRC change, timestamp jump, sequence jump).
    public var resets = 0
    /// Resets caused by an SSRC change.
    public var ssrcChanges = 0
    /// Resets caused by a timestamp or sequence-number jump.
    public var jumps = 0
    /// Frames per operation, indexed by `PlayoutOperation.rawValue`.
    public var operations: (Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0)

    /// An all-zero set of counters.
    public init() {}

    /// Frames produced with `operation`.
    public func count(of operation: PlayoutOperation) -> Int {
        switch operation {
        case .normal: operations.0
        case .conceal: operations.1
        case .accelerate: operations.2
        case .stretch: operations.3
        case .comfortNoise: operations.4
        case .reset: operations.5
        case .silence: operations.6
        }
    }

    mutating func record(_ operation: PlayoutOperation) {
        switch operation {
        case .normal: operations.0 += 1
        case .conceal: operations.1 += 1
        case .accelerate: operations.2 += 1
        case .stretch: operations.3 += 1
        case .comfortNoise: operations.4 += 1
        case .reset: operations.5 += 1
        case .silence: operations.6 += 1
        }
    }

    public static func == (l: Self, r: Self) -> Bool {
        l.packetsReceived == r.packetsReceived && l.duplicatePackets == r.duplicatePackets && l.latePackets == r.latePackets
            && l.rejectedPackets == r.rejectedPackets && l.skippedPackets == r.skippedPackets
            && l.overflowFlushes == r.overflowFlushes && l.resets == r.resets && l.ssrcChanges == r.ssrcChanges
            && l.jumps == r.jumps && PlayoutOperation.allCases.allSatisfy { l.count(of: $0) == r.count(of: $0) }
    }
}
