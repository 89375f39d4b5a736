// swift-tools-version: 6.1
// Tandem: an IP PBX and media server. Targets are listed bottom-up by layer (see docs/architecture.md);
// each says what it may import. Imports point only downward.
import PackageDescription

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .library(name: "TandemBase", targets: ["TandemBase"]),
        .library(name: "RTP", targets: ["RTP"]),
        .library(name: "SDP", targets: ["SDP"]),
        .library(name: "SIPCore", targets: ["SIPCore"]),
        .library(name: "MediaControl", targets: ["MediaControl"]),
        .library(name: "Codecs", targets: ["Codecs"]),
        .library(name: "SRTP", targets: ["SRTP"]),
        .library(name: "MediaEngine", targets: ["MediaEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // ── Layer 0: C shims. Each C library is imported by exactly one Swift module. ──
        // CBatchIO: UDP sockets, recvmmsg/sendmmsg, epoll, timerfd, eventfd, CPU affinity. Imported by MediaEngine.
        .target(name: "CBatchIO", path: "CSupport/CBatchIO"),
        // COpus: libopus. Imported by Codecs.
        .target(name: "COpus", path: "CSupport/COpus", linkerSettings: [.linkedLibrary("opus")]),
        // CSpanDSP: spandsp (G.722, PLC, DTMF, tones). Imported by Codecs.
        .target(name: "CSpanDSP", path: "CSupport/CSpanDSP", linkerSettings: [.linkedLibrary("spandsp"), .linkedLibrary("m")]),
        // CSRTP: libsrtp2 (reference implementation and SRTP contexts). Imported by SRTP.
        .target(name: "CSRTP", path: "CSupport/CSRTP", linkerSettings: [.linkedLibrary("srtp2")]),
        // COpenSSL: OpenSSL libcrypto (hashes, HMAC, PBKDF2, random, self-signed certificates). Imported by TandemBase.
        .target(name: "COpenSSL", path: "CSupport/COpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // CJemalloc: jemalloc. Imported and linked by the `tandem` executable only.
        .target(name: "CJemalloc", path: "CSupport/CJemalloc", linkerSettings: [.linkedLibrary("jemalloc")]),

        // ── Layer 1 ──
        // TandemBase: clock, lock-free queues, buffer pools, wrap-aware arithmetic, hashing. May import COpenSSL only.
        .target(name: "TandemBase", dependencies: ["COpenSSL"]),

        // ── Layer 2: wire formats, pure, no I/O ──
        // RTP: RTP/RTCP views and writers, RFC 4733, RFC 3550 statistics. May import TandemBase.
        .target(name: "RTP", dependencies: ["TandemBase"]),
        // SDP: SDP values, parse/serialise, offer/answer. May import TandemBase.
        .target(name: "SDP", dependencies: ["TandemBase"]),
        // SIPCore: SIP messages, URIs, headers, parser/serialiser, digest. May import TandemBase.
        .target(name: "SIPCore", dependencies: ["TandemBase"]),

        // ── Layer 3 ──
        // MediaControl: Sendable commands and events between call control and the engine; ng protocol codec.
        // May import TandemBase, SDP, RTP.
        .target(name: "MediaControl", dependencies: ["TandemBase", "SDP", "RTP"]),

        // ── Layer 4 ──
        // Codecs: G.711, G.722, Opus, L16, resampler, PLC, DTMF, tones, WAV. May import TandemBase, RTP, COpus, CSpanDSP.
        .target(name: "Codecs", dependencies: ["TandemBase", "RTP", "COpus", "CSpanDSP"]),
        // SRTP: SRTP/SRTCP contexts and SDES keys. May import TandemBase, RTP, CSRTP.
        .target(name: "SRTP", dependencies: ["TandemBase", "RTP", "CSRTP"]),
        // Store: schema, migrations, repositories on GRDB (SQLite, WAL). May import TandemBase, GRDB.
        .target(name: "Store", dependencies: ["TandemBase", .product(name: "GRDB", package: "GRDB.swift")]),

        // ── Layer 5 ──
        // MediaEngine: workers, sessions, relay, transcoding, mixer, player, recorder.
        // May import TandemBase, RTP, SDP, Codecs, SRTP, MediaControl, CBatchIO. Never signalling.
        .target(name: "MediaEngine", dependencies: ["TandemBase", "RTP", "SDP", "Codecs", "SRTP", "MediaControl", "CBatchIO"]),
        // SIPStack: SIP transports, transactions, dialogs. May import TandemBase, SIPCore, SDP, SwiftNIO (transports
        // only). Never media.
        .target(name: "SIPStack", dependencies: [
            "TandemBase", "SIPCore", "SDP",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // PBX: tenants, directory, registrar, call control. May import TandemBase, SIPCore, SIPStack, SDP,
        // MediaControl, Store. Never MediaEngine's internals.
        .target(name: "PBX", dependencies: ["TandemBase", "SIPCore", "SIPStack", "SDP", "MediaControl", "Store",
            .product(name: "NIOCore", package: "swift-nio")]),

        // ── Layer 6: applications ──
        // AdminAPI: Hummingbird REST API, health and metrics endpoints, auth, events. May import PBX, Store, TandemBase;
        // imports only Store and TandemBase: registrations come through its `RegistrationSource` protocol, which the
        // executable implements over PBX's registrar.
        .target(name: "AdminAPI", dependencies: [
            "TandemBase", "Store",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // tandem: the executable, the only place that wires everything together. Links jemalloc.
        .executableTarget(name: "tandem", dependencies: [
            "TandemBase", "Store", "PBX", "AdminAPI", "MediaEngine", "SRTP", "SIPStack", "SIPCore", "CJemalloc",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),

        // sip-testpeer: a small UAS/registrar on the SIP stack for interop tests and perf/run sip-stateless.
        .executableTarget(name: "sip-testpeer", dependencies: [
            "SIPStack", "SIPCore", "SDP", "TandemBase",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // ── Tests: one target per module, plus end-to-end tests of the executable ──
        .testTarget(name: "CSupportTests", dependencies: ["CBatchIO", "COpus", "CSpanDSP", "CSRTP", "COpenSSL"]),
        .testTarget(name: "TandemBaseTests", dependencies: ["TandemBase"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP", "TandemBase"]),
        .testTarget(name: "SIPCoreTests", dependencies: ["SIPCore"]),
        .testTarget(name: "SIPStackTests", dependencies: [
            "SIPStack", "SIPCore", "TandemBase",
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"]),
        // CodecsTests also imports CSpanDSP: spandsp's G.711 is the bit-exact reference for Tandem's own tables.
        .testTarget(name: "CodecsTests", dependencies: ["Codecs", "CSpanDSP"]),
        .testTarget(name: "MediaControlTests", dependencies: ["MediaControl", "TandemBase"]),
        // SRTPTests also imports CSRTP: libsrtp2 is the byte-for-byte oracle for Tandem's SRTP.
        .testTarget(name: "SRTPTests", dependencies: ["SRTP", "CSRTP", "TandemBase", "RTP"]),
        // MediaEngineTests also imports SRTP (endpoint-side SRTP contexts) and CBatchIO (fake endpoints' sockets).
        .testTarget(name: "MediaEngineTests", dependencies: ["MediaEngine", "MediaControl", "SDP", "TandemBase", "RTP", "SRTP", "CBatchIO"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "PBX"]),
        // AdminAPITests: router-level tests of the REST API over a real store in a temporary directory, injected
        // wall clock; the event websocket over a live server on 127.0.0.1.
        .testTarget(name: "AdminAPITests", dependencies: [
            "AdminAPI", "Store", "TandemBase",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // PBXTests: registrar and location service over a real store in a temporary directory, injected time.
        .testTarget(name: "PBXTests", dependencies: [
            "PBX", "Store", "SIPCore", "SIPStack", "TandemBase", "SDP",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // ServerTests also imports Store: end-to-end tests seed tenants and extensions before starting the server.
        .testTarget(name: "ServerTests", dependencies: ["TandemBase", "Store"]),
    ]
)
