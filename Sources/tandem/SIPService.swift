import Logging
import NIOCore
import NIOPosix
import PBX
import ServiceLifecycle
import SIPCore
import SIPStack
import Store
import TandemBase

/// The SIP listeners of `tandem serve`: UDP and TCP on `sip`, TLS on `sip_tls`, WS on `sip_ws`, WSS on
/// `sip_wss`, all on one SIP endpoint. OPTIONS is answered 200 statelessly (keep-alives, monitoring); REGISTER
/// goes to the registrar (tenants and extensions from the store). Until the rest of the call manager lands,
/// other requests are answered as a server with no calls: 404 for INVITE/SUBSCRIBE/MESSAGE/REFER, 481 for
/// in-dialog requests, 405 for unknown methods. Requests from an address blocked for failed
/// authentications get no answer.
///
/// Threading: the registrar and the flow set are confined to the endpoint's event loop (every delegate
/// callback runs there; the timer and flow-close callbacks hop onto it).
final class SIPService: Service, SIPEndpointDelegate, @unchecked Sendable {
    let endpoint: SIPEndpoint
    let logger: Logger
    let registrar: Registrar
    private let clock = MonotonicClock()
    private var watchedFlows: Set<SIPTransportConnectionID> = []
    private var sweepTask: RepeatedTask?

    init(logger: Logger, store: TandemStore, registrar configuration: Registrar.Configuration = .init()) {
        self.endpoint = SIPEndpoint(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        self.logger = logger
        self.registrar = Registrar(directory: StoreDirectory(store: store), configuration: configuration)
    }

    /// Starts every listener; returns "kind host:port" for each bound address.
    func start(configuration: ServerConfiguration, tls: SIPTLSIdentity) async throws -> [String] {
        var transport = SIPTransportLayer.Configuration()
        transport.tlsServer = tls.serverConfiguration()
        try endpoint.start(configuration: transport, delegate: self)
        var bound: [String] = []
        let plan: [(SIPTransportKind, ListenAddress)] = [
            (.udp, configuration.sip), (.tcp, configuration.sip), (.tls, configuration.sipTLS),
            (.ws, configuration.sipWS), (.wss, configuration.sipWSS),
        ]
        for (kind, address) in plan {
            let socket = try await endpoint.listen(kind, host: address.host, port: address.port).get()
            let host = socket.ipAddress ?? address.host
            bound.append("\(kind.rawValue) \(host.contains(":") ? "[\(host)]" : host):\(socket.port ?? address.port)")
        }
        // Registration expiry and the failed-authentication guard's housekeeping, once a second.
        let registrar = registrar, clock = clock
        sweepTask = endpoint.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            registrar.tick(now: clock.now())
        }
        return bound
    }

    func run() async throws {
        let logger = logger
        let feed = Task {
            for await event in registrar.events {
                logger.info("registration \(event.kind.rawValue)", metadata: [
                    "aor": "\(event.binding.aor)", "contact": "\(event.binding.uri)",
                    "source": "\(event.binding.source.kind.rawValue) \(event.binding.source.remote)"])
            }
        }
        try? await gracefulShutdown()
        sweepTask?.cancel()
        feed.cancel()
        try await endpoint.shutdown().get()
    }

    func endpoint(_ endpoint: SIPEndpoint, received request: SIPMessage, transaction: TransactionKey, source: SIPTransportSource) {
        let now = clock.now()
        if registrar.isBlocked(source, now: now) { return }
        if request.method == .register {
            register(request, source: source, now: now)
            return
        }
        let status: Int
        switch request.method {
        case .ack?:
            return
        case .invite?, .subscribe?, .message?, .refer?, .publish?:
            status = (try? request.to)?.tag == nil ? 404 : 481
        case .bye?, .update?, .info?, .notify?, .prack?:
            status = 481
        default:
            status = 405
        }
        guard var builder = try? SIPMessageBuilder.response(to: request, statusCode: status, toTag: TransactionLayer.makeTag())
        else { return }
        if status == 405 { builder.add(name: "Allow", value: "OPTIONS, ACK") }
        if let response = try? SIPMessage(parsing: builder.bytes()) { endpoint.respond(response) }
    }

    private func register(_ request: SIPMessage, source: SIPTransportSource, now: Instant) {
        guard case .respond(let builder) = registrar.handle(request, source: source, now: now),
              let response = try? SIPMessage(parsing: builder.bytes()) else { return }
        endpoint.respond(response)
        // RFC 5626 §5.3: a binding that can only be reached over its connection dies with it.
        if response.statusCode == 200, let id = source.connectionID, !watchedFlows.contains(id) {
            watchedFlows.insert(id)
            let registrar = registrar, loop = endpoint.eventLoop
            endpoint.transports.closeFuture(of: id).whenComplete { [weak self] _ in
                loop.execute {
                    registrar.flowClosed(id)
                    self?.watchedFlows.remove(id)
                }
            }
        }
    }

    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: TransactionKey, by cancel: SIPMessage) {}
    func endpoint(_ endpoint: SIPEndpoint, received response: SIPMessage, transaction: TransactionKey?) {}
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPMessage, source: SIPTransportSource) {}
    func endpoint(_ endpoint: SIPEndpoint, transaction: TransactionKey, terminated reason: TransactionTerminationReason) {}
}
