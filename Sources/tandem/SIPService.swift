import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SIPCore
import SIPStack

/// The SIP listeners of `tandem serve`: UDP and TCP on `sip`, TLS on `sip_tls`, WS on `sip_ws`, WSS on
/// `sip_wss`, all on one SIP endpoint. Until the call manager lands, requests other than OPTIONS (answered
/// 200 statelessly, for keep-alives and monitoring) are answered as a server with no users: 404 for
/// REGISTER/INVITE/SUBSCRIBE/MESSAGE/REFER, 481 for in-dialog requests, 405 for unknown methods.
final class SIPService: Service, SIPEndpointDelegate, @unchecked Sendable {
    let endpoint: SIPEndpoint
    let logger: Logger

    init(logger: Logger) {
        self.endpoint = SIPEndpoint(eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        self.logger = logger
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
        return bound
    }

    func run() async throws {
        try? await gracefulShutdown()
        try await endpoint.shutdown().get()
    }

    func endpoint(_ endpoint: SIPEndpoint, received request: SIPMessage, transaction: TransactionKey, source: SIPTransportSource) {
        let status: Int
        switch request.method {
        case .ack?:
            return
        case .register?, .invite?, .subscribe?, .message?, .refer?, .publish?:
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

    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: TransactionKey, by cancel: SIPMessage) {}
    func endpoint(_ endpoint: SIPEndpoint, received response: SIPMessage, transaction: TransactionKey?) {}
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPMessage, source: SIPTransportSource) {}
    func endpoint(_ endpoint: SIPEndpoint, transaction: TransactionKey, terminated reason: TransactionTerminationReason) {}
}
