import NIOCore
import NIOHTTP1
import NIOWebSocket
import SIPCore

/// SIP over WebSocket (RFC 7118): each text or binary frame carries exactly one SIP message (§5.1), so frames
/// are parsed whole; outbound `ByteBuffer`s become text frames. Answers pings and close frames. Install after
/// the upgrade (and a `NIOWebSocketFrameAggregator`, so fragmented messages arrive as one frame). On the client
/// side of a connection every frame sent is masked (RFC 6455 §5.3). Runs on its channel's event loop; one per
/// connection.
public final class SIPWebSocketHandler: ChannelDuplexHandler {
    public typealias InboundIn = WebSocketFrame
    public typealias InboundOut = SIPInboundMessage
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = WebSocketFrame

    private let kind: SIPTransportKind
    private let connectionID: SIPTransportConnectionID
    private let counters: SIPTransportCounters
    private let maximumMessageSize: Int
    private let isClient: Bool
    private var sentClose = false

    /// A handler for one WS or WSS connection, limiting messages to `maximumMessageSize` bytes; `isClient` when
    /// this side opened the connection (its frames are then masked).
    public init(kind: SIPTransportKind, connectionID: SIPTransportConnectionID, counters: SIPTransportCounters,
                maximumMessageSize: Int = 65_535, isClient: Bool = false) {
        self.kind = kind
        self.connectionID = connectionID
        self.counters = counters
        self.maximumMessageSize = maximumMessageSize
        self.isClient = isClient
    }

    /// RFC 6455 §5.3: a client masks every frame with a fresh unpredictable key; a server never masks.
    private var maskKey: WebSocketMaskingKey? { isClient ? .random() : nil }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            let payload = frame.unmaskedData
            guard payload.readableBytes <= maximumMessageSize else {
                counters.increment(kind, \.oversize)
                close(context: context, code: .messageTooLarge)
                return
            }
            let parsed: SIPMessage
            do {
                parsed = try payload.withUnsafeReadableBytes { raw throws(SIPParseError) in try SIPMessage(parsing: raw) }
            } catch {
                // One bad frame does not desynchronise a message-oriented transport: drop it, keep the connection.
                counters.increment(kind, \.garbage)
                return
            }
            counters.increment(kind, \.received)
            guard let remote = context.channel.remoteAddress else { return }
            let source = SIPTransportSource(kind: kind, remote: remote, local: context.channel.localAddress, connectionID: connectionID)
            context.fireChannelRead(wrapInboundOut(SIPInboundMessage(message: parsed, source: source)))
        case .ping:
            counters.increment(kind, \.keepAlives)
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: maskKey, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            close(context: context, code: .normalClosure)
        default:
            break
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let bytes = unwrapOutboundIn(data)
        // RFC 7118 §5.1 allows text or binary frames; SIP is UTF-8 text, and browsers' SIP stacks expect text.
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: maskKey, data: bytes)), promise: promise)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A frame over the decoder's limit, or fragments adding up past the aggregator's, is an oversize
        // message: count it like one that arrived whole. NIO's protocol error handler has already sent 1009
        // for the former; the latter is closed here.
        if let error = error as? NIOWebSocketError, error == .invalidFrameLength {
            counters.increment(kind, \.oversize)
            sentClose = true
        } else if let error = error as? NIOWebSocketFrameAggregator.Error {
            counters.increment(kind, error == .accumulatedFrameSizeIsTooLarge || error == .tooManyFragments ? \.oversize : \.garbage)
            close(context: context, code: error == .accumulatedFrameSizeIsTooLarge ? .messageTooLarge : .protocolError)
        }
        context.fireErrorCaught(error)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            counters.increment(kind, \.idleClosed)
            close(context: context, code: .goingAway)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func close(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !sentClose else { return }
        sentClose = true
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: maskKey, data: payload)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in context.close(promise: nil) }
    }
}

/// The RFC 7118 §4 opening handshake rules, apart from NIO's generic WebSocket upgrade.
public enum SIPWebSocketHandshake {
    /// The WebSocket subprotocol SIP requires (RFC 7118 §4.1).
    public static let subprotocol = "sip"

    /// The headers to add to the 101 response, or nil to refuse: the client must offer the "sip" subprotocol.
    public static func responseHeaders(for request: HTTPRequestHead) -> HTTPHeaders? {
        let offered = request.headers[canonicalForm: "Sec-WebSocket-Protocol"]
        guard offered.contains(where: { $0.lowercased() == subprotocol }) else { return nil }
        return HTTPHeaders([("Sec-WebSocket-Protocol", subprotocol)])
    }
}

/// Answers HTTP requests that were not upgraded to SIP over WebSocket with 426 Upgrade Required and closes.
/// Removed from the pipeline once an upgrade succeeds.
final class SIPWebSocketRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Length", value: "0")
        headers.add(name: "Sec-WebSocket-Protocol", value: SIPWebSocketHandshake.subprotocol)
        let head = HTTPResponseHead(version: .http1_1, status: .upgradeRequired, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO reports a refused upgrade (no "sip" subprotocol) as an error before handing the request on to
        // this handler; that is the expected path, not a fault.
        if error is NIOWebSocketUpgradeError { return }
        context.fireErrorCaught(error)
    }
}
