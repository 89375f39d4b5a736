import TandemBase

/// The operation for one pulled frame; the caller decodes what the decision names and applies this DSP operation.
public enum PlayoutOperation: UInt8, Sendable, Equatable, CaseIterable {
    /// Decode the one packet and play it (with a merge/fade-in if the previous frame was synthetic).
    case normal
    /// The due packet is missing: synthesise a frame (expand/PLC); nothing to decode.
    case conceal
    /// Buffer above target: decode the two packets and time-compress them into one frame.
    case accelerate
    /// Buffer below target: synthesise a pitch-period continuation without consuming a packet (preemptive expand).
    case stretch
    /// Silence period (DTX or an RFC 3389 CN packet): play comfort noise; a CN payload, if any, carries the level.
    case comfortNoise
    /// The stream restarted (SSRC change, jump, overflow): reset decoder state and play silence this frame.
    case reset
    /// Nothing to play yet (buffering before the first packet is due): play silence.
    case silence
}

/// One pull's answer: the operation and which packets (0, 1 or 2) to decode, in order.
public struct PlayoutDecision: Sendable, Equatable {
    /// The DSP operation to apply for this frame.
    public var operation: PlayoutOperation
    /// Packets whose payloads must be decoded for this frame (0, 1 or 2), read with `JitterBuffer.payload(_:)`.
    public var packetCount: Int
    /// Sequence number of the first packet to decode, or of the missing packet when concealing.
    public var sequenceNumber: SequenceNumber
    /// RTP timestamp of the first sample of this frame on the playout timeline.
    public var timestamp: RTPTimestamp

    /// A decision.
    public init(operation: PlayoutOperation, packetCount: Int, sequenceNumber: SequenceNumber, timestamp: RTPTimestamp) {
        self.operation = operation
        self.packetCount = packetCount
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
    }
}
