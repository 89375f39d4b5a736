import SIPCore
import TandemBase

/// Settings of an INVITE session.
public struct InviteSessionConfiguration: Sendable {
    /// T1 in milliseconds (RFC 3261 §17.1.1.1).
    public var t1Milliseconds: Int64 = 500
    /// T2 in milliseconds (RFC 3261 §17.1.2.2).
    public var t2Milliseconds: Int64 = 4000
    /// Seed of the generator for glare retry delays (RFC 3261 §14.1) and RSeq starts.
    public var randomSeed: UInt64
    /// RFC 4028 session timers; nil turns them off. The UAC adds its request headers with
    /// `SessionTimer.addRequestHeaders` when it builds the INVITE.
    public var sessionTimer: SessionTimerPolicy?

    /// Defaults with a seed (tests pass a fixed one); session timers on with the product's 120 s / 90 s.
    public init(randomSeed: UInt64 = UInt64.random(in: 1...UInt64.max), sessionTimer: SessionTimerPolicy? = SessionTimerPolicy()) {
        self.randomSeed = randomSeed
        self.sessionTimer = sessionTimer
    }
}

/// A small deterministic generator (SplitMix64) so that delays are reproducible under test.
public struct DialogRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// A generator from a seed.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One INVITE session (RFC 3261 §13–15) over one dialog: offer/answer state, re-INVITE and glare,
/// UPDATE, 100rel, CANCEL and BYE. Events in, actions out, time injected; it never parses SDP (bodies are
/// opaque) and never does I/O. The transaction layer adds Vias, matches responses to server transactions
/// and sends the ACK for non-2xx finals. Not thread-safe: one owner. Allocates (control plane).
public struct InviteSession: Sendable {
    /// The session's phase.
    public enum State: Equatable, Sendable {
        /// UAC: INVITE sent, no final response.
        case calling
        /// UAS: INVITE received, no final response sent.
        case incoming
        /// UAS: 2xx sent, waiting for its ACK.
        case waitingForACK
        /// Both sides have a confirmed dialog.
        case connected
        /// Over.
        case terminated(TerminationReason)
    }

    /// Why the session ended.
    public enum TerminationReason: Equatable, Sendable {
        /// We sent BYE.
        case localBye
        /// The peer sent BYE.
        case remoteBye
        /// The INVITE was cancelled (487).
        case cancelled
        /// The INVITE failed with this final status (ours as UAS, theirs as UAC).
        case rejected(statusCode: Int)
        /// No ACK for our 2xx within 64×T1 (RFC 3261 §13.3.1.4); a BYE was sent.
        case ackTimeout
        /// No PRACK within 64×T1 (RFC 3262 §3); the INVITE was rejected with 504.
        case prackTimeout
        /// The dialog vanished (481 or 408 to an in-dialog request, RFC 5057).
        case dialogGone
        /// The session timer ran out without a refresh (RFC 4028 §10); a BYE was sent.
        case sessionExpired
    }

    /// Commands from the application and messages from the transaction layer.
    public enum Event: Sendable {
        /// An in-dialog or session request from the peer (after its server transaction).
        case request(SIPMessage)
        /// A response to one of our requests (after its client transaction).
        case response(SIPMessage)
        /// UAS: send a 101–199 to the INVITE, reliably (100rel) when asked; `body` is an offer or answer.
        case provisional(statusCode: Int, body: SessionBody?, reliable: Bool)
        /// UAS: answer the pending INVITE (initial or re-INVITE) with 200; `body` is the answer, or our offer
        /// when the INVITE had none.
        case accept(body: SessionBody?)
        /// UAS: reject the pending INVITE with a final non-2xx.
        case reject(statusCode: Int)
        /// Answer the peer's outstanding offer (UPDATE → 200, re-INVITE → 200, 2xx or reliable 18x → ACK/PRACK).
        case answer(SessionBody)
        /// Refuse the peer's outstanding offer with 488 (RFC 3261 §14.2); the previous session stays.
        case rejectOffer
        /// Send a re-INVITE with `offer` (nil: ask the peer for an offer). Hold and unhold are this with a new SDP.
        case reinvite(offer: SessionBody?)
        /// Send an UPDATE with `offer` (RFC 3311), early or confirmed; nil body only refreshes (session timers).
        case update(offer: SessionBody?)
        /// End the session: CANCEL before a final response, BYE after, 480 as a UAS that has not answered.
        case hangup
        /// Time has advanced; run due timers.
        case timer
    }

    /// What the owner must do.
    public enum Action: Sendable {
        /// Start a client transaction for this request.
        case sendRequest(SIPMessageBuilder)
        /// Send this response on the matching server transaction.
        case sendResponse(SIPMessageBuilder)
        /// Send this ACK for a 2xx straight to the transport (no transaction, RFC 3261 §13.2.2.4).
        case sendACK(SIPMessageBuilder)
        /// Retransmit this 2xx (UAS, RFC 3261 §13.3.1.4).
        case retransmitResponse(SIPMessageBuilder)
        /// The peer made an offer: reply with `.answer` or `.rejectOffer`.
        case offerReceived(SessionBody)
        /// The peer answered our offer.
        case answerReceived(SessionBody)
        /// Our offer or re-INVITE failed with this status; the previous session stays (RFC 3264 §8).
        case offerRejected(statusCode: Int)
        /// A re-INVITE arrived without an offer: reply with `.accept(body: offer)` (RFC 3261 §14.2).
        case offerRequested
        /// 491 received: the request will be retried at this instant (RFC 3261 §14.1).
        case retryScheduled(at: Instant)
        /// A provisional response arrived (UAC), with its body if any.
        case provisionalReceived(statusCode: Int, body: SessionBody?)
        /// The dialog is confirmed and the session is up.
        case established
        /// A request the session does not handle itself (INFO, REFER, NOTIFY, MESSAGE...), already dialog-checked.
        case inDialogRequest(SIPMessage)
        /// The command cannot be done now (an offer or INVITE is outstanding, or the state forbids it).
        case commandRefused
        /// The session ended.
        case terminated(TerminationReason)
    }

    private enum PendingServer: Sendable {
        case initialInvite(SIPMessage)
        case reinvite(SIPMessage)
        case update(SIPMessage)
    }

    private enum PendingClient: Sendable {
        case reinvite(sequence: UInt32, offer: SessionBody?)
        case update(sequence: UInt32, offer: SessionBody?)
    }

    private enum Retry: Sendable {
        case reinvite(SessionBody?)
        case update(SessionBody?)
    }

    /// Which side created the session.
    public let role: Dialog.Role
    /// Current phase.
    public private(set) var state: State
    /// The dialog, once a To tag is known.
    public private(set) var dialog: Dialog?
    /// Offer/answer state.
    public private(set) var offerAnswer = OfferAnswerState()
    /// The latest body the peer sent as offer or answer.
    public private(set) var remoteBody: SessionBody?
    /// True when this UA chose the Call-ID (it sent the initial INVITE): selects the 491 retry range.
    public let ownsCallID: Bool

    private let configuration: InviteSessionConfiguration
    private var random: DialogRandom
    private let invite: SIPMessage
    private let localContact: NameAddress
    private var pendingServer: PendingServer?
    private var pendingClient: PendingClient?
    private var cancelRequested = false
    private var receivedProvisional = false
    private var lastACK: SIPMessageBuilder?
    private var deferredACKSequence: UInt32?
    private var deferredPRACK: RAck?
    private var prackReceiver = ReliableProvisionalReceiver()
    private var prackSender: ReliableProvisionalSender?
    private var okToRetransmit: SIPMessageBuilder?
    private var isEstablished = false
    private var okFirstSent = Instant(nanoseconds: 0)
    private var okNextSend = Instant(nanoseconds: 0)
    private var okInterval: Int64 = 0
    private var retry: Retry?
    private var retryAt: Instant?
    /// The negotiated session timer, if any (RFC 4028).
    public private(set) var sessionTimer: SessionTimer?
    /// The latest body we sent as offer or answer (reused by a session-refresh re-INVITE).
    public private(set) var localBody: SessionBody?
    private var peerAllowsUpdate = false

    // MARK: Creation

    /// A UAC session for `invite` as sent (with its Via, so CANCEL can copy it). An INVITE body is our offer.
    public init(outgoingInvite invite: SIPMessage, localContact: NameAddress,
                configuration: InviteSessionConfiguration = InviteSessionConfiguration()) {
        role = .uac
        state = .calling
        ownsCallID = true
        self.invite = invite
        self.localContact = localContact
        self.configuration = configuration
        random = DialogRandom(seed: configuration.randomSeed)
        if let body = SessionBody(message: invite), body.isSessionDescription {
            _ = offerAnswer.sendOffer(in: .invite)
            localBody = body
        }
    }

    /// A UAS session for a received INVITE; the early dialog gets `localTag`. Returns the session and the
    /// first actions (`offerReceived` when the INVITE has a body). Throws when the INVITE cannot form a dialog.
    public static func incoming(_ invite: SIPMessage, localTag: String, localContact: NameAddress,
                                configuration: InviteSessionConfiguration = InviteSessionConfiguration())
        throws(DialogError) -> (InviteSession, [Action]) {
        var s = InviteSession(invite: invite, localContact: localContact, configuration: configuration)
        s.dialog = try Dialog(uasRequest: invite, localTag: localTag, localContact: localContact)
        s.pendingServer = .initialInvite(invite)
        s.peerAllowsUpdate = ((try? invite.allow) ?? []).contains(.update)
        if let policy = configuration.sessionTimer {
            switch SessionTimer.negotiateAsUAS(invite, policy: policy) {
            case .reject422(let minimum):
                // RFC 4028 §8.1: too small an interval gets 422 with our Min-SE.
                var r = s.responseFor(invite, 422)
                r.set("min-se", String(minimum))
                s.pendingServer = nil
                s.state = .terminated(.rejected(statusCode: 422))
                s.dialog?.terminate()
                return (s, [.sendResponse(r), .terminated(.rejected(statusCode: 422))])
            case .accept(let timer):
                s.sessionTimer = timer
            }
        }
        var actions: [Action] = []
        if let body = SessionBody(message: invite), body.isSessionDescription {
            _ = s.offerAnswer.receiveOffer(in: .invite)
            s.remoteBody = body
            actions.append(.offerReceived(body))
        }
        s.refreshNextDeadline()
        return (s, actions)
    }

    private init(invite: SIPMessage, localContact: NameAddress, configuration: InviteSessionConfiguration) {
        role = .uas
        state = .incoming
        ownsCallID = false
        self.invite = invite
        self.localContact = localContact
        self.configuration = configuration
        random = DialogRandom(seed: configuration.randomSeed)
    }

    /// When the owner should next deliver `.timer`. Stored, refreshed after every event, so that an owner polling
    /// many sessions reads one field instead of copying each session to compute it.
    public private(set) var nextDeadline: Instant?

    private mutating func refreshNextDeadline() { nextDeadline = computeNextDeadline() }

    private func computeNextDeadline() -> Instant? {
        var d: [Instant] = []
        if okToRetransmit != nil { d.append(okNextSend) }
        if let retryAt { d.append(retryAt) }
        if let p = prackSender?.nextDeadline { d.append(p) }
        if let t = sessionTimer?.nextDeadline { d.append(t) }
        return d.min()
    }

    private var isTerminated: Bool {
        if case .terminated = state { return true }
        return false
    }

    // MARK: Events

    /// Feeds one event at `now`; returns what to do, in order.
    public mutating func handle(_ event: Event, now: Instant) -> [Action] {
        defer { refreshNextDeadline() }
        guard !isTerminated else { return event.isCommand ? [.commandRefused] : [] }
        switch event {
        case .request(let m): return receiveRequest(m, now: now)
        case .response(let m): return receiveResponse(m, now: now)
        case .provisional(let code, let body, let reliable): return sendProvisional(code, body: body, reliable: reliable, now: now)
        case .accept(let body): return accept(body: body, now: now)
        case .reject(let code): return reject(code)
        case .answer(let body): return answer(body, now: now)
        case .rejectOffer: return rejectOffer()
        case .reinvite(let offer): return sendReinvite(offer)
        case .update(let offer): return sendUpdate(offer)
        case .hangup: return hangup()
        case .timer: return timers(now: now)
        }
    }

    // MARK: UAS side

    private mutating func sendProvisional(_ code: Int, body: SessionBody?, reliable: Bool, now: Instant) -> [Action] {
        guard state == .incoming, code > 100, code < 200, let dialog, case .initialInvite(let inv)? = pendingServer else {
            return [.commandRefused]
        }
        var r = dialog.makeResponse(to: inv, statusCode: code)
        let tags = ((try? inv.supported) ?? []) + ((try? inv.require) ?? [])
        // 100rel only when the UAC offered it (RFC 3262 §3); otherwise the response goes unreliably.
        let reliable = reliable && tags.contains { $0.lowercased() == "100rel" }
        if let body {
            // An offer or answer in an 18x must go reliably (RFC 3262 §5; RFC 6337 §3.1).
            if reliable {
                if case .remoteOfferReceived = offerAnswer.phase { _ = offerAnswer.sendAnswer() } else {
                    _ = offerAnswer.sendOffer(in: .reliableProvisional)
                }
            }
            body.apply(to: &r)
        }
        guard reliable else { return [.sendResponse(r)] }
        var sender = prackSender ?? ReliableProvisionalSender(
            inviteSequence: (try? inv.cseq.number) ?? 0, initialRSeq: UInt32(random.next() % 0x7fff_0000) + 1,
            timing: ReliableProvisionalTiming(t1Milliseconds: configuration.t1Milliseconds))
        let sent = sender.send(r, now: now)
        prackSender = sender
        return mapSender(sent)
    }

    private mutating func mapSender(_ actions: [ReliableProvisionalSender.Action]) -> [Action] {
        var out: [Action] = []
        for a in actions {
            switch a {
            case .send(let r): out.append(.sendResponse(r))
            case .timedOut: out += finishIncoming(504, reason: .prackTimeout)
            }
        }
        return out
    }

    private mutating func accept(body: SessionBody?, now: Instant) -> [Action] {
        guard var dialog, let pending = pendingServer else { return [.commandRefused] }
        let request: SIPMessage
        switch pending {
        case .initialInvite(let m), .reinvite(let m): request = m
        case .update: return [.commandRefused]
        }
        if body != nil {
            if case .remoteOfferReceived = offerAnswer.phase { _ = offerAnswer.sendAnswer() } else {
                guard offerAnswer.sendOffer(in: .success) else { return [.commandRefused] }
            }
        } else if case .remoteOfferReceived = offerAnswer.phase {
            // An offer in the INVITE needs its answer in the 2xx at the latest (RFC 3264 §4).
            return [.commandRefused]
        }
        var r = dialog.makeResponse(to: request, statusCode: 200)
        body?.apply(to: &r)
        if let body { localBody = body }
        if var timer = sessionTimer {
            // Every 2xx to an INVITE refreshes the session (RFC 4028 §10).
            timer.addResponseHeaders(to: &r)
            timer.start(now: now)
            sessionTimer = timer
        }
        dialog.confirm()
        self.dialog = dialog
        pendingServer = nil
        prackSender?.stop()
        state = .waitingForACK
        okToRetransmit = r
        okFirstSent = now
        okInterval = configuration.t1Milliseconds
        okNextSend = now.adding(milliseconds: okInterval)
        return [.sendResponse(r)]
    }

    private mutating func reject(_ code: Int) -> [Action] {
        guard code >= 300, let pending = pendingServer else { return [.commandRefused] }
        switch pending {
        case .initialInvite: return finishIncoming(code, reason: .rejected(statusCode: code))
        case .reinvite(let m), .update(let m):
            pendingServer = nil
            offerAnswer.rollBack()
            return [.sendResponse(responseFor(m, code))]
        }
    }

    private mutating func finishIncoming(_ code: Int, reason: TerminationReason) -> [Action] {
        guard case .initialInvite(let inv)? = pendingServer else { return [] }
        pendingServer = nil
        prackSender?.stop()
        state = .terminated(reason)
        dialog?.terminate()
        return [.sendResponse(responseFor(inv, code)), .terminated(reason)]
    }

    private func responseFor(_ request: SIPMessage, _ code: Int) -> SIPMessageBuilder {
        if let dialog { return dialog.makeResponse(to: request, statusCode: code) }
        return (try? SIPMessageBuilder.response(to: request, statusCode: code)) ?? SIPMessageBuilder(statusCode: code)
    }

    private mutating func answer(_ body: SessionBody, now: Instant) -> [Action] {
        guard case .remoteOfferReceived(let carrier) = offerAnswer.phase else { return [.commandRefused] }
        if carrier != .invite { localBody = body }
        switch carrier {
        case .invite:
            // The answer to an INVITE offer goes in the 2xx (or a reliable 18x via `.provisional`).
            return [.commandRefused]
        case .update:
            guard case .update(let m)? = pendingServer, let dialog else { return [.commandRefused] }
            _ = offerAnswer.sendAnswer()
            pendingServer = nil
            var r = dialog.makeResponse(to: m, statusCode: 200)
            body.apply(to: &r)
            refreshedByPeer(&r, now: now)
            return [.sendResponse(r)]
        case .success:
            guard let seq = deferredACKSequence, var dialog else { return [.commandRefused] }
            _ = offerAnswer.sendAnswer()
            deferredACKSequence = nil
            let ack = dialog.makeACK(inviteSequence: seq, body: body)
            self.dialog = dialog
            lastACK = ack
            return [.sendACK(ack)]
        case .reliableProvisional:
            guard let rack = deferredPRACK, var dialog else { return [.commandRefused] }
            _ = offerAnswer.sendAnswer()
            deferredPRACK = nil
            var p = dialog.makeRequest(.prack)
            p.add("rack", rack.description)
            body.apply(to: &p)
            self.dialog = dialog
            return [.sendRequest(p)]
        case .ack, .prack:
            return [.commandRefused]
        }
    }

    private mutating func rejectOffer() -> [Action] {
        guard case .remoteOfferReceived = offerAnswer.phase, let pending = pendingServer else { return [.commandRefused] }
        switch pending {
        case .initialInvite: return finishIncoming(488, reason: .rejected(statusCode: 488))
        case .reinvite(let m), .update(let m):
            pendingServer = nil
            offerAnswer.rollBack()
            return [.sendResponse(responseFor(m, 488))]
        }
    }

    // MARK: Requests from the peer

    private mutating func receiveRequest(_ m: SIPMessage, now: Instant) -> [Action] {
        guard let method = m.method, var dialog else {
            return [.sendResponse(responseFor(m, 481))]
        }
        if method == .cancel { return receiveCancel(m) }
        switch dialog.receive(request: m) {
        case .reject(let code): return [.sendResponse(responseFor(m, code))]
        case .accepted: self.dialog = dialog
        }
        switch method {
        case .ack:
            guard state == .waitingForACK || state == .connected else { return [] }
            let wasWaiting = !isEstablished
            isEstablished = true
            okToRetransmit = nil
            state = .connected
            var out: [Action] = []
            if let body = SessionBody(message: m), body.isSessionDescription, case .localOfferSent(.success) = offerAnswer.phase {
                _ = offerAnswer.receiveAnswer()
                remoteBody = body
                out.append(.answerReceived(body))
            } else if case .localOfferSent(.success) = offerAnswer.phase {
                // The ACK had to carry the answer to our 2xx offer (RFC 3264 §4); end the session.
                offerAnswer.rollBack()
                out.append(.offerRejected(statusCode: 0))
            }
            if wasWaiting { out.append(.established) }
            return out
        case .bye:
            var out: [Action] = [.sendResponse(dialog.makeResponse(to: m, statusCode: 200))]
            if let pending = pendingServer {
                // A BYE ends pending INVITE transactions with 487 (RFC 3261 §15.1.2).
                switch pending {
                case .initialInvite(let inv), .reinvite(let inv): out.append(.sendResponse(responseFor(inv, 487)))
                case .update(let u): out.append(.sendResponse(responseFor(u, 487)))
                }
            }
            end(.remoteBye)
            out.append(.terminated(.remoteBye))
            return out
        case .invite:
            if pendingServer != nil {
                // A second INVITE while one is being answered (RFC 3261 §14.2): 500 with Retry-After 0–10 s.
                var r = responseFor(m, 500)
                r.add("retry-after", String(random.next() % 10))
                return [.sendResponse(r)]
            }
            if pendingClient != nil || !offerAnswer.isIdle {
                return [.sendResponse(responseFor(m, 491))]
            }
            pendingServer = .reinvite(m)
            if let body = SessionBody(message: m), body.isSessionDescription {
                _ = offerAnswer.receiveOffer(in: .invite)
                remoteBody = body
                return [.offerReceived(body)]
            }
            return [.offerRequested]
        case .update:
            guard let body = SessionBody(message: m), body.isSessionDescription else {
                // An UPDATE without a body only refreshes the session (RFC 4028) or the target.
                var r = dialog.makeResponse(to: m, statusCode: 200)
                refreshedByPeer(&r, now: now)
                return [.sendResponse(r)]
            }
            if case .localOfferSent = offerAnswer.phase { return [.sendResponse(responseFor(m, 491))] }
            if case .remoteOfferReceived = offerAnswer.phase {
                // RFC 3311 §5.2: an UPDATE offer while the peer's earlier offer is unanswered gets 500.
                var r = responseFor(m, 500)
                r.add("retry-after", String(random.next() % 10))
                return [.sendResponse(r)]
            }
            if pendingServer != nil { return [.sendResponse(responseFor(m, 500))] }
            pendingServer = .update(m)
            _ = offerAnswer.receiveOffer(in: .update)
            remoteBody = body
            return [.offerReceived(body)]
        case .prack:
            guard var sender = prackSender else { return [.sendResponse(responseFor(m, 481))] }
            let (verdict, sent) = sender.receive(prack: m, now: now)
            prackSender = sender
            guard case .matched = verdict else { return [.sendResponse(responseFor(m, 481))] }
            var out: [Action] = [.sendResponse(dialog.makeResponse(to: m, statusCode: 200))]
            if let body = SessionBody(message: m), body.isSessionDescription,
               case .localOfferSent(.reliableProvisional) = offerAnswer.phase {
                _ = offerAnswer.receiveAnswer()
                remoteBody = body
                out.append(.answerReceived(body))
            }
            return out + mapSender(sent)
        default:
            return [.inDialogRequest(m)]
        }
    }

    /// A 2xx we send to the peer's UPDATE refreshes the session (RFC 4028 §10): echo the timer and restart it.
    private mutating func refreshedByPeer(_ response: inout SIPMessageBuilder, now: Instant) {
        guard var timer = sessionTimer else { return }
        timer.addResponseHeaders(to: &response)
        timer.start(now: now)
        sessionTimer = timer
    }

    /// A 2xx to our INVITE or UPDATE refreshes the session, possibly with new values (RFC 4028 §7.2, §10).
    private mutating func refreshedByResponse(_ response: SIPMessage, now: Instant) {
        guard configuration.sessionTimer != nil else { return }
        if let fresh = SessionTimer.negotiateAsUAC(response: response) {
            if var timer = sessionTimer, role == .uas {
                // We are the dialog's UAS: the refresher names roles of the original INVITE, not this request.
                timer.renegotiated(interval: fresh.interval, refresher: timer.refresher, now: now)
                sessionTimer = timer
            } else if sessionTimer != nil || role == .uac {
                var t = fresh
                t.start(now: now)
                sessionTimer = t
            }
        } else if var timer = sessionTimer {
            timer.start(now: now)
            sessionTimer = timer
        }
    }

    private mutating func receiveCancel(_ m: SIPMessage) -> [Action] {
        // CANCEL gets 200 from us; if the INVITE is still unanswered it then gets 487 (RFC 3261 §9.2).
        let ok = (try? SIPMessageBuilder.response(to: m, statusCode: 200, toTag: dialog?.id.localTag)) ?? SIPMessageBuilder(statusCode: 200)
        guard state == .incoming, case .initialInvite? = pendingServer else { return [.sendResponse(ok)] }
        return [.sendResponse(ok)] + finishIncoming(487, reason: .cancelled)
    }

    // MARK: Responses to our requests

    private mutating func receiveResponse(_ m: SIPMessage, now: Instant) -> [Action] {
        guard let code = m.statusCode, let cseq = try? m.cseq else { return [] }
        switch cseq.method {
        case .invite:
            if state == .calling { return initialInviteResponse(m, code: code, now: now) }
            return reinviteResponse(m, code: code, cseq: cseq.number, now: now)
        case .update:
            guard case .update(let seq, let offer)? = pendingClient, seq == cseq.number else { return [] }
            guard code >= 200 else { return [] }
            pendingClient = nil
            return offerOutcome(m, code: code, retryWith: .update(offer), hadOffer: offer != nil, now: now)
        case .bye, .cancel, .prack:
            return []
        default:
            if code == 481 || code == 408 { return endDialogGone() }
            return []
        }
    }

    private mutating func initialInviteResponse(_ m: SIPMessage, code: Int, now: Instant) -> [Action] {
        var out: [Action] = []
        if code < 200 {
            guard code > 100 else { return [] }
            receivedProvisional = true
            if cancelRequested { out += sendCancel() }
            let toTag = try? m.to.tag
            if toTag != nil {
                if dialog == nil {
                    dialog = try? Dialog(uacRequest: invite, response: m, localContact: localContact)
                } else if dialog?.id.remoteTag == toTag {
                    dialog?.receive(response: m)
                } else {
                    return out  // A forked early dialog: one session follows the first To tag.
                }
            }
            let verdict = prackReceiver.receive(m)
            if verdict == .ignore { return out }
            let body = SessionBody(message: m)
            out.append(.provisionalReceived(statusCode: code, body: body))
            guard case .acknowledge(let rack) = verdict, var dialog else { return out }
            if let body, body.isSessionDescription {
                if case .localOfferSent(.invite) = offerAnswer.phase {
                    _ = offerAnswer.receiveAnswer()
                    remoteBody = body
                    out.append(.answerReceived(body))
                } else if offerAnswer.receiveOffer(in: .reliableProvisional) {
                    // An offer in a reliable 18x: the PRACK carries our answer (RFC 3262 §5).
                    remoteBody = body
                    deferredPRACK = rack
                    out.append(.offerReceived(body))
                    return out
                }
            }
            var p = dialog.makeRequest(.prack)
            p.add("rack", rack.description)
            self.dialog = dialog
            out.append(.sendRequest(p))
            return out
        }
        if code >= 300 {
            let reason: TerminationReason = code == 487 ? .cancelled : .rejected(statusCode: code)
            state = .terminated(reason)
            dialog?.terminate()
            return [.terminated(reason)]
        }
        // 2xx: create or confirm the dialog and ACK it.
        if var d = dialog, d.id.remoteTag == (try? m.to.tag) {
            d.receive(response: m)
            dialog = d
        } else {
            guard let d = try? Dialog(uacRequest: invite, response: m, localContact: localContact) else { return [] }
            dialog = d
        }
        let seq = (try? invite.cseq.number) ?? 0
        state = .connected
        isEstablished = true
        peerAllowsUpdate = ((try? m.allow) ?? []).contains(.update)
        refreshedByResponse(m, now: now)
        out.append(.established)
        if let body = SessionBody(message: m), body.isSessionDescription {
            if case .localOfferSent = offerAnswer.phase {
                _ = offerAnswer.receiveAnswer()
                remoteBody = body
                out.append(.answerReceived(body))
            } else if !offerAnswer.hasCompletedExchange, offerAnswer.receiveOffer(in: .success) {
                // Late offer: the offer is in the 2xx and the answer goes in the ACK (RFC 3261 §13.2.2.4).
                remoteBody = body
                deferredACKSequence = seq
                out.append(.offerReceived(body))
                if cancelRequested { out += hangupConnected() }
                return out
            }
        }
        out.append(ackFor(seq))
        if cancelRequested { out += hangupConnected() }
        return out
    }

    private mutating func ackFor(_ seq: UInt32) -> Action {
        guard var dialog else { return .commandRefused }
        let ack = dialog.makeACK(inviteSequence: seq)
        self.dialog = dialog
        lastACK = ack
        return .sendACK(ack)
    }

    private mutating func reinviteResponse(_ m: SIPMessage, code: Int, cseq: UInt32, now: Instant) -> [Action] {
        if code >= 200, code < 300 {
            // A retransmitted 2xx (ours already ACKed) gets the same ACK again (RFC 3261 §13.2.2.4).
            guard case .reinvite(let seq, _)? = pendingClient, seq == cseq else {
                if let lastACK { return [.sendACK(lastACK)] }
                return []
            }
        }
        guard case .reinvite(let seq, let offer)? = pendingClient, seq == cseq, code >= 200 else { return [] }
        pendingClient = nil
        if code < 300 {
            dialog?.receive(response: m)
            refreshedByResponse(m, now: now)
            var out: [Action] = []
            if let body = SessionBody(message: m), body.isSessionDescription {
                if case .localOfferSent = offerAnswer.phase {
                    _ = offerAnswer.receiveAnswer()
                    remoteBody = body
                    out.append(.answerReceived(body))
                } else if offerAnswer.receiveOffer(in: .success) {
                    remoteBody = body
                    deferredACKSequence = seq
                    out.append(.offerReceived(body))
                    return out
                }
            }
            out.append(ackFor(seq))
            return out
        }
        return offerOutcome(m, code: code, retryWith: .reinvite(offer), hadOffer: offer != nil, now: now)
    }

    private mutating func offerOutcome(_ m: SIPMessage, code: Int, retryWith: Retry, hadOffer: Bool, now: Instant) -> [Action] {
        if code < 300 {
            dialog?.receive(response: m)
            refreshedByResponse(m, now: now)
            guard hadOffer else { return [] }
            if let body = SessionBody(message: m), body.isSessionDescription, case .localOfferSent = offerAnswer.phase {
                _ = offerAnswer.receiveAnswer()
                remoteBody = body
                return [.answerReceived(body)]
            }
            // A 2xx without the answer to our offer: the offer failed (RFC 3311 §5.1 requires the answer).
            offerAnswer.rollBack()
            return [.offerRejected(statusCode: code)]
        }
        // Only an offer this request carried is withdrawn; another transaction's offer stays.
        if hadOffer { offerAnswer.rollBack() }
        if code == 481 || code == 408 { return endDialogGone() }
        if code == 491 {
            // Glare (RFC 3261 §14.1): the Call-ID owner waits 2.1–4 s, the other side 0–2 s, in 10 ms units.
            let delay: Int64 = ownsCallID ? 2100 + Int64(random.next() % 191) * 10 : Int64(random.next() % 201) * 10
            let at = now.adding(milliseconds: delay)
            retry = retryWith
            retryAt = at
            return [.offerRejected(statusCode: 491), .retryScheduled(at: at)]
        }
        return [.offerRejected(statusCode: code)]
    }

    private mutating func endDialogGone() -> [Action] {
        end(.dialogGone)
        return [.terminated(.dialogGone)]
    }

    // MARK: Our requests

    private mutating func sendReinvite(_ offer: SessionBody?) -> [Action] {
        guard state == .connected, pendingClient == nil, pendingServer == nil, retryAt == nil, var dialog else { return [.commandRefused] }
        if let offer {
            guard offerAnswer.sendOffer(in: .invite) else { return [.commandRefused] }
            var r = dialog.makeRequest(.invite)
            offer.apply(to: &r)
            addRefreshHeaders(&r)
            localBody = offer
            pendingClient = .reinvite(sequence: dialog.localSequence ?? 0, offer: offer)
            self.dialog = dialog
            return [.sendRequest(r)]
        }
        guard offerAnswer.isIdle else { return [.commandRefused] }
        var r = dialog.makeRequest(.invite)
        addRefreshHeaders(&r)
        pendingClient = .reinvite(sequence: dialog.localSequence ?? 0, offer: nil)
        self.dialog = dialog
        return [.sendRequest(r)]
    }

    private mutating func sendUpdate(_ offer: SessionBody?) -> [Action] {
        guard var dialog, dialog.state != .terminated, pendingClient == nil, retryAt == nil else { return [.commandRefused] }
        if offer != nil { guard offerAnswer.sendOffer(in: .update) else { return [.commandRefused] } }
        var r = dialog.makeRequest(.update)
        offer?.apply(to: &r)
        addRefreshHeaders(&r)
        if let offer { localBody = offer }
        pendingClient = .update(sequence: dialog.localSequence ?? 0, offer: offer)
        self.dialog = dialog
        return [.sendRequest(r)]
    }

    /// Session-Expires with the current values on every refresh request (RFC 4028 §7.4).
    private func addRefreshHeaders(_ r: inout SIPMessageBuilder) {
        guard let timer = sessionTimer, let policy = configuration.sessionTimer else { return }
        r.set("session-expires", SessionExpires(seconds: timer.interval, refresher: timer.refresher).description)
        r.set("min-se", String(policy.minimumSE))
        r.add("supported", "timer")
    }

    /// A new request in this session's dialog (NOTIFY, REFER, INFO…) with the next local CSeq, for the caller to
    /// send; nil without a live dialog. Its responses may be fed back as `.response` (481/408 end the session).
    public mutating func makeInDialogRequest(_ method: SIPMethod) -> SIPMessageBuilder? {
        guard var dialog, dialog.state != .terminated, !isTerminated else { return nil }
        let r = dialog.makeRequest(method)
        self.dialog = dialog
        return r
    }

    private mutating func hangup() -> [Action] {
        switch state {
        case .calling:
            cancelRequested = true
            // CANCEL waits for a provisional response (RFC 3261 §9.1).
            return receivedProvisional ? sendCancel() : []
        case .incoming:
            return finishIncoming(480, reason: .rejected(statusCode: 480))
        case .waitingForACK, .connected:
            return hangupConnected()
        case .terminated:
            return [.commandRefused]
        }
    }

    private mutating func sendCancel() -> [Action] {
        guard cancelRequested else { return [] }
        cancelRequested = state == .calling  // still wanted if a 2xx crosses the CANCEL
        return [.sendRequest(InviteSession.makeCANCEL(for: invite))]
    }

    private mutating func hangupConnected() -> [Action] {
        guard var dialog else { return [] }
        let bye = dialog.makeRequest(.bye)
        self.dialog = dialog
        end(.localBye)
        return [.sendRequest(bye), .terminated(.localBye)]
    }

    private mutating func end(_ reason: TerminationReason) {
        state = .terminated(reason)
        dialog?.terminate()
        okToRetransmit = nil
        retry = nil
        retryAt = nil
        prackSender?.stop()
        sessionTimer?.stop()
        pendingClient = nil
    }

    /// The CANCEL for `invite` (RFC 3261 §9.1): same Request-URI, top Via, From, To, Call-ID, Route and
    /// CSeq number, method CANCEL.
    public static func makeCANCEL(for invite: SIPMessage) -> SIPMessageBuilder {
        var b = SIPMessageBuilder(method: .cancel, uri: invite.requestURI ?? SIPURI(host: "invalid"))
        if let via = invite.listValues(.via).first { b.add(.via, via) }
        for r in invite.values(.route) { b.add(.route, r) }
        b.add(.maxForwards, "70")
        if let v = invite.value(.from) { b.add(.from, v) }
        if let v = invite.value(.to) { b.add(.to, v) }
        if let v = invite.value(.callID) { b.add(.callID, v) }
        let n = (try? invite.cseq.number) ?? 0
        b.add(.cseq, CSeq(number: n, method: .cancel).description)
        return b
    }

    // MARK: Timers

    private mutating func timers(now: Instant) -> [Action] {
        var out: [Action] = []
        if let r = okToRetransmit, now >= okNextSend {
            if now.milliseconds(since: okFirstSent) >= 64 * configuration.t1Milliseconds {
                // No ACK (RFC 3261 §13.3.1.4): confirm then end the dialog with BYE.
                okToRetransmit = nil
                if var dialog {
                    let bye = dialog.makeRequest(.bye)
                    self.dialog = dialog
                    out.append(.sendRequest(bye))
                }
                end(.ackTimeout)
                out.append(.terminated(.ackTimeout))
                return out
            }
            okInterval = min(okInterval * 2, configuration.t2Milliseconds)
            okNextSend = now.adding(milliseconds: okInterval)
            out.append(.retransmitResponse(r))
        }
        if var sender = prackSender {
            let a = sender.poll(now: now)
            prackSender = sender
            out += mapSender(a)
        }
        if var timer = sessionTimer, isEstablished {
            let due = timer.poll(now: now)
            sessionTimer = timer
            for a in due {
                switch a {
                case .refresh:
                    // UPDATE without a body when the peer allows it, else a re-INVITE with our last SDP (RFC 4028 §10).
                    let sent = peerAllowsUpdate ? sendUpdate(nil) : sendReinvite(localBody)
                    out += sent.filter { if case .commandRefused = $0 { false } else { true } }
                case .expired:
                    if var dialog {
                        let bye = dialog.makeRequest(.bye)
                        self.dialog = dialog
                        out.append(.sendRequest(bye))
                    }
                    end(.sessionExpired)
                    out.append(.terminated(.sessionExpired))
                    return out
                }
            }
        }
        if let at = retryAt, now >= at, let r = retry {
            retryAt = nil
            retry = nil
            switch r {
            case .reinvite(let offer): out += sendReinvite(offer)
            case .update(let offer): out += sendUpdate(offer)
            }
        }
        return out
    }
}

extension InviteSession.Event {
    fileprivate var isCommand: Bool {
        switch self {
        case .request, .response, .timer: false
        default: true
        }
    }
}
