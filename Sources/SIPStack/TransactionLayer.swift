import SIPCore
import TandemBase

/// What a transaction is keyed by (RFC 3261 §17.1.3 and §17.2.3).
public enum TransactionKey: Hashable, Sendable, CustomStringConvertible {
    /// Client side: our branch and the CSeq method (a CANCEL shares the INVITE's branch, §9.1).
    case client(branch: String, method: SIPMethod)
    /// Server side: the top Via's branch and sent-by, and the request method (ACK is filed under INVITE).
    case server(branch: String, sentBy: String, method: SIPMethod)

    /// For logs.
    public var description: String {
        switch self {
        case .client(let branch, let method): "client " + method.description + " " + branch
        case .server(let branch, let sentBy, let method): "server " + method.description + " " + branch + " " + sentBy
        }
    }
}

/// Why a request was rejected by the transaction layer with 482 (Loop Detected).
public enum TransactionRejection: Hashable, Sendable {
    /// RFC 3261 §8.2.2.2: same From tag, Call-ID and CSeq as a request in progress, but another branch.
    case mergedRequest
    /// The request carries a Via branch of one of our own client transactions: it came back to us.
    case loop
}

/// One of the four transaction machines, so the layer stores them without existentials.
public enum Transaction: Sendable {
    /// INVITE client.
    case inviteClient(InviteClientTransaction)
    /// Non-INVITE client.
    case nonInviteClient(NonInviteClientTransaction)
    /// INVITE server.
    case inviteServer(InviteServerTransaction)
    /// Non-INVITE server.
    case nonInviteServer(NonInviteServerTransaction)

    /// Forwards to the machine.
    public mutating func handle(_ event: TransactionEvent, now: Instant) -> [TransactionAction] {
        switch self {
        case .inviteClient(var t): defer { self = .inviteClient(t) }; return t.handle(event, now: now)
        case .nonInviteClient(var t): defer { self = .nonInviteClient(t) }; return t.handle(event, now: now)
        case .inviteServer(var t): defer { self = .inviteServer(t) }; return t.handle(event, now: now)
        case .nonInviteServer(var t): defer { self = .nonInviteServer(t) }; return t.handle(event, now: now)
        }
    }

    /// The machine's earliest armed timer deadline.
    public var nextDeadline: Instant? {
        switch self {
        case .inviteClient(let t): t.nextDeadline
        case .nonInviteClient(let t): t.nextDeadline
        case .inviteServer(let t): t.nextDeadline
        case .nonInviteServer(let t): t.nextDeadline
        }
    }

    /// The machine's earliest timer due at `now`.
    public func dueTimer(at now: Instant) -> TransactionTimer? {
        switch self {
        case .inviteClient(let t): t.dueTimer(at: now)
        case .nonInviteClient(let t): t.dueTimer(at: now)
        case .inviteServer(let t): t.dueTimer(at: now)
        case .nonInviteServer(let t): t.dueTimer(at: now)
        }
    }

    /// True in the Terminated state.
    public var isTerminated: Bool {
        switch self {
        case .inviteClient(let t): t.state == .terminated
        case .nonInviteClient(let t): t.state == .terminated
        case .inviteServer(let t): t.state == .terminated
        case .nonInviteServer(let t): t.state == .terminated
        }
    }

    /// The request the transaction was created with.
    public var request: SIPMessage {
        switch self {
        case .inviteClient(let t): t.request
        case .nonInviteClient(let t): t.request
        case .inviteServer(let t): t.request
        case .nonInviteServer(let t): t.request
        }
    }
}

/// The transaction layer (RFC 3261 §17): a table of transactions keyed per §17.1.3/§17.2.3 that routes
/// incoming messages, creates server transactions for new requests, detects merged and looped requests,
/// and keeps timer bookkeeping. Pure: no I/O, time is passed in. Terminated transactions are removed.
/// RFC 2543 matching (§17.2.3 for requests without the z9hG4bK cookie) is approximated: such requests are
/// keyed by Call-ID, CSeq number, From tag and the whole top Via, which matches retransmissions and the
/// non-2xx ACK (same CSeq number), but not the To-tag rule. Control plane; one instance per event loop.
public struct TransactionLayer: Sendable {
    /// The result of `receive`.
    public enum Incoming: Sendable {
        /// The message belonged to an existing transaction; perform the actions.
        case handled(TransactionKey, [TransactionAction])
        /// A new request created a server transaction; the actions include passing it to the TU.
        case newRequest(TransactionKey, [TransactionAction])
        /// A new CANCEL created its own server transaction (the TU answers it 200, or 481 when `target`
        /// is nil) and `target` is the INVITE server transaction it cancels (§9.2).
        case cancel(TransactionKey, [TransactionAction], target: TransactionKey?)
        /// A new request was answered 482 inside a new server transaction without reaching the TU.
        case rejected(TransactionKey, TransactionRejection, [TransactionAction])
        /// A response matching no client transaction (§18.1.2: a UA discards it; a 2xx may be a retransmission
        /// the TU wants for a dialog, so it is reported).
        case strayResponse(SIPMessage)
        /// An ACK matching no INVITE server transaction: the ACK for a 2xx, for the TU (§17.2.3, §13.3.1.4).
        case strayACK(SIPMessage)
        /// The message lacks what matching needs (Via, CSeq); drop it.
        case invalid(SIPParseError)
    }

    private struct MergeKey: Hashable, Sendable {
        var fromTag: String
        var callID: String
        var cseq: CSeq
    }

    /// Timer values for new transactions.
    public var timerValues: TransactionTimerValues
    /// Whether new INVITE server transactions send 100 Trying at once.
    public var sendsTrying: Bool
    /// Whether merged requests are answered 482 (§8.2.2.2; a UAS behaviour, off for a pure proxy).
    public var detectsMergedRequests: Bool
    /// Whether requests carrying one of our client branches in any Via are answered 482.
    public var detectsLoops: Bool

    private var transactions: [TransactionKey: Transaction] = [:]
    private var mergeIndex: [MergeKey: TransactionKey] = [:]
    private var mergeKeys: [TransactionKey: MergeKey] = [:]
    private var clientBranches: [String: Int] = [:]
    private var deadlines = TransactionDeadlines()

    /// An empty layer.
    public init(timerValues: TransactionTimerValues = TransactionTimerValues(), sendsTrying: Bool = true,
                detectsMergedRequests: Bool = true, detectsLoops: Bool = true) {
        self.timerValues = timerValues
        self.sendsTrying = sendsTrying
        self.detectsMergedRequests = detectsMergedRequests
        self.detectsLoops = detectsLoops
    }

    /// Number of live transactions.
    public var count: Int { transactions.count }

    /// The transaction for `key`, if live.
    public subscript(key: TransactionKey) -> Transaction? { transactions[key] }

    // MARK: Keys and identifiers

    /// A new RFC 3261 branch: the magic cookie and 128 random bits (§8.1.1.7: unique across space and time).
    public static func makeBranch() -> String { "z9hG4bK" + SecureRandom.identifier() }

    /// A new From/To tag (§19.3: at least 32 random bits; this uses 128).
    public static func makeTag() -> String { SecureRandom.identifier() }

    /// The client key a request or response belongs to: top Via branch and CSeq method.
    public static func clientKey(for message: SIPMessage) throws(SIPParseError) -> TransactionKey {
        let via = try message.vias[0]
        let method = try message.cseq.method
        return .client(branch: via.branch ?? "", method: method)
    }

    /// The server key a request (or a response about to be sent for it) belongs to; ACK maps to INVITE.
    public static func serverKey(for message: SIPMessage) throws(SIPParseError) -> TransactionKey {
        let via = try message.vias[0]
        let cseq = try message.cseq
        // Responses carry the request's CSeq method; requests' CSeq method equals the request method.
        let method: SIPMethod = cseq.method == .ack ? .invite : cseq.method
        let sentBy = sentByString(via)
        if via.hasMagicCookie, let branch = via.branch {
            return .server(branch: branch, sentBy: sentBy, method: method)
        }
        // RFC 2543 peer: approximate §17.2.3 with the dialog identifiers and the whole top Via.
        let fromTag = (try? message.from.tag) ?? nil
        let synthetic = "rfc2543;" + (try message.callID) + ";" + String(cseq.number) + ";" + (fromTag ?? "") + ";" + via.description
        return .server(branch: synthetic, sentBy: sentBy, method: method)
    }

    private static func sentByString(_ via: Via) -> String {
        // §18.2.1/§19.1.2: an absent port means the transport's default.
        let port = via.port ?? (via.transport.uppercased() == "TLS" ? 5061 : 5060)
        return via.host.lowercased() + ":" + String(port)
    }

    // MARK: Sending

    /// Creates a client transaction for `request` (INVITE or non-INVITE; not ACK) and starts it.
    /// The request's top Via must carry a branch (see `makeBranch`).
    public mutating func sendRequest(_ request: SIPMessage, isReliable: Bool, now: Instant)
        throws(TransactionError) -> (TransactionKey, [TransactionAction]) {
        guard let method = request.method else { throw .notARequest }
        // §17.1: the ACK for a 2xx is sent by the TU directly; the non-2xx ACK belongs to the INVITE transaction.
        guard method != .ack else { throw .ackIsNotATransaction }
        let key: TransactionKey
        do { key = try Self.clientKey(for: request) } catch { throw .invalidMessage(error) }
        guard case .client(let branch, _) = key, branch.hasPrefix("z9hG4bK") else { throw .missingBranch }
        guard transactions[key] == nil else { throw .duplicateTransaction }
        var t: Transaction = method == .invite
            ? .inviteClient(InviteClientTransaction(request: request, isReliable: isReliable, timerValues: timerValues))
            : .nonInviteClient(NonInviteClientTransaction(request: request, isReliable: isReliable, timerValues: timerValues))
        let actions = t.handle(.send(request), now: now)
        transactions[key] = t
        clientBranches[branch, default: 0] += 1
        removeIfTerminated(key)
        return (key, actions)
    }

    /// Sends a TU response through the server transaction its Via and CSeq identify.
    public mutating func sendResponse(_ response: SIPMessage, now: Instant) throws(TransactionError) -> (TransactionKey, [TransactionAction]) {
        guard response.statusCode != nil else { throw .notAResponse }
        let key: TransactionKey
        do { key = try Self.serverKey(for: response) } catch { throw .invalidMessage(error) }
        guard transactions[key] != nil else { throw .noSuchTransaction }
        return (key, handle(.send(response), for: key, now: now))
    }

    /// Delivers any event to a live transaction (e.g. `.transportError` from the transport); [] if unknown.
    public mutating func handle(_ event: TransactionEvent, for key: TransactionKey, now: Instant) -> [TransactionAction] {
        guard var t = transactions[key] else { return [] }
        let actions = t.handle(event, now: now)
        transactions[key] = t
        removeIfTerminated(key)
        return actions
    }

    // MARK: Receiving

    /// Routes a message from the transport (§17.1.3, §17.2.3) and creates server transactions for new requests.
    public mutating func receive(_ message: SIPMessage, isReliable: Bool, now: Instant) -> Incoming {
        if !message.isRequest {
            let key: TransactionKey
            do { key = try Self.clientKey(for: message) } catch { return .invalid(error) }
            guard transactions[key] != nil else { return .strayResponse(message) }
            return .handled(key, handle(.receive(message), for: key, now: now))
        }
        let key: TransactionKey
        let cseq: CSeq
        do {
            key = try Self.serverKey(for: message)
            cseq = try message.cseq
        } catch {
            return .invalid(error)
        }
        if transactions[key] != nil {
            return .handled(key, handle(.receive(message), for: key, now: now))
        }
        guard let method = message.method else { return .invalid(.malformedStartLine) }
        if method == .ack { return .strayACK(message) }
        // §8.2.6: a CSeq method that differs from the request method cannot key a transaction sensibly.
        guard cseq.method == method else { return .invalid(.cseqMethodMismatch) }

        var t: Transaction = method == .invite
            ? .inviteServer(InviteServerTransaction(request: message, isReliable: isReliable, timerValues: timerValues,
                                                    sendsTrying: sendsTrying))
            : .nonInviteServer(NonInviteServerTransaction(request: message, isReliable: isReliable, timerValues: timerValues))

        if let rejection = rejection(for: message, key: key) {
            // §8.2.2.2: the 482 goes through a server transaction so retransmissions get it again.
            var actions: [TransactionAction] = []
            if let b = try? SIPMessageBuilder.response(to: message, statusCode: 482, toTag: Self.makeTag()),
               let response = SIPMessage.built(b) {
                if case .inviteServer = t {
                    // No 100 Trying for a request the TU never sees.
                    t = .inviteServer(InviteServerTransaction(request: message, isReliable: isReliable,
                                                              timerValues: timerValues, sendsTrying: false))
                }
                actions = t.handle(.send(response), now: now)
            }
            transactions[key] = t
            removeIfTerminated(key)
            return .rejected(key, rejection, actions)
        }

        let actions = t.handle(.receive(message), now: now)
        transactions[key] = t
        if method != .cancel, message.value(.to).flatMap({ try? NameAddress(parsing: Substring($0)).tag }) == nil,
           let fromTag = (try? message.from.tag) ?? nil, let callID = try? message.callID {
            let mk = MergeKey(fromTag: fromTag, callID: callID, cseq: cseq)
            mergeIndex[mk] = key
            mergeKeys[key] = mk
        }
        removeIfTerminated(key)
        if method == .cancel {
            // §9.2: the CANCEL matches the INVITE server transaction with the same branch and sent-by.
            var target: TransactionKey?
            if case .server(let branch, let sentBy, _) = key {
                let inviteKey = TransactionKey.server(branch: branch, sentBy: sentBy, method: .invite)
                if transactions[inviteKey] != nil { target = inviteKey }
            }
            return .cancel(key, actions, target: target)
        }
        return .newRequest(key, actions)
    }

    /// The INVITE server transaction a CANCEL (or its key) refers to, if live.
    public func cancelTarget(for cancel: SIPMessage) -> TransactionKey? {
        guard let key = try? Self.serverKey(for: cancel), case .server(let branch, let sentBy, _) = key else { return nil }
        let inviteKey = TransactionKey.server(branch: branch, sentBy: sentBy, method: .invite)
        return transactions[inviteKey] != nil ? inviteKey : nil
    }

    private func rejection(for request: SIPMessage, key: TransactionKey) -> TransactionRejection? {
        if detectsLoops, !clientBranches.isEmpty, let vias = try? request.vias,
           vias.contains(where: { $0.branch.map { clientBranches[$0] != nil } ?? false }) {
            return .loop
        }
        // §8.2.2.2 applies only to requests outside a dialog (no To tag). A CANCEL copies the CSeq number of
        // the request it cancels and is matched to it by branch (§9.2), so it is never a merged request.
        guard detectsMergedRequests, request.method != .cancel,
              request.value(.to).flatMap({ try? NameAddress(parsing: Substring($0)).tag }) == nil,
              let fromTag = (try? request.from.tag) ?? nil, let callID = try? request.callID, let cseq = try? request.cseq,
              let existing = mergeIndex[MergeKey(fromTag: fromTag, callID: callID, cseq: cseq)]
        else { return nil }
        return existing != key ? .mergedRequest : nil
    }

    /// After every change to transaction `key`: removes it when terminated, and files its next deadline.
    private mutating func removeIfTerminated(_ key: TransactionKey) {
        guard let t = transactions[key] else { return deadlines.set(nil, for: key) }
        guard t.isTerminated else { return deadlines.set(t.nextDeadline, for: key) }
        transactions[key] = nil
        deadlines.set(nil, for: key)
        if let mk = mergeKeys.removeValue(forKey: key), mergeIndex[mk] == key { mergeIndex[mk] = nil }
        if case .client(let branch, _) = key, let n = clientBranches[branch] {
            clientBranches[branch] = n > 1 ? n - 1 : nil
        }
    }

    // MARK: Timers

    /// The earliest timer deadline over all transactions, or nil when none is armed. O(1): the layer keeps its
    /// transactions' deadlines in a heap, updated on every change.
    public var nextDeadline: Instant? { deadlines.earliest }

    /// Fires every timer due at `now`, transactions in deadline order and each one's timers in order; returns
    /// the actions per transaction.
    public mutating func fire(now: Instant) -> [(TransactionKey, [TransactionAction])] {
        var out: [(TransactionKey, [TransactionAction])] = []
        while let key = deadlines.popDue(now: now) {
            var actions: [TransactionAction] = []
            while let t = transactions[key], let timer = t.dueTimer(at: now) {
                actions += handle(.timerFired(timer), for: key, now: now)
            }
            removeIfTerminated(key)  // files the next deadline when no timer was due after all
            if !actions.isEmpty {
                if let i = out.firstIndex(where: { $0.0 == key }) { out[i].1 += actions } else { out.append((key, actions)) }
            }
        }
        return out
    }
}
