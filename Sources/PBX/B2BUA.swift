import Foundation
import NIOCore
import SDP
import SIPCore
import SIPStack
import Store
import TandemBase

/// What happened to a call, for the event feed and logs.
public struct CallEvent: Sendable {
    public enum Kind: String, Sendable {
        case started, ringing, answered, ended
        /// A transfer (REFER) connected the transferee to the transfer target (B2BUA+Transfer.swift).
        case transferred
        /// Parties put on hold or taken off hold through the admin API (B2BUA+Hold.swift); `detail["party"]` says who.
        case held, resumed
        /// A transfer's target failed (busy, no answer, unknown); the call goes on (`details` says why).
        case transferFailed = "transfer_failed"
    }

    public var kind: Kind
    public var callID: String
    public var caller: String
    public var callee: String
    /// Set for `ended`: the record written to the store.
    public var record: CallDetailRecord?
    /// The tenant the call belongs to.
    public var tenantID: String
    public var occurredAt = Date()
    /// Extra facts for the event feed (`party` for `held`/`resumed`; a failed transfer's `transfer_target` and
    /// `sip_status`).
    public var details: [String: String] = [:]
}

/// A call not yet ended, as the admin API shows it (copied out of the loop-confined B2BUA).
public struct ActiveCallSnapshot: Sendable, Equatable {
    public enum State: String, Sendable { case ringing, answered }
    public var id: String
    public var tenantID: String
    public var caller: String
    /// The dialled number.
    public var callee: String
    public var state: State
    public var startedAt: Date
    public var answeredAt: Date?
    /// The extension being rung (or answered): the dialled one, or where forwarding or a transfer led.
    public var target: String
}

/// The back-to-back user agent for extension-to-extension calls of one tenant, with media anchored in the engine.
///
/// The caller's INVITE (digest-authenticated with 407 against the directory) is answered by Tandem; every live
/// binding of the callee gets its own INVITE in parallel (one dialog per branch, over the registration's flow when
/// the contact needs it); the first 2xx wins and the other branches are cancelled. The caller's SDP is anchored:
/// one media session per call with a leg per side, SDP rewritten onto the legs, the callee offered the caller's
/// codecs plus PCMU/PCMA when the engine can transcode, and each leg's negotiated format handed to the engine,
/// which relays when they match and transcodes when they differ. Outcomes: 486 busy relayed, 480 after the
/// ring timeout or when unregistered, 404 for an unknown extension, 487 after the caller's CANCEL, 488 when no
/// codec works, BYE from either side relayed, re-INVITE (hold/unhold) relayed with SDP rewriting. One CDR per
/// call, handed to `recordSink` when the call ends.
///
/// Call features: per-extension forwarding (always, busy, no answer with the extension's own ring time,
/// unavailable) and do-not-disturb (486, or the busy destination), followed by `ForwardingChain` with a visited
/// set and a hop limit (a loop ends with 482, too many forwards with 483, a Warning says why); the CDR lists every
/// extension and contact tried. The tenant's simultaneous-call limit refuses the call over it with 503 and a
/// Warning. Caller ID towards the callee from the caller's directory entry with P-Asserted-Identity, or anonymous
/// without PAI for `Privacy: id`. RFC 4028 session timers on both legs (422 below Min-SE; expiry ends the call
/// with BYE) and media-timeout hang-up (`handleMediaTimeout`) with their own CDR end reasons.
///
/// Threading: confined to the SIP endpoint's event loop (every entry point must be called there; engine
/// commands run in tasks and hop back). Control plane: allocates freely.
public final class B2BUA: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// How long the callee may ring before the caller gets 480 (milliseconds).
        public var ringTimeoutMilliseconds: Int64 = 30_000
        /// RFC 4028 session timers on both legs (120 s, Min-SE 90 s by default; 422 below it); nil: off.
        public var sessionTimer: SessionTimerPolicy? = SessionTimerPolicy()
        /// The most forwards followed for one call before it ends with 483.
        public var forwardHopLimit = 5
        /// How long an ended call's dialogs stay known for stray retransmissions (milliseconds).
        public var lingerMilliseconds: Int64 = 32_000
        /// The address put in Via and Contact when Tandem listens on a wildcard address (0.0.0.0 or ::); nil
        /// falls back to the receiving socket's address.
        public var advertisedHost: String?

        public init() {}
    }

    /// Counters of calls and outcomes.
    public struct Counters: Sendable, Hashable {
        public var invites = 0
        public var answered = 0
        public var ended = 0
        public var rejected = 0
        /// Calls refused because the tenant's simultaneous-call limit was reached.
        public var limitRejected = 0
        /// Forwards followed (always, busy, no answer, unavailable, DND).
        public var forwarded = 0
        /// Calls ended because forwarding looped or went past the hop limit.
        public var forwardLoops = 0
        /// Calls hung up because a leg received no RTP for the media timeout.
        public var mediaTimeouts = 0
        /// Calls ended because a session timer expired.
        public var sessionsExpired = 0
        /// Media timeouts reported before the answer (ringing, early media): ignored, the timer restarts on answer.
        public var mediaTimeoutsBeforeAnswer = 0
        /// INVITEs without SDP (late offer), and those whose ACK brought no usable answer (B2BUA+LateOffer.swift).
        public var lateOffers = 0
        public var lateOfferFailures = 0
        /// Calls whose caller's SDES-SRTP was terminated on its leg, and offers refused for their security
        /// (DTLS-SRTP, AVPF, SAVP without a usable key) with 488 (B2BUA+SRTP.swift).
        public var srtpCalls = 0
        public var securityRejected = 0
    }

    public let configuration: Configuration
    public internal(set) var counters = Counters()
    public let events: AsyncStream<CallEvent>

    let endpoint: SIPEndpoint
    let registrar: Registrar
    let media: any CallMediaService
    let recordSink: @Sendable (CallDetailRecord) -> Void
    let clock: any TimeSource
    let continuation: AsyncStream<CallEvent>.Continuation
    /// Tandem's listening addresses per transport (Via/Contact when the socket's own address is a wildcard).
    private var listeners: [SIPTransportKind: CallLocalAddress] = [:]
    var calls: [String: Call] = [:]
    /// SIP Call-ID of every dialog Tandem takes part in → its call and side.
    var dialogs: [String: (call: Call, side: CallSide)] = [:]
    /// Transfer dialogs outside any call's slots, by Call-ID: INVITEs to a blind-transfer target and the
    /// referrer's retired dialog (B2BUA+Transfer.swift).
    var transferDialogs: [String: TransferDialog] = [:]
    /// Call recordings (B2BUA+Recording.swift); nil: calls cannot be recorded. Set before `start()`.
    public var recorder: CallRecorder?
    /// Click-to-calls whose caller still rings, by call id (B2BUA+ClickToCall.swift).
    var clickToCalls: [String: ClickToCall] = [:]
    private var timer: RepeatedTask?

    public init(endpoint: SIPEndpoint, registrar: Registrar, media: any CallMediaService,
                configuration: Configuration = Configuration(), clock: any TimeSource = MonotonicClock(),
                recordSink: @escaping @Sendable (CallDetailRecord) -> Void) {
        self.endpoint = endpoint
        self.registrar = registrar
        self.media = media
        self.configuration = configuration
        self.clock = clock
        self.recordSink = recordSink
        (events, continuation) = AsyncStream.makeStream(of: CallEvent.self, bufferingPolicy: .bufferingNewest(4096))
    }

    deinit { continuation.finish() }

    /// Calls not yet ended.
    public var activeCalls: Int { calls.values.filter { $0.phase != .ended }.count }

    /// Every call not yet ended (call on the loop; the admin API hops here and copies this out).
    public func activeCallSnapshots() -> [ActiveCallSnapshot] {
        (calls.values.filter { $0.phase != .ended }.map { snapshot(of: $0) } + clickToCallSnapshots())
            .sorted { $0.startedAt < $1.startedAt }
    }

    /// Hangs up call `id` on an operator's request (call on the loop): BYE to answered parties, CANCEL to ringing
    /// branches, 480 to an unanswered caller; the CDR says `admin`, hung up by the system. False when no such call
    /// is active.
    @discardableResult
    public func hangUp(callID id: String) -> Bool {
        if hangUpClickToCall(id) { return true }  // B2BUA+ClickToCall.swift
        guard let call = calls[id], call.phase != .ended else { return false }
        call.warning = "hung up by the administrator"
        abort(call, status: 480, reason: .admin, by: .system)
        return true
    }

    /// Records where Tandem listens on `kind` (call on the loop, after binding).
    public func setListener(_ address: CallLocalAddress) { listeners[address.kind] = address }

    /// Starts the call timers (session retransmissions, ring timeout) on the endpoint's loop.
    public func start() {
        timer = endpoint.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(50), delay: .milliseconds(50)) { [weak self] _ in
            self?.tick()
        }
    }

    /// Stops the timers and ends every call (BYE or CANCEL to every party, media deleted).
    public func stop() {
        timer?.cancel()
        timer = nil
        for call in calls.values where call.phase != .ended { abort(call, status: 503, reason: .failed, by: .system) }
    }

    // MARK: Entry points (from the SIP service, on the loop)

    /// A new INVITE (no To tag).
    public func handleInvite(_ request: SIPMessage, source: SIPTransportSource) {
        counters.invites += 1
        let now = clock.now()
        let tenant: DirectoryTenant
        let user: DirectoryUser
        switch registrar.authenticateCall(request, source: source, now: now) {
        case .drop: return
        case .respond(let b):
            respond(b)
            return
        case .authenticated(let t, let u):
            tenant = t
            user = u
        }
        guard let callID = try? request.callID, let from = try? request.from, let calleeNumber = request.requestURI?.user else {
            return reject(request, 400)
        }
        if handleReplacingInvite(request, source: source, tenant: tenant, user: user) { return }  // B2BUA+Replaces.swift
        if dialogs[callID] != nil { return reject(request, 482) }  // a loop or a merged request
        // The tenant's simultaneous-call limit: the call over it is refused before anything is allocated.
        if let limit = tenant.maxConcurrentCalls, activeCalls(tenantID: tenant.id) >= limit {
            counters.limitRejected += 1
            writeUnconnectedRecord(tenant: tenant, caller: user.number, callee: calleeNumber, reason: .callLimit, status: 503)
            return reject(request, 503, warning: "simultaneous call limit of the tenant reached")
        }
        // Where the call goes: the dialled extension, or where its forwarding and DND lead.
        var chain = ForwardingChain(caller: user.number, hopLimit: configuration.forwardHopLimit)
        let step: ForwardingChain.Step
        do {
            step = try chain.start(number: calleeNumber, lookup: { try self.lookup(tenant, $0) },
                                   isRegistered: { !self.registrar.bindings(for: self.aor(tenant, $0), now: now).isEmpty })
        } catch {
            return reject(request, 500)
        }
        let callee: DirectoryUser
        switch step {
        case .end(let status, let reason, let warning):
            if reason == .forwardLoop { counters.forwardLoops += 1 }
            writeUnconnectedRecord(tenant: tenant, caller: user.number, callee: calleeNumber, reason: reason, status: status,
                                   targets: chain.tried.map(\.number))
            return reject(request, status, warning: warning.isEmpty ? nil : warning)
        case .ring(let number, _):
            guard let u = try? lookup(tenant, number) else { return reject(request, 500) }
            callee = u
        }
        // The caller's offer, or Tandem's template for a late offer (B2BUA+LateOffer.swift).
        let offer: CallAudioDescription, lateOffer: Bool
        switch readOffer(request) {
        case .success(let read):
            offer = read.offer
            lateOffer = read.late
        case .failure(let refusal):
            writeUnconnectedRecord(tenant: tenant, caller: user.number, callee: calleeNumber, reason: .incompatibleMedia, status: 488)
            return reject(request, 488, warning: refusal.warning)
        }
        let local = localAddress(for: source)
        var configuration = InviteSessionConfiguration()
        configuration.sessionTimer = self.configuration.sessionTimer
        let session: InviteSession
        let first: [InviteSession.Action]
        do {
            (session, first) = try InviteSession.incoming(request, localTag: TransactionLayer.makeTag(),
                                                          localContact: local.contact, configuration: configuration)
        } catch {
            return reject(request, 400)
        }
        if case .terminated = session.state {
            // Session-Expires below our Min-SE: the session already holds the 422 (RFC 4028 §8.1).
            for case .sendResponse(let b) in first { respond(b) }
            counters.rejected += 1
            return
        }
        let call = Call(id: UUID().uuidString.lowercased(), tenant: tenant, callerNumber: user.number,
                        calleeNumber: calleeNumber, callerUser: user, target: callee, chain: chain, callerFrom: from,
                        callerCallID: callID, callerSource: source, callerLocal: local, caller: session, offer: offer)
        call.privacyID = CallerIdentity.requestsPrivacy(request)
        call.offerState.isLateOffer = lateOffer
        let srtp = prepareCallerSRTP(call)  // B2BUA+SRTP.swift
        for number in chain.tried.map(\.number).dropLast() { call.targets.append(number) }
        if chain.hops > 0 { counters.forwarded += chain.hops }
        calls[call.id] = call
        dialogs[callID] = (call, .caller)
        continuation.yield(CallEvent(kind: .started, callID: call.id, caller: call.callerNumber, callee: call.calleeNumber,
                                     tenantID: call.tenant.id))

        // Anchor: a session with a leg per side, the caller's leg pointed at the caller.
        let media = media, loop = endpoint.eventLoop, id = call.id
        let ipv6 = offer.remote.rtp?.host.contains(":") ?? false
        call.enqueueMedia { [weak self] in
            do {
                try await media.createSession(id: id)
                let a = try await media.addLeg(session: id, ipv6: ipv6)
                let b = try await media.addLeg(session: id, ipv6: ipv6)
                try await media.updateLeg(a, remote: offer.remote)
                if let srtp { try await media.setSRTP(a, inbound: srtp.inbound, outbound: srtp.outbound) }
                loop.execute { self?.mediaReady(id, caller: a, callee: b) }
            } catch {
                loop.execute { self?.mediaFailed(id) }
            }
        }
    }

    /// A request with a To tag (BYE, re-INVITE, UPDATE, INFO, …). Returns false when no dialog matches (481).
    public func handleInDialog(_ request: SIPMessage) -> Bool {
        if let callID = try? request.callID, let d = transferDialogs[callID] { driveTransfer(d, .request(request)); return true }
        guard let callID = try? request.callID, let (call, side) = dialogs[callID] else { return false }
        feed(call, side, .request(request))
        return true
    }

    /// The ACK for a 2xx.
    public func handleACK(_ ack: SIPMessage) {
        if let callID = try? ack.callID, let d = transferDialogs[callID] { driveTransfer(d, .request(ack)); return }
        guard let callID = try? ack.callID, let (call, side) = dialogs[callID] else { return }
        feed(call, side, .request(ack))
    }

    /// The engine reported no RTP for its media timeout on a leg of call `id`'s session: both sides get BYE and
    /// the CDR says media timeout. Ignored before the answer (a callee may ring, without early media, for longer
    /// than the media timeout; the ring timeout bounds that phase).
    public func handleMediaTimeout(callID id: String) {
        guard let call = calls[id], call.phase != .ended else { return }
        guard call.phase == .answered else {
            // Ringing or early media: consumed; the legs' timers restart when the call is answered (acceptCaller).
            counters.mediaTimeoutsBeforeAnswer += 1
            return
        }
        counters.mediaTimeouts += 1
        call.warning = "media timeout"
        abort(call, status: 408, reason: .mediaTimeout, by: .system)
    }

    /// The caller cancelled its INVITE (the endpoint already answered the CANCEL).
    public func handleCancel(_ cancel: SIPMessage) {
        guard let callID = try? cancel.callID, let (call, side) = dialogs[callID], side == .caller else { return }
        guard call.phase == .preparing || call.phase == .ringing else { return }
        abort(call, status: 487, reason: .cancelled, by: .caller)
    }

    /// A response to a request Tandem sent.
    public func handleResponse(_ response: SIPMessage) {
        if let callID = try? response.callID, let d = transferDialogs[callID] { driveTransfer(d, .response(response)); return }
        guard let callID = try? response.callID, let (call, side) = dialogs[callID] else { return }
        feed(call, side, .response(response))
    }

    /// A client transaction ended; a branch INVITE that timed out or hit a transport error failed.
    public func handleTerminated(_ key: TransactionKey, reason: TransactionTerminationReason) {
        guard reason != .normal else { return }
        if transferTransactionEnded(key, reason: reason) { return }
        for call in calls.values {
            guard let branch = call.branches.first(where: { $0.inviteKey == key }) else { continue }
            if case .calling = branch.session.state {
                branchFailed(call, branch, status: reason == .timeout ? 408 : 503)
            }
            return
        }
    }

    // MARK: Setting up

    private func mediaReady(_ id: String, caller a: CallMediaLeg, callee b: CallMediaLeg) {
        guard let call = calls[id], call.phase == .preparing else { return }
        call.callerLeg = a
        call.calleeLeg = b
        call.phase = .ringing
        ring(call)
    }

    /// Rings every live contact of the call's current target, in parallel (a new generation of branches).
    func ring(_ call: Call) {
        guard call.phase == .ringing, let b = call.calleeLeg else { return }
        let target = call.target
        let bindings = registrar.bindings(for: aor(call.tenant, target.number), now: clock.now())
        guard !bindings.isEmpty else {
            // Unregistered since the chain looked (or never reachable): its unavailable rule, else 480.
            call.targets.append(target.number)
            return advance(call, after: .unavailable,
                           fallback: .end(status: 480, reason: .unavailable, warning: "not registered"))
        }
        let offer = CallSDP.offerToCallee(from: call.offer, leg: b, origin: call.nextOrigin(for: .branch(0), address: b.address),
                                          canTranscode: media.canTranscode)
        let body = SessionBody(bytes: Array(offer.serialized.utf8))
        let ringMilliseconds = target.forwarding.noAnswerSeconds.map { Int64($0) * 1000 } ?? configuration.ringTimeoutMilliseconds
        call.ringDeadline = clock.now().adding(milliseconds: ringMilliseconds)
        let identity = CallerIdentity(caller: call.callerUser, domain: call.tenant.domain,
                                      offeredDisplayName: call.callerFrom.displayName, privacy: call.privacyID)
        var started = 0
        for binding in bindings {
            guard let destination = Self.destination(of: binding) else { continue }
            let local = localAddress(for: binding.source, kind: destination.kind)
            let branchCallID = SecureRandom.identifier() + "@tandem"
            var invite = SIPMessageBuilder(method: .invite, uri: binding.uri)
            invite.add(.via, via(local))
            invite.add(.maxForwards, "70")
            var from = identity.from
            from.parameters["tag"] = TransactionLayer.makeTag()
            invite.add(.from, from.description)
            invite.add(.to, NameAddress(uri: SIPURI(user: target.number, host: call.tenant.domain)).description)
            invite.add(.callID, branchCallID)
            invite.add(.cseq, CSeq(number: 1, method: .invite).description)
            invite.add(.contact, local.contact.description)
            if let pai = identity.assertedIdentity { invite.add(name: "P-Asserted-Identity", value: pai.description) }
            invite.add(name: "Allow", value: "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY")
            if let policy = configuration.sessionTimer {
                SessionTimer.addRequestHeaders(to: &invite, policy: policy)
            }
            body.apply(to: &invite)
            guard let message = try? SIPMessage(parsing: invite.bytes()) else { continue }
            var configuration = InviteSessionConfiguration()
            configuration.sessionTimer = self.configuration.sessionTimer
            let branch = CallBranch(index: call.branches.count,
                                    session: InviteSession(outgoingInvite: message, localContact: local.contact,
                                                           configuration: configuration),
                                    callID: branchCallID, destination: destination, local: local, target: binding.uri,
                                    generation: call.generation)
            call.branches.append(branch)
            call.targets.append(target.number + " " + binding.uri.description)
            dialogs[branchCallID] = (call, .branch(branch.index))
            started += 1
            endpoint.send(request: message, to: destination).whenComplete { [weak self] result in
                guard let self else { return }
                switch result {
                case .success(let key): branch.inviteKey = key
                case .failure: self.branchFailed(call, branch, status: 503)
                }
            }
        }
        if started == 0 { abort(call, status: 480, reason: .unavailable, by: .system) }
    }

    /// The current target is busy or did not answer: cancel what still rings of it and follow its forwarding
    /// rule, or end the call with `fallback`.
    private func advance(_ call: Call, after condition: ForwardCondition, fallback: ForwardingChain.Step) {
        guard call.phase == .ringing, call.winner == nil else { return }
        for branch in call.currentBranches where !branch.isTerminated { feed(call, .branch(branch.index), .hangup) }
        call.ringDeadline = nil
        let tenant = call.tenant, now = clock.now()
        let step: ForwardingChain.Step
        do {
            step = try call.chain.next(after: condition, current: call.target, fallback: fallback,
                                       lookup: { try self.lookup(tenant, $0) },
                                       isRegistered: { !self.registrar.bindings(for: self.aor(tenant, $0), now: now).isEmpty })
        } catch {
            return abort(call, status: 500, reason: .failed, by: .system)
        }
        switch step {
        case .end(let status, let reason, let warning):
            if reason == .forwardLoop { counters.forwardLoops += 1 }
            // Extensions the chain passed through without ringing them.
            let rung = Set(call.targets.map { String($0.split(separator: " ").first ?? "") })
            for entry in call.chain.tried where !rung.contains(entry.number) { call.targets.append(entry.number) }
            if !warning.isEmpty { call.warning = warning }
            abort(call, status: status, reason: reason, by: reason == .busy || reason == .noAnswer ? .callee : .system)
        case .ring(let number, _):
            guard let next = try? lookup(tenant, number) else { return abort(call, status: 500, reason: .failed, by: .system) }
            let rung = Set(call.targets.map { String($0.split(separator: " ").first ?? "") })
            for entry in call.chain.tried.dropLast() where !rung.contains(entry.number) { call.targets.append(entry.number) }
            counters.forwarded += 1
            call.generation += 1
            call.earlyBranch = nil
            call.target = next
            ring(call)
        }
    }

    private func lookup(_ tenant: DirectoryTenant, _ number: String) throws -> DirectoryUser? {
        try registrar.directory.user(tenantID: tenant.id, number: number)
    }

    private func aor(_ tenant: DirectoryTenant, _ number: String) -> AddressOfRecord {
        AddressOfRecord(tenantID: tenant.id, user: number, domain: tenant.domain)
    }

    /// Calls of `tenantID` not yet ended.
    public func activeCalls(tenantID: String) -> Int {
        calls.values.reduce(0) { $0 + ($1.tenant.id == tenantID && $1.phase != .ended ? 1 : 0) }
    }

    private func mediaFailed(_ id: String) {
        guard let call = calls[id], call.phase == .preparing else { return }
        abort(call, status: 503, reason: .failed, by: .system)
    }

    // MARK: Sessions

    private func session(_ call: Call, _ side: CallSide) -> InviteSession? {
        switch side {
        case .caller: return call.caller
        case .branch(let i): return call.branches.indices.contains(i) ? call.branches[i].session : nil
        }
    }

    /// Feeds an event to one side's session and carries out what it asks.
    @discardableResult
    func feed(_ call: Call, _ side: CallSide, _ event: InviteSession.Event) -> [InviteSession.Action] {
        let now = clock.now()
        let actions: [InviteSession.Action]
        switch side {
        case .caller:
            actions = call.caller.handle(event, now: now)
        case .branch(let i):
            guard call.branches.indices.contains(i) else { return [] }
            actions = call.branches[i].session.handle(event, now: now)
        }
        perform(actions, call, side)
        return actions
    }

    private func perform(_ actions: [InviteSession.Action], _ call: Call, _ side: CallSide) {
        for action in actions {
            switch action {
            case .sendResponse(var b):
                if side == .caller, let warning = call.warning, case .response(let code, _) = b.startLine, code >= 300 {
                    b.add(name: "Warning", value: "399 tandem \"" + warning + "\"")
                }
                respond(b)
            case .retransmitResponse(let b):
                // The INVITE server transaction is gone after a 2xx; retransmissions go straight to the caller.
                if let m = try? SIPMessage(parsing: b.bytes()) { endpoint.sendStateless(m, to: destination(call, side)) }
            case .sendRequest(var b):
                let local = local(call, side)
                if b.fields.first(where: { SIPHeaderName($0.name) == .via }) == nil {
                    b.fields.insert(SIPHeaderField(name: "Via", value: via(local)), at: 0)
                }
                if let m = try? SIPMessage(parsing: b.bytes()) {
                    let isInvite = m.method == .invite
                    endpoint.send(request: m, to: destination(call, side)).whenComplete { [weak self] result in
                        if case .failure = result, isInvite { self?.feedFailure(call, side) }
                    }
                }
            case .sendACK(var b):
                b.fields.insert(SIPHeaderField(name: "Via", value: via(local(call, side))), at: 0)
                if let m = try? SIPMessage(parsing: b.bytes()) { endpoint.sendStateless(m, to: destination(call, side)) }
            case .offerReceived(let body):
                offerReceived(call, side, body)
            case .answerReceived(let body):
                answerReceived(call, side, body)
            case .offerRequested:
                // A re-INVITE without SDP: offer the side its current stream again.
                if let body = currentDescription(call, side, direction: .sendrecv) { feed(call, side, .accept(body: body)) }
            case .offerRejected(let code):
                if isLateAnswer(call, side) { lateAnswerReceived(call, nil); continue }  // the ACK had no answer
                if holdOfferRejected(call, side, code: code) { continue }  // B2BUA+Hold.swift
                if let from = call.reinviteFrom, from != side, code != 491 {
                    call.reinviteFrom = nil
                    feed(call, from, .reject(statusCode: code >= 300 ? code : 488))
                }
            case .retryScheduled, .commandRefused:
                break
            case .provisionalReceived(let code, let body):
                if case .branch(let i) = side { provisional(call, i, code: code, body: body) }
            case .established:
                established(call, side)
            case .inDialogRequest(let m):
                if m.method == .refer { refer(m, call, side); continue }  // B2BUA+Transfer.swift
                // INFO, NOTIFY, MESSAGE…: acknowledged, not relayed yet.
                if let s = session(call, side), let d = s.dialog {
                    respond(d.makeResponse(to: m, statusCode: m.method == .info ? 200 : 501))
                }
            case .terminated(let reason):
                terminated(call, side, reason)
            }
        }
    }

    private func feedFailure(_ call: Call, _ side: CallSide) {
        guard case .branch(let i) = side, call.branches.indices.contains(i) else { return }
        let branch = call.branches[i]
        if case .calling = branch.session.state { branchFailed(call, branch, status: 503) }
    }

    // MARK: Branch progress

    private func provisional(_ call: Call, _ index: Int, code: Int, body: SessionBody?) {
        guard call.phase == .ringing, call.winner == nil else { return }
        let branch = call.branches[index]
        guard branch.generation == call.generation else { return }
        if code == 180 {
            continuation.yield(CallEvent(kind: .ringing, callID: call.id, caller: call.callerNumber, callee: call.calleeNumber,
                                         tenantID: call.tenant.id))
        }
        // Early media: the first branch with an SDP answer is what the caller hears.
        if let body, body.isSessionDescription, call.earlyBranch == nil || call.earlyBranch == index,
           let text = String(bytes: body.bytes, encoding: .utf8), let answer = try? CallAudioDescription(parsing: text),
           let answerToCaller = applyAnswer(call, branch: branch, answer: answer) {
            call.earlyBranch = index
            // A late-offer caller gets no SDP in an unreliable 18x (it would be an offer; B2BUA+LateOffer.swift).
            feed(call, .caller, .provisional(statusCode: code, body: call.offerState.isLateOffer ? nil : answerToCaller,
                                             reliable: false))
            return
        }
        feed(call, .caller, .provisional(statusCode: code == 183 ? 183 : 180, body: nil, reliable: false))
    }

    private func established(_ call: Call, _ side: CallSide) {
        switch side {
        case .caller:
            break  // the caller's ACK: the call is fully up
        case .branch(let i):
            let branch = call.branches[i]
            guard call.phase == .ringing, call.winner == nil, branch.generation == call.generation else {
                // A second 2xx (crossed our CANCEL): hang this branch up.
                if call.winner != i { feed(call, side, .hangup) }
                return
            }
            call.winner = i
            call.phase = .answered
            call.answeredAt = Date()
            call.ringDeadline = nil
            for other in call.branches where other.index != i && !other.isTerminated { feed(call, .branch(other.index), .hangup) }
            // The 2xx's SDP normally follows as `answerReceived`; without one, the early answer stands.
            if branch.answer != nil, call.earlyBranch == i { acceptCaller(call) }
        }
    }

    private func answerReceived(_ call: Call, _ side: CallSide, _ body: SessionBody) {
        if isLateAnswer(call, side) { return lateAnswerReceived(call, body) }  // B2BUA+LateOffer.swift
        holdAnswerReceived(call, side, body)  // B2BUA+Hold.swift: the answer to an admin hold/unhold re-INVITE
        guard let text = String(bytes: body.bytes, encoding: .utf8), let answer = try? CallAudioDescription(parsing: text) else {
            if case .branch = side, call.phase == .answered, !call.acceptedCaller {
                abort(call, status: 488, reason: .incompatibleMedia, by: .system)
            }
            return
        }
        switch side {
        case .branch(let i):
            let branch = call.branches[i]
            if call.winner == i, !call.acceptedCaller {
                guard applyAnswer(call, branch: branch, answer: answer) != nil else {
                    abort(call, status: 488, reason: .incompatibleMedia, by: .system)
                    return
                }
                acceptCaller(call)
            } else if call.winner == i, call.reinviteFrom == .caller {
                // The callee answered the caller's relayed re-INVITE.
                call.reinviteFrom = nil
                updateRemote(call, leg: call.calleeLeg, remote: answer.remote)
                if let plan = call.plan, let leg = call.callerLeg {
                    let sdp = CallSDP.description(format: plan.caller, leg: leg, direction: answer.remote.direction,
                                                  origin: call.nextOrigin(for: .caller, address: leg.address),
                                                  crypto: srtpCrypto(call, .caller))
                    feed(call, .caller, .accept(body: SessionBody(bytes: Array(sdp.serialized.utf8))))
                }
            } else if call.winner == i {
                updateRemote(call, leg: call.calleeLeg, remote: answer.remote)
            }
        case .caller:
            if call.reinviteFrom != nil, case .branch(let i)? = call.reinviteFrom, call.winner == i {
                call.reinviteFrom = nil
                updateRemote(call, leg: call.callerLeg, remote: answer.remote)
                if let plan = call.plan, let leg = call.calleeLeg {
                    let sdp = CallSDP.description(format: plan.callee, leg: leg, direction: answer.remote.direction,
                                                  origin: call.nextOrigin(for: .branch(i), address: leg.address))
                    feed(call, .branch(i), .accept(body: SessionBody(bytes: Array(sdp.serialized.utf8))))
                }
            } else {
                updateRemote(call, leg: call.callerLeg, remote: answer.remote)
            }
        }
    }

    /// Takes a branch's answer (early or final): plans the codecs, points the callee leg at it, links the legs and
    /// sets their formats. Returns the answer for the caller, or nil when no codec works.
    private func applyAnswer(_ call: Call, branch: CallBranch, answer: CallAudioDescription) -> SessionBody? {
        guard let a = call.callerLeg, let b = call.calleeLeg,
              let plan = CallSDP.plan(offer: call.offer, answer: answer, canTranscode: media.canTranscode) else { return nil }
        branch.answer = answer
        let firstPlan = call.plan == nil
        let changed = call.plan != plan
        call.plan = plan
        let sdp = CallSDP.description(format: plan.caller, leg: a, direction: answer.remote.direction,
                                      origin: call.nextOrigin(for: .caller, address: a.address), template: call.offer,
                                      crypto: srtpCrypto(call, .caller))
        let media = media, remote = answer.remote, link = !call.linked
        call.linked = true
        call.enqueueMedia {
            do {
                try await media.updateLeg(b, remote: remote)
                if link { try await media.link(a, b) }
                if changed || firstPlan, plan.engineKnowsCodecs {
                    try await media.setAudioFormat(plan.caller, for: a)
                    try await media.setAudioFormat(plan.callee, for: b)
                }
            } catch {
                // The call goes on without (correct) media; the CDR still records the plan.
            }
        }
        return SessionBody(bytes: Array(sdp.serialized.utf8))
    }

    private func acceptCaller(_ call: Call) {
        guard !call.acceptedCaller, let i = call.winner, let answer = call.branches[i].answer,
              let plan = call.plan, let a = call.callerLeg else { return }
        call.acceptedCaller = true
        counters.answered += 1
        // Both legs re-pointed: their media timeouts count from the answer, not from the ringing.
        if let b = call.calleeLeg {
            let media = media, callerRemote = call.offer.remote, calleeRemote = answer.remote, late = call.offerState.isLateOffer
            call.enqueueMedia {
                if !late { try? await media.updateLeg(a, remote: callerRemote) }
                try? await media.updateLeg(b, remote: calleeRemote)
            }
        }
        if call.offerState.isLateOffer {
            // The 2xx carries Tandem's offer; the ACK brings the answer (B2BUA+LateOffer.swift).
            feed(call, .caller, .accept(body: lateOfferToCaller(call, plan: plan, leg: a, direction: answer.remote.direction)))
        } else {
            let sdp = CallSDP.description(format: plan.caller, leg: a, direction: answer.remote.direction,
                                          origin: call.nextOrigin(for: .caller, address: a.address), template: call.offer,
                                          crypto: srtpCrypto(call, .caller))
            feed(call, .caller, .accept(body: SessionBody(bytes: Array(sdp.serialized.utf8))))
        }
        continuation.yield(CallEvent(kind: .answered, callID: call.id, caller: call.callerNumber, callee: call.calleeNumber,
                                     tenantID: call.tenant.id))
        recordIfWanted(call)  // B2BUA+Recording.swift
    }

    private func updateRemote(_ call: Call, leg: CallMediaLeg?, remote: CallMediaRemote) {
        guard let leg else { return }
        let media = media
        call.enqueueMedia { try? await media.updateLeg(leg, remote: remote) }
    }

    // MARK: Re-INVITE relay (hold/unhold)

    private func offerReceived(_ call: Call, _ side: CallSide, _ body: SessionBody) {
        // The initial INVITE's offer is handled in `handleInvite`.
        guard call.phase == .answered, call.acceptedCaller, let w = call.winner else { return }
        guard let text = String(bytes: body.bytes, encoding: .utf8), let offer = try? CallAudioDescription(parsing: text),
              let plan = call.plan else {
            feed(call, side, .rejectOffer)
            return
        }
        let other: CallSide = side == .caller ? .branch(w) : .caller
        if side == .caller { callerReofferedSRTP(call, offer) }  // B2BUA+SRTP.swift
        updateRemote(call, leg: side == .caller ? call.callerLeg : call.calleeLeg, remote: offer.remote)
        guard let leg = other == .caller ? call.callerLeg : call.calleeLeg else { return }
        let format = other == .caller ? plan.caller : plan.callee
        let sdp = CallSDP.description(format: format, leg: leg, direction: holdAdjusted(call, other, offer.remote.direction),
                                      origin: call.nextOrigin(for: other, address: leg.address), crypto: srtpCrypto(call, other))
        call.reinviteFrom = side
        let actions = feed(call, other, .reinvite(offer: SessionBody(bytes: Array(sdp.serialized.utf8))))
        if actions.contains(where: { if case .commandRefused = $0 { true } else { false } }) {
            call.reinviteFrom = nil
            feed(call, side, .reject(statusCode: 491))
        }
    }

    private func currentDescription(_ call: Call, _ side: CallSide, direction: SDPDirection) -> SessionBody? {
        guard let plan = call.plan, let leg = side == .caller ? call.callerLeg : call.calleeLeg else { return nil }
        let format = side == .caller ? plan.caller : plan.callee
        let sdp = CallSDP.description(format: format, leg: leg, direction: direction,
                                      origin: call.nextOrigin(for: side, address: leg.address), crypto: srtpCrypto(call, side))
        return SessionBody(bytes: Array(sdp.serialized.utf8))
    }

    // MARK: Endings

    private func terminated(_ call: Call, _ side: CallSide, _ reason: InviteSession.TerminationReason) {
        if referrerLeftDuringTransfer(call, side, reason) { return }  // B2BUA+Transfer.swift
        switch side {
        case .caller:
            guard call.phase != .ended else { return }
            switch reason {
            case .remoteBye:
                finish(call, reason: .normal, by: .caller, status: nil)
            case .sessionExpired:
                counters.sessionsExpired += 1
                finish(call, reason: .sessionExpired, by: .system, status: nil)
            case .ackTimeout, .dialogGone:
                finish(call, reason: call.acceptedCaller ? .normal : .failed, by: .system, status: nil)
            case .localBye, .cancelled, .rejected, .prackTimeout:
                break  // Tandem ended it; `finish` or `abort` is already running
            }
        case .branch(let i):
            let branch = call.branches[i]
            branch.isTerminated = true
            if call.winner == i {
                guard call.phase != .ended else { return }
                switch reason {
                case .sessionExpired:
                    counters.sessionsExpired += 1
                    finish(call, reason: .sessionExpired, by: .system, status: nil)
                case .remoteBye, .dialogGone, .ackTimeout:
                    finish(call, reason: .normal, by: .callee, status: nil)
                case .rejected(let code):
                    finish(call, reason: .failed, by: .callee, status: code)
                default:
                    break
                }
                return
            }
            switch reason {
            case .rejected(let code): branchFailed(call, branch, status: code)
            case .cancelled: branchFailed(call, branch, status: 487)
            default: branchFailed(call, branch, status: 500)
            }
        }
    }

    /// A branch ended without answering; when it was the last one of the current target, the target is busy
    /// (its busy rule applies) or unavailable, and the caller gets the best final status.
    private func branchFailed(_ call: Call, _ branch: CallBranch, status: Int) {
        branch.isTerminated = true
        if branch.failureStatus == nil { branch.failureStatus = status }
        guard call.phase == .ringing, call.winner == nil, branch.generation == call.generation else { return }
        // 6xx ends the search at once (RFC 3261 §16.7 step 5).
        if status >= 600 {
            abort(call, status: status, reason: status == 600 ? .busy : .rejected, by: .callee)
            return
        }
        let current = call.currentBranches
        guard current.allSatisfy({ $0.isTerminated }) else { return }
        let statuses = current.compactMap(\.failureStatus)
        let final: Int
        if statuses.contains(486) {
            final = 486
        } else if let other = statuses.first(where: { $0 != 487 && $0 != 408 && $0 != 503 && $0 != 500 }) {
            final = other
        } else {
            final = 480
        }
        let reason: CallDetailRecord.EndReason = final == 486 ? .busy : final == 480 ? .unavailable : .rejected
        let fallback = ForwardingChain.Step.end(status: final, reason: reason, warning: "")
        switch final {
        case 486: advance(call, after: .busy, fallback: fallback)
        case 480: advance(call, after: .unavailable, fallback: fallback)
        default: abort(call, status: final, reason: reason, by: .callee)
        }
    }

    /// Ends an unanswered (or failing) call: the caller gets `status` (or BYE if it was answered), every branch
    /// is cancelled or hung up.
    private func abort(_ call: Call, status: Int, reason: CallDetailRecord.EndReason, by party: CallDetailRecord.Party) {
        guard call.phase != .ended else { return }
        if call.acceptedCaller {
            feed(call, .caller, .hangup)
        } else if case .incoming = call.caller.state {
            feed(call, .caller, .reject(statusCode: status))
        }
        finish(call, reason: reason, by: party, status: call.acceptedCaller ? nil : status)
    }

    /// Ends the call: hangs up whatever is still up, deletes the media session (every port returns) and writes
    /// the CDR.
    func finish(_ call: Call, reason: CallDetailRecord.EndReason, by party: CallDetailRecord.Party, status: Int?) {
        guard call.phase != .ended else { return }
        let reason = transferEnding(call, reason)  // B2BUA+Transfer.swift
        call.phase = .ended
        call.ringDeadline = nil
        holdCallEnded(call)  // B2BUA+Hold.swift
        switch call.caller.state {
        case .connected, .waitingForACK: feed(call, .caller, .hangup)
        case .incoming: feed(call, .caller, .reject(statusCode: status ?? 500))
        default: break
        }
        for branch in call.branches where !branch.isTerminated {
            switch branch.session.state {
            case .terminated: break
            default: feed(call, .branch(branch.index), .hangup)
            }
        }
        if status != nil { counters.rejected += 1 }
        counters.ended += 1
        finishRecording(call)  // B2BUA+Recording.swift: before the session goes
        let media = media, id = call.id
        call.enqueueMedia { await media.deleteSession(id: id) }
        var record = CallDetailRecord(
            id: call.id, tenantID: call.tenant.id, caller: call.callerNumber, callee: call.calleeNumber,
            targets: call.targets, startedAt: call.startedAt, answeredAt: call.answeredAt, endedAt: Date(),
            endReason: reason, sipStatus: status, hungUpBy: party, callerCodec: call.plan?.caller.label,
            calleeCodec: call.plan?.callee.label, transcoded: call.plan?.transcodes ?? false)
        addTransferDetails(call, to: &record)  // B2BUA+APITransfer.swift
        recordSink(record)
        continuation.yield(CallEvent(kind: .ended, callID: call.id, caller: call.callerNumber, callee: call.calleeNumber,
                                     record: record, tenantID: call.tenant.id))
        // Keep the dialogs known for a while: retransmitted BYEs, 2xx crossing a CANCEL, late 487s.
        endpoint.eventLoop.scheduleTask(in: .milliseconds(configuration.lingerMilliseconds)) { [weak self] in
            guard let self else { return }
            if self.calls[call.id] === call { self.calls[call.id] = nil }
            if self.dialogs[call.callerCallID]?.call === call { self.dialogs[call.callerCallID] = nil }
            for b in call.branches where self.dialogs[b.callID]?.call === call { self.dialogs[b.callID] = nil }
        }
    }

    private func writeUnconnectedRecord(tenant: DirectoryTenant, caller: String, callee: String,
                                        reason: CallDetailRecord.EndReason, status: Int, targets: [String] = []) {
        counters.rejected += 1
        let now = Date()
        let record = CallDetailRecord(id: UUID().uuidString.lowercased(), tenantID: tenant.id, caller: caller, callee: callee,
                                      targets: targets, startedAt: now, answeredAt: nil, endedAt: now, endReason: reason,
                                      sipStatus: status, hungUpBy: .system, callerCodec: nil, calleeCodec: nil,
                                      transcoded: false)
        recordSink(record)
        continuation.yield(CallEvent(kind: .ended, callID: record.id, caller: caller, callee: callee, record: record,
                                     tenantID: tenant.id))
    }

    // MARK: Timers

    private func tick() {
        let now = clock.now()
        var settled: [String] = []
        for call in calls.values {
            if call.phase == .ended {
                // An ended call stays in `calls` only while one of its sessions still has a timer (a 2xx to
                // retransmit until its ACK, then the BYE); its dialogs stay known through `dialogs` for the
                // linger time. Keeping every ended call here for 32 s made each tick and each INVITE's
                // tenant-limit count scan thousands of finished calls at a few hundred calls per second.
                if call.caller.nextDeadline == nil, call.branches.allSatisfy({ $0.session.nextDeadline == nil }) {
                    settled.append(call.id)
                    continue
                }
            }
            if let deadline = call.ringDeadline, now >= deadline, call.phase == .ringing {
                call.ringDeadline = nil
                advance(call, after: .noAnswer, fallback: .end(status: 480, reason: .noAnswer, warning: ""))
                continue
            }
            if let d = call.caller.nextDeadline, now >= d { feed(call, .caller, .timer) }
            for b in call.branches {
                if let d = b.session.nextDeadline, now >= d { feed(call, .branch(b.index), .timer) }
            }
        }
        for id in settled { calls[id] = nil }
    }

    // MARK: Addressing

    func respond(_ b: SIPMessageBuilder) {
        if let m = try? SIPMessage(parsing: b.bytes()) { endpoint.respond(m) }
    }

    private func reject(_ request: SIPMessage, _ status: Int, warning: String? = nil) {
        if var b = try? SIPMessageBuilder.response(to: request, statusCode: status, toTag: TransactionLayer.makeTag()) {
            if let warning { b.add(name: "Warning", value: "399 tandem \"" + warning + "\"") }
            respond(b)
        }
    }

    func destination(_ call: Call, _ side: CallSide) -> SIPTransportDestination {
        switch side {
        case .caller: return call.callerDestination
        case .branch(let i): return call.branches[i].destination
        }
    }

    private func local(_ call: Call, _ side: CallSide) -> CallLocalAddress {
        switch side {
        case .caller: return call.callerLocal
        case .branch(let i): return call.branches[i].local
        }
    }

    func via(_ local: CallLocalAddress) -> String {
        "SIP/2.0/" + local.kind.viaToken + " " + local.hostPort + ";branch=" + TransactionLayer.makeBranch() + ";rport"
    }

    /// Tandem's address as the peer on `source` reaches it: the listener's, or the socket's own when the listener
    /// is a wildcard.
    func localAddress(for source: SIPTransportSource, kind: SIPTransportKind? = nil) -> CallLocalAddress {
        let kind = kind ?? source.kind
        if let l = listeners[kind], l.host != "0.0.0.0", l.host != "::" { return l }
        let own = source.local?.ipAddress.flatMap { $0 == "0.0.0.0" || $0 == "::" ? nil : $0 }
        let host = configuration.advertisedHost ?? own ?? "127.0.0.1"
        let port = listeners[kind]?.port ?? source.local?.port ?? 5060
        return CallLocalAddress(kind: kind, host: host, port: port)
    }

    /// Where a binding is reached: its flow, or its Contact when that is a numeric address.
    static func destination(of binding: ContactBinding) -> SIPTransportDestination? {
        switch binding.route {
        case .flow(let source):
            return SIPTransportDestination(kind: source.kind, address: source.remote)
        case .contact(let uri):
            let kind: SIPTransportKind
            switch uri.transport {
            case "tcp": kind = uri.scheme == .sips ? .tls : .tcp
            case "tls": kind = .tls
            case "ws": kind = .ws
            case "wss": kind = .wss
            default: kind = uri.scheme == .sips ? .tls : .udp
            }
            var host = uri.host
            if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
            let port = Int(uri.port ?? (kind == .tls ? 5061 : 5060))
            guard let address = try? SocketAddress(ipAddress: host, port: port) else { return nil }
            return SIPTransportDestination(kind: kind, address: address, serverName: nil)
        }
    }
}
