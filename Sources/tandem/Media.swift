import AdminAPI
import ArgumentParser
import CJemalloc
import Foundation
import Logging
import MediaEngine
import Metrics
import Prometheus
import ServiceLifecycle
import TandemBase

/// `tandem media`: a standalone media node driven by a call manager (Kamailio, OpenSIPS) over the
/// rtpengine ng protocol.
struct Media: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a standalone media node controlled over the rtpengine ng protocol (UDP).",
        discussion: """
            Kamailio's rtpengine module or OpenSIPS's rtpengine module point their rtpengine socket at \
            --ng. Media legs bind on --interface; an address after '!' is the one written into SDP \
            (1:1 NAT). Give --interface once for IPv4 and once for IPv6; a NAME/ prefix names the \
            logical interface that the ng 'direction' key may select.
            """
    )

    @Option(name: .long, help: ArgumentHelp("ng control socket (default 127.0.0.1:2223).", valueName: "HOST:PORT"))
    var ng: String = "127.0.0.1:2223"

    @Option(name: .long, help: ArgumentHelp("Media address, repeatable (default 0.0.0.0).", valueName: "[NAME/]ADDR[!ADVERTISED]"))
    var interface: [String] = []

    @Option(name: .customLong("rtp-ports"), help: ArgumentHelp("RTP/RTCP port range (default 20000-39999).", valueName: "FIRST-LAST"))
    var rtpPorts: String = RTPPortRange.default.description

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: one per CPU).", valueName: "N"))
    var workers: Int = HostCPU.availableCount

    @Option(name: .customLong("media-timeout"), help: ArgumentHelp("Seconds without RTP before a call is dropped (default 120).", valueName: "SECONDS"))
    var mediaTimeout: Int = 120

    @Option(name: .long, help: ArgumentHelp("Serve /health and Prometheus /metrics here (default: off).", valueName: "HOST:PORT"))
    var http: String?

    @Option(name: .customLong("recording-dir"), help: ArgumentHelp("Where ng 'start recording' writes WAV files (default ./recordings).", valueName: "DIR"))
    var recordingDirectory: String = "recordings"

    @Flag(name: .customLong("no-pin"), help: "Do not pin worker threads to CPUs.")
    var noPin = false

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info).", valueName: "LEVEL"))
    var logLevel: String = "info"

    /// One `--interface` value.
    struct Interface: Equatable {
        var name: String?
        var bind: String
        var advertised: String?
        var isIPv6: Bool { bind.contains(":") }

        /// Parses `[NAME/]ADDR[!ADVERTISED]`; addresses must be numeric.
        init(parsing text: String) throws(ValidationError) {
            var rest = Substring(text)
            if let slash = rest.firstIndex(of: "/") {
                name = String(rest[..<slash])
                rest = rest[rest.index(after: slash)...]
            }
            let parts = rest.split(separator: "!", omittingEmptySubsequences: false)
            guard parts.count <= 2, let first = parts.first, Self.isNumeric(String(first)) else {
                throw ValidationError("--interface '\(text)': expected [NAME/]ADDR[!ADVERTISED] with numeric addresses")
            }
            bind = String(first)
            if parts.count == 2 {
                guard Self.isNumeric(String(parts[1])) else {
                    throw ValidationError("--interface '\(text)': the advertised address must be numeric")
                }
                advertised = String(parts[1])
            }
        }

        static func isNumeric(_ s: String) -> Bool {
            var v4 = in_addr()
            var v6 = in6_addr()
            return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
        }
    }

    func run() async throws {
        let ngAddress: ListenAddress
        let ports: RTPPortRange
        var httpAddress: ListenAddress?
        var interfaces: [Interface] = []
        do {
            ngAddress = try ListenAddress(parsing: ng, setting: "--ng")
            httpAddress = try http.map { (text) throws(ConfigurationError) in try ListenAddress(parsing: text, setting: "--http") }
            ports = try RTPPortRange(parsing: rtpPorts)
            for text in interface { interfaces.append(try Interface(parsing: text)) }
        } catch {
            throw Console.fail("\(error)")
        }
        guard workers > 0 else { throw Console.fail("--workers must be at least 1") }
        guard mediaTimeout > 0 else { throw Console.fail("--media-timeout must be at least 1 second") }
        let v4 = interfaces.filter { !$0.isIPv6 }
        let v6 = interfaces.filter(\.isIPv6)
        guard v4.count <= 1, v6.count <= 1 else { throw Console.fail("--interface: at most one IPv4 and one IPv6 address") }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "tandem.media")

        var configuration = MediaEngineConfiguration(workerCount: workers, portRange: ports)
        if let i = v4.first {
            configuration.bindAddress = i.bind
            configuration.advertisedAddress = i.advertised
        }
        if let i = v6.first {
            configuration.bindAddressIPv6 = i.bind
            configuration.advertisedAddressIPv6 = i.advertised
        }
        configuration.mediaTimeout = .seconds(mediaTimeout)
        configuration.pinsWorkers = !noPin

        do {
            try FileManager.default.createDirectory(atPath: recordingDirectory, withIntermediateDirectories: true)
        } catch {
            throw Console.fail("--recording-dir \(recordingDirectory): cannot create it (\(error.localizedDescription))")
        }
        guard FileManager.default.isWritableFile(atPath: recordingDirectory) else {
            throw Console.fail("--recording-dir \(recordingDirectory): not writable")
        }

        let engine: MediaEngine
        let server: NGServer
        let writer: RecordingWriter
        do {
            engine = try MediaEngine(configuration: configuration)
            try engine.start()
            writer = try RecordingWriter()
            let names = Set(interfaces.compactMap(\.name))
            let controller = NGCallController(engine: engine, configuration: NGControllerConfiguration(
                interfaceNames: names, recordingDirectory: recordingDirectory, recordingWriter: writer))
            server = try NGServer(controller: controller, host: ngAddress.host, port: ngAddress.port) { message in
                logger.warning("\(message)")
            }
            try server.start()
        } catch {
            throw Console.fail("cannot start the media node: \(error)")
        }
        let shown = server.localAddress.host.contains(":") ? "[\(server.localAddress.host)]" : server.localAddress.host
        Console.out("tandem \(TandemVersion.current): media node, \(configuration.workerCount) workers, RTP ports \(ports), "
            + "interface \(configuration.bindAddress)\(configuration.advertisedAddress.map { "!" + $0 } ?? "")")
        Console.out("tandem \(TandemVersion.current): NG listening on udp \(shown):\(server.localAddress.port)")

        var services: [any Service] = [UntilShutdown()]
        if let httpAddress {
            services.append(Self.metricsApplication(httpAddress, engine: engine, server: server, logger: logger))
        }
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("media node stopped: \(error)")
        }
        server.stop()
        engine.stop()
        // Every recording still open is finalised, so a SIGTERM leaves playable files.
        writer.shutdown()
        let calls = await server.controller.callCount
        logger.info("media node stopped cleanly", metadata: ["calls": "\(calls)"])
    }
}

extension Media {
    /// `/health` and `/metrics` for the node: per-worker load, ng counters and calls, refreshed per scrape.
    static func metricsApplication(
        _ address: ListenAddress, engine: MediaEngine, server: NGServer, logger: Logger
    ) -> some Service {
        let registry = PrometheusCollectorRegistry()
        let startedAt = Date()
        let allocator = tdm_jemalloc_version().map { "jemalloc " + String(cString: $0) } ?? "system"
        registry.makeGauge(descriptor: .init(namespace: "tandem", metricName: "build_info",
                                             helpText: "Always 1; the label carries the version."),
                           labels: [("version", TandemVersion.current)]).set(Int64(1))
        let workers = MediaWorkerGauges(registry: registry, engine: engine)
        let ngGauges = [
            ("requests", "ng requests executed"), ("retransmissions", "ng retransmissions answered from the cache"),
            ("error_replies", "ng requests answered with an error before execution"),
            ("dropped", "ng datagrams without a readable cookie"),
        ].map { name, help in
            registry.makeGauge(descriptor: .init(namespace: "tandem", subsystem: "ng", metricName: name, helpText: help))
        }
        let refresh: @Sendable () -> Void = {
            workers.refresh()
            let c = server.counters
            for (gauge, value) in zip(ngGauges, [c.requests, c.retransmissions, c.errorReplies, c.dropped]) {
                gauge.set(Int64(clamping: value))
            }
        }
        let deps = AdminHTTPServer.Dependencies(
            metrics: registry,
            health: {
                refresh()
                return HealthReport(version: TandemVersion.current, uptimeSeconds: Date().timeIntervalSince(startedAt), allocator: allocator)
            },
            onListening: { host, port in
                let shown = host.contains(":") ? "[\(host)]" : host
                Console.out("tandem \(TandemVersion.current): HTTP listening on http://\(shown):\(port)")
            },
            beforeMetrics: refresh
        )
        return AdminHTTPServer.makeApplication(host: address.host, port: address.port, dependencies: deps, logger: logger)
    }
}

/// A service that only waits for the graceful shutdown signal.
private struct UntilShutdown: Service {
    func run() async throws {
        try? await gracefulShutdown()
    }
}
