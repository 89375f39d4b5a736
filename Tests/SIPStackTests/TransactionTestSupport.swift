import SIPCore
import TandemBase
@testable import SIPStack

/// Virtual time: milliseconds since an arbitrary origin (1 s in, so nothing sits at zero).
func at(_ ms: Int64) -> Instant { Instant(nanoseconds: UInt64(1_000 + ms) * 1_000_000) }
/// Back from virtual time to milliseconds.
func msOf(_ i: Instant) -> Int64 { Int64(i.nanoseconds / 1_000_000) - 1_000 }

/// A request as a UA would send it; parsed so the machines see what the transport would hand them.
func makeRequest(_ method: SIPMethod, branch: String = "z9hG4bKtest1", sentBy: String = "192.0.2.1:5060",
                 transport: String = "UDP", fromTag: String = "from1", callID: String = "call-1@192.0.2.1",
                 cseq: UInt32 = 1, toTag: String? = nil, routes: [String] = [], extraVias: [String] = []) -> SIPMessage {
    var b = SIPMessageBuilder(method: method, uri: try! SIPURI(parsing: "sip:bob@biloxi.example.com"))
    b.add(.via, "SIP/2.0/\(transport) \(sentBy);branch=\(branch)")
    for v in extraVias { b.add(.via, v) }
    for r in routes { b.add(.route, r) }
    b.add(.maxForwards, "70")
    b.add(.from, "Alice <sip:alice@atlanta.example.com>;tag=\(fromTag)")
    b.add(.to, "Bob <sip:bob@biloxi.example.com>" + (toTag.map { ";tag=" + $0 } ?? ""))
    b.add(.callID, callID)
    b.add(.cseq, "\(cseq) \(method)")
    return try! SIPMessage(parsing: b.bytes())
}

/// A response to `request` with a To tag (none for 100).
func makeResponse(to request: SIPMessage, _ code: Int, toTag: String = "to1") -> SIPMessage {
    let b = try! SIPMessageBuilder.response(to: request, statusCode: code, toTag: toTag)
    return try! SIPMessage(parsing: b.bytes())
}

/// Drives one transaction in virtual time, firing its timers in deadline order and logging every action.
struct Driver {
    var transaction: Transaction
    var log: [(ms: Int64, action: TransactionAction)] = []

    init(_ t: Transaction) { transaction = t }

    mutating func event(_ e: TransactionEvent, at ms: Int64) {
        advance(to: ms)
        for a in transaction.handle(e, now: at(ms)) { log.append((ms, a)) }
    }

    /// Fires every timer due up to and including `ms`, each at its own deadline.
    mutating func advance(to ms: Int64) {
        while let d = transaction.nextDeadline, d <= at(ms), let timer = transaction.dueTimer(at: d) {
            for a in transaction.handle(.timerFired(timer), now: d) { log.append((msOf(d), a)) }
        }
    }

    /// Times of `.send` actions, optionally only of messages matching `filter`.
    func sendTimes(_ filter: (SIPMessage) -> Bool = { _ in true }) -> [Int64] {
        log.compactMap { if case .send(let m) = $0.action, filter(m) { return $0.ms } else { return nil } }
    }

    var sent: [SIPMessage] { log.compactMap { if case .send(let m) = $0.action { m } else { nil } } }
    var passed: [SIPMessage] { log.compactMap { if case .passToTU(let m) = $0.action { m } else { nil } } }

    /// When and why the transaction terminated.
    var termination: (ms: Int64, reason: TransactionTerminationReason)? {
        for e in log { if case .terminated(let r) = e.action { return (e.ms, r) } }
        return nil
    }

    mutating func clearLog() { log.removeAll() }
}

func actionsSend(_ actions: [TransactionAction]) -> [SIPMessage] {
    actions.compactMap { if case .send(let m) = $0 { m } else { nil } }
}

func actionsPass(_ actions: [TransactionAction]) -> [SIPMessage] {
    actions.compactMap { if case .passToTU(let m) = $0 { m } else { nil } }
}

func actionsTermination(_ actions: [TransactionAction]) -> TransactionTerminationReason? {
    for a in actions { if case .terminated(let r) = a { return r } }
    return nil
}

extension Transaction {
    /// The state name, for assertions across machine kinds.
    var stateName: String {
        switch self {
        case .inviteClient(let t): "\(t.state)"
        case .nonInviteClient(let t): "\(t.state)"
        case .inviteServer(let t): "\(t.state)"
        case .nonInviteServer(let t): "\(t.state)"
        }
    }
}
