import SIPCore
import TandemBase

// Shared vocabulary of the four RFC 3261 §17 transaction state machines (with the RFC 6026 Accepted state).
// Every machine is a pure value: events and the current instant go in, actions come out. The driver (a thin
// NIO handler or a test) performs the actions: it writes `.send` messages to the transport, hands `.passToTU`
// messages to the transaction user and arms/cancels timers. Control plane: machines allocate (action arrays,
// generated ACKs and 100 Trying responses); none of this runs per media packet.

/// The RFC 3261 §17 timers (Table 4) plus Timers L and M from RFC 6026 §8.
public enum TransactionTimer: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A: INVITE request retransmission (unreliable transports only). B: INVITE transaction timeout.
    /// C: proxy INVITE timeout (optional, §16.6 step 11). D: wait for response retransmissions after a
    /// non-2xx final. E: non-INVITE request retransmission. F: non-INVITE transaction timeout.
    /// G: INVITE final response retransmission. H: wait for ACK. I: wait for ACK retransmissions.
    /// J: wait for non-INVITE request retransmissions. K: wait for response retransmissions.
    /// L: INVITE server Accepted lifetime (RFC 6026). M: INVITE client Accepted lifetime (RFC 6026).
    case a, b, c, d, e, f, g, h, i, j, k, l, m

    /// "Timer A" and so on.
    public var description: String { "Timer " + String(describing: self).uppercased() }
}

/// T1, T2, T4 and the derived timer durations (RFC 3261 §17.1.1.1, Table 4), in milliseconds.
public struct TransactionTimerValues: Hashable, Sendable {
    /// RTT estimate; 500 ms by default.
    public var t1: Int64
    /// Maximum retransmission interval for non-INVITE requests and INVITE responses; 4 s by default.
    public var t2: Int64
    /// Maximum time a message stays in the network; 5 s by default.
    public var t4: Int64
    /// Timer D on unreliable transports: "at least 32 s" (§17.1.1.2).
    public var timerD: Int64
    /// Timer C for proxies (§16.6 step 11: greater than 3 minutes); nil (the default) means the client INVITE
    /// transaction does not run Timer C, which is right for a UA or a B2BUA leg.
    public var proxyTimerC: Int64?

    /// Values with RFC defaults; everything configurable.
    public init(t1: Int64 = 500, t2: Int64 = 4000, t4: Int64 = 5000, timerD: Int64 = 32_000, proxyTimerC: Int64? = nil) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
        self.timerD = timerD
        self.proxyTimerC = proxyTimerC
    }

    /// 64*T1: Timers B, F, H, J, L and M.
    public var transactionTimeout: Int64 { 64 * t1 }
}

/// Why a transaction ended.
public enum TransactionTerminationReason: Hashable, Sendable {
    /// The transaction completed (Timer D, I, J, K, L or M fired, or a zero-length wait on a reliable transport).
    case normal
    /// No response (Timer B or F) or no ACK (Timer H).
    case timeout
    /// The transport reported a fatal error (§17.1.4, §17.2.4).
    case transportError
}

/// An input to a transaction state machine.
public enum TransactionEvent: Sendable {
    /// From the TU: the request to start a client transaction (the one it was created with), or a response
    /// to send through a server transaction.
    case send(SIPMessage)
    /// From the transport: a response for a client transaction, or a request (retransmission, ACK) for a
    /// server transaction.
    case receive(SIPMessage)
    /// A timer this transaction started has fired. Timers that are not armed are ignored, so a driver may
    /// deliver a late fire after a cancel safely.
    case timerFired(TransactionTimer)
    /// The transport failed to deliver a message of this transaction.
    case transportError
}

/// An output of a transaction state machine, performed by the driver in order.
public enum TransactionAction: Sendable {
    /// Hand `message.bytes` to the transport for the transaction's destination.
    case send(SIPMessage)
    /// Deliver a message to the transaction user.
    case passToTU(SIPMessage)
    /// Arm a timer to fire at an instant (replacing an armed timer of the same id).
    case startTimer(TransactionTimer, at: Instant)
    /// Disarm a timer.
    case cancelTimer(TransactionTimer)
    /// Timer C fired in a proxy's INVITE client transaction: the proxy should CANCEL the branch (§16.8).
    /// The transaction keeps running.
    case proxyTimeout
    /// The transaction reached Terminated; it accepts no further events. Always the last action.
    case terminated(TransactionTerminationReason)
}

/// The armed timers of one transaction (at most three at once), with their deadlines.
struct TransactionTimerSet: Sendable {
    private var armed: [(timer: TransactionTimer, deadline: Instant)] = []

    /// Arms `timer` at `now + milliseconds`, recording the action.
    mutating func start(_ timer: TransactionTimer, after milliseconds: Int64, now: Instant, into actions: inout [TransactionAction]) {
        let deadline = now.adding(milliseconds: milliseconds)
        armed.removeAll { $0.timer == timer }
        armed.append((timer, deadline))
        actions.append(.startTimer(timer, at: deadline))
    }

    /// Disarms `timer` when armed, recording the action.
    mutating func cancel(_ timer: TransactionTimer, into actions: inout [TransactionAction]) {
        guard let i = armed.firstIndex(where: { $0.timer == timer }) else { return }
        armed.remove(at: i)
        actions.append(.cancelTimer(timer))
    }

    /// Disarms every timer, recording the actions.
    mutating func cancelAll(into actions: inout [TransactionAction]) {
        for entry in armed { actions.append(.cancelTimer(entry.timer)) }
        armed.removeAll()
    }

    /// Removes `timer` when armed and reports whether it was: a fired timer is acted on only if armed.
    mutating func consume(_ timer: TransactionTimer) -> Bool {
        guard let i = armed.firstIndex(where: { $0.timer == timer }) else { return false }
        armed.remove(at: i)
        return true
    }

    /// The earliest deadline.
    var nextDeadline: Instant? { armed.map(\.deadline).min() }

    /// The earliest armed timer due at `now`.
    func due(at now: Instant) -> TransactionTimer? {
        var best: (timer: TransactionTimer, deadline: Instant)?
        for entry in armed where entry.deadline <= now {
            if let b = best, b.deadline <= entry.deadline { continue }
            best = entry
        }
        return best?.timer
    }
}

extension SIPMessage {
    /// The status class (1 for 1xx ... 6 for 6xx), or nil for requests.
    var statusClass: Int? { statusCode.map { $0 / 100 } }

    /// Re-parses a builder's output; nil only if SIPCore produced something it cannot parse (never for
    /// messages built from parsed parts), in which case the machine skips the send rather than trapping.
    static func built(_ builder: SIPMessageBuilder) -> SIPMessage? {
        try? SIPMessage(parsing: builder.bytes())
    }
}
