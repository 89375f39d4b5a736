import SIPCore
import TandemBase

/// The INVITE client transaction (RFC 3261 §17.1.1, Figure 5, with the RFC 6026 §7.2 Accepted state).
/// A pure state machine: create it with the INVITE, start it with `.send`, feed it responses and timer fires.
/// It builds and sends the ACK for non-2xx finals itself (§17.1.1.3); the ACK for a 2xx is the TU's.
/// Control plane; not thread-safe (a value owned by one event loop).
public struct InviteClientTransaction: Sendable {
    /// Figure 5 states plus Accepted (RFC 6026).
    public enum State: Hashable, Sendable {
        /// Request sent, no response yet (Timers A and B running).
        case calling
        /// A provisional response arrived.
        case proceeding
        /// A 300-699 arrived and was ACKed; absorbing retransmissions until Timer D.
        case completed
        /// A 2xx arrived (RFC 6026): further 2xx go to the TU until Timer M.
        case accepted
        /// Done; no further events are processed.
        case terminated
    }

    /// The current state.
    public private(set) var state: State = .calling
    /// The INVITE this transaction sends.
    public let request: SIPMessage
    /// True over TCP/TLS/WS/SCTP: no retransmissions, zero Timer D (§17.1.1.2).
    public let isReliable: Bool
    /// T1, T2, T4 and friends.
    public let timerValues: TransactionTimerValues

    private var timers = TransactionTimerSet()
    private var hasStarted = false
    private var intervalA: Int64
    private var ack: SIPMessage?

    /// A transaction for `request` (an INVITE carrying a Via with a branch). Nothing is sent until `.send`.
    public init(request: SIPMessage, isReliable: Bool, timerValues: TransactionTimerValues = TransactionTimerValues()) {
        self.request = request
        self.isReliable = isReliable
        self.timerValues = timerValues
        self.intervalA = timerValues.t1
    }

    /// The earliest armed timer deadline, for drivers that poll.
    public var nextDeadline: Instant? { timers.nextDeadline }

    /// The earliest armed timer due at `now`, if any.
    public func dueTimer(at now: Instant) -> TransactionTimer? { timers.due(at: now) }

    /// Processes one event at `now`; returns the actions to perform in order.
    public mutating func handle(_ event: TransactionEvent, now: Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        guard state != .terminated else { return actions }
        switch event {
        case .send:
            // The TU's request starts the transaction (§17.1.1.2); a second send is meaningless and ignored.
            guard !hasStarted else { return actions }
            hasStarted = true
            actions.append(.send(request))
            if !isReliable { timers.start(.a, after: intervalA, now: now, into: &actions) }
            timers.start(.b, after: timerValues.transactionTimeout, now: now, into: &actions)
            if let c = timerValues.proxyTimerC { timers.start(.c, after: c, now: now, into: &actions) }
        case .receive(let response):
            receive(response, now: now, into: &actions)
        case .timerFired(let timer):
            guard timers.consume(timer) else { return actions }
            fire(timer, now: now, into: &actions)
        case .transportError:
            // §17.1.1.2: a fatal transport error in any state ends the transaction and informs the TU.
            terminate(.transportError, into: &actions)
        }
        return actions
    }

    private mutating func receive(_ response: SIPMessage, now: Instant, into actions: inout [TransactionAction]) {
        guard let cls = response.statusClass, hasStarted else { return }
        switch (state, cls) {
        case (.calling, 1), (.proceeding, 1):
            // No more retransmissions once something answered; Timer B only guards Calling.
            timers.cancel(.a, into: &actions)
            timers.cancel(.b, into: &actions)
            // §16.6 step 11: Timer C restarts on every provisional response.
            if let c = timerValues.proxyTimerC { timers.start(.c, after: c, now: now, into: &actions) }
            state = .proceeding
            actions.append(.passToTU(response))
        case (.calling, 2), (.proceeding, 2):
            // RFC 6026 §8.4: Accepted instead of Terminated, so 2xx retransmissions and forked 2xx reach the TU.
            cancelRunningTimers(into: &actions)
            state = .accepted
            timers.start(.m, after: timerValues.transactionTimeout, now: now, into: &actions)
            actions.append(.passToTU(response))
        case (.calling, 3...6), (.proceeding, 3...6):
            cancelRunningTimers(into: &actions)
            ack = makeACK(for: response)
            if let ack { actions.append(.send(ack)) }
            actions.append(.passToTU(response))
            state = .completed
            // §17.1.1.2: Timer D is zero on reliable transports (no retransmissions to absorb).
            if isReliable {
                terminate(.normal, into: &actions)
            } else {
                timers.start(.d, after: timerValues.timerD, now: now, into: &actions)
            }
        case (.completed, 3...6):
            // A retransmitted final: our ACK was lost, send it again; the TU already has the response.
            if let ack { actions.append(.send(ack)) }
        case (.accepted, 2):
            actions.append(.passToTU(response))
        default:
            // Late provisionals, 2xx after a non-2xx, and anything else are absorbed.
            break
        }
    }

    private mutating func fire(_ timer: TransactionTimer, now: Instant, into actions: inout [TransactionAction]) {
        switch (timer, state) {
        case (.a, .calling):
            // §17.1.1.2: retransmit and double the interval; Timer A is not capped at T2 (only B bounds it).
            actions.append(.send(request))
            intervalA *= 2
            timers.start(.a, after: intervalA, now: now, into: &actions)
        case (.b, .calling):
            terminate(.timeout, into: &actions)
        case (.c, .calling), (.c, .proceeding):
            actions.append(.proxyTimeout)
        case (.d, .completed), (.m, .accepted):
            terminate(.normal, into: &actions)
        default:
            break
        }
    }

    private mutating func cancelRunningTimers(into actions: inout [TransactionAction]) {
        timers.cancel(.a, into: &actions)
        timers.cancel(.b, into: &actions)
        timers.cancel(.c, into: &actions)
    }

    private mutating func terminate(_ reason: TransactionTerminationReason, into actions: inout [TransactionAction]) {
        timers.cancelAll(into: &actions)
        state = .terminated
        actions.append(.terminated(reason))
    }

    /// The ACK for a non-2xx final (§17.1.1.3): Request-URI, Call-ID, From and CSeq number of the request,
    /// To of the response (its tag), only the request's top Via, and the request's Route headers.
    private func makeACK(for response: SIPMessage) -> SIPMessage? {
        guard case .request(_, let uri) = request.startLine,
              let topVia = request.listValues(.via).first,
              let callID = request.value(.callID), let from = request.value(.from), let to = response.value(.to),
              let cseq = try? request.cseq
        else { return nil }
        var b = SIPMessageBuilder(statusCode: 200)
        b.startLine = .request(method: .ack, uri: uri)
        b.add(.via, topVia)
        for route in request.values(.route) { b.add(.route, route) }
        b.add(.maxForwards, "70")
        b.add(.from, from)
        b.add(.to, to)
        b.add(.callID, callID)
        b.add(.cseq, CSeq(number: cseq.number, method: .ack).description)
        return SIPMessage.built(b)
    }
}
