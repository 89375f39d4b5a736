import AdminAPI
import ArgumentParser
import CJemalloc
import Foundation
import Logging
import Metrics
import PBX
import Prometheus
import ServiceLifecycle
import SIPStack
import Store
import TandemBase

/// `tandem serve`: runs the server until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server: store, HTTP API with /health and /metrics, and (as they land) SIP and media.",
        discussion: """
            On first start the system administrator 'admin' is created. Its password is taken from \
            TANDEM_ADMIN_PASSWORD when set; otherwise a random one is printed once. No default password exists.
            """
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config: ServerConfiguration
        do {
            config = try ServerConfiguration.resolve(configFile: options.config, environment: environment, flags: options.flags)
        } catch {
            throw Console.fail(error.description)
        }

        // Nothing is written before every check has passed.
        do throws(PreflightError) {
            try Preflight.checkBindable(config.http, what: "HTTP", flag: "--http or TANDEM_HTTP")
            try Preflight.checkBindable(config.sip, what: "SIP over UDP", flag: "--sip or TANDEM_SIP", datagram: true)
            try Preflight.checkBindable(config.sip, what: "SIP over TCP", flag: "--sip or TANDEM_SIP")
            try Preflight.checkBindable(config.sipTLS, what: "SIP over TLS", flag: "--sip-tls or TANDEM_SIP_TLS")
            try Preflight.checkBindable(config.sipWS, what: "SIP over WebSocket", flag: "--sip-ws or TANDEM_SIP_WS")
            try Preflight.checkBindable(config.sipWSS, what: "SIP over secure WebSocket", flag: "--sip-wss or TANDEM_SIP_WSS")
            if let cert = config.tlsCertificate, !FileManager.default.isReadableFile(atPath: cert) {
                throw PreflightError.file(cert, "the TLS certificate is not readable", "--tls-certificate or TANDEM_TLS_CERTIFICATE")
            }
            if let key = config.tlsKey, !FileManager.default.isReadableFile(atPath: key) {
                throw PreflightError.file(key, "the TLS key is not readable", "--tls-key or TANDEM_TLS_KEY")
            }
            try Preflight.prepareDataDirectory(config.dataDirectory)
        } catch {
            throw Console.fail(error.description)
        }

        Self.bootstrapLogging(config)
        var logger = Logger(label: "tandem")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        registry.makeGauge(descriptor: .init(namespace: "tandem", metricName: "build_info",
                                             helpText: "Always 1; the label carries the version."),
                           labels: [("version", TandemVersion.current)]).set(Int64(1))
        let startedAt = Date()
        registry.makeGauge(descriptor: .init(namespace: "tandem", metricName: "start_time", unitName: "seconds",
                                             helpText: "Unix time the server started."))
            .set(startedAt.timeIntervalSince1970)

        let store: TandemStore
        do {
            store = try TandemStore(directory: config.dataDirectory)
            switch try SystemBootstrap.run(store: store, suppliedPassword: environment["TANDEM_ADMIN_PASSWORD"]) {
            case .alreadyInitialised:
                break
            case .createdWithSuppliedPassword:
                logger.notice("created system administrator 'admin' with the password from TANDEM_ADMIN_PASSWORD")
            case .createdWithGeneratedPassword(let password):
                Console.out("""
                    ────────────────────────────────────────────────────────────
                    First start: created the system administrator.
                      username: \(SystemBootstrap.administratorUsername)
                      password: \(password)
                    This password is shown only now and stored only as a salted hash.
                    Set TANDEM_ADMIN_PASSWORD before the first start to choose it yourself.
                    ────────────────────────────────────────────────────────────
                    """)
            }
        } catch {
            throw Console.fail("\(error)")
        }

        // SIP: TLS identity from the configured files, or a self-signed pair kept in <data>/tls.
        let sip = SIPService(logger: logger, store: store)
        do {
            let identity: SIPTLSIdentity
            if let cert = config.tlsCertificate, let key = config.tlsKey {
                identity = try SIPTLSIdentity.load(certificatePath: cert, keyPath: key)
            } else {
                let directory = (config.dataDirectory as NSString).appendingPathComponent("tls")
                identity = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: directory, commonName: "tandem")
                logger.notice("SIP TLS uses a self-signed certificate", metadata: [
                    "sha256_fingerprint": "\(identity.fingerprintText)", "directory": "\(directory)"])
            }
            for line in try await sip.start(configuration: config, tls: identity) {
                Console.out("tandem \(TandemVersion.current): SIP listening on \(line)")
            }
        } catch {
            throw Console.fail("cannot start SIP: \(error)")
        }

        // The admin REST API and event feed (its token key lives in the store). Registrar events reach the feed
        // once SIPService forwards them (see AdminRegistrationSource.event).
        let api: AdminAPIService
        do {
            api = try AdminAPIService(
                store: store, registrations: RegistrarRegistrationSource(registrar: sip.registrar, eventLoop: sip.endpoint.eventLoop),
                metrics: registry, startedAt: startedAt)
        } catch {
            throw Console.fail("cannot start the admin API: \(error)")
        }

        let allocator = tdm_jemalloc_version().map { "jemalloc " + String(cString: $0) } ?? "system"
        let uptime = registry.makeGauge(descriptor: .init(namespace: "tandem", metricName: "uptime", unitName: "seconds",
                                                           helpText: "Seconds since the server started."))
        let deps = AdminHTTPServer.Dependencies(
            metrics: registry,
            health: {
                let seconds = Date().timeIntervalSince(startedAt)
                uptime.set(seconds)
                return HealthReport(version: TandemVersion.current, uptimeSeconds: seconds, allocator: allocator)
            },
            onListening: { host, port in
                let shown = host.contains(":") ? "[\(host)]" : host
                Console.out("tandem \(TandemVersion.current): HTTP listening on http://\(shown):\(port)")
            },
            api: api
        )
        let app = AdminHTTPServer.makeApplication(host: config.http.host, port: config.http.port,
                                                  dependencies: deps, logger: logger)
        logger.info("starting", metadata: [
            "data": "\(config.dataDirectory)", "http": "\(config.http)", "rtp_ports": "\(config.rtpPorts)",
            "workers": "\(config.workers)", "allocator": "\(allocator)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [sip, app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            throw Console.fail("server stopped: \(error)")
        }
        logger.info("stopped cleanly")
    }

    private static func bootstrapLogging(_ config: ServerConfiguration) {
        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        switch config.logFormat {
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
