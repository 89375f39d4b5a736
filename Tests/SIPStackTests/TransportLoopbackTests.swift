import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import SIPCore
import TandemBase
import Testing
@testable import SIPStack

/// Collects delivered messages; `next()` waits for one, failing after a bounded time.
typealias TransportInbox = WebSocketTestInbox<SIPInboundMessage>

@Suite struct TransportLoopbackTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    func makeLayer(_ configure: (inout SIPTransportLayer.Configuration) -> Void = { _ in }) throws -> (SIPTransportLayer, TransportInbox) {
        let inbox = TransportInbox(loop: loop)
        var configuration = SIPTransportLayer.Configuration()
        configure(&configuration)
        let layer = try SIPTransportLayer(eventLoop: loop, configuration: configuration) { inbox.deliver($0) }
        return (layer, inbox)
    }

    func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "tandem-transport-" + SecureRandom.identifier()
    }

    /// Client sends OPTIONS over UDP; server stamps Via, routes the 200 by received/rport; the client gets it.
    @Test(arguments: ["127.0.0.1", "::1"])
    func udpRoundTrip(host: String) async throws {
        let (server, serverInbox) = try makeLayer()
        let (client, clientInbox) = try makeLayer()
        let serverAddress = try await server.listen(.udp, host: host, port: 0).get()
        let clientAddress = try await client.listen(.udp, host: host, port: 0).get()
        let request = transportTestOptions(sentBy: "client.invalid:9", rport: true)
        _ = try await client.send(transportTestBuffer(request), to: SIPTransportDestination(kind: .udp, address: serverAddress)).get()

        let received = try await serverInbox.next()
        #expect(received.message.method == .options)
        #expect(received.source.kind == .udp)
        #expect(received.source.remote.port == clientAddress.port)
        let stamped = try SIPTransportRouting.stampingReceived(received.message, source: received.source)
        let top = try stamped.vias[0]
        #expect(top.rport == .value(UInt16(clientAddress.port ?? 0)))
        let route = SIPTransportRouting.responseRoute(topVia: top, source: received.source)
        let response = try SIPMessageBuilder.response(to: stamped, statusCode: 200, toTag: "s1").bytes()
        try await server.send(transportTestBuffer(response), route: route).get()

        let answer = try await clientInbox.next()
        #expect(answer.message.statusCode == 200)
        #expect(answer.source.remote == serverAddress)
        try await client.shutdown().get()
        try await server.shutdown().get()
    }

    /// The response goes back over the connection the request came in on; no second connection appears.
    @Test func tcpResponseReusesConnection() async throws {
        let (server, serverInbox) = try makeLayer()
        let (client, clientInbox) = try makeLayer()
        let serverAddress = try await server.listen(.tcp, host: "127.0.0.1", port: 0).get()
        let destination = SIPTransportDestination(kind: .tcp, address: serverAddress)
        let clientConnection = try #require(try await client.send(transportTestBuffer(transportTestOptions(viaTransport: "TCP")), to: destination).get())

        let received = try await serverInbox.next()
        #expect(received.source.kind == .tcp)
        let serverConnection = try #require(received.source.connectionID)
        let route = SIPTransportRouting.responseRoute(topVia: try received.message.vias[0], source: received.source)
        #expect(route == .connection(serverConnection))
        let response = try SIPMessageBuilder.response(to: received.message, statusCode: 200, toTag: "s1").bytes()
        try await server.send(transportTestBuffer(response), route: route).get()

        let answer = try await clientInbox.next()
        #expect(answer.message.statusCode == 200)
        #expect(answer.source.connectionID == clientConnection)
        // A second request from the client reuses its connection too.
        let again = try await client.send(transportTestBuffer(transportTestOptions(viaTransport: "TCP", branch: "z9hG4bK-t2")), to: destination).get()
        #expect(again == clientConnection)
        let second = try await serverInbox.next()
        #expect(second.source.connectionID == serverConnection)
        #expect(try await server.connectionCount().get() == 1)
        #expect(try await client.connectionCount().get() == 1)
        try await client.shutdown().get()
        try await server.shutdown().get()
    }

    @Test func tlsRoundTripWithGeneratedCertificate() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: directory, commonName: "localhost")
        let (server, serverInbox) = try makeLayer { $0.tlsServer = identity.serverConfiguration() }
        let (client, _) = try makeLayer { $0.tlsClient = identity.pinnedClientConfiguration() }
        let serverAddress = try await server.listen(.tls, host: "127.0.0.1", port: 0).get()
        let destination = SIPTransportDestination(kind: .tls, address: serverAddress, serverName: "localhost")
        _ = try await client.send(transportTestBuffer(transportTestOptions(viaTransport: "TLS")), to: destination).get()
        let received = try await serverInbox.next()
        #expect(received.message.method == .options)
        #expect(received.source.kind == .tls)
        #expect(received.source.connectionID != nil)
        try await client.shutdown().get()
        try await server.shutdown().get()
    }

    @Test func tls11ClientIsRefused() async throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let identity = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: directory, commonName: "localhost")
        var old = identity.pinnedClientConfiguration()
        old.minimumTLSVersion = .tlsv1
        old.maximumTLSVersion = .tlsv11
        let (server, serverInbox) = try makeLayer { $0.tlsServer = identity.serverConfiguration() }
        let (client, _) = try makeLayer { $0.tlsClient = old }
        let serverAddress = try await server.listen(.tls, host: "127.0.0.1", port: 0).get()
        let destination = SIPTransportDestination(kind: .tls, address: serverAddress, serverName: "localhost")
        await #expect(throws: (any Error).self) {
            try await client.connect(to: destination).get()
        }
        #expect(try await client.connectionCount().get() == 0)
        _ = serverInbox
        try await client.shutdown().get()
        try await server.shutdown().get()
    }

    @Test func selfSignedCertificateIsPersistedAndReused() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: directory, commonName: "pbx.example")
        let second = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: directory, commonName: "pbx.example")
        #expect(first.sha256Fingerprint.count == 32)
        #expect(first.sha256Fingerprint == second.sha256Fingerprint)
        #expect(first.isSelfSigned)
        #expect(first.fingerprintText.split(separator: ":").count == 32)
        let keyPath = directory + "/" + SIPTLSIdentity.selfSignedKeyFileName
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // The fingerprint is the SHA-256 of the certificate's DER encoding, as NIOSSL serialises it.
        let der = try first.certificateChain[0].toDERBytes()
        #expect(Digest.sha256.hash(der) == first.sha256Fingerprint)

        let elsewhere = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let other = try SIPTLSIdentity.loadOrCreateSelfSigned(directory: elsewhere)
        #expect(other.sha256Fingerprint != first.sha256Fingerprint)
    }

    @Test func garbagePEMIsATypedError() {
        #expect(throws: CryptoError.self) { try SelfSignedCertificate.sha256Fingerprint(ofPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") }
        #expect(throws: (any Error).self) { try SIPTLSIdentity(certificatePEM: "nope", privateKeyPEM: "nope") }
    }

    @Test func perIPConnectionLimitIsEnforced() async throws {
        let (server, serverInbox) = try makeLayer { $0.maximumConnectionsPerIP = 1 }
        let (clientA, _) = try makeLayer()
        let (clientB, _) = try makeLayer()
        let serverAddress = try await server.listen(.tcp, host: "127.0.0.1", port: 0).get()
        let destination = SIPTransportDestination(kind: .tcp, address: serverAddress)
        _ = try await clientA.send(transportTestBuffer(transportTestOptions(viaTransport: "TCP")), to: destination).get()
        _ = try await serverInbox.next()

        let refused = try await clientB.connect(to: destination).get()
        do {
            try await clientB.closeFuture(of: refused).get()
        } catch SIPTransportError.connectionClosed {
            // Already closed and removed before we asked: the server refused it just as quickly.
        }
        #expect(server.counters.snapshot(.tcp).refusedConnections == 1)
        #expect(try await server.connectionCount(fromIP: "127.0.0.1").get() == 1)
        try await clientA.shutdown().get()
        try await clientB.shutdown().get()
        try await server.shutdown().get()
    }

    @Test func oversizeSendIsATypedError() async throws {
        let (layer, _) = try makeLayer { $0.maximumMessageSize = 100 }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 9)
        await #expect(throws: SIPTransportError.messageTooLarge(size: transportTestOptions().count, maximum: 100)) {
            _ = try await layer.send(transportTestBuffer(transportTestOptions()), to: SIPTransportDestination(kind: .udp, address: address)).get()
        }
    }
}
