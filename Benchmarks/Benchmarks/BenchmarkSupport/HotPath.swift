import Benchmark

extension Benchmark.Configuration {
    /// The configuration of Tandem's per-packet and per-frame benchmarks: 1,000 operations per sample,
    /// and the allocation gate. The harness itself makes ~16 allocations per sample; a hot path that
    /// allocated once per operation would add 1,000, so a tolerance of 8 still gates "zero".
    public static func tandemHotPath(
        metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal],
        maxDuration: Duration = .seconds(2),
        maxIterations: Int = 10_000
    ) -> Benchmark.Configuration {
        .init(metrics: metrics, warmupIterations: 50, scalingFactor: .kilo, maxDuration: maxDuration,
              maxIterations: maxIterations, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 8])])
    }
}
