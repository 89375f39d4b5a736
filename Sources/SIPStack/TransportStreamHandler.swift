import NIOCore
import SIPCore

/// Frames a TCP or TLS byte stream into SIP messages with `SIPStreamFramer` (Content-Length, RFC 3261 §18.3),
/// answers RFC 5626 §4.4.1 CRLFCRLF pings with a CRLF pong, and closes the connection on framing errors
/// (oversize or garbage: the stream cannot be resynchronised) or when the idle timer fires. Runs on its
/// channel's event loop; one per connection; copies received bytes into the framer.
public final class SIPStreamHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = SIPInboundMessage
    public typealias OutboundOut = ByteBuffer

    private let kind: SIPTransportKind
    private let connectionID: SIPTransportConnectionID
    private let counters: SIPTransportCounters
    private var framer: SIPStreamFramer
    private var remoteAddress: SocketAddress?
    private var localAddress: SocketAddress?
    private var isClosing = false

    /// A handler for one connection of transport `kind` (TCP or TLS), limiting messages to `maximumMessageSize`.
    public init(kind: SIPTransportKind, connectionID: SIPTransportConnectionID, counters: SIPTransportCounters,
                maximumMessageSize: Int = 65_535) {
        self.kind = kind
        self.connectionID = connectionID
        self.counters = counters
        framer = SIPStreamFramer(maximumMessageSize: maximumMessageSize)
    }

    public func channelActive(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress
        localAddress = context.channel.localAddress
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        let buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { framer.append($0) }
        while true {
            let frame: SIPStreamFramer.Frame?
            do {
                frame = try framer.next()
            } catch {
                counters.increment(kind, error == .messageTooLarge ? \.oversize : \.garbage)
                isClosing = true
                // A complete but malformed request still gets its 400/505 before the connection closes.
                if case .invalidMessage(let parseError) = error,
                   let response = framer.rejectedMessage.withUnsafeBytes({ MalformedRequestResponse.response(for: $0, error: parseError) }) {
                    counters.increment(kind, \.rejected)
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: response)), promise: nil)
                }
                context.close(promise: nil)
                return
            }
            guard let frame else { return }
            switch frame {
            case .keepAlivePing:
                counters.increment(kind, \.keepAlives)
                // RFC 5626 §4.4.1: a double CRLF ping is answered with a single CRLF pong.
                var pong = context.channel.allocator.buffer(capacity: 2)
                pong.writeStaticString("\r\n")
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            case .keepAlivePong:
                counters.increment(kind, \.keepAlives)
            case .message(let message):
                counters.increment(kind, \.received)
                if remoteAddress == nil { remoteAddress = context.channel.remoteAddress }
                if localAddress == nil { localAddress = context.channel.localAddress }
                guard let remote = remoteAddress else { continue }
                let source = SIPTransportSource(kind: kind, remote: remote, local: localAddress, connectionID: connectionID)
                context.fireChannelRead(wrapInboundOut(SIPInboundMessage(message: message, source: source)))
            }
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            counters.increment(kind, \.idleClosed)
            isClosing = true
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
