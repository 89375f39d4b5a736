// swift-tools-version: 6.1
// Tandem's micro-benchmarks (ordo-one/benchmark). Run with `make bench` from the repository root;
// `make bench-check` fails when an allocation count rises above the committed thresholds.
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name, which differs between clones ("main", "repo", …).
let tandemIdentity = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "TandemBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The shared configuration of the hot-path benchmarks (allocation gate).
        .target(name: "BenchmarkSupport", dependencies: [.product(name: "Benchmark", package: "benchmark")],
                path: "Benchmarks/BenchmarkSupport"),
        // Reference C implementations (spandsp, libopus, libspeexdsp) measured side by side with Tandem's.
        .target(name: "CReference", path: "Perf/CReference",
                linkerSettings: [.linkedLibrary("opus"), .linkedLibrary("spandsp"), .linkedLibrary("speexdsp"), .linkedLibrary("srtp2"),
                                 .linkedLibrary("m")]),
        // `perf/run srtp`: Tandem's SRTP against libsrtp2, protect + unprotect per packet, as RESULT lines.
        .executableTarget(
            name: "tandem-srtp-perf",
            dependencies: ["CReference", .product(name: "SRTP", package: tandemIdentity)],
            path: "Perf/SRTPPerf"
        ),
        // `perf/run codecs`: ratios of Tandem's codecs and resampler to the C libraries, as RESULT lines.
        .executableTarget(
            name: "tandem-codec-perf",
            dependencies: ["CReference", .product(name: "Codecs", package: tandemIdentity)],
            path: "Perf/CodecPerf"
        ),
        // `perf/run transcode`: CPU per PCMU↔Opus call-second through AudioPipeline vs the bare codecs, as RESULT inputs.
        .executableTarget(
            name: "tandem-transcode-perf",
            dependencies: [.product(name: "MediaEngine", package: tandemIdentity), .product(name: "Codecs", package: tandemIdentity),
                           .product(name: "TandemBase", package: tandemIdentity)],
            path: "Perf/TranscodePerf"
        ),
        .executableTarget(
            name: "TranscodeBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MediaEngine", package: tandemIdentity),
                .product(name: "Codecs", package: tandemIdentity),
                .product(name: "TandemBase", package: tandemIdentity),
            ],
            path: "Benchmarks/TranscodeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TandemBaseBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TandemBase", package: tandemIdentity),
            ],
            path: "Benchmarks/TandemBaseBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CodecsBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Codecs", package: tandemIdentity),
            ],
            path: "Benchmarks/CodecsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RTPBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RTP", package: tandemIdentity),
                .product(name: "TandemBase", package: tandemIdentity),
            ],
            path: "Benchmarks/RTPBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MediaEngineBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MediaEngine", package: tandemIdentity),
                .product(name: "TandemBase", package: tandemIdentity),
            ],
            path: "Benchmarks/MediaEngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SIPBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SIPCore", package: tandemIdentity),
            ],
            path: "Benchmarks/SIPBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
