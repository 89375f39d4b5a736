import MediaEngine
import Testing

@Suite struct JitterBufferReplayTests {
    static let traces: [JitterTrace] = [
        .clean(), .uniformJitter(), .spiky(), .randomLoss(), .burstLoss(), .reordering(), .drift(ppm: 200), .drift(ppm: -200),
        .duplicates(), .dtx(comfortNoise: true), .dtx(comfortNoise: false), .timestampJump(), .ssrcChange(),
    ]

    @Test func printReports() {
        for trace in Self.traces {
            let r = JitterBufferReplay.run(trace)
            let s = r.statistics
            print("\(r.name): frames=\(r.frames) mean=\(Int(r.meanAddedDelayMs)) p95=\(Int(r.p95AddedDelayMs)) buf=\(Int(r.meanBufferingDelayMs)) lost=\(r.concealedLostShare) late=\(r.concealedLateShare) acc=\(s.count(of: .accelerate)) str=\(s.count(of: .stretch)) conc=\(s.count(of: .conceal)) cn=\(s.count(of: .comfortNoise)) reset=\(s.resets) dup=\(s.duplicatePackets) lateDrop=\(s.latePackets) skip=\(s.skippedPackets) twice=\(r.playedTwice) first10s=\(r.meanBufferingDelay(fromMs: 0, toMs: 10000) ?? -1) last10s=\(r.meanBufferingDelay(fromMs: (r.delaySamples.last?.timeMs ?? 0) - 10000, toMs: 1e12) ?? -1)")
        }
    }
}
