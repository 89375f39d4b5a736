import TandemBase

/// The RTP header facts the jitter buffer needs about one packet; the payload travels beside it as a view.
public struct JitterPacket: Sendable, Equatable {
    /// RTP sequence number.
    public var sequenceNumber: SequenceNumber
    /// RTP timestamp of the first sample.
    public var timestamp: RTPTimestamp
    /// RTP synchronisation source; a change resets the buffer.
    public var ssrc: UInt32
    /// RTP marker bit: for audio, the first packet of a talkspurt (RFC 3551 §4.1).
    public var hasMarker: Bool
    /// The payload is comfort noise (RFC 3389) rather than speech.
    public var isComfortNoise: Bool

    /// A packet header; `isComfortNoise` is decided by the caller from the payload type.
    public init(sequenceNumber: SequenceNumber, timestamp: RTPTimestamp, ssrc: UInt32, hasMarker: Bool = false, isComfortNoise: Bool = false) {
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.hasMarker = hasMarker
        self.isComfortNoise = isComfortNoise
    }
}

/// What happened to an inserted packet. Expected conditions are results, not errors.
public enum JitterInsertResult: Sendable, Equatable {
    /// Stored for playout.
    case inserted
    /// Same sequence number already buffered or already played; dropped.
    case duplicate
    /// Arrived after its playout time; dropped (still feeds the delay estimator).
    case late
    /// Payload larger than the configured maximum; dropped.
    case rejected
    /// Too far ahead of the playout point: the buffer was flushed and restarted from this packet.
    case flushed
    /// SSRC change, timestamp jump or sequence jump: the buffer was reset and restarted from this packet.
    case reset
}
