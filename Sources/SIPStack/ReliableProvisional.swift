import SIPCore
import TandemBase

/// RFC 3262 timing: T1 (RFC 3261 §17.1.1.1, 500 ms) and the 64×T1 give-up interval.
public struct ReliableProvisionalTiming: Sendable, Equatable {
    /// T1 in milliseconds.
    public var t1Milliseconds: Int64

    /// The RFC 3261 default T1 of 500 ms.
    public init(t1Milliseconds: Int64 = 500) { self.t1Milliseconds = t1Milliseconds }
}

/// UAS side of RFC 3262: numbers reliable 18x responses with RSeq, retransmits each at T1 doubling until
/// the PRACK that matches its RAck arrives, and gives up after 64×T1. One outstanding response at a time
/// (RFC 3262 §3); later ones wait in order. Pure state machine; control plane; allocates per response.
public struct ReliableProvisionalSender: Sendable {
    /// What the sender asks its owner to do.
    public enum Action: Sendable {
        /// Send (or resend) this provisional response.
        case send(SIPMessageBuilder)
        /// No PRACK for 64×T1: reject the INVITE with 504 (RFC 3262 §3 asks for a 5xx) and end.
        case timedOut
    }

    /// How a PRACK matched.
    public enum PRACKVerdict: Equatable, Sendable {
        /// The PRACK acknowledges the outstanding response: answer 200.
        case matched(rseq: UInt32)
        /// No outstanding response has this RAck: answer 481 (RFC 3262 §3).
        case noMatch
    }

    private struct Outstanding: Sendable {
        var response: SIPMessageBuilder
        var rseq: UInt32
        var firstSent: Instant
        var nextSend: Instant
        var interval: Int64
    }

    /// The INVITE's CSeq the RAck must name.
    public let inviteSequence: UInt32
    /// Timers.
    public let timing: ReliableProvisionalTiming
    /// The RSeq the next reliable response gets.
    public private(set) var nextRSeq: UInt32
    private var outstanding: Outstanding?
    private var queue: [SIPMessageBuilder] = []

    /// A sender for the INVITE with CSeq number `inviteSequence`; `initialRSeq` in 1...2^31-1 (RFC 3262 §3
    /// recommends a random start).
    public init(inviteSequence: UInt32, initialRSeq: UInt32, timing: ReliableProvisionalTiming = ReliableProvisionalTiming()) {
        self.inviteSequence = inviteSequence
        nextRSeq = max(1, min(initialRSeq, UInt32(Int32.max) - 1))
        self.timing = timing
    }

    /// True while a reliable response waits for its PRACK.
    public var isAwaitingPRACK: Bool { outstanding != nil }

    /// When `poll(now:)` next has work.
    public var nextDeadline: Instant? { outstanding.map { $0.nextSend } }

    /// Queues `response` (a 101–199) as reliable: adds `Require: 100rel` and `RSeq`. Sent at once when nothing
    /// is outstanding, else after the earlier one is PRACKed.
    public mutating func send(_ response: SIPMessageBuilder, now: Instant) -> [Action] {
        queue.append(response)
        return outstanding == nil ? startNext(now: now) : []
    }

    private mutating func startNext(now: Instant) -> [Action] {
        guard !queue.isEmpty else { return [] }
        var r = queue.removeFirst()
        r.add("require", "100rel")
        r.add("RSeq", String(nextRSeq))
        outstanding = Outstanding(response: r, rseq: nextRSeq, firstSent: now,
                                  nextSend: now.adding(milliseconds: timing.t1Milliseconds), interval: timing.t1Milliseconds)
        nextRSeq &+= 1
        return [.send(r)]
    }

    /// Matches a PRACK's `RAck: rseq cseq method` against the outstanding response (RFC 3262 §7.2).
    public mutating func receive(prack: SIPMessage, now: Instant) -> (PRACKVerdict, [Action]) {
        guard let o = outstanding, let rack = prack.value("rack").flatMap(RAck.init(parsing:)),
              rack.rseq == o.rseq, rack.cseq == inviteSequence, rack.method == .invite else { return (.noMatch, []) }
        outstanding = nil
        return (.matched(rseq: rack.rseq), startNext(now: now))
    }

    /// Drops everything (the INVITE got its final response; RFC 3262 §3 stops retransmission).
    public mutating func stop() {
        outstanding = nil
        queue.removeAll()
    }

    /// Retransmits when due: interval T1 doubling (RFC 3262 §3); after 64×T1 without PRACK, `timedOut`.
    public mutating func poll(now: Instant) -> [Action] {
        guard var o = outstanding, now >= o.nextSend else { return [] }
        if now.milliseconds(since: o.firstSent) >= 64 * timing.t1Milliseconds {
            stop()
            return [.timedOut]
        }
        o.interval *= 2
        o.nextSend = now.adding(milliseconds: min(o.interval, 64 * timing.t1Milliseconds - now.milliseconds(since: o.firstSent)))
        outstanding = o
        return [.send(o.response)]
    }
}

/// RAck (RFC 3262 §7.2): `response-num CSeq-num Method`.
public struct RAck: Hashable, Sendable, CustomStringConvertible {
    /// The RSeq acknowledged.
    public var rseq: UInt32
    /// The CSeq number of the request the response answered.
    public var cseq: UInt32
    /// That request's method.
    public var method: SIPMethod

    /// RAck from parts.
    public init(rseq: UInt32, cseq: UInt32, method: SIPMethod) {
        self.rseq = rseq
        self.cseq = cseq
        self.method = method
    }

    /// Parses `776656 1 INVITE`; nil when malformed.
    public init?(parsing text: String) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 3, let r = UInt32(parts[0]), let c = UInt32(parts[1]), r > 0 else { return nil }
        rseq = r
        cseq = c
        method = SIPMethod(String(parts[2]))
    }

    /// `rseq cseq METHOD`.
    public var description: String { String(rseq) + " " + String(cseq) + " " + method.description }
}

/// UAC side of RFC 3262: decides which reliable provisional responses to PRACK. The first sets the
/// expected RSeq; each later one must be exactly one higher, else it is a retransmission or out of order
/// and is neither PRACKed nor processed (RFC 3262 §4). One per INVITE transaction and To tag.
public struct ReliableProvisionalReceiver: Sendable {
    /// What to do with a provisional response.
    public enum Verdict: Equatable, Sendable {
        /// Not reliable (no `Require: 100rel` or no RSeq): process normally, no PRACK.
        case unreliable
        /// New and in order: process it and send a PRACK with this RAck.
        case acknowledge(RAck)
        /// A retransmission or out of order: ignore.
        case ignore
    }

    /// The last RSeq acknowledged.
    public private(set) var lastRSeq: UInt32?

    /// An empty receiver.
    public init() {}

    /// Classifies a 101–199 response.
    public mutating func receive(_ response: SIPMessage) -> Verdict {
        guard let code = response.statusCode, code > 100, code < 200,
              let require = try? response.require, require.contains(where: { $0.lowercased() == "100rel" }) else { return .unreliable }
        guard let text = response.value("rseq"), let rseq = UInt32(text), rseq > 0,
              let cseq = try? response.cseq else { return .unreliable }
        if let last = lastRSeq, rseq != last &+ 1 { return .ignore }
        lastRSeq = rseq
        return .acknowledge(RAck(rseq: rseq, cseq: cseq.number, method: cseq.method))
    }
}
