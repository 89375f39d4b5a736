import RTP
import TandemBase
import Testing

@Suite struct ReceiveStatisticsTests {
    /// Feeds `seqs` with timestamps 160 apart and constant transit; returns per-packet validity.
    @discardableResult
    static func feed(_ stats: inout ReceiveStatistics, _ seqs: [UInt16]) -> [Bool] {
        seqs.map { s in
            let ts = RTPTimestamp(UInt32(s) &* 160)
            return stats.record(sequenceNumber: SequenceNumber(s), timestamp: ts, arrival: ts.advanced(by: 1000))
        }
    }

    @Test func inOrderStreamHasNoLoss() {
        var stats = ReceiveStatistics()
        let valid = Self.feed(&stats, Array(1000...1009))
        // A.1: the first packet is on probation; the source is valid from the second.
        #expect(valid == [false] + Array(repeating: true, count: 9))
        #expect(stats.receivedPacketCount == 9)
        #expect(stats.expectedPacketCount == 9)
        #expect(stats.cumulativeLost == 0)
        #expect(stats.extendedHighestSequenceNumber == 1009)
        #expect(stats.jitter == 0)
        #expect(stats.takeFractionLost() == 0)
    }

    @Test func lossIsCountedAndFractionUsesTheInterval() {
        var stats = ReceiveStatistics()
        Self.feed(&stats, [1, 2, 3, 4, 7, 8, 9, 10])
        // Base is 2 (end of probation): expected 2...10 = 9, received 7.
        #expect(stats.expectedPacketCount == 9 && stats.receivedPacketCount == 7)
        #expect(stats.cumulativeLost == 2)
        let block = stats.makeReportBlock(ssrc: SSRC(77), lastSenderReport: 0x1234_5678, delaySinceLastSenderReport: 99)
        #expect(block.fractionLost == UInt8((2 << 8) / 9))
        #expect(block.cumulativeLost == 2 && block.extendedHighestSequenceNumber == 10)
        #expect(block.ssrc == SSRC(77) && block.lastSenderReport == 0x1234_5678 && block.delaySinceLastSenderReport == 99)
        Self.feed(&stats, [11, 12])
        // The next interval had no loss.
        #expect(stats.takeFractionLost() == 0)
        #expect(stats.cumulativeLost == 2)
    }

    @Test func duplicatesMakeCumulativeLossNegative() {
        var stats = ReceiveStatistics()
        let valid = Self.feed(&stats, [1, 2, 3, 3, 4])
        #expect(valid == [false, true, true, true, true])
        #expect(stats.receivedPacketCount == 4 && stats.expectedPacketCount == 3)
        #expect(stats.cumulativeLost == -1)
        #expect(stats.takeFractionLost() == 0, "A.3: a negative interval loss reports 0")
    }

    @Test func reorderingKeepsHighestAndLosesNothing() {
        var stats = ReceiveStatistics()
        Self.feed(&stats, [1, 2, 4, 3, 5])
        #expect(stats.extendedHighestSequenceNumber == 5)
        #expect(stats.receivedPacketCount == 4 && stats.expectedPacketCount == 4 && stats.cumulativeLost == 0)
    }

    @Test func wrapAt65535CountsACycle() {
        var stats = ReceiveStatistics()
        Self.feed(&stats, [65533, 65534, 65535, 0, 1])
        #expect(stats.extendedHighestSequenceNumber == 65536 + 1)
        #expect(stats.expectedPacketCount == 4 && stats.receivedPacketCount == 4 && stats.cumulativeLost == 0)
    }

    @Test func largeJumpResyncsAfterTwoSequentialPackets() {
        var stats = ReceiveStatistics()
        let valid = Self.feed(&stats, [1, 2, 3, 10_000, 10_001, 10_002])
        #expect(valid == [false, true, true, false, true, true])
        // Re-synced at 10001 as if it were the first packet.
        #expect(stats.extendedHighestSequenceNumber == 10_002)
        #expect(stats.expectedPacketCount == 2 && stats.receivedPacketCount == 2 && stats.cumulativeLost == 0)
    }

    @Test func singleStrayJumpIsDiscardedAndStreamContinues() {
        var stats = ReceiveStatistics()
        let valid = Self.feed(&stats, [1, 2, 3, 30_000, 4, 5])
        #expect(valid == [false, true, true, false, true, true])
        #expect(stats.extendedHighestSequenceNumber == 5 && stats.cumulativeLost == 0)
    }

    @Test func probationRestartsOnOutOfOrderStart() {
        var stats = ReceiveStatistics()
        let valid = Self.feed(&stats, [10, 50, 51, 52])
        // 50 breaks the run: probation restarts needing one more in-sequence packet (51).
        #expect(valid == [false, false, true, true])
        #expect(stats.expectedPacketCount == 2 && stats.receivedPacketCount == 2)
    }

    /// Transit alternating 0 and 160 gives |D| = 160 for every packet after the first, so by A.8
    /// J_n = 160 · (1 − (15/16)^n); after n = 3 that is 28.1640625.
    @Test func jitterMatchesHandComputedValue() {
        var stats = ReceiveStatistics()
        for i in 0..<4 {
            let ts = RTPTimestamp(UInt32(i) * 160)
            let arrival = ts.advanced(by: i % 2 == 1 ? 160 : 0)
            _ = stats.record(sequenceNumber: SequenceNumber(UInt16(i)), timestamp: ts, arrival: arrival)
        }
        #expect(abs(stats.jitterEstimate - 28.1640625) < 1e-9)
        #expect(stats.jitter == 28)
    }

    @Test func jitterIsWrapAwareAcrossTimestampWrap() {
        var stats = ReceiveStatistics()
        // Timestamps wrap at 2^32 while transit stays constant: jitter must stay 0.
        for i in 0..<5 {
            let ts = RTPTimestamp(UInt32.max - 300).advanced(by: i * 160)
            _ = stats.record(sequenceNumber: SequenceNumber(UInt16(i)), timestamp: ts, arrival: ts.advanced(by: 12345))
        }
        #expect(stats.jitter == 0)
    }
}
