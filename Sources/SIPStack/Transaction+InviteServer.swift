import SIPCore
import TandemBase

/// The INVITE server transaction (RFC 3261 §17.2.1, Figure 7, with the RFC 6026 §7.1 Accepted state).
/// Create it with the received INVITE and deliver that INVITE as the first `.receive`; responses from the TU
/// arrive as `.send`. Retransmits the non-2xx final on request retransmissions and Timer G, absorbs the ACK;
/// after a 2xx it sits in Accepted (absorbing INVITE retransmissions, passing ACKs up) while the TU
/// retransmits the 2xx (see `InviteResponseRetransmitter`). Control plane; a value owned by one event loop.
public struct InviteServerTransaction: Sendable {
    /// Figure 7 states plus Accepted (RFC 6026).
    public enum State: Hashable, Sendable {
        /// The INVITE was passed to the TU; provisional responses may be sent.
        case proceeding
        /// A 300-699 was sent; retransmitting it until the ACK (Timers G and H).
        case completed
        /// The ACK arrived; absorbing ACK retransmissions until Timer I.
        case confirmed
        /// A 2xx was sent (RFC 6026); until Timer L.
        case accepted
        /// Done.
        case terminated
    }

    /// The current state.
    public private(set) var state: State = .proceeding
    /// The INVITE that created the transaction.
    public let request: SIPMessage
    /// True over reliable transports: no Timer G, zero Timer I (§17.2.1).
    public let isReliable: Bool
    /// T1, T2, T4.
    public let timerValues: TransactionTimerValues
    /// Whether the transaction answers the INVITE with 100 Trying at once (§17.2.1 allows it always and
    /// requires it unless the TU answers within 200 ms; answering at once keeps the machine timer-free here).
    public let sendsTrying: Bool

    private var timers = TransactionTimerSet()
    private var hasDeliveredRequest = false
    private var lastResponse: SIPMessage?
    private var intervalG: Int64

    /// A transaction for a received INVITE.
    public init(request: SIPMessage, isReliable: Bool, timerValues: TransactionTimerValues = TransactionTimerValues(),
                sendsTrying: Bool = true) {
        self.request = request
        self.isReliable = isReliable
        self.timerValues = timerValues
        self.sendsTrying = sendsTrying
        self.intervalG = timerValues.t1
    }

    /// The earliest armed timer deadline.
    public var nextDeadline: Instant? { timers.nextDeadline }

    /// The earliest armed timer due at `now`, if any.
    public func dueTimer(at now: Instant) -> TransactionTimer? { timers.due(at: now) }

    /// Processes one event at `now`; returns the actions to perform in order.
    public mutating func handle(_ event: TransactionEvent, now: Instant) -> [TransactionAction] {
        var actions: [TransactionAction] = []
        guard state != .terminated else { return actions }
        switch event {
        case .receive(let message):
            guard let method = message.method else { break }
            if method == .ack {
                receiveACK(message, now: now, into: &actions)
            } else {
                receiveRequest(message, into: &actions)
            }
        case .send(let response):
            send(response, now: now, into: &actions)
        case .timerFired(let timer):
            guard timers.consume(timer) else { break }
            switch (timer, state) {
            case (.g, .completed):
                // §17.2.1: retransmit the final, doubling the interval up to T2.
                if let lastResponse { actions.append(.send(lastResponse)) }
                intervalG = min(intervalG * 2, timerValues.t2)
                timers.start(.g, after: intervalG, now: now, into: &actions)
            case (.h, .completed):
                // No ACK: the TU is told through the termination reason.
                terminate(.timeout, into: &actions)
            case (.i, .confirmed), (.l, .accepted):
                terminate(.normal, into: &actions)
            default:
                break
            }
        case .transportError:
            // §17.2.4: a failure to send a response ends the transaction and is reported to the TU.
            terminate(.transportError, into: &actions)
        }
        return actions
    }

    private mutating func receiveRequest(_ request: SIPMessage, into actions: inout [TransactionAction]) {
        switch state {
        case .proceeding where !hasDeliveredRequest:
            hasDeliveredRequest = true
            if sendsTrying, let trying = try? SIPMessageBuilder.response(to: request, statusCode: 100),
               let message = SIPMessage.built(trying) {
                lastResponse = message
                actions.append(.send(message))
            }
            actions.append(.passToTU(request))
        case .proceeding, .completed:
            // A retransmitted INVITE: repeat the most recent provisional (Proceeding) or the final (Completed).
            if let lastResponse { actions.append(.send(lastResponse)) }
        case .confirmed, .accepted, .terminated:
            // RFC 6026 §7.1: INVITE retransmissions in Accepted are absorbed; the TU retransmits the 2xx.
            break
        }
    }

    private mutating func receiveACK(_ ack: SIPMessage, now: Instant, into actions: inout [TransactionAction]) {
        switch state {
        case .completed:
            timers.cancel(.g, into: &actions)
            timers.cancel(.h, into: &actions)
            state = .confirmed
            // §17.2.1: Timer I is T4 on unreliable transports and zero on reliable ones.
            if isReliable {
                terminate(.normal, into: &actions)
            } else {
                timers.start(.i, after: timerValues.t4, now: now, into: &actions)
            }
        case .accepted:
            // RFC 6026 §8.7: an ACK matching the transaction in Accepted goes to the TU (it ends 2xx retransmission).
            actions.append(.passToTU(ack))
        default:
            // Confirmed absorbs ACK retransmissions; an ACK in Proceeding is meaningless.
            break
        }
    }

    private mutating func send(_ response: SIPMessage, now: Instant, into actions: inout [TransactionAction]) {
        guard let cls = response.statusClass else { return }
        switch (state, cls) {
        case (.proceeding, 1):
            lastResponse = response
            actions.append(.send(response))
        case (.proceeding, 2):
            lastResponse = response
            actions.append(.send(response))
            state = .accepted
            timers.start(.l, after: timerValues.transactionTimeout, now: now, into: &actions)
        case (.proceeding, 3...6):
            lastResponse = response
            actions.append(.send(response))
            state = .completed
            if !isReliable { timers.start(.g, after: intervalG, now: now, into: &actions) }
            timers.start(.h, after: timerValues.transactionTimeout, now: now, into: &actions)
        case (.accepted, 2):
            // RFC 6026 §8.5: the TU's 2xx retransmissions (and 2xx on other early dialogs) pass through.
            actions.append(.send(response))
        default:
            // Anything else after a final response is a TU error; drop it rather than break the machine.
            break
        }
    }

    private mutating func terminate(_ reason: TransactionTerminationReason, into actions: inout [TransactionAction]) {
        timers.cancelAll(into: &actions)
        state = .terminated
        actions.append(.terminated(reason))
    }
}
