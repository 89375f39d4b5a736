import MediaEngine
import Testing

/// Trace replays with asserted bounds. Each bound is met with margin by the adaptive buffer and fails for a
/// fixed buffer (see `fixedBufferFailsTheJitterBounds`) or a broken one.
@Suite struct JitterBufferReplayTests {
    static func summary(_ r: JitterBufferReplay.Report) -> String {
        let s = r.statistics
        return "\(r.name): mean=\(r.meanAddedDelayMs) p95=\(r.p95AddedDelayMs) buffering=\(r.meanBufferingDelayMs) lost=\(r.concealedLostShare) late=\(r.concealedLateShare) acc=\(s.count(of: .accelerate)) str=\(s.count(of: .stretch)) resets=\(s.resets) dup=\(s.duplicatePackets) lateDrops=\(s.latePackets)"
    }

    @Test func cleanNetworkPlaysEverythingWithLittleDelay() {
        let r = JitterBufferReplay.run(.clean())
        #expect(r.meanAddedDelayMs <= 40, "\(Self.summary(r))")
        #expect(r.concealedLostShare + r.concealedLateShare < 0.005, "\(Self.summary(r))")
        #expect(r.statistics.latePackets == 0 && r.statistics.resets == 0)
        #expect(r.playedPackets >= r.sentSpeechPackets && !r.playedTwice)
    }

    @Test func uniformJitterOf40msIsAbsorbed() {
        let r = JitterBufferReplay.run(.uniformJitter(amplitudeMs: 40))
        #expect(r.concealedLateShare < 0.02, "\(Self.summary(r))")
        #expect(r.p95AddedDelayMs <= 150, "\(Self.summary(r))")
        // The buffer must actually hold back packets to absorb 80 ms of spread.
        #expect(r.meanBufferingDelayMs >= 60, "\(Self.summary(r))")
    }

    @Test func fixedBufferFailsTheJitterBounds() {
        // A naive fixed 20 ms buffer: too many late frames on ±40 ms jitter.
        let small = JitterBufferReplay.run(.uniformJitter(amplitudeMs: 40), configuration: JitterBufferConfiguration(minimumDelayMs: 20, maximumDelayMs: 20))
        #expect(small.concealedLateShare >= 0.02, "\(Self.summary(small))")
        // A naive fixed 200 ms buffer: no late frames but too much delay.
        let large = JitterBufferReplay.run(.uniformJitter(amplitudeMs: 40), configuration: JitterBufferConfiguration(minimumDelayMs: 200, maximumDelayMs: 200))
        #expect(large.p95AddedDelayMs > 150, "\(Self.summary(large))")
    }

    @Test func delaySpikesAreRidden() throws {
        let trace = JitterTrace.spiky(spikeMs: 200, seconds: 60, spikySeconds: 35)
        let r = JitterBufferReplay.run(trace)
        #expect(r.concealedLateShare < 0.03, "\(Self.summary(r))")
        #expect(r.concealedLostShare == 0)
        #expect(r.statistics.latePackets < 20, "\(Self.summary(r))")
        // Bursts after a stall are played, then the delay is accelerated back down.
        #expect(r.statistics.count(of: .accelerate) >= 10, "\(Self.summary(r))")
        let end = try #require(r.delaySamples.last?.timeMs)
        let calm = try #require(r.meanBufferingDelay(fromMs: end - 10_000, toMs: end + 1))
        #expect(calm <= 60, "\(Self.summary(r)) calm=\(calm)")
    }

    @Test func randomLossIsConcealedAsLossNotLateness() {
        let trace = JitterTrace.randomLoss(rate: 0.05)
        let lostRate = Double(trace.packets.filter { $0.arrivalMs == nil }.count) / Double(trace.packets.count)
        let r = JitterBufferReplay.run(trace)
        #expect(abs(lostRate - 0.05) < 0.01)
        #expect(abs(r.concealedLostShare - lostRate) < 0.01, "\(Self.summary(r)) network=\(lostRate)")
        #expect(r.concealedLateShare < 0.002, "\(Self.summary(r))")
        #expect(r.statistics.latePackets == 0)
    }

    @Test func burstLossIsConcealedFrameForFrame() {
        let trace = JitterTrace.burstLoss(rate: 0.05)
        let lost = trace.packets.filter { $0.arrivalMs == nil }.count
        let r = JitterBufferReplay.run(trace)
        #expect(lost > 50)
        #expect(abs(r.concealedLostShare * Double(r.sentSpeechPackets) - Double(lost)) <= Double(lost) * 0.2, "\(Self.summary(r)) lost=\(lost)")
        #expect(r.concealedLateShare < 0.005, "\(Self.summary(r))")
        #expect(r.meanBufferingDelayMs < 60, "\(Self.summary(r))")
    }

    @Test func reorderedPacketsInTimeAreNotLost() {
        let r = JitterBufferReplay.run(.reordering(rate: 0.05))
        #expect(r.concealedLostShare == 0, "\(Self.summary(r))")
        #expect(r.concealedLateShare < 0.005, "\(Self.summary(r))")
        #expect(r.statistics.latePackets <= 2 && r.statistics.skippedPackets <= 2, "\(Self.summary(r))")
        #expect(r.meanBufferingDelayMs < 60)
    }

    @Test(arguments: [200.0, -200.0])
    func clockDriftDoesNotAccumulate(ppm: Double) throws {
        // 300 s: a fixed buffer would drift by 60 ms (and run dry when the sender is slow).
        let r = JitterBufferReplay.run(.drift(ppm: ppm, seconds: 300))
        let end = try #require(r.delaySamples.last?.timeMs)
        let start = try #require(r.meanBufferingDelay(fromMs: 0, toMs: 20_000))
        let final = try #require(r.meanBufferingDelay(fromMs: end - 20_000, toMs: end + 1))
        #expect(abs(final - start) <= 20, "\(Self.summary(r)) start=\(start) end=\(final)")
        #expect(r.concealedLateShare + r.concealedLostShare < 0.002, "\(Self.summary(r))")
        let corrections = ppm > 0 ? r.statistics.count(of: .accelerate) : r.statistics.count(of: .stretch)
        #expect(corrections >= 1, "\(Self.summary(r))")
    }

    @Test func duplicatesAreCountedAndPlayedOnce() {
        let trace = JitterTrace.duplicates(rate: 0.03)
        let copies = trace.packets.count - Set(trace.packets.map(\.sequenceNumber)).count
        let r = JitterBufferReplay.run(trace)
        #expect(copies > 20)
        #expect(r.statistics.duplicatePackets == copies, "\(Self.summary(r))")
        #expect(!r.playedTwice)
        #expect(r.playedPackets == r.sentSpeechPackets)
    }

    @Test(arguments: [true, false])
    func dtxGapsAreSilenceNotConcealment(comfortNoise: Bool) {
        let r = JitterBufferReplay.run(.dtx(comfortNoise: comfortNoise))
        #expect(r.concealedLostShare + r.concealedLateShare < 0.005, "\(Self.summary(r))")
        #expect(r.statistics.latePackets == 0 && r.statistics.resets == 0)
        #expect(r.statistics.count(of: .comfortNoise) > 300)
        // Each talkspurt is re-buffered, not played on arrival nor delayed by the gap.
        #expect(r.meanBufferingDelayMs < 70, "\(Self.summary(r))")
        #expect(r.playedPackets >= r.sentSpeechPackets)
    }

    @Test func timestampJumpResetsOnceAndRecovers() {
        let r = JitterBufferReplay.run(.timestampJump())
        #expect(r.statistics.resets == 1 && r.statistics.jumps == 1)
        #expect(r.statistics.count(of: .reset) == 1)
        #expect(r.concealedLostShare + r.concealedLateShare < 0.005, "\(Self.summary(r))")
        #expect(r.meanAddedDelayMs <= 40)
    }

    @Test func ssrcChangeResetsOnceAndRecovers() {
        let r = JitterBufferReplay.run(.ssrcChange())
        #expect(r.statistics.resets == 1 && r.statistics.ssrcChanges == 1)
        #expect(r.statistics.count(of: .reset) == 1)
        #expect(r.concealedLostShare + r.concealedLateShare < 0.005, "\(Self.summary(r))")
        #expect(r.playedPackets >= r.sentSpeechPackets - 2)
    }

    @Test func tracesAreDeterministic() {
        #expect(JitterTrace.uniformJitter().packets == JitterTrace.uniformJitter().packets)
        #expect(JitterTrace.spiky().packets == JitterTrace.spiky().packets)
        let a = JitterBufferReplay.run(.burstLoss()), b = JitterBufferReplay.run(.burstLoss())
        #expect(a.statistics == b.statistics && a.meanAddedDelayMs == b.meanAddedDelayMs)
    }
}
