import SIPCore
import TandemBase

/// The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). Create it with the received request and
/// deliver that request as the first `.receive`; the TU's responses arrive as `.send`.
/// Control plane; a value owned by one event loop.
public struct NonInviteServerTransaction: Sendable {
    /// Figure 8 states.
    public enum State: Hashable, Sendable {
        /// The request was passed to the TU; no response yet.
        case trying
        /// A provisional response was sent.
        case proceeding
        /// A final response was sent; answering retransmissions until Timer J.
        case completed
        /// Done.
        case terminated
    }

    /// The current state.
    public private(set) var state: State = .trying
    /// The request that created the transaction.
    public let request: SIPMessage
    /// True over reliable transports: zero Timer J (§17.2.2).
    public let isReliable: Bool
    /// T1, T2, T4.
    public let timerValues: TransactionTimerValues

    private var timers = TransactionTimerSet()
    private var hasDeliveredRequest = false
    private var lastResponse: SIPMessage?

    /// A transaction for a received request (any method but INVITE and ACK).
    public init(request: SIPMessage, isReliable: Bool, timerValues: TransactionTimerValues = TransactionTimerValues()) {
        self.request = request
        self.isReliable = isReliable
        self.timerValues = timerValues
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
            guard message.isRequest else { break }
            switch state {
            case .trying where !hasDeliveredRequest:
                hasDeliveredRequest = true
                actions.append(.passToTU(message))
            case .proceeding, .completed:
                // §17.2.2: a retransmission gets the latest provisional (Proceeding) or the final (Completed).
                if let lastResponse { actions.append(.send(lastResponse)) }
            default:
                // Retransmissions in Trying are discarded.
                break
            }
        case .send(let response):
            guard let cls = response.statusClass else { break }
            switch (state, cls) {
            case (.trying, 1), (.proceeding, 1):
                lastResponse = response
                state = .proceeding
                actions.append(.send(response))
            case (.trying, 2...6), (.proceeding, 2...6):
                lastResponse = response
                actions.append(.send(response))
                state = .completed
                if isReliable {
                    terminate(.normal, into: &actions)
                } else {
                    timers.start(.j, after: timerValues.transactionTimeout, now: now, into: &actions)
                }
            default:
                // Completed: further finals from the TU are discarded.
                break
            }
        case .timerFired(let timer):
            guard timers.consume(timer), timer == .j, state == .completed else { break }
            terminate(.normal, into: &actions)
        case .transportError:
            terminate(.transportError, into: &actions)
        }
        return actions
    }

    private mutating func terminate(_ reason: TransactionTerminationReason, into actions: inout [TransactionAction]) {
        timers.cancelAll(into: &actions)
        state = .terminated
        actions.append(.terminated(reason))
    }
}
