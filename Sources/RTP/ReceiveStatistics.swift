import TandemBase

/// Per-source reception statistics exactly as RFC 3550 Appendix A.1, A.3 and A.8.
///
/// A plain value owned by the worker that receives the stream; `record` is O(1) and does not
/// allocate. Arrival times are given in the stream's RTP timestamp units (A.8).
public struct ReceiveStatistics: Sendable {
    /// A.1: a jump of fewer than this many sequence numbers ahead is accepted as in-order.
    public static let maxDropout: UInt16 = 3000
    /// A.1: a jump back of at most this many is a duplicate or reordered packet.
    public static let maxMisorder: UInt16 = 100
    /// A.1: sequential packets needed before a new source is valid.
    public static let minSequential = 2
    /// A.1: RTP_SEQ_MOD.
    static let sequenceModulus: UInt32 = 1 << 16

    var isStarted = false
    var maxSeq: UInt16 = 0
    /// Shifted count of sequence number cycles (multiples of 65536).
    var cycles: UInt32 = 0
    var baseSeq: UInt32 = 0
    /// Last 'bad' sequence number + 1; 65537 when none (an impossible value).
    var badSeq: UInt32 = 0
    var probation = 0
    /// Packets received (A.1 `received`), counting duplicates.
    public private(set) var receivedPacketCount: UInt32 = 0
    var expectedPrior: UInt32 = 0
    var receivedPrior: UInt32 = 0
    /// Relative transit time of the previous packet (A.8), in timestamp units; nil before the first.
    var transit: UInt32?
    /// Interarrival jitter estimate in timestamp units (A.8, floating-point form).
    public private(set) var jitterEstimate: Double = 0

    /// Creates statistics for a source not heard yet; the first `record` starts probation.
    public init() {}

    /// A.1 init_seq.
    mutating func initSequence(_ seq: UInt16) {
        baseSeq = UInt32(seq)
        maxSeq = seq
        badSeq = ReceiveStatistics.sequenceModulus + 1
        cycles = 0
        receivedPacketCount = 0
        receivedPrior = 0
        expectedPrior = 0
    }

    /// A.1 update_seq: returns false while the source is on probation or for a rejected jump.
    public mutating func update(sequenceNumber: SequenceNumber) -> Bool {
        let seq = sequenceNumber.rawValue
        if !isStarted {
            // A.1: a new source starts with init_seq, max_seq = seq - 1 and probation.
            isStarted = true
            initSequence(seq)
            maxSeq = seq &- 1
            probation = ReceiveStatistics.minSequential
        }
        let udelta = seq &- maxSeq
        if probation > 0 {
            // Source is not valid until minSequential packets in sequence have arrived.
            if seq == maxSeq &+ 1 {
                probation -= 1
                maxSeq = seq
                if probation == 0 {
                    initSequence(seq)
                    receivedPacketCount &+= 1
                    return true
                }
            } else {
                probation = ReceiveStatistics.minSequential - 1
                maxSeq = seq
            }
            return false
        } else if udelta < ReceiveStatistics.maxDropout {
            // In order, with permissible gap.
            if seq < maxSeq {
                // Sequence number wrapped: count another 64K cycle.
                cycles &+= ReceiveStatistics.sequenceModulus
            }
            maxSeq = seq
        } else if UInt32(udelta) <= ReceiveStatistics.sequenceModulus - UInt32(ReceiveStatistics.maxMisorder) {
            // The sequence number made a very large jump.
            if UInt32(seq) == badSeq {
                // Two sequential packets: assume the other side restarted without telling us, so
                // re-sync (pretend this was the first packet).
                initSequence(seq)
                transit = nil
            } else {
                badSeq = (UInt32(seq) + 1) & (ReceiveStatistics.sequenceModulus - 1)
                return false
            }
        } else {
            // Duplicate or reordered packet: counted as received, max unchanged.
        }
        receivedPacketCount &+= 1
        return true
    }

    /// Records one packet: A.1 sequence update and A.8 jitter. `arrival` is the arrival time in
    /// the same RTP clock units as `timestamp`. Returns whether the packet counts as valid.
    public mutating func record(sequenceNumber: SequenceNumber, timestamp: RTPTimestamp, arrival: RTPTimestamp) -> Bool {
        let valid = update(sequenceNumber: sequenceNumber)
        let currentTransit = arrival.rawValue &- timestamp.rawValue
        if let previous = transit {
            guard valid else { return false }
            // A.8: D(i-1,i) = (Rj - Ri) - (Sj - Si); J += (|D| - J) / 16. Wrap-aware difference.
            let d = Double(abs(Int64(Int32(bitPattern: currentTransit &- previous))))
            jitterEstimate += (d - jitterEstimate) / 16
            transit = currentTransit
        } else {
            // The first packet (or the first after a re-sync) only sets the baseline.
            transit = currentTransit
        }
        return valid
    }

    /// A.3: extended highest sequence number received (cycles in the high 16 bits).
    public var extendedHighestSequenceNumber: UInt32 { cycles &+ UInt32(maxSeq) }

    /// A.3: packets expected since the base sequence number.
    public var expectedPacketCount: UInt32 {
        guard isStarted, probation == 0 else { return 0 }
        return extendedHighestSequenceNumber &- baseSeq &+ 1
    }

    /// A.3: cumulative packets lost, clamped to the 24-bit signed range of a report block.
    public var cumulativeLost: Int32 {
        let lost = Int64(expectedPacketCount) - Int64(receivedPacketCount)
        return Int32(min(max(lost, -0x80_0000), 0x7F_FFFF))
    }

    /// A.8: interarrival jitter in timestamp units, as reported.
    public var jitter: UInt32 { UInt32(min(jitterEstimate, Double(UInt32.max))) }

    /// A.3: fraction lost since the previous call, in 1/256 units; advances the interval.
    public mutating func takeFractionLost() -> UInt8 {
        let expected = expectedPacketCount
        let expectedInterval = expected &- expectedPrior
        expectedPrior = expected
        let receivedInterval = receivedPacketCount &- receivedPrior
        receivedPrior = receivedPacketCount
        let lostInterval = Int64(expectedInterval) - Int64(receivedInterval)
        guard expectedInterval != 0, lostInterval > 0 else { return 0 }
        return UInt8(min((lostInterval << 8) / Int64(expectedInterval), 255))
    }

    /// Builds the report block for this source (RFC 3550 §6.4.1) and starts a new loss interval.
    ///
    /// `lastSenderReport` is the middle 32 bits of the last SR's NTP time from this source (0 if
    /// none); `delaySinceLastSenderReport` is in 1/65536 s.
    public mutating func makeReportBlock(
        ssrc: SSRC, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0
    ) -> RTCPReportBlock {
        RTCPReportBlock(
            ssrc: ssrc, fractionLost: takeFractionLost(), cumulativeLost: cumulativeLost,
            extendedHighestSequenceNumber: extendedHighestSequenceNumber, jitter: jitter,
            lastSenderReport: lastSenderReport, delaySinceLastSenderReport: delaySinceLastSenderReport)
    }
}
