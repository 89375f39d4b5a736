import Benchmark
import BenchmarkSupport
import MediaEngine
import TandemBase

/// Per-packet costs of the jitter buffer: one insert and one 20 ms pull per iteration, in simulated
/// time, as the terminating path does. Allocation counts are gated by Thresholds/ (zero once warm).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .tandemHotPath()
    relayBenchmarks()
    conferenceBenchmarks()

    Benchmark("MediaEngine.JitterBuffer.insertPull.steady") { benchmark in
        let buffer = JitterBuffer()
        let payload = [UInt8](repeating: 0xd5, count: 160)
        var seq = SequenceNumber(1000)
        var ts = RTPTimestamp(80_000)
        var clock: UInt64 = 1_000_000_000
        payload.withUnsafeBytes { p in
            // Prime the buffer so pulls play real packets rather than silence.
            for _ in 0..<10 {
                _ = buffer.insert(JitterPacket(sequenceNumber: seq, timestamp: ts, ssrc: 42), payload: p, now: Instant(nanoseconds: clock))
                seq = seq.advanced(by: 1); ts = ts.advanced(by: 160); clock += 20_000_000
            }
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(buffer.insert(JitterPacket(sequenceNumber: seq, timestamp: ts, ssrc: 42), payload: p,
                                        now: Instant(nanoseconds: clock)))
                blackHole(buffer.pull(now: Instant(nanoseconds: clock)))
                seq = seq.advanced(by: 1); ts = ts.advanced(by: 160); clock += 20_000_000
            }
        }
    }
}
