import NIOCore
import NIOHTTP1
import NIOWebSocket
import SIPCore

/// Why an outgoing SIP-over-WebSocket connection could not be opened.
public enum SIPWebSocketUpgradeError: Error, Equatable, Sendable {
    /// The server answered the upgrade request with this HTTP status instead of 101 (426 when it wants "sip").
    case refused(status: Int)
    /// The server switched protocols without selecting the "sip" subprotocol (RFC 7118 §4.1).
    case subprotocolNotSelected
    /// The connection closed before the upgrade completed.
    case closedBeforeUpgrade
}

/// Builds the pipelines of SIP-over-WebSocket connections (RFC 7118): the HTTP/1.1 upgrade, then frames.
/// Control plane: runs once per connection on its event loop.
enum SIPWebSocketPipeline {
    /// What every WS/WSS pipeline needs once upgraded.
    struct Settings {
        var kind: SIPTransportKind
        var id: SIPTransportConnectionID
        var counters: SIPTransportCounters
        var maximumMessageSize: Int
        var idleTimeout: TimeAmount
        var deliver: @Sendable (SIPInboundMessage) -> Void
    }

    /// The handlers after a completed upgrade: reassembly, idle timer, SIP framing, delivery.
    static func addFrameHandlers(_ channel: any Channel, _ settings: Settings, isClient: Bool) throws {
        try channel.pipeline.syncOperations.addHandlers([
            NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                                        maxAccumulatedFrameSize: settings.maximumMessageSize),
            IdleStateHandler(allTimeout: settings.idleTimeout),
            SIPWebSocketHandler(kind: settings.kind, connectionID: settings.id, counters: settings.counters,
                                maximumMessageSize: settings.maximumMessageSize, isClient: isClient),
            SIPDeliveryHandler(deliver: settings.deliver),
        ])
    }

    /// Sets up the client side on a freshly connected channel (after any TLS handler): sends
    /// `GET <path>` offering the "sip" subprotocol, and on a 101 that selects it installs the frame handlers and
    /// succeeds `upgraded`. A refusal, a missing subprotocol, an error or a close fails `upgraded`.
    static func addClientHandlers(_ channel: any Channel, _ settings: Settings, host: String, path: String = "/",
                                  upgraded: EventLoopPromise<Void>) throws {
        let requestName = "sip-ws-client-request"
        let upgrader = NIOWebSocketClientUpgrader(
            maxFrameSize: settings.maximumMessageSize,
            upgradePipelineHandler: { channel, response in
                // RFC 7118 §4.1: the server must select "sip"; a 101 without it is not a SIP connection.
                guard SIPWebSocketHandshake.selectsSubprotocol(response.headers) else {
                    upgraded.fail(SIPWebSocketUpgradeError.subprotocolNotSelected)
                    channel.close(promise: nil)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                return channel.pipeline.removeHandler(name: requestName).flatMapThrowing {
                    try addFrameHandlers(channel, settings, isClient: true)
                    upgraded.succeed()
                }
            })
        let ops = channel.pipeline.syncOperations
        // Frames a server sends right behind its 101 arrive in the same read as it; keep them.
        try ops.addHTTPClientHandlers(leftOverBytesStrategy: .forwardBytes,
                                      withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
        try ops.addHandler(SIPWebSocketClientRequestHandler(host: host, path: path, promise: upgraded), name: requestName)
    }
}

extension SIPWebSocketHandshake {
    /// True when a 101 response's Sec-WebSocket-Protocol selects "sip".
    static func selectsSubprotocol(_ headers: HTTPHeaders) -> Bool {
        headers[canonicalForm: "Sec-WebSocket-Protocol"].contains { $0.lowercased() == subprotocol }
    }
}

/// Sends the upgrade request once the connection is up (NIO's upgrade handler adds the WebSocket headers) and
/// fails the upgrade promise on anything but a successful upgrade. Removed once the upgrade is done.
final class SIPWebSocketClientRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private let path: String
    private var promise: EventLoopPromise<Void>?

    init(host: String, path: String, promise: EventLoopPromise<Void>) {
        self.host = host
        self.path = path
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    private func sendRequest(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Sec-WebSocket-Protocol", value: SIPWebSocketHandshake.subprotocol)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only a response that did not upgrade gets here (NIO's upgrade handler consumes the 101).
        if case .head(let head) = unwrapInboundIn(data) {
            fail(SIPWebSocketUpgradeError.refused(status: Int(head.status.code)), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // NIO reports a non-101 answer as an upgrade error before passing the response on; wait for the
        // response itself so the caller learns the status.
        if error is NIOHTTPClientUpgradeError { return }
        fail(error, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(SIPWebSocketUpgradeError.closedBeforeUpgrade)
        promise = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed on success; the upgrade pipeline handler completes the promise itself.
        promise = nil
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard let promise else { return }
        self.promise = nil
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// Messages handed to a WS/WSS connection before its upgrade completed, kept in order and written right after
/// it (or failed if it never completes). Pure and single-threaded: the transport layer keeps it on its loop.
struct SIPWebSocketWriteQueues {
    private var queues: [SIPTransportConnectionID: [(ByteBuffer, EventLoopPromise<Void>)]] = [:]

    /// Starts holding writes for `id`.
    mutating func begin(_ id: SIPTransportConnectionID) { queues[id] = [] }

    /// True while `id` is upgrading.
    func isUpgrading(_ id: SIPTransportConnectionID) -> Bool { queues[id] != nil }

    /// Holds a write for `id`; false (nothing held) when `id` is not upgrading.
    mutating func enqueue(_ message: ByteBuffer, promise: EventLoopPromise<Void>, for id: SIPTransportConnectionID) -> Bool {
        guard queues[id] != nil else { return false }
        queues[id, default: []].append((message, promise))
        return true
    }

    /// Stops holding writes for `id` and returns those held, oldest first.
    mutating func finish(_ id: SIPTransportConnectionID) -> [(ByteBuffer, EventLoopPromise<Void>)] {
        queues.removeValue(forKey: id) ?? []
    }
}

extension SIPWebSocketPipeline {
    /// The Host header for a connection to an IP literal (RFC 7230 §5.4): IPv6 in brackets.
    static func hostHeader(_ address: SocketAddress) -> String {
        let ip = address.ipAddress ?? "localhost"
        let port = address.port.map { ":" + String($0) } ?? ""
        return (address.protocol == .inet6 ? "[" + ip + "]" : ip) + port
    }
}
