import SIPCore
import TandemBase

/// The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6). Create it with the request, start it
/// with `.send`, feed it responses and timer fires. Control plane; a value owned by one event loop.
public struct NonInviteClientTransaction: Sendable {
    /// Figure 6 states.
    public enum State: Hashable, Sendable {
        /// Request sent (Timers E and F running).
        case trying
        /// A provisional response arrived; retransmissions continue at T2.
        case proceeding
        /// A final response arrived; absorbing retransmissions until Timer K.
        case completed
        /// Done.
        case terminated
    }

    /// The current state.
    public private(set) var state: State = .trying
    /// The request this transaction sends.
    public let request: SIPMessage
    /// True over reliable transports: no Timer E, zero Timer K (§17.1.2.2).
    public let isReliable: Bool
    /// T1, T2, T4.
    public let timerValues: TransactionTimerValues

    private var timers = TransactionTimerSet()
    private var hasStarted = false
    private var intervalE: Int64

    /// A transaction for `request` (any method but INVITE and ACK). Nothing is sent until `.send`.
    public init(request: SIPMessage, isReliable: Bool, timerValues: TransactionTimerValues = TransactionTimerValues()) {
        self.request = request
        self.isReliable = isReliable
        self.timerValues = timerValues
        self.intervalE = timerValues.t1
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
        case .send:
            guard !hasStarted else { return actions }
            hasStarted = true
            actions.append(.send(request))
            if !isReliable { timers.start(.e, after: intervalE, now: now, into: &actions) }
            timers.start(.f, after: timerValues.transactionTimeout, now: now, into: &actions)
        case .receive(let response):
            guard hasStarted, let cls = response.statusClass else { break }
            switch (state, cls) {
            case (.trying, 1), (.proceeding, 1):
                state = .proceeding
                actions.append(.passToTU(response))
            case (.trying, 2...6), (.proceeding, 2...6):
                timers.cancel(.e, into: &actions)
                timers.cancel(.f, into: &actions)
                actions.append(.passToTU(response))
                state = .completed
                // §17.1.2.2: Timer K is T4 on unreliable transports and zero on reliable ones.
                if isReliable {
                    terminate(.normal, into: &actions)
                } else {
                    timers.start(.k, after: timerValues.t4, now: now, into: &actions)
                }
            default:
                // Completed: retransmitted finals are absorbed.
                break
            }
        case .timerFired(let timer):
            guard timers.consume(timer) else { break }
            switch (timer, state) {
            case (.e, .trying):
                // §17.1.2.2: double, capped at T2.
                actions.append(.send(request))
                intervalE = min(intervalE * 2, timerValues.t2)
                timers.start(.e, after: intervalE, now: now, into: &actions)
            case (.e, .proceeding):
                // In Proceeding the interval is T2 flat.
                actions.append(.send(request))
                intervalE = timerValues.t2
                timers.start(.e, after: intervalE, now: now, into: &actions)
            case (.f, .trying), (.f, .proceeding):
                terminate(.timeout, into: &actions)
            case (.k, .completed):
                terminate(.normal, into: &actions)
            default:
                break
            }
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
