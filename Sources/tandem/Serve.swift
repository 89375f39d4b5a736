import AdminAPI
import ArgumentParser
import CJemalloc
import Foundation
import Logging
import MediaEngine
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
        // Call recordings: the directory, and rows a crash left unfinished finalised from their files.
        let recordingsDirectory = config.recordingsDirectory
        do {
            try FileManager.default.createDirectory(atPath: recordingsDirectory, withIntermediateDirectories: true)
            let n = try store.finaliseUnfinishedRecordings(directory: recordingsDirectory)
            if n > 0 { logger.notice("finalised unfinished call recordings", metadata: ["count": "\(n)"]) }
        } catch {
            throw Console.fail("recordings \(recordingsDirectory): \(error)")
        }

        // Media: the in-process engine anchoring every call, bound to the SIP listen address (its family; a
        // wildcard binds all addresses of that family).
        // On a wildcard, SDP and Via carry the address the host routes from (a 1:1 NAT needs configuration,
        // not guessing: later).
        var mediaConfiguration = MediaEngineConfiguration(workerCount: config.workers, portRange: config.rtpPorts)
        mediaConfiguration.mediaTimeout = .milliseconds(Int64(config.mediaTimeoutSeconds * 1000))
        let isIPv6 = config.sip.host.contains(":")
        let wildcard = config.sip.host == "0.0.0.0" || config.sip.host == "::"
        let advertised = wildcard ? Self.primaryAddress(ipv6: isIPv6) : nil
        if isIPv6 {
            mediaConfiguration.bindAddressIPv6 = config.sip.host
            mediaConfiguration.advertisedAddressIPv6 = advertised
        } else {
            mediaConfiguration.bindAddress = config.sip.host
            mediaConfiguration.advertisedAddress = advertised
        }
        let engine: MediaEngine
        do {
            engine = try MediaEngine(configuration: mediaConfiguration)
            try engine.start()
        } catch {
            throw Console.fail("cannot start the media engine on \(config.sip.host) with RTP ports \(config.rtpPorts): \(error)")
        }
        defer { engine.stop() }

        // Calls: how long a callee may ring (ring_timeout / TANDEM_RING_TIMEOUT seconds, default 30).
        var callConfiguration = B2BUA.Configuration()
        callConfiguration.advertisedHost = advertised
        callConfiguration.ringTimeoutMilliseconds = config.ringTimeoutMilliseconds
        callConfiguration.sessionTimer = config.sessionTimer

        // SIP: TLS identity from the configured files, or a self-signed pair kept in <data>/tls.
        // Held parties hear TANDEM_HOLD_MUSIC (a WAV file) when set, else a soft periodic beep.
        let callMedia = EngineCallMedia(engine: engine, holdMusicPath: ProcessInfo.processInfo.environment["TANDEM_HOLD_MUSIC"])
        defer { callMedia.recordings.shutdown() }  // every running recording's file finalised
        let sip = SIPService(logger: logger, store: store, media: callMedia, calls: callConfiguration)
        // Recordings of calls (B2BUA+Recording.swift): events go to the API's hub (created before the API).
        let apiEventHub = EventHub()
        let recorder = CallRecorder(store: store, directory: recordingsDirectory) { apiEventHub.publish(B2BUARecordingCallSource.event($0)) }
        let b2bua = sip.calls
        try? await sip.endpoint.eventLoop.submit { b2bua.recorder = recorder }.get()
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

        // The admin REST API and event feed (its token key lives in the store); SIPService forwards registrar events.
        let api: AdminAPIService
        let callSource = B2BUARecordingCallSource(
            base: B2BUACallSource(calls: sip.calls, eventLoop: sip.endpoint.eventLoop, media: callMedia), recorder: recorder)
        do {
            api = try AdminAPIService(
                store: store, registrations: RegistrarRegistrationSource(registrar: sip.registrar, eventLoop: sip.endpoint.eventLoop),
                calls: callSource,
                mediaLoad: { [engine] in
                    engine.workerLoads().map {
                        MediaWorkerLoadInfo(index: $0.index, sessions: $0.sessions, legs: $0.legs, packetsIn: $0.packetsIn,
                                            packetsOut: $0.packetsOut, packetsDropped: $0.packetsDropped,
                                            busyFraction: $0.busyFraction, cpu: $0.cpu)
                    }
                },
                events: apiEventHub, metrics: registry, startedAt: startedAt)
        } catch {
            throw Console.fail("cannot start the admin API: \(error)")
        }
        let apiEvents = api.events
        sip.onRegistrationEvent.set { apiEvents.publish(RegistrarRegistrationSource.event($0)) }
        sip.onCallEvent.set { e in
            apiEvents.publish(B2BUACallSource.event(e))
            // A call hung up because its media stopped is also a media event (topic `media`).
            if e.kind == .ended, let r = e.record, r.endReason == .mediaTimeout {
                apiEvents.publish(.media("stream_timeout", callID: r.id, tenantID: r.tenantID, occurredAt: r.endedAt,
                                         extra: ["caller": r.caller, "callee": r.callee]))
            }
        }
        // Quality alarms: every leg's MOS estimate checked every 5 s against `media_alarm_mos`.
        let qualityMonitor: Task<Void, Never>? = config.mediaAlarmMOS > 0 ? Task { [threshold = config.mediaAlarmMOS] in
            await MediaQualityMonitor.run(source: callSource, hub: apiEvents, threshold: threshold, interval: .seconds(5))
        } : nil
        defer { qualityMonitor?.cancel() }
        sip.recordWriter.set { try api.recordCall($0) }

        let allocator = tdm_jemalloc_version().map { "jemalloc " + String(cString: $0) } ?? "system"
        let mediaGauges = MediaWorkerGauges(registry: registry, engine: engine)
        let refreshMedia: @Sendable () -> Void = { mediaGauges.refresh() }
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
            beforeMetrics: refreshMedia,
            api: api
        )
        let app = AdminHTTPServer.makeApplication(host: config.http.host, port: config.http.port,
                                                  dependencies: deps, logger: logger)
        logger.info("starting", metadata: [
            "data": "\(config.dataDirectory)", "http": "\(config.http)", "rtp_ports": "\(config.rtpPorts)",
            "workers": "\(config.workers)", "allocator": "\(allocator)",
        ])
        let group = ServiceGroup(configuration: .init(
            services: [sip, app, WebhookService(dispatcher: api.webhooks)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            throw Console.fail("server stopped: \(error)")
        }
        logger.info("stopped cleanly")
    }

    /// The local address the host would send from towards the public internet (a connected UDP socket's name;
    /// nothing is sent), or nil without a route.
    static func primaryAddress(ipv6: Bool) -> String? {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var storage = sockaddr_storage()
        var length: socklen_t
        if ipv6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(9).bigEndian
            _ = inet_pton(AF_INET6, "2001:db8::1", &a.sin6_addr)
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
            guard rc == 0 else { return nil }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(9).bigEndian
            a.sin_addr.s_addr = inet_addr("192.0.2.1")
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
            guard rc == 0 else { return nil }
        }
        length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = withUnsafePointer(to: &storage) { p -> Bool in
            if ipv6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s in
                    var addr = s.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil
                }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s in
                var addr = s.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil
            }
        }
        return ok ? String(cString: text) : nil
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

/// Runs the webhook outbox delivery until shutdown.
struct WebhookService: Service {
    let dispatcher: WebhookDispatcher
    func run() async throws { try await cancelWhenGracefulShutdown { await dispatcher.run() } }
}
