import Foundation
import NIOCore
import SDP
import SIPCore
import SIPStack
import Store
import TandemBase

/// What became of a click-to-call request.
public enum ClickToCallOutcome: Sendable, Equatable {
    /// The caller's phones are being rung (after their media legs are allocated).
    case started(ActiveCallSnapshot)
    /// The caller is not an enabled extension of the tenant.
    case unknownCaller
    /// The caller has no live registration.
    case callerUnavailable
    /// The tenant's simultaneous-call limit is reached.
    case callLimit
}

/// One click-to-call while the caller's phones ring: Tandem is the UAC towards every live contact of the
/// caller, with an offer from leg A of a new media session. Confined to the SIP endpoint's event loop.
final class ClickToCall: @unchecked Sendable {
    let id: String
    let tenant: DirectoryTenant
    let caller: DirectoryUser
    let calleeNumber: String
    let startedAt = Date()
    /// The INVITEs to the caller's contacts (routed like transfer dialogs, role `clickToCallCaller`).
    var branches: [TransferDialog] = []
    var winner: TransferDialog?
    var callerLeg: CallMediaLeg?
    var calleeLeg: CallMediaLeg?
    var ringTimer: Scheduled<Void>?
    var timedOut = false
    var ended = false
    /// Contacts rung, for the CDR's targets.
    var targets: [String] = []

    init(id: String, tenant: DirectoryTenant, caller: DirectoryUser, calleeNumber: String) {
        self.id = id
        self.tenant = tenant
        self.caller = caller
        self.calleeNumber = calleeNumber
    }
}

/// Click-to-call (admin API `POST /calls`): Tandem rings the caller's registered contacts first (From shows the
/// callee, so the phone displays whom it will call), offering a leg of a new media session. When the caller
/// answers, its dialog becomes the caller slot of an ordinary call (its answer stands for the caller's offer),
/// and the callee is called exactly as if the caller had dialled it: forwarding, DND, limits and the CDR rules of
/// `handleInvite` apply, and the legs are linked when the callee answers. The caller not answering within the
/// ring timeout ends it with CDR `no_answer`; busy/declined with `busy`/`rejected`. Confined to the loop.
extension B2BUA {
    /// Starts a click-to-call from extension `callerNumber` of the tenant at `tenantDomain` to `calleeNumber`
    /// (call on the loop).
    public func clickToCall(tenantDomain: String, caller callerNumber: String, callee calleeNumber: String) -> ClickToCallOutcome {
        let now = clock.now()
        let found: (DirectoryTenant, DirectoryUser)?
        do {
            found = try registrar.directory.tenant(domain: tenantDomain).flatMap { t in
                try registrar.directory.user(tenantID: t.id, number: callerNumber).map { (t, $0) }
            }
        } catch {
            found = nil
        }
        guard let (tenant, user) = found, user.isEnabled else { return .unknownCaller }
        let aor = AddressOfRecord(tenantID: tenant.id, user: user.number, domain: tenant.domain)
        guard !registrar.bindings(for: aor, now: now).isEmpty else { return .callerUnavailable }
        if let limit = tenant.maxConcurrentCalls, activeCalls(tenantID: tenant.id) + clickToCalls.count >= limit {
            counters.limitRejected += 1
            return .callLimit
        }
        let c = ClickToCall(id: UUID().uuidString.lowercased(), tenant: tenant, caller: user, calleeNumber: calleeNumber)
        clickToCalls[c.id] = c
        continuation.yield(CallEvent(kind: .started, callID: c.id, caller: user.number, callee: calleeNumber,
                                     tenantID: tenant.id))
        let media = media, loop = endpoint.eventLoop, id = c.id
        Task { [weak self] in
            do {
                try await media.createSession(id: id)
                let a = try await media.addLeg(session: id, ipv6: false)
                let b = try await media.addLeg(session: id, ipv6: false)
                loop.execute { self?.clickToCallMediaReady(c, a, b) }
            } catch {
                await media.deleteSession(id: id)
                loop.execute { self?.endClickToCall(c, reason: .failed, by: .system, status: 503) }
            }
        }
        return .started(snapshot(of: c))
    }

    func snapshot(of c: ClickToCall) -> ActiveCallSnapshot {
        ActiveCallSnapshot(id: c.id, tenantID: c.tenant.id, caller: c.caller.number, callee: c.calleeNumber, state: .ringing,
                           startedAt: c.startedAt, answeredAt: nil, target: c.caller.number)
    }

    /// Click-to-calls whose caller is still ringing.
    func clickToCallSnapshots() -> [ActiveCallSnapshot] {
        clickToCalls.values.filter { !$0.ended }.map { snapshot(of: $0) }
    }

    /// Hangs up a click-to-call whose caller still rings (admin API); false when `id` is none.
    func hangUpClickToCall(_ id: String) -> Bool {
        guard let c = clickToCalls[id], !c.ended else { return false }
        endClickToCall(c, reason: .admin, by: .system, status: 487)
        return true
    }

    /// The offer to the caller's phone: G.711 and telephone-event on leg A.
    static func clickToCallOffer(leg: CallMediaLeg) -> SessionBody {
        let ip = leg.address.contains(":") ? "IP6" : "IP4"
        let sessionID = String(UInt64.random(in: 1_000_000...9_999_999_999))
        let text = "v=0\r\no=tandem " + sessionID + " 1 IN " + ip + " " + leg.address + "\r\ns=tandem\r\nc=IN " + ip + " "
            + leg.address + "\r\nt=0 0\r\nm=audio " + String(leg.rtpPort) + " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
            + "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        return SessionBody(bytes: Array(text.utf8))
    }

    private func clickToCallMediaReady(_ c: ClickToCall, _ a: CallMediaLeg, _ b: CallMediaLeg) {
        c.callerLeg = a
        c.calleeLeg = b
        guard !c.ended else {
            let media = media, id = c.id
            Task { await media.deleteSession(id: id) }
            return
        }
        let aor = AddressOfRecord(tenantID: c.tenant.id, user: c.caller.number, domain: c.tenant.domain)
        let body = Self.clickToCallOffer(leg: a)
        for binding in registrar.bindings(for: aor, now: clock.now()) {
            guard let destination = Self.destination(of: binding) else { continue }
            let local = localAddress(for: binding.source, kind: destination.kind)
            let callID = SecureRandom.identifier() + "@tandem"
            var invite = SIPMessageBuilder(method: .invite, uri: binding.uri)
            invite.add(.via, via(local))
            invite.add(.maxForwards, "70")
            // The phone shows whom it is about to call.
            var from = NameAddress(displayName: c.calleeNumber, uri: SIPURI(user: c.calleeNumber, host: c.tenant.domain))
            from.parameters["tag"] = TransactionLayer.makeTag()
            invite.add(.from, from.description)
            invite.add(.to, NameAddress(uri: SIPURI(user: c.caller.number, host: c.tenant.domain)).description)
            invite.add(.callID, callID)
            invite.add(.cseq, CSeq(number: 1, method: .invite).description)
            invite.add(.contact, local.contact.description)
            invite.add(name: "Allow", value: "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY")
            body.apply(to: &invite)
            guard let message = try? SIPMessage(parsing: invite.bytes()) else { continue }
            var configuration = InviteSessionConfiguration()
            configuration.sessionTimer = nil
            let branch = CallBranch(index: c.branches.count,
                                    session: InviteSession(outgoingInvite: message, localContact: local.contact,
                                                           configuration: configuration),
                                    callID: callID, destination: destination, local: local, target: binding.uri)
            let d = TransferDialog(clickToCall: c, branch: branch)
            c.branches.append(d)
            c.targets.append(c.caller.number + " " + binding.uri.description)
            transferDialogs[callID] = d
            endpoint.send(request: message, to: destination).whenComplete { [weak self] result in
                switch result {
                case .success(let key): branch.inviteKey = key
                case .failure: self?.clickToCallBranchFailed(d, status: 503)
                }
            }
        }
        guard !c.branches.isEmpty else { return endClickToCall(c, reason: .unavailable, by: .system, status: 480) }
        c.ringTimer = endpoint.eventLoop.scheduleTask(in: .milliseconds(configuration.ringTimeoutMilliseconds)) { [weak self] in
            guard let self, !c.ended, c.winner == nil else { return }
            c.timedOut = true
            for d in c.branches where !d.branch.isTerminated { self.driveClickToCall(d, .hangup) }
        }
    }

    /// Runs one event through a dialog towards the click-to-call caller's phone.
    func driveClickToCall(_ d: TransferDialog, _ event: InviteSession.Event) {
        guard let c = d.clickToCall else { return }
        let actions = d.branch.session.handle(event, now: clock.now())
        for action in actions {
            // B2BUA+Transfer.swift
            if send(action, on: d.branch, inviteFailed: { $0.clickToCallBranchFailed(d, status: 503) }) { continue }
            switch action {
            case .sendResponse, .retransmitResponse, .sendRequest, .sendACK:
                break  // sent above
            case .provisionalReceived(let code, _):
                if code == 180, !c.ended, c.winner == nil {
                    continuation.yield(CallEvent(kind: .ringing, callID: c.id, caller: c.caller.number, callee: c.calleeNumber,
                                                 tenantID: c.tenant.id))
                }
            case .established:
                guard !c.ended, c.winner == nil else {
                    if c.winner !== d { driveClickToCall(d, .hangup) }
                    break
                }
                c.winner = d
                c.ringTimer?.cancel()
                for other in c.branches where other !== d && !other.branch.isTerminated { driveClickToCall(other, .hangup) }
            case .answerReceived(let body):
                if c.winner === d, !c.ended { clickToCallCallerAnswered(c, d, body) }
            case .inDialogRequest(let m):
                if let dialog = d.branch.session.dialog { respond(dialog.makeResponse(to: m, statusCode: 501)) }
            case .terminated(let reason):
                d.branch.isTerminated = true
                switch reason {
                case .rejected(let code): clickToCallBranchFailed(d, status: code)
                case .cancelled: clickToCallBranchFailed(d, status: 487)
                default: clickToCallBranchFailed(d, status: 500)
                }
            case .offerReceived:
                driveClickToCall(d, .rejectOffer)
            case .offerRequested, .offerRejected, .retryScheduled, .commandRefused:
                break
            }
        }
    }

    /// A client transaction towards the caller's phone ended abnormally.
    func clickToCallTransactionEnded(_ d: TransferDialog, reason: TransactionTerminationReason) {
        if case .calling = d.branch.session.state { clickToCallBranchFailed(d, status: reason == .timeout ? 408 : 503) }
    }

    private func clickToCallBranchFailed(_ d: TransferDialog, status: Int) {
        d.branch.isTerminated = true
        if d.branch.failureStatus == nil { d.branch.failureStatus = status }
        guard let c = d.clickToCall, !c.ended, c.winner == nil else { return }
        guard c.branches.allSatisfy({ $0.branch.isTerminated }) else { return }
        let statuses = c.branches.compactMap(\.branch.failureStatus)
        if c.timedOut {
            endClickToCall(c, reason: .noAnswer, by: .caller, status: 480)
        } else if statuses.contains(486) || statuses.contains(600) {
            endClickToCall(c, reason: .busy, by: .caller, status: 486)
        } else if let other = statuses.first(where: { $0 != 487 && $0 != 408 && $0 != 503 && $0 != 500 }) {
            endClickToCall(c, reason: other == 603 ? .busy : .rejected, by: .caller, status: other)
        } else {
            endClickToCall(c, reason: .unavailable, by: .system, status: 480)
        }
    }

    /// Ends a click-to-call before its caller answered: cancels what rings, frees the media, writes the CDR.
    func endClickToCall(_ c: ClickToCall, reason: CallDetailRecord.EndReason, by party: CallDetailRecord.Party, status: Int) {
        guard !c.ended else { return }
        c.ended = true
        c.ringTimer?.cancel()
        clickToCalls[c.id] = nil
        for d in c.branches where !d.branch.isTerminated { driveClickToCall(d, .hangup) }
        let linger = configuration.lingerMilliseconds
        for d in c.branches {
            endpoint.eventLoop.scheduleTask(in: .milliseconds(linger)) { [weak self] in
                if self?.transferDialogs[d.branch.callID] === d { self?.transferDialogs[d.branch.callID] = nil }
                d.clickToCall = nil
            }
        }
        if c.callerLeg != nil {
            let media = media, id = c.id
            Task { await media.deleteSession(id: id) }
        }
        counters.rejected += 1
        counters.ended += 1
        let now = Date()
        let record = CallDetailRecord(id: c.id, tenantID: c.tenant.id, caller: c.caller.number, callee: c.calleeNumber,
                                      targets: c.targets, startedAt: c.startedAt, answeredAt: nil, endedAt: now,
                                      endReason: reason, sipStatus: status, hungUpBy: party, callerCodec: nil,
                                      calleeCodec: nil, transcoded: false)
        recordSink(record)
        continuation.yield(CallEvent(kind: .ended, callID: c.id, caller: c.caller.number, callee: c.calleeNumber,
                                     record: record, tenantID: c.tenant.id))
    }

    /// The caller's phone answered: its dialog becomes the caller slot of a normal call to the callee.
    private func clickToCallCallerAnswered(_ c: ClickToCall, _ d: TransferDialog, _ body: SessionBody) {
        guard let a = c.callerLeg, let b = c.calleeLeg, let text = String(bytes: body.bytes, encoding: .utf8),
              let answer = try? CallAudioDescription(parsing: text) else {
            return endClickToCall(c, reason: .incompatibleMedia, by: .system, status: 488)
        }
        c.ended = true
        c.ringTimer?.cancel()
        clickToCalls[c.id] = nil
        transferDialogs[d.branch.callID] = nil
        d.clickToCall = nil
        // The losing contacts stay known for their 487s and crossing 2xx, then go.
        let linger = configuration.lingerMilliseconds
        for other in c.branches where other !== d {
            endpoint.eventLoop.scheduleTask(in: .milliseconds(linger)) { [weak self] in
                if self?.transferDialogs[other.branch.callID] === other { self?.transferDialogs[other.branch.callID] = nil }
                other.clickToCall = nil
            }
        }
        let tenant = c.tenant, now = clock.now()
        var chain = ForwardingChain(caller: c.caller.number, hopLimit: configuration.forwardHopLimit)
        let step: ForwardingChain.Step
        do {
            step = try chain.start(number: c.calleeNumber,
                                   lookup: { try self.registrar.directory.user(tenantID: tenant.id, number: $0) },
                                   isRegistered: { number in
                                       !self.registrar.bindings(for: AddressOfRecord(tenantID: tenant.id, user: number,
                                                                                     domain: tenant.domain), now: now).isEmpty
                                   })
        } catch {
            step = .end(status: 500, reason: .failed, warning: "")
        }
        var target = c.caller
        if case .ring(let number, _) = step, let u = try? registrar.directory.user(tenantID: tenant.id, number: number) {
            target = u
        }
        let source = SIPTransportSource(kind: d.branch.destination.kind, remote: d.branch.destination.address, local: nil,
                                        connectionID: nil)
        let call = Call(id: c.id, tenant: tenant, callerNumber: c.caller.number, calleeNumber: c.calleeNumber,
                        callerUser: c.caller, target: target, chain: chain,
                        callerFrom: NameAddress(uri: SIPURI(user: c.caller.number, host: tenant.domain)),
                        callerCallID: d.branch.callID, callerSource: source, callerLocal: d.branch.local,
                        caller: d.branch.session, offer: answer)
        call.callerLeg = a
        call.calleeLeg = b
        call.phase = .ringing
        call.targets = c.targets
        if chain.hops > 0 { counters.forwarded += chain.hops }
        calls[call.id] = call
        dialogs[call.callerCallID] = (call, .caller)
        let media = media, remote = answer.remote
        call.enqueueMedia { try? await media.updateLeg(a, remote: remote) }
        switch step {
        case .end(let status, let reason, let warning):
            if reason == .forwardLoop { counters.forwardLoops += 1 }
            for entry in chain.tried { call.targets.append(entry.number) }
            if !warning.isEmpty { call.warning = warning }
            finish(call, reason: reason, by: .system, status: status)
        case .ring:
            for number in chain.tried.map(\.number).dropLast() { call.targets.append(number) }
            ring(call)
        }
    }
}
