import SIPCore
import TandemBase

/// The UAS core's 2xx retransmission for an INVITE (RFC 3261 §13.3.1.4): the TU, not the transaction,
/// resends the 2xx at T1, doubling up to T2, until the ACK arrives or 64*T1 passes, after which the session
/// should be ended (BYE). It retransmits whatever the first hop's transport, because proxies on the way may
/// use UDP; `retransmitsOverReliable: false` turns that off for a direct reliable peer.
/// Control plane; a value owned by one event loop.
public struct InviteResponseRetransmitter: Sendable {
    /// What the TU should do.
    public enum Action: Sendable {
        /// Send the 2xx again (through the INVITE server transaction in Accepted, or straight to the transport).
        case send(SIPMessage)
        /// Wake up at this instant and call `timerFired`.
        case startTimer(at: Instant)
        /// No more wake-ups are needed.
        case cancelTimer
        /// 64*T1 passed without an ACK: confirm then end the session (§13.3.1.4).
        case gaveUp
    }

    /// The 2xx being retransmitted.
    public let response: SIPMessage
    /// True once the ACK arrived or the retransmitter gave up.
    public private(set) var isFinished = false
    /// The instant of the next retransmission or of giving up.
    public private(set) var nextDeadline: Instant?

    private let timerValues: TransactionTimerValues
    private let retransmits: Bool
    private var interval: Int64
    private var nextRetransmit: Instant?
    private var giveUpAt: Instant?

    /// A retransmitter for a 2xx that has just been sent once.
    public init(response: SIPMessage, isReliable: Bool, timerValues: TransactionTimerValues = TransactionTimerValues(),
                retransmitsOverReliable: Bool = true) {
        self.response = response
        self.timerValues = timerValues
        self.retransmits = !isReliable || retransmitsOverReliable
        self.interval = timerValues.t1
    }

    /// Starts the clock at `now` (when the 2xx was first sent).
    public mutating func start(now: Instant) -> [Action] {
        guard !isFinished, giveUpAt == nil else { return [] }
        giveUpAt = now.adding(milliseconds: timerValues.transactionTimeout)
        if retransmits { nextRetransmit = now.adding(milliseconds: interval) }
        return [.startTimer(at: updateDeadline())]
    }

    /// The ACK for this 2xx arrived: stop.
    public mutating func ackReceived() -> [Action] {
        guard !isFinished else { return [] }
        isFinished = true
        nextDeadline = nil
        return [.cancelTimer]
    }

    /// Call at or after `nextDeadline`; early calls do nothing.
    public mutating func timerFired(now: Instant) -> [Action] {
        guard !isFinished, let giveUpAt else { return [] }
        if now >= giveUpAt {
            isFinished = true
            nextDeadline = nil
            return [.gaveUp]
        }
        guard let due = nextRetransmit, now >= due else { return [] }
        interval = min(interval * 2, timerValues.t2)
        // Scheduled from the due time, not `now`, so a late wake-up does not stretch the series.
        nextRetransmit = due.adding(milliseconds: interval)
        return [.send(response), .startTimer(at: updateDeadline())]
    }

    private mutating func updateDeadline() -> Instant {
        var d = giveUpAt ?? Instant(nanoseconds: 0)
        if let r = nextRetransmit, r < d { d = r }
        nextDeadline = d
        return d
    }
}
