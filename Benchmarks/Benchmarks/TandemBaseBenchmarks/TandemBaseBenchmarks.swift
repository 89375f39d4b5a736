import Benchmark
import BenchmarkSupport
import TandemBase

/// Benchmarks for TandemBase's hot-path pieces. Set-up happens outside the measured region;
/// results go through blackHole; allocation counts are gated by Thresholds/.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .tandemHotPath()

    // The command/event channel between control and a media worker: one push and one pop.
    Benchmark("TandemBase.SPSCQueue.pushPop") { benchmark in
        let queue = SPSCQueue<UInt64>(capacity: 1024)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            queue.push(UInt64(i))
            blackHole(queue.pop())
        }
    }

    // Filling and draining a batch, as a worker drains its command queue between packet batches.
    Benchmark("TandemBase.SPSCQueue.burst64") { benchmark in
        let queue = SPSCQueue<UInt64>(capacity: 64)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for j in 0..<64 { queue.push(UInt64(j)) }
            while let v = queue.pop() { blackHole(v) }
        }
    }

    // Wrap-aware sequence comparison, done per received RTP packet.
    Benchmark("TandemBase.SequenceNumber.compare") { benchmark in
        var seq = SequenceNumber(65000)
        let reference = SequenceNumber(64990)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            seq = seq.advanced(by: 1)
            blackHole(reference < seq)
        }
    }
}
