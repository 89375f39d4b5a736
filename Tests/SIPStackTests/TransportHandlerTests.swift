import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import SIPCore
import Testing
@testable import SIPStack

@Suite struct TransportHandlerTests {
    static let peer = try! SocketAddress(ipAddress: "192.0.2.10", port: 5070)
    static let local = try! SocketAddress(ipAddress: "192.0.2.1", port: 5060)

    func streamChannel(maximum: Int = 65_535, counters: SIPTransportCounters) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            SIPStreamHandler(kind: .tcp, connectionID: SIPTransportConnectionID(rawValue: 7), counters: counters, maximumMessageSize: maximum))
        channel.remoteAddress = Self.peer
        channel.localAddress = Self.local
        try channel.connect(to: Self.peer).wait()
        return channel
    }

    @Test func datagramBecomesMessageWithSource() throws {
        let counters = SIPTransportCounters()
        let channel = EmbeddedChannel(handler: SIPDatagramHandler(counters: counters))
        channel.localAddress = Self.local
        try channel.writeInbound(AddressedEnvelope(remoteAddress: Self.peer, data: transportTestBuffer(transportTestOptions())))
        let inbound = try #require(try channel.readInbound(as: SIPInboundMessage.self))
        #expect(inbound.message.method == .options)
        #expect(inbound.source.kind == .udp)
        #expect(inbound.source.remote == Self.peer)
        #expect(inbound.source.connectionID == nil)
        #expect(counters.snapshot(.udp).received == 1)
        #expect(try channel.finish().isClean)
    }

    @Test func malformedRequestDatagramIsAnswered400ToItsSource() throws {
        let counters = SIPTransportCounters()
        let channel = EmbeddedChannel(handler: SIPDatagramHandler(counters: counters))
        channel.localAddress = Self.local
        // Max-Forwards over 255 is invalid (RFC 3261 §20.22); everything needed to answer is present.
        let text = String(decoding: transportTestOptions(), as: UTF8.self)
            .replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 7000")
        try channel.writeInbound(AddressedEnvelope(remoteAddress: Self.peer, data: transportTestBuffer(Array(text.utf8))))
        #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil)
        let out = try #require(try channel.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        #expect(out.remoteAddress == Self.peer)
        let response = try SIPMessage(parsing: Array(out.data.readableBytesView))
        #expect(response.statusCode == 400)
        #expect(counters.snapshot(.udp).garbage == 1)
        #expect(counters.snapshot(.udp).rejected == 1)
        _ = try channel.finish()
    }

    @Test func malformedRequestOnAStreamIsAnsweredThenClosed() throws {
        let counters = SIPTransportCounters()
        let channel = try streamChannel(counters: counters)
        let text = String(decoding: transportTestOptions(viaTransport: "TCP"), as: UTF8.self)
            .replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: 7000")
        try channel.writeInbound(transportTestBuffer(Array(text.utf8)))
        #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil)
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try SIPMessage(parsing: Array(out.readableBytesView)).statusCode == 400)
        #expect(counters.snapshot(.tcp).rejected == 1)
        #expect(!channel.isActive)
    }

    @Test func garbageAndKeepAliveDatagramsAreCountedNotDelivered() throws {
        let counters = SIPTransportCounters()
        let channel = EmbeddedChannel(handler: SIPDatagramHandler(counters: counters, maximumMessageSize: 2000))
        try channel.writeInbound(AddressedEnvelope(remoteAddress: Self.peer, data: transportTestBuffer(Array("hello world\r\n\r\n".utf8))))
        try channel.writeInbound(AddressedEnvelope(remoteAddress: Self.peer, data: transportTestBuffer(Array("\r\n\r\n".utf8))))
        try channel.writeInbound(AddressedEnvelope(remoteAddress: Self.peer, data: transportTestBuffer(transportTestOptions(body: String(repeating: "x", count: 2500)))))
        // Random and truncated datagrams: never a crash, never a delivery of garbage.
        var random = TransportTestRandom(seed: 42)
        let valid = transportTestOptions()
        var delivered = 0
        for i in 0..<2000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<random.below(300)).map { _ in random.byte() }
            } else {
                bytes = Array(valid.prefix(random.below(valid.count)))
                if !bytes.isEmpty { bytes[random.below(bytes.count)] = random.byte() }
            }
            try channel.writeInbound(AddressedEnvelope(remoteAddress: Self.peer, data: transportTestBuffer(bytes)))
            while try channel.readInbound(as: SIPInboundMessage.self) != nil { delivered += 1 }
        }
        let snapshot = counters.snapshot(.udp)
        #expect(snapshot.garbage + snapshot.keepAlives + snapshot.received == 2002)
        #expect(snapshot.received == delivered)
        #expect(snapshot.oversize == 1)
        #expect(snapshot.keepAlives >= 1)
        _ = try channel.finish()
    }

    @Test func streamDripFedByteByByte() throws {
        let counters = SIPTransportCounters()
        let channel = try streamChannel(counters: counters)
        let bytes = transportTestOptions(viaTransport: "TCP", body: "v=0\r\n")
        for (i, b) in bytes.enumerated() {
            try channel.writeInbound(transportTestBuffer([b]))
            if i < bytes.count - 1 { #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil) }
        }
        let inbound = try #require(try channel.readInbound(as: SIPInboundMessage.self))
        #expect(inbound.message.method == .options)
        #expect(Array(inbound.message.body) == Array("v=0\r\n".utf8))
        #expect(inbound.source.connectionID == SIPTransportConnectionID(rawValue: 7))
        #expect(inbound.source.kind == .tcp)
        #expect(inbound.source.remote == Self.peer)
        #expect(channel.isActive)
    }

    @Test func streamPipelinedMessagesInOneRead() throws {
        let counters = SIPTransportCounters()
        let channel = try streamChannel(counters: counters)
        let all = transportTestOptions(viaTransport: "TCP", branch: "z9hG4bK-1") + transportTestOptions(viaTransport: "TCP", branch: "z9hG4bK-2")
            + transportTestOptions(viaTransport: "TCP", branch: "z9hG4bK-3").prefix(20)
        try channel.writeInbound(transportTestBuffer(all))
        let first = try #require(try channel.readInbound(as: SIPInboundMessage.self))
        let second = try #require(try channel.readInbound(as: SIPInboundMessage.self))
        #expect(try first.message.vias[0].branch == "z9hG4bK-1")
        #expect(try second.message.vias[0].branch == "z9hG4bK-2")
        #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil)
        #expect(counters.snapshot(.tcp).received == 2)
    }

    @Test func streamOversizeClosesAndCounts() throws {
        let counters = SIPTransportCounters()
        let channel = try streamChannel(maximum: 400, counters: counters)
        try channel.writeInbound(transportTestBuffer(transportTestOptions(viaTransport: "TCP", body: String(repeating: "y", count: 600))))
        #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil)
        #expect(!channel.isActive)
        #expect(counters.snapshot(.tcp).oversize == 1)
    }

    @Test func streamGarbageClosesAndCounts() throws {
        let counters = SIPTransportCounters()
        let channel = try streamChannel(counters: counters)
        // A header section without Content-Length cannot be framed on a stream (RFC 3261 §18.3).
        try channel.writeInbound(transportTestBuffer(Array("GARBAGE\r\nX: y\r\n\r\n".utf8)))
        #expect(!channel.isActive)
        #expect(counters.snapshot(.tcp).garbage == 1)
    }

    @Test func doubleCRLFPingIsAnsweredWithCRLFPong() throws {
        let counters = SIPTransportCounters()
        let channel = try streamChannel(counters: counters)
        try channel.writeInbound(transportTestBuffer(Array("\r\n\r\n".utf8)))
        let pong = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(Array(pong.readableBytesView) == [13, 10])
        #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil)
        #expect(channel.isActive)
        #expect(counters.snapshot(.tcp).keepAlives == 1)
    }

    @Test func idleStreamIsClosed() throws {
        // IdleStateHandler measures elapsed time with the real clock, so the test delivers its event directly.
        let counters = SIPTransportCounters()
        let channel = try streamChannel(counters: counters)
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
        #expect(!channel.isActive)
        #expect(counters.snapshot(.tcp).idleClosed == 1)
    }

    func webSocketChannel(counters: SIPTransportCounters) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            SIPWebSocketHandler(kind: .ws, connectionID: SIPTransportConnectionID(rawValue: 9), counters: counters))
        channel.remoteAddress = Self.peer
        try channel.connect(to: Self.peer).wait()
        return channel
    }

    @Test func webSocketFrameInAndOut() throws {
        let counters = SIPTransportCounters()
        let channel = try webSocketChannel(counters: counters)
        let frame = WebSocketFrame(fin: true, opcode: .text, data: transportTestBuffer(transportTestOptions(viaTransport: "WS", sentBy: "df7jal23ls0d.invalid")))
        try channel.writeInbound(frame)
        let inbound = try #require(try channel.readInbound(as: SIPInboundMessage.self))
        #expect(inbound.message.method == .options)
        #expect(inbound.source.kind == .ws)
        #expect(inbound.source.connectionID == SIPTransportConnectionID(rawValue: 9))

        let response = try SIPMessageBuilder.response(to: inbound.message, statusCode: 200, toTag: "t").bytes()
        try channel.writeOutbound(transportTestBuffer(response))
        let out = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(out.opcode == .text)
        #expect(out.fin)
        #expect(Array(out.unmaskedData.readableBytesView) == response)

        // A garbage frame is dropped without closing (one message per frame, RFC 7118 §5.1).
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, data: transportTestBuffer([0, 1, 2])))
        #expect(try channel.readInbound(as: SIPInboundMessage.self) == nil)
        #expect(channel.isActive)
        #expect(counters.snapshot(.ws).garbage == 1)

        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .ping, data: transportTestBuffer([1, 2])))
        let pong = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(pong.opcode == .pong)
        #expect(Array(pong.unmaskedData.readableBytesView) == [1, 2])
    }

    /// Runs an HTTP upgrade request through the server pipeline the WS listener uses; returns the response text.
    func upgradeResponse(protocolHeader: String?) throws -> (String, EmbeddedChannel) {
        let channel = EmbeddedChannel()
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, head in channel.eventLoop.makeSucceededFuture(SIPWebSocketHandshake.responseHeaders(for: head)) },
            upgradePipelineHandler: { channel, _ in channel.pipeline.removeHandler(name: "refusal") })
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
        try channel.pipeline.syncOperations.addHandler(SIPWebSocketRefusalHandler(), name: "refusal")
        try channel.connect(to: Self.peer).wait()
        var request = "GET / HTTP/1.1\r\nHost: tandem.invalid\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let protocolHeader { request += "Sec-WebSocket-Protocol: " + protocolHeader + "\r\n" }
        request += "\r\n"
        try channel.writeInbound(transportTestBuffer(Array(request.utf8)))
        channel.embeddedEventLoop.run()
        try channel.throwIfErrorCaught()
        var text = ""
        while let out = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(decoding: out.readableBytesView, as: UTF8.self)
        }
        return (text, channel)
    }

    @Test func upgradeWithSIPSubprotocolIsAccepted() throws {
        let (text, _) = try upgradeResponse(protocolHeader: "sip")
        #expect(text.hasPrefix("HTTP/1.1 101"))
        #expect(text.lowercased().contains("sec-websocket-protocol: sip"))
    }

    @Test(arguments: [nil, "chat"] as [String?])
    func upgradeWithoutSIPSubprotocolIsRefused(header: String?) throws {
        let (text, channel) = try upgradeResponse(protocolHeader: header)
        #expect(text.hasPrefix("HTTP/1.1 426"))
        #expect(!channel.isActive)
    }
}
