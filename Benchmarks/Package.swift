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
        .executableTarget(
            name: "TandemBaseBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TandemBase", package: tandemIdentity),
            ],
            path: "Benchmarks/TandemBaseBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
