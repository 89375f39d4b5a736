import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SIPCore
import TandemBase
import Testing
@testable import SIPStack

/// The transport layer's outgoing upgrade against a hand-driven peer: the test decides when and how the
/// server answers, so writes made while the upgrade is pending and refused upgrades are checked exactly.
@Suite struct TransportWebSocketUpgradeTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    /// Accepts one connection and hands every byte chunk to the inbox; the test writes raw replies.
    final class RawPeer: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes: WebSocketTestInbox<ByteBuffer>
        let channels: WebSocketTestInbox<any Channel>
        init(loop: any EventLoop) {
            bytes = WebSocketTestInbox(loop: loop)
            channels = WebSocketTestInbox(loop: loop)
        }
        func channelActive(context: ChannelHandlerContext) { channels.deliver(context.channel) }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { bytes.deliver(unwrapInboundIn(data)) }
    }

    func startPeer() async throws -> (RawPeer, any Channel) {
        let peer = RawPeer(loop: loop)
        let server = try await ServerBootstrap(group: loop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(peer) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (peer, server)
    }

    /// Reads until the HTTP request head is complete; returns it as text.
    func readRequest(_ peer: RawPeer) async throws -> String {
        var text = ""
        while !text.contains("\r\n\r\n") {
            var chunk = try await peer.bytes.next()
            text += chunk.readString(length: chunk.readableBytes) ?? ""
        }
        return text
    }

    static func header(_ name: String, in request: String) -> String? {
        for line in request.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// The RFC 6455 §4.2.2 accept value for a key.
    static func accept(_ key: String) -> String {
        Data(Digest.sha1.hash(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
    }

    /// Parses client frames (masked, unfragmented, short) out of raw bytes; returns their unmasked payloads.
    static func payloads(_ bytes: [UInt8]) -> [[UInt8]]? {
        var out: [[UInt8]] = []
        var i = 0
        while i < bytes.count {
            guard i + 2 <= bytes.count, bytes[i + 1] & 0x80 != 0 else { return nil }
            var length = Int(bytes[i + 1] & 0x7F)
            guard length != 127 else { return nil }
            i += 2
            if length == 126 {
                guard i + 2 <= bytes.count else { return nil }
                length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
                i += 2
            }
            guard i + 4 + length <= bytes.count else { return nil }
            let mask = Array(bytes[i..<(i + 4)])
            i += 4
            out.append((0..<length).map { bytes[i + $0] ^ mask[$0 % 4] })
            i += length
        }
        return out
    }

    @Test func writesMadeWhileUpgradingGoOutAfterThe101() async throws {
        let (peer, server) = try await startPeer()
        let (client, _) = try TransportWebSocketTests().makeResponder()
        let destination = SIPTransportDestination(kind: .ws, address: try #require(server.localAddress))
        let first = client.send(ByteBuffer(bytes: TransportWebSocketTests.options(branch: "z9hG4bK-q1")), to: destination)
        let request = try await readRequest(peer)
        #expect(request.hasPrefix("GET / HTTP/1.1\r\n"))
        #expect(Self.header("Sec-WebSocket-Protocol", in: request) == "sip")
        #expect(Self.header("Host", in: request) == SIPWebSocketPipeline.hostHeader(destination.address))
        let key = try #require(Self.header("Sec-WebSocket-Key", in: request))

        // The TCP connection is up but not upgraded: this write must wait for the 101, not hit the HTTP codec.
        let id = try await client.connect(to: destination).get()
        let queued = client.send(ByteBuffer(bytes: TransportWebSocketTests.options(branch: "z9hG4bK-q2")), over: id)
        let connection = try await peer.channels.next()
        let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: \(Self.accept(key))\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
        try await connection.writeAndFlush(ByteBuffer(string: response)).get()
        try await queued.get()
        #expect(try await first.get() == id)

        var received: [UInt8] = []
        var frames: [[UInt8]] = []
        while frames.count < 2 {
            let chunk = try await peer.bytes.next()
            received += chunk.readableBytesView
            frames = Self.payloads(received) ?? []
        }
        let callIDs = try frames.map { frame in
            try frame.withUnsafeBytes { raw throws(SIPParseError) in try SIPMessage(parsing: raw) }.callID
        }
        #expect(Set(callIDs) == ["call-z9hG4bK-q1", "call-z9hG4bK-q2"])
        try await client.shutdown().get()
        connection.close(promise: nil)
        try await server.close()
    }

    @Test(arguments: [
        ("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", SIPWebSocketUpgradeError.refused(status: 403)),
        ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: KEY\r\n\r\n",
         SIPWebSocketUpgradeError.subprotocolNotSelected),
    ])
    func refusedUpgradeFailsConnectAndHeldWrites(answer: String, expected: SIPWebSocketUpgradeError) async throws {
        let (peer, server) = try await startPeer()
        let (client, _) = try TransportWebSocketTests().makeResponder()
        let destination = SIPTransportDestination(kind: .ws, address: try #require(server.localAddress))
        let connecting = client.connect(to: destination)
        let request = try await readRequest(peer)
        let key = try #require(Self.header("Sec-WebSocket-Key", in: request))
        let id = try await client.connect(to: destination).get()
        let held = client.send(ByteBuffer(bytes: TransportWebSocketTests.options()), over: id)
        let connection = try await peer.channels.next()
        try await connection.writeAndFlush(ByteBuffer(string: answer.replacingOccurrences(of: "KEY", with: Self.accept(key)))).get()
        await #expect(throws: expected) { _ = try await connecting.get() }
        await #expect(throws: SIPTransportError.connectionClosed(id)) { try await held.get() }
        #expect(try await client.connectionCount().get() == 0)
        try await client.shutdown().get()
        try await server.close()
    }
}
