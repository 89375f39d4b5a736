import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import NIOWebSocket
import SIPCore

/// The SIP transports on SwiftNIO: UDP, TCP, TLS, WS and WSS listeners over IPv4 and IPv6, a connection table
/// for reuse (RFC 3261 §18, RFC 5626 flows), per-source-IP admission, idle timeouts and size limits. Parsed
/// messages go to `onMessage` with their source; no transaction logic here.
///
/// Threading: everything runs on one event loop (`eventLoop`), which owns the connection table; public
/// methods may be called from any thread and hop to it. Allocates per message (control plane).
public final class SIPTransportLayer: @unchecked Sendable {
    /// Limits and TLS settings.
    public struct Configuration: Sendable {
        /// Largest SIP message accepted or sent, in bytes.
        public var maximumMessageSize = 65_535
        /// Most simultaneous stream connections accepted from one IP address; beyond it, new ones are closed.
        public var maximumConnectionsPerIP = 32
        /// A stream connection with no traffic either way for this long is closed. RFC 5626 §4.4.1 keep-alives
        /// come every 95–120 s, so the default leaves room for several.
        public var idleTimeout: TimeAmount = .seconds(600)
        /// Server side of TLS and WSS listeners (see `SIPTLSIdentity.serverConfiguration()`).
        public var tlsServer: TLSConfiguration?
        /// Client side of outgoing TLS connections.
        public var tlsClient: TLSConfiguration?
        /// Allow/deny lists and the per-source packet rate, applied to every listener.
        public var sourcePolicy = SIPSourcePolicy()

        /// The defaults, without TLS.
        public init() {}
    }

    /// The loop all transports run on.
    public let eventLoop: any EventLoop
    /// Received, dropped and refused counts per transport.
    public let counters: SIPTransportCounters
    private let configuration: Configuration
    private let onMessage: @Sendable (SIPInboundMessage) -> Void
    private let serverSSLContext: NIOSSLContext?
    private let clientSSLContext: NIOSSLContext?
    /// The source policy's state, shared by every listener on the loop.
    let gate: SIPSourceGate

    // Confined to `eventLoop`.
    private var table: SIPConnectionTable<any Channel>
    /// UDP listeners with their address family (read once at bind: `Channel.localAddress` takes a lock) and
    /// their datagram handler (which says whether a read batch is in progress, so sends can skip the flush).
    private var udpChannels: [(family: NIOBSDSocket.ProtocolFamily?, channel: any Channel, handler: SIPDatagramHandler)] = []
    private var listeners: [any Channel] = []
    private var nextConnectionNumber: UInt64 = 1
    // Writes to WS/WSS connections still upgrading, and outgoing connections still being set up (so that
    // concurrent sends to one destination share one connection).
    private var webSocketWrites = SIPWebSocketWriteQueues()
    private var connecting: [SIPConnectionTable<any Channel>.FlowKey: EventLoopFuture<SIPTransportConnectionID>] = [:]

    /// A transport layer on `eventLoop`. Throws when a TLS configuration cannot be turned into a context.
    public init(eventLoop: any EventLoop, configuration: Configuration = Configuration(),
                counters: SIPTransportCounters = SIPTransportCounters(),
                onMessage: @escaping @Sendable (SIPInboundMessage) -> Void) throws {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.counters = counters
        self.onMessage = onMessage
        serverSSLContext = try configuration.tlsServer.map { try NIOSSLContext(configuration: $0) }
        clientSSLContext = try configuration.tlsClient.map { try NIOSSLContext(configuration: $0) }
        table = SIPConnectionTable(maximumPerIP: configuration.maximumConnectionsPerIP)
        gate = SIPSourceGate(policy: configuration.sourcePolicy)
    }

    /// Datagrams read per `recvmmsg` on a UDP listener.
    static let udpReadBatch = 16

    // MARK: Listening

    /// Starts a listener for `kind` on `host`:`port` (port 0 picks a free one); returns the bound address.
    public func listen(_ kind: SIPTransportKind, host: String, port: Int) -> EventLoopFuture<SocketAddress> {
        let bound: EventLoopFuture<any Channel>
        switch kind {
        case .udp:
            let maximum = configuration.maximumMessageSize
            let counters = self.counters
            let deliver = onMessage
            let gate = self.gate
            bound = DatagramBootstrap(group: eventLoop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                // Up to `udpReadBatch` datagrams per recvmmsg; NIO cuts the receive buffer into that many slices,
                // each of 64 KiB because SIP datagrams may be that large (RFC 3261 §18.1.1 allows large UDP when
                // the MTU permits).
                .channelOption(.datagramVectorReadMessageCount, value: Self.udpReadBatch)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536 * Self.udpReadBatch))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            SIPDatagramHandler(counters: counters, maximumMessageSize: maximum, gate: gate, deliver: deliver))
                    }
                }
                .bind(host: host, port: port)
                .flatMapThrowing { channel in
                    let handler = try channel.pipeline.syncOperations.handler(type: SIPDatagramHandler.self)
                    self.udpChannels.append((channel.localAddress?.protocol, channel, handler))
                    return channel
                }
        case .tcp, .tls, .ws, .wss:
            if kind.isSecure, serverSSLContext == nil {
                return eventLoop.makeFailedFuture(SIPTransportError.tlsNotConfigured)
            }
            bound = ServerBootstrap(group: eventLoop, childGroup: eventLoop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.initializeAccepted(channel, kind: kind)
                    }
                }
                .bind(host: host, port: port)
        }
        return bound.flatMapThrowing { channel in
            self.listeners.append(channel)
            guard let address = channel.localAddress else { throw SIPTransportError.noListener(kind) }
            return address
        }
    }

    /// `onMessage` behind the per-source packet rate, for stream messages (delivered on the loop).
    private func gatedDelivery(_ kind: SIPTransportKind) -> @Sendable (SIPInboundMessage) -> Void {
        let gate = self.gate
        let counters = self.counters
        let deliver = onMessage
        return { message in
            switch gate.check(message.source.remote, now: NIODeadline.now().uptimeNanoseconds) {
            case .admit: deliver(message)
            case .denied: counters.increment(kind, .denied)
            case .rateLimited: counters.increment(kind, .rateLimited)
            }
        }
    }

    /// Sets up an accepted stream connection: admission, then the pipeline for its transport. On the loop.
    private func initializeAccepted(_ channel: any Channel, kind: SIPTransportKind) throws {
        guard let remote = channel.remoteAddress, gate.admitsConnection(from: remote) else {
            counters.increment(kind, \.denied)
            channel.close(promise: nil)
            return
        }
        guard table.admits(remote) else {
            counters.increment(kind, \.refusedConnections)
            channel.close(promise: nil)
            return
        }
        let id = register(channel, kind: kind, remote: remote)
        let ops = channel.pipeline.syncOperations
        if kind.isSecure, let context = serverSSLContext {
            try ops.addHandler(NIOSSLServerHandler(context: context))
        }
        switch kind {
        case .tcp, .tls:
            try addStreamHandlers(ops, kind: kind, id: id)
        case .ws, .wss:
            try addWebSocketUpgrade(channel, kind: kind, id: id)
        case .udp:
            break
        }
    }

    private func addStreamHandlers(_ ops: ChannelPipeline.SynchronousOperations, kind: SIPTransportKind, id: SIPTransportConnectionID) throws {
        try ops.addHandlers([
            IdleStateHandler(allTimeout: configuration.idleTimeout),
            SIPStreamHandler(kind: kind, connectionID: id, counters: counters, maximumMessageSize: configuration.maximumMessageSize),
            SIPDeliveryHandler(deliver: gatedDelivery(kind)),
        ])
    }

    private func webSocketSettings(kind: SIPTransportKind, id: SIPTransportConnectionID) -> SIPWebSocketPipeline.Settings {
        SIPWebSocketPipeline.Settings(kind: kind, id: id, counters: counters, maximumMessageSize: configuration.maximumMessageSize,
                                      idleTimeout: configuration.idleTimeout, deliver: gatedDelivery(kind))
    }

    private func addWebSocketUpgrade(_ channel: any Channel, kind: SIPTransportKind, id: SIPTransportConnectionID) throws {
        let settings = webSocketSettings(kind: kind, id: id)
        let refusalName = "sip-ws-refusal"
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: settings.maximumMessageSize,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(SIPWebSocketHandshake.responseHeaders(for: head))
            },
            upgradePipelineHandler: { channel, _ in
                channel.pipeline.removeHandler(name: refusalName).flatMapThrowing {
                    try SIPWebSocketPipeline.addFrameHandlers(channel, settings, isClient: false)
                    self.webSocketUpgraded(id, channel: channel)
                }
            })
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
        try channel.pipeline.syncOperations.addHandler(SIPWebSocketRefusalHandler(), name: refusalName)
    }

    /// Enters a connection in the table and removes it when it closes. On the loop.
    private func register(_ channel: any Channel, kind: SIPTransportKind, remote: SocketAddress) -> SIPTransportConnectionID {
        let id = SIPTransportConnectionID(rawValue: nextConnectionNumber)
        nextConnectionNumber += 1
        table.insert(channel, id: id, kind: kind, remote: remote)
        if kind == .ws || kind == .wss { webSocketWrites.begin(id) }
        channel.closeFuture.whenComplete { _ in self.connectionClosed(id) }
        return id
    }

    /// Forgets a closed connection and fails writes still waiting for its WebSocket upgrade. On the loop.
    private func connectionClosed(_ id: SIPTransportConnectionID) {
        table.remove(id)
        for (_, promise) in webSocketWrites.finish(id) { promise.fail(SIPTransportError.connectionClosed(id)) }
    }

    /// Writes what was sent to `id` while it was upgrading, in order. On the loop.
    private func webSocketUpgraded(_ id: SIPTransportConnectionID, channel: any Channel) {
        let held = webSocketWrites.finish(id)
        guard !held.isEmpty else { return }
        for (message, promise) in held { channel.write(message, promise: promise) }
        channel.flush()
    }

    // MARK: Sending

    /// Sends one serialised message. UDP goes from the listener of the destination's address family; streams
    /// reuse the open connection to that transport and address, or open one (TCP, TLS). Returns the
    /// connection used (nil for UDP).
    public func send(_ message: ByteBuffer, to destination: SIPTransportDestination) -> EventLoopFuture<SIPTransportConnectionID?> {
        guard message.readableBytes <= configuration.maximumMessageSize else {
            return eventLoop.makeFailedFuture(SIPTransportError.messageTooLarge(size: message.readableBytes, maximum: configuration.maximumMessageSize))
        }
        return eventLoop.flatSubmit {
            if destination.kind == .udp {
                guard let channel = self.udpChannels.first(where: { $0.family == destination.address.protocol })?.channel else {
                    return self.eventLoop.makeFailedFuture(SIPTransportError.noListener(.udp))
                }
                return channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination.address, data: message)).map { nil }
            }
            return self.connect(to: destination).flatMap { id in
                self.send(message, over: id).map { id }
            }
        }
    }

    /// Sends one datagram with no future to wait on (fire and forget), for stateless responses: on the loop it
    /// goes straight to the UDP channel of the right address family. False when no such listener exists or the
    /// message is over the size limit.
    @discardableResult
    public func sendDatagram(_ message: ByteBuffer, to address: SocketAddress) -> Bool {
        guard message.readableBytes <= configuration.maximumMessageSize else { return false }
        guard eventLoop.inEventLoop else {
            _ = send(message, to: SIPTransportDestination(kind: .udp, address: address))
            return true
        }
        let family = address.protocol
        for udp in udpChannels where udp.family == family {
            // Inside a read batch the datagram handler flushes once at its end (one sendmmsg for the batch).
            udp.channel.write(AddressedEnvelope(remoteAddress: address, data: message), promise: nil)
            if !udp.handler.isReading { udp.channel.flush() }
            return true
        }
        return false
    }

    /// Sends one serialised message over an existing connection (responses on the request's connection,
    /// requests on an RFC 5626 flow).
    public func send(_ message: ByteBuffer, over id: SIPTransportConnectionID) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard let channel = self.table.connection(id) else {
                return self.eventLoop.makeFailedFuture(SIPTransportError.connectionClosed(id))
            }
            // Before a WebSocket upgrade completes the pipeline still speaks HTTP: hold the message until then.
            let promise = self.eventLoop.makePromise(of: Void.self)
            if self.webSocketWrites.enqueue(message, promise: promise, for: id) { return promise.futureResult }
            channel.writeAndFlush(message, promise: promise)
            return promise.futureResult
        }
    }

    /// Sends a response along a route from `SIPTransportRouting.responseRoute`. An address route must name an
    /// IP literal (name resolution, RFC 3263, is the caller's); a closed connection fails.
    public func send(_ message: ByteBuffer, route: SIPResponseRoute) -> EventLoopFuture<Void> {
        switch route {
        case .connection(let id):
            return send(message, over: id)
        case .address(let kind, let host, let port):
            let address: SocketAddress
            do { address = try SocketAddress(ipAddress: host, port: Int(port)) } catch {
                return eventLoop.makeFailedFuture(error)
            }
            return send(message, to: SIPTransportDestination(kind: kind, address: address)).map { _ in }
        }
    }

    /// The open connection to `destination`, or a new one (TCP, TLS, WS, WSS). A WS/WSS connection is ready
    /// once the RFC 7118 upgrade (GET / offering the "sip" subprotocol) completes; until then concurrent
    /// callers share the pending connection. Fails with `SIPWebSocketUpgradeError` when the upgrade is refused.
    public func connect(to destination: SIPTransportDestination) -> EventLoopFuture<SIPTransportConnectionID> {
        eventLoop.flatSubmit {
            if let existing = self.table.connection(kind: destination.kind, remote: destination.address) {
                return self.eventLoop.makeSucceededFuture(existing.id)
            }
            let key = SIPConnectionTable<any Channel>.FlowKey(kind: destination.kind, remote: destination.address)
            if let pending = self.connecting[key] { return pending }
            guard destination.kind != .udp else {
                return self.eventLoop.makeFailedFuture(SIPTransportError.cannotConnect(destination.kind))
            }
            let opened = self.open(destination)
            self.connecting[key] = opened
            opened.whenComplete { _ in self.connecting[key] = nil }
            return opened
        }
    }

    /// Opens a new stream connection to `destination`. On the loop.
    private func open(_ destination: SIPTransportDestination) -> EventLoopFuture<SIPTransportConnectionID> {
        if destination.kind.isSecure, self.clientSSLContext == nil {
            return self.eventLoop.makeFailedFuture(SIPTransportError.tlsNotConfigured)
        }
        let id = SIPTransportConnectionID(rawValue: self.nextConnectionNumber)
        self.nextConnectionNumber += 1
        let kind = destination.kind
        // Completed by the watcher after the TLS handler (or, for WS/WSS, when the upgrade completes), so
        // handshake failures (a peer offering only TLS 1.1, an untrusted certificate, a refused upgrade)
        // reach the caller instead of surfacing on the first write.
        let handshake = self.eventLoop.makePromise(of: Void.self)
        let isWebSocket = kind == .ws || kind == .wss
        return ClientBootstrap(group: self.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let ops = channel.pipeline.syncOperations
                    if kind.isSecure, let context = self.clientSSLContext {
                        try ops.addHandler(NIOSSLClientHandler(context: context, serverHostname: destination.serverName))
                        if !isWebSocket { try ops.addHandler(TLSHandshakeWatcher(promise: handshake)) }
                    } else if !isWebSocket {
                        handshake.succeed()
                    }
                    if isWebSocket {
                        let host = destination.serverName ?? SIPWebSocketPipeline.hostHeader(destination.address)
                        try SIPWebSocketPipeline.addClientHandlers(channel, self.webSocketSettings(kind: kind, id: id),
                                                                   host: host, upgraded: handshake)
                    } else {
                        try self.addStreamHandlers(ops, kind: kind, id: id)
                    }
                }
            }
            .connect(to: destination.address)
            .flatMapError { error in
                handshake.fail(error)
                return self.eventLoop.makeFailedFuture(error)
            }
            .flatMap { channel in
                self.table.insert(channel, id: id, kind: kind, remote: destination.address)
                if isWebSocket {
                    self.webSocketWrites.begin(id)
                    handshake.futureResult.whenSuccess { self.webSocketUpgraded(id, channel: channel) }
                }
                channel.closeFuture.whenComplete { _ in self.connectionClosed(id) }
                return handshake.futureResult.flatMapError { error in
                    channel.close(promise: nil)
                    return self.eventLoop.makeFailedFuture(error)
                }.map { id }
            }
    }

    // MARK: Inspection and shutdown

    /// Completes when connection `id` closes; fails at once if it is not open.
    public func closeFuture(of id: SIPTransportConnectionID) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard let channel = self.table.connection(id) else {
                return self.eventLoop.makeFailedFuture(SIPTransportError.connectionClosed(id))
            }
            return channel.closeFuture
        }
    }

    /// Closes connection `id`.
    public func close(_ id: SIPTransportConnectionID) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            guard let channel = self.table.connection(id) else { return self.eventLoop.makeSucceededVoidFuture() }
            return channel.close()
        }
    }

    /// Open stream connections, in total and from one IP.
    public func connectionCount(fromIP ip: String? = nil) -> EventLoopFuture<Int> {
        eventLoop.submit { ip.map { self.table.connectionCount(fromIP: $0) } ?? self.table.count }
    }

    /// Closes every listener and connection.
    public func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            var channels: [any Channel] = self.listeners
            for id in self.table.ids {
                if let channel = self.table.connection(id) { channels.append(channel) }
            }
            self.listeners.removeAll()
            self.udpChannels.removeAll()
            let closes = channels.map { channel in channel.close().recover { _ in } }
            return EventLoopFuture.andAllComplete(closes, on: self.eventLoop)
        }
    }
}

/// Hands parsed messages to the transport user; the last handler of every SIP pipeline.
final class SIPDeliveryHandler: ChannelInboundHandler {
    typealias InboundIn = SIPInboundMessage

    private let deliver: @Sendable (SIPInboundMessage) -> Void

    init(deliver: @escaping @Sendable (SIPInboundMessage) -> Void) {
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deliver(unwrapInboundIn(data))
    }
}

/// Completes a promise when the TLS handshake finishes, or fails it on an error or close before that.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var promise: EventLoopPromise<Void>?

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            promise?.succeed()
            promise = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.eof)
        promise = nil
        context.fireChannelInactive()
    }
}
