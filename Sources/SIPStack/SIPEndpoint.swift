import NIOCore
import SIPCore
import TandemBase

/// What the transaction user (a UA, registrar, or the PBX) hears from an endpoint.
public protocol SIPEndpointDelegate: AnyObject, Sendable {
    /// A new request with its server transaction; answer it with `SIPEndpoint.respond(_:)`.
    func endpoint(_ endpoint: SIPEndpoint, received request: SIPMessage, transaction: TransactionKey, source: SIPTransportSource)
    /// A CANCEL (already answered 200 or 481 by the endpoint) and the INVITE transaction it cancels, if any.
    func endpoint(_ endpoint: SIPEndpoint, cancelled invite: TransactionKey, by cancel: SIPMessage)
    /// A response to a request this endpoint sent, or a 2xx retransmission for a dialog (`transaction` nil).
    func endpoint(_ endpoint: SIPEndpoint, received response: SIPMessage, transaction: TransactionKey?)
    /// The ACK for a 2xx (it has no transaction; RFC 3261 §13.3.1.4).
    func endpoint(_ endpoint: SIPEndpoint, receivedACK ack: SIPMessage, source: SIPTransportSource)
    /// A transaction ended; `.timeout` on a client transaction means no final response came (408 semantics).
    func endpoint(_ endpoint: SIPEndpoint, transaction: TransactionKey, terminated reason: TransactionTerminationReason)
}

/// Glue between the SIP transports and the transaction layer: one event loop owns both, drives the pure
/// transaction state machines with the monotonic clock and a single re-armed timer, sends what they ask
/// for to the right place (RFC 3261 §18.2.2 for responses, the TU's destination for requests), and hands
/// everything else to the delegate.
///
/// Threading: all state is confined to `eventLoop`; public methods hop onto it. Control plane: allocates.
public final class SIPEndpoint: @unchecked Sendable {
    /// The loop that owns the endpoint.
    public let eventLoop: any EventLoop
    /// The transports; set once by `start`.
    public private(set) var transports: SIPTransportLayer!
    /// Requests answered without a transaction (stateless responses), counted.
    public private(set) var statelessResponses = 0
    /// Messages dropped because the transaction layer could not match them (no Via, no CSeq, …).
    public private(set) var invalidMessages = 0

    private weak var delegate: (any SIPEndpointDelegate)?
    private var layer: TransactionLayer
    private let clock: any TimeSource
    /// Where each server transaction's responses go.
    private var responseRoutes: [TransactionKey: SIPResponseRoute] = [:]
    /// Where each client transaction's requests go.
    private var requestDestinations: [TransactionKey: SIPTransportDestination] = [:]
    /// Sources of server transactions, for stream transports (reliability).
    private var timer: Scheduled<Void>?
    private var armedDeadline: Instant?
    /// Answers OPTIONS statelessly with 200 (no transaction), as a keep-alive responder does.
    private let answersOptionsStatelessly: Bool
    private var stateless = StatelessResponder(tagPrefix: String(SecureRandom.identifier().prefix(10)))

    /// An endpoint on `eventLoop`. Call `start` to create the transports.
    public init(eventLoop: any EventLoop, layer: TransactionLayer = TransactionLayer(), clock: any TimeSource = MonotonicClock(),
                answersOptionsStatelessly: Bool = true) {
        self.eventLoop = eventLoop
        self.layer = layer
        self.clock = clock
        self.answersOptionsStatelessly = answersOptionsStatelessly
    }

    /// Creates the transport layer with `configuration` and sets the delegate. Call once, before `listen`.
    public func start(configuration: SIPTransportLayer.Configuration = .init(), delegate: any SIPEndpointDelegate) throws {
        self.delegate = delegate
        transports = try SIPTransportLayer(eventLoop: eventLoop, configuration: configuration) { [weak self] inbound in
            guard let self else { return }
            // The transports run on this loop, so messages normally arrive here already; no extra hop.
            if self.eventLoop.inEventLoop {
                self.receive(inbound)
            } else {
                self.eventLoop.execute { self.receive(inbound) }
            }
        }
    }

    /// Starts a listener; returns the bound address.
    public func listen(_ kind: SIPTransportKind, host: String, port: Int) -> EventLoopFuture<SocketAddress> {
        transports.listen(kind, host: host, port: port)
    }

    /// Stops the timer and every transport.
    public func shutdown() -> EventLoopFuture<Void> {
        eventLoop.flatSubmit {
            self.timer?.cancel()
            self.timer = nil
            return self.transports.shutdown()
        }
    }

    // MARK: Sending

    /// Sends a response through its server transaction (found from its Via and CSeq).
    public func respond(_ response: SIPMessage) {
        eventLoop.execute {
            do {
                let (key, actions) = try self.layer.sendResponse(response, now: self.clock.now())
                self.perform(actions, for: key)
            } catch {
                self.invalidMessages += 1
            }
        }
    }

    /// Sends a request in a new client transaction to `destination`; the delegate hears its responses.
    public func send(request: SIPMessage, to destination: SIPTransportDestination) -> EventLoopFuture<TransactionKey> {
        eventLoop.submit {
            let (key, actions) = try self.layer.sendRequest(request, isReliable: destination.kind.isStream, now: self.clock.now())
            self.requestDestinations[key] = destination
            self.perform(actions, for: key)
            return key
        }
    }

    /// Sends a message outside any transaction (a 2xx ACK, or a 2xx retransmission by the TU).
    public func sendStateless(_ message: SIPMessage, to destination: SIPTransportDestination) {
        eventLoop.execute {
            _ = self.transports.send(ByteBuffer(bytes: message.bytes), to: destination)
        }
    }

    // MARK: Receiving

    private func receive(_ inbound: SIPInboundMessage) {
        var message = inbound.message
        if message.isRequest {
            if answersOptionsStatelessly, message.method == .options {
                sendStatelessResponse(to: message, statusCode: 200, source: inbound.source)
                return
            }
            // RFC 3261 §18.2.1 / RFC 3581: record where the request really came from.
            message = (try? SIPTransportRouting.stampingReceived(message, source: inbound.source)) ?? message
        }
        let now = clock.now()
        switch layer.receive(message, isReliable: inbound.source.kind.isStream, now: now) {
        case .handled(let key, let actions):
            perform(actions, for: key)
        case .newRequest(let key, let actions):
            if let top = try? message.vias.first {
                responseRoutes[key] = SIPTransportRouting.responseRoute(topVia: top, source: inbound.source)
            }
            perform(actions, for: key, source: inbound.source)
        case .cancel(let key, let actions, let target):
            if let top = try? message.vias.first {
                responseRoutes[key] = SIPTransportRouting.responseRoute(topVia: top, source: inbound.source)
            }
            perform(actions, for: key)
            // §9.2: the UAS answers the CANCEL itself; the INVITE gets its 487 from the TU.
            let status = target == nil ? 481 : 200
            if let builder = try? SIPMessageBuilder.response(to: message, statusCode: status),
               let response = try? SIPMessage(parsing: builder.bytes()) {
                if let (k, a) = try? layer.sendResponse(response, now: now) { perform(a, for: k) }
            }
            if let target { delegate?.endpoint(self, cancelled: target, by: message) }
        case .rejected(let key, _, let actions):
            if let top = try? message.vias.first {
                responseRoutes[key] = SIPTransportRouting.responseRoute(topVia: top, source: inbound.source)
            }
            perform(actions, for: key)
        case .strayResponse(let response):
            delegate?.endpoint(self, received: response, transaction: nil)
        case .strayACK(let ack):
            delegate?.endpoint(self, receivedACK: ack, source: inbound.source)
        case .invalid:
            invalidMessages += 1
        }
        rearmTimer()
    }

    /// Answers without a transaction (RFC 3261 §8.2.7). Over UDP with rport, or when Via names the source
    /// itself, the response goes straight back to the packet's source; otherwise by §18.2.2.
    private func sendStatelessResponse(to request: SIPMessage, statusCode: Int, source: SIPTransportSource) {
        // UDP straight back to the source: written from the request's raw bytes (see `writeDatagramResponse`).
        var direct = ByteBufferAllocator().buffer(capacity: 512)
        if stateless.writeDatagramResponse(statusCode: statusCode, reasonPhrase: SIPMessageBuilder.reasonPhrase(for: statusCode),
                                           to: request, source: source, into: &direct) {
            statelessResponses += 1
            transports.sendDatagram(direct, to: source.remote)
            return
        }
        guard let topVia = request.values(.via).first, let via = try? Via(parsing: topVia[...]) else {
            invalidMessages += 1
            return
        }
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        guard stateless.write(statusCode: statusCode, reasonPhrase: SIPMessageBuilder.reasonPhrase(for: statusCode),
                              to: request, source: source, topVia: via, into: &buffer) else {
            invalidMessages += 1
            return
        }
        statelessResponses += 1
        let viaNamesSource = SIPTransportRouting.sameHost(via.host, source.remote.ipAddress ?? "")
            && via.port.map { Int($0) } == source.remote.port
        if source.kind == .udp, via.maddr == nil, via.rport != Via.RPort.absent || viaNamesSource {
            transports.sendDatagram(buffer, to: source.remote)
        } else {
            _ = transports.send(buffer, route: SIPTransportRouting.responseRoute(topVia: via, source: source))
        }
    }

    // MARK: Actions and timers

    private func perform(_ actions: [TransactionAction], for key: TransactionKey, source: SIPTransportSource? = nil) {
        for action in actions {
            switch action {
            case .send(let message):
                let bytes = ByteBuffer(bytes: message.bytes)
                if let destination = requestDestinations[key] {
                    _ = transports.send(bytes, to: destination)
                } else if let route = responseRoutes[key] {
                    _ = transports.send(bytes, route: route)
                }
            case .passToTU(let message):
                if message.isRequest {
                    if let source { delegate?.endpoint(self, received: message, transaction: key, source: source) }
                } else {
                    delegate?.endpoint(self, received: message, transaction: key)
                }
            case .startTimer, .cancelTimer, .proxyTimeout:
                break // the layer keeps deadlines; one endpoint timer follows `nextDeadline`
            case .terminated(let reason):
                responseRoutes[key] = nil
                requestDestinations[key] = nil
                delegate?.endpoint(self, transaction: key, terminated: reason)
            }
        }
        rearmTimer()
    }

    /// Keeps exactly one scheduled task, at the transaction layer's earliest deadline.
    private func rearmTimer() {
        guard let deadline = layer.nextDeadline else {
            timer?.cancel()
            timer = nil
            armedDeadline = nil
            return
        }
        if armedDeadline == deadline, timer != nil { return }
        timer?.cancel()
        armedDeadline = deadline
        let now = clock.now()
        let delay = deadline > now ? Int64(deadline.nanoseconds - now.nanoseconds) : 0
        timer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.armedDeadline = nil
            for (key, actions) in self.layer.fire(now: self.clock.now()) { self.perform(actions, for: key) }
            self.rearmTimer()
        }
    }
}
