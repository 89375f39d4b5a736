import Foundation
import NIOCore
import SDP
import SIPCore
import SIPStack
import Store
import TandemBase

/// Call transfer (RFC 3515 REFER, RFC 3891 Replaces, RFC 5589 best practice) in the B2BUA.
///
/// A party of an answered call (the referrer, A) sends REFER in its dialog; its peer is the transferee (B).
/// Tandem answers 202, reports progress to A in NOTIFYs (`message/sipfrag`: 100 first, the final status last with
/// `Subscription-State: terminated`) and:
///
/// - blind transfer (`Refer-To: <sip:C@domain>`): calls extension C of the tenant (every live contact, as for a
///   normal call) with B's identity and a `Referred-By`. When C answers, C takes A's slot in the call;
///   when C fails (busy, no answer, unknown) A gets that status and the A↔B call goes on.
/// - attended transfer (`Refer-To: <sip:C@domain?Replaces=…>` naming A's dialog of another call through Tandem,
///   with C): no INVITE with Replaces is sent; C's dialog is moved from that call into A's slot of this one and
///   the other call ends (A gets BYE there).
///
/// Media scheme: the call's media session and both legs stay. B keeps its leg; the leg that faced A is pointed at
/// C (the blind target is offered that leg's address; the attended target is re-INVITEd onto it), so no new
/// session, ports or links are needed and nothing leaks: B↔C audio flows through the same relay/transcoder,
/// with the leg formats set to B's and C's codecs. B is re-INVITEd with `sendrecv` on its unchanged leg: it takes
/// B off the hold A put it on and re-confirms its codec. A's dialog is not part of the call any more; A is
/// expected to BYE it after the final NOTIFY (accepted without touching B↔C), and gets a BYE itself when it does
/// not within `referrerGraceMilliseconds`.
///
/// Confined to the SIP endpoint's event loop, like the rest of the B2BUA.
extension B2BUA {
    /// How long A may keep its dialog after a completed transfer before Tandem hangs it up.
    static let referrerGraceMilliseconds: Int64 = 5_000

    // MARK: REFER

    /// A REFER in `side`'s dialog of `call` (the InviteSession already matched the dialog).
    func refer(_ m: SIPMessage, _ call: Call, _ side: CallSide) {
        guard let dialog = slotSession(call, side)?.dialog else { return }
        func answer(_ code: Int) { respond(dialog.makeResponse(to: m, statusCode: code)) }
        // Only a party of an answered call may transfer it, and only its current parties.
        guard call.phase == .answered, call.acceptedCaller, let w = call.winner else { return answer(403) }
        if case .branch(let i) = side, i != w { return answer(403) }
        if let t = call.transfer, t.phase == .calling { return answer(491) }
        let subscription: ReferSubscription
        do {
            subscription = try ReferSubscription(refer: m, now: clock.now())
        } catch {
            return answer(400)
        }
        let target = subscription.referTo.uri
        // The target must be this tenant's (its domain, or Tandem's own address as phones often write it).
        let ownHosts: Set<String> = [call.tenant.domain.lowercased(), call.callerLocal.host, localHost(call, side)]
        guard let number = target.user, !number.isEmpty, ownHosts.contains(target.host.lowercased()) else {
            return answer(403)
        }
        let referrerCallID = dialog.id.callID
        let transfer = CallTransfer(referrer: side, referrerCallID: referrerCallID, subscription: subscription,
                                    targetNumber: number)
        transfer.inherit(from: call.transfer)
        call.transfer = transfer
        answer(202)
        notifyReferrer(call, transfer, 100)
        if let replaces = subscription.replaces {
            attendedTransfer(call, transfer, replaces: replaces)
        } else {
            blindTransfer(call, transfer)
        }
    }

    // MARK: Blind transfer

    /// Calls `t.targetNumber` with the transferee's identity; when it answers, it takes the referrer's slot
    /// (`connect`). Shared by REFER and the admin API's transfer (B2BUA+APITransfer.swift).
    func blindTransfer(_ call: Call, _ t: CallTransfer) {
        let now = clock.now()
        let user: DirectoryUser?
        do { user = try registrar.directory.user(tenantID: call.tenant.id, number: t.targetNumber) } catch { user = nil }
        guard let user, user.isEnabled else { return transferFailed(call, t, status: 404) }
        let aor = AddressOfRecord(tenantID: call.tenant.id, user: user.number, domain: call.tenant.domain)
        let bindings = registrar.bindings(for: aor, now: now)
        guard !bindings.isEmpty else { return transferFailed(call, t, status: 480) }
        let bSide = transferee(of: t.referrer, in: call)
        guard let aLeg = leg(call, t.referrer), let bDescription = partyDescription(call, bSide) else {
            return transferFailed(call, t, status: 500)
        }
        // C is offered B's codecs on the leg that faced A.
        let offer = CallSDP.offerToCallee(from: bDescription, leg: aLeg,
                                          origin: call.nextOrigin(for: t.referrer, address: aLeg.address),
                                          canTranscode: media.canTranscode)
        let body = SessionBody(bytes: Array(offer.serialized.utf8))
        let (bNumber, bName) = identity(call, bSide)
        let (aNumber, _) = identity(call, t.referrer)
        for binding in bindings {
            guard let destination = Self.destination(of: binding) else { continue }
            let local = localAddress(for: binding.source, kind: destination.kind)
            let callID = SecureRandom.identifier() + "@tandem"
            var invite = SIPMessageBuilder(method: .invite, uri: binding.uri)
            invite.add(.via, via(local))
            invite.add(.maxForwards, "70")
            var from = NameAddress(displayName: bName, uri: SIPURI(user: bNumber, host: call.tenant.domain))
            from.parameters["tag"] = TransactionLayer.makeTag()
            invite.add(.from, from.description)
            invite.add(.to, NameAddress(uri: SIPURI(user: user.number, host: call.tenant.domain)).description)
            invite.add(.callID, callID)
            invite.add(.cseq, CSeq(number: 1, method: .invite).description)
            invite.add(.contact, local.contact.description)
            invite.add(name: "Referred-By", value: NameAddress(uri: SIPURI(user: aNumber, host: call.tenant.domain)).description)
            invite.add(name: "Allow", value: "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY")
            body.apply(to: &invite)
            guard let message = try? SIPMessage(parsing: invite.bytes()) else { continue }
            var configuration = InviteSessionConfiguration()
            configuration.sessionTimer = nil
            let branch = CallBranch(index: t.branches.count,
                                    session: InviteSession(outgoingInvite: message, localContact: local.contact,
                                                           configuration: configuration),
                                    callID: callID, destination: destination, local: local, target: binding.uri)
            let d = TransferDialog(role: .target, branch: branch, call: call)
            t.branches.append(d)
            transferDialogs[callID] = d
            call.targets.append(binding.uri.description)
            endpoint.send(request: message, to: destination).whenComplete { [weak self] result in
                guard let self else { return }
                switch result {
                case .success(let key): branch.inviteKey = key
                case .failure: self.targetBranchFailed(d, status: 503)
                }
            }
        }
        guard !t.branches.isEmpty else { return transferFailed(call, t, status: 480) }
        t.ringTimer = endpoint.eventLoop.scheduleTask(in: .milliseconds(configuration.ringTimeoutMilliseconds)) { [weak self, weak call] in
            guard let self, let call, call.transfer === t, t.phase == .calling, t.winner == nil else { return }
            t.timedOut = true
            for d in t.branches where !d.branch.isTerminated { self.driveTransfer(d, .hangup) }
        }
    }

    /// Carries out an action of a dialog of Tandem's own (a transfer target, a click-to-call caller) that only
    /// sends something — a response, its retransmission, a request or an ACK — on `branch`'s flow; false for the
    /// other actions. `inviteFailed` runs on the loop when an INVITE could not be sent at all.
    func send(_ action: InviteSession.Action, on branch: CallBranch, inviteFailed: @escaping (B2BUA) -> Void) -> Bool {
        switch action {
        case .sendResponse(let b):
            respond(b)
        case .retransmitResponse(let b):
            if let m = try? SIPMessage(parsing: b.bytes()) { endpoint.sendStateless(m, to: branch.destination) }
        case .sendRequest(var b):
            if b.fields.first(where: { SIPHeaderName($0.name) == .via }) == nil {
                b.fields.insert(SIPHeaderField(name: "Via", value: via(branch.local)), at: 0)
            }
            if let m = try? SIPMessage(parsing: b.bytes()) {
                let isInvite = m.method == .invite
                endpoint.send(request: m, to: branch.destination).whenComplete { [weak self] result in
                    if case .failure = result, isInvite, let self { inviteFailed(self) }
                }
            }
        case .sendACK(var b):
            b.fields.insert(SIPHeaderField(name: "Via", value: via(branch.local)), at: 0)
            if let m = try? SIPMessage(parsing: b.bytes()) { endpoint.sendStateless(m, to: branch.destination) }
        default:
            return false
        }
        return true
    }

    /// Runs one event through a transfer dialog's session and carries out its actions.
    func driveTransfer(_ d: TransferDialog, _ event: InviteSession.Event) {
        if d.role == .clickToCallCaller { return driveClickToCall(d, event) }  // B2BUA+ClickToCall.swift
        let actions = d.branch.session.handle(event, now: clock.now())
        for action in actions {
            if send(action, on: d.branch, inviteFailed: { $0.targetBranchFailed(d, status: 503) }) { continue }
            switch action {
            case .sendResponse, .retransmitResponse, .sendRequest, .sendACK:
                break  // sent above
            case .established:
                targetAnswered(d)
            case .answerReceived(let body):
                targetAnswer(d, body)
            case .offerRejected:
                if let call = d.call, let t = call.transfer, t.winner === d, t.phase == .calling {
                    driveTransfer(d, .hangup)
                    transferFailed(call, t, status: 488)
                }
            case .offerReceived:
                driveTransfer(d, .rejectOffer)
            case .inDialogRequest(let m):
                if let dialog = d.branch.session.dialog {
                    respond(dialog.makeResponse(to: m, statusCode: m.method == .info || m.method == .notify ? 200 : 501))
                }
            case .terminated(let reason):
                d.branch.isTerminated = true
                guard d.role == .target else { break }
                switch reason {
                case .rejected(let code): targetBranchFailed(d, status: code)
                case .cancelled: targetBranchFailed(d, status: 487)
                case .localBye, .remoteBye, .dialogGone, .ackTimeout, .sessionExpired, .prackTimeout:
                    targetBranchFailed(d, status: 500)
                }
            case .provisionalReceived(let code, _):
                // RFC 5589 §6.1: the referrer hears that the target rings before the final NOTIFY.
                if code == 180, d.role == .target, let call = d.call, let t = call.transfer, t.phase == .calling,
                   t.winner == nil, !t.ringingReported, t.branches.contains(where: { $0 === d }) {
                    t.ringingReported = true
                    notifyReferrer(call, t, 180)
                }
            case .offerRequested, .retryScheduled, .commandRefused:
                break
            }
        }
    }

    /// A client transaction of a transfer dialog ended abnormally (timeout, transport error).
    func transferTransactionEnded(_ key: TransactionKey, reason: TransactionTerminationReason) -> Bool {
        guard let d = transferDialogs.values.first(where: { $0.branch.inviteKey == key }) else { return false }
        if d.role == .clickToCallCaller { clickToCallTransactionEnded(d, reason: reason); return true }
        if case .calling = d.branch.session.state { targetBranchFailed(d, status: reason == .timeout ? 408 : 503) }
        return true
    }

    private func targetAnswered(_ d: TransferDialog) {
        guard let call = d.call, let t = call.transfer, t.branches.contains(where: { $0 === d }) else { return }
        guard t.phase == .calling, t.winner == nil, call.phase == .answered else {
            // A second 2xx, or the call ended meanwhile.
            if t.winner !== d { driveTransfer(d, .hangup) }
            return
        }
        t.winner = d
        t.ringTimer?.cancel()
        for other in t.branches where other !== d && !other.branch.isTerminated { driveTransfer(other, .hangup) }
        // The losing branches stay known for their 487s and crossing 2xx, then go.
        let linger = configuration.lingerMilliseconds
        for other in t.branches where other !== d {
            endpoint.eventLoop.scheduleTask(in: .milliseconds(linger)) { [weak self] in
                if self?.transferDialogs[other.branch.callID] === other { self?.transferDialogs[other.branch.callID] = nil }
            }
        }
    }

    /// C's answer: plan B↔C, point A's leg at C, put C in A's slot, re-INVITE B, NOTIFY 200.
    private func targetAnswer(_ d: TransferDialog, _ body: SessionBody) {
        guard let call = d.call, let t = call.transfer, t.winner === d, t.phase == .calling else { return }
        let bSide = transferee(of: t.referrer, in: call)
        guard let text = String(bytes: body.bytes, encoding: .utf8), let answer = try? CallAudioDescription(parsing: text),
              let bDescription = partyDescription(call, bSide),
              let p = CallSDP.plan(offer: bDescription, answer: answer, canTranscode: media.canTranscode),
              let aLeg = leg(call, t.referrer) else {
            driveTransfer(d, .hangup)
            return transferFailed(call, t, status: 488)
        }
        d.branch.answer = answer
        transferDialogs[d.branch.callID] = nil
        connect(call, t, target: d.branch, source: nil, targetFormat: p.callee, targetRemote: answer.remote,
                transfereeFormat: p.caller, aLeg: aLeg, reinviteTarget: false, targetDescription: answer)
    }

    /// A branch to the target ended without answering; when none is left the transfer failed.
    private func targetBranchFailed(_ d: TransferDialog, status: Int) {
        d.branch.isTerminated = true
        if d.branch.failureStatus == nil { d.branch.failureStatus = status }
        guard let call = d.call, let t = call.transfer, t.phase == .calling, t.winner == nil,
              t.branches.contains(where: { $0 === d }) else { return }
        guard t.branches.allSatisfy({ $0.branch.isTerminated }) else { return }
        let statuses = t.branches.compactMap(\.branch.failureStatus)
        let final: Int
        if t.timedOut {
            final = 480
        } else if statuses.contains(486) || statuses.contains(600) {
            final = 486
        } else if let other = statuses.first(where: { $0 != 487 && $0 != 408 && $0 != 503 && $0 != 500 }) {
            final = other
        } else {
            final = 480
        }
        transferFailed(call, t, status: final)
    }

    /// The transfer failed with `status`: A hears it in the final NOTIFY and the call goes on; when A already
    /// hung up, B is hung up too.
    private func transferFailed(_ call: Call, _ t: CallTransfer, status: Int) {
        guard t.phase == .calling else { return }
        t.phase = .failed
        t.ringTimer?.cancel()
        notifyReferrer(call, t, status)
        var event = CallEvent(kind: .transferFailed, callID: call.id, caller: call.callerNumber, callee: call.calleeNumber,
                              tenantID: call.tenant.id)
        event.details = ["transfer_target": t.targetNumber, "sip_status": String(status),
                         "requested_by": t.requestedByAPI ? "api" : "refer"]
        continuation.yield(event)
        let linger = configuration.lingerMilliseconds
        for d in t.branches {
            endpoint.eventLoop.scheduleTask(in: .milliseconds(linger)) { [weak self] in
                if self?.transferDialogs[d.branch.callID] === d { self?.transferDialogs[d.branch.callID] = nil }
            }
        }
        if t.referrerGone, call.phase != .ended {
            let reason: CallDetailRecord.EndReason = status == 486 ? .busy : status == 404 ? .notFound
                : status == 480 ? (t.timedOut ? .noAnswer : .unavailable) : .rejected
            finish(call, reason: reason, by: .system, status: nil)
        }
    }

    // MARK: Attended transfer

    /// REFER with Replaces naming A's dialog of another call through Tandem (with C): C joins B here.
    private func attendedTransfer(_ call: Call, _ t: CallTransfer, replaces: Replaces) {
        guard let (other, aOther) = dialogNamed(by: replaces, except: call) else {
            return transferFailed(call, t, status: 481)
        }
        join(call, t, other: other, sharedSlot: aOther)
    }

    /// Attended transfer's join: the referrer (A) of `call` also holds `sharedSlot` of `other`; A's peer there (C)
    /// moves into A's slot of `call`, joined with B, and `other` ends (A gets BYE there). Shared by REFER with
    /// Replaces and the admin API's attended transfer (B2BUA+APITransfer.swift).
    func join(_ call: Call, _ t: CallTransfer, other: Call, sharedSlot aOther: CallSide) {
        guard other.tenant.id == call.tenant.id, let otherPlan = other.plan, let aLeg = leg(call, t.referrer) else {
            return transferFailed(call, t, status: 403)
        }
        let cOther = transferee(of: aOther, in: other)
        let cFormat = cOther == .caller ? otherPlan.caller : otherPlan.callee
        guard let cDescription = partyDescription(other, cOther), let bFormat = currentFormat(call, transferee(of: t.referrer, in: call))
        else { return transferFailed(call, t, status: 500) }
        // Detach C's dialog from the other call: a branch object carrying its live session; the other call keeps a
        // terminated copy so ending it sends nothing to C.
        let target: CallBranch
        let source: SIPTransportSource?
        switch cOther {
        case .caller:
            target = CallBranch(index: -1, session: other.caller, callID: other.callerCallID,
                                destination: other.callerDestination, local: other.callerLocal, target: other.callerFrom.uri)
            source = other.callerSource
            var stale = other.caller
            _ = stale.handle(.hangup, now: clock.now())
            other.caller = stale
        case .branch(let i):
            let b = other.branches[i]
            target = CallBranch(index: -1, session: b.session, callID: b.callID, destination: b.destination,
                                local: b.local, target: b.target)
            source = nil
            var stale = b.session
            _ = stale.handle(.hangup, now: clock.now())
            b.session = stale
            b.isTerminated = true
        }
        dialogs[target.callID] = nil
        // C's o= line must go on from what the other call sent it: same session id, next version (RFC 3264 §8).
        let origin = (other.sdpSessionID, cOther == .caller ? other.callerSDPVersion : other.calleeSDPVersion)
        connect(call, t, target: target, source: source, targetFormat: cFormat, targetRemote: nil,
                transfereeFormat: bFormat, aLeg: aLeg, reinviteTarget: true, targetDescription: cDescription,
                targetOrigin: origin)
        // The consultation call is over: A gets BYE there, its media session is deleted.
        finish(other, reason: .transferred, by: aOther == .caller ? .caller : .callee, status: nil)
    }

    /// The answered call (other than `call`) and slot whose dialog `replaces` names.
    func dialogNamed(by replaces: Replaces, except call: Call?) -> (Call, CallSide)? {
        for c in calls.values where c !== call && c.phase == .answered && c.acceptedCaller {
            if let id = c.caller.dialog?.id, ReplacesMatch.names(replaces, id) { return (c, .caller) }
            if let w = c.winner, let id = c.branches[w].session.dialog?.id, ReplacesMatch.names(replaces, id) {
                return (c, .branch(w))
            }
        }
        return nil
    }

    // MARK: Connecting B and C

    /// Puts `target` (C) into the referrer's slot of `call`, sets the new codec plan and media, re-INVITEs B
    /// (and C when it came from another call) and sends A the final NOTIFY.
    private func connect(_ call: Call, _ t: CallTransfer, target: CallBranch, source: SIPTransportSource?,
                         targetFormat: CallAudioFormat, targetRemote: CallMediaRemote?, transfereeFormat: CallAudioFormat,
                         aLeg: CallMediaLeg, reinviteTarget: Bool, targetDescription: CallAudioDescription,
                         targetOrigin: (sessionID: String, version: UInt64)? = nil) {
        let aSide = t.referrer
        let bSide = transferee(of: aSide, in: call)
        // The final NOTIFY goes out in A's dialog while it is still in its slot.
        t.phase = .completed
        notifyReferrer(call, t, 200)
        t.connected(t.targetNumber, into: aSide)
        let cSide = adopt(call, into: aSide, target: target, source: source, description: targetDescription)
        if let targetOrigin {
            call.transferredSDPSessionIDs[cSide] = targetOrigin.sessionID
            if cSide == .caller { call.callerSDPVersion = targetOrigin.version } else { call.calleeSDPVersion = targetOrigin.version }
        }
        let transcodes = targetFormat.name.lowercased() != transfereeFormat.name.lowercased()
            || targetFormat.clockRate != transfereeFormat.clockRate || targetFormat.channels != transfereeFormat.channels
        let known = media.canTranscode(name: targetFormat.name, clockRate: targetFormat.clockRate)
            && media.canTranscode(name: transfereeFormat.name, clockRate: transfereeFormat.clockRate)
        let plan = cSide == .caller
            ? CallCodecPlan(caller: targetFormat, callee: transfereeFormat, transcodes: transcodes, engineKnowsCodecs: known)
            : CallCodecPlan(caller: transfereeFormat, callee: targetFormat, transcodes: transcodes, engineKnowsCodecs: known)
        call.plan = plan
        call.reinviteFrom = nil
        guard let bLeg = leg(call, bSide) else { return }
        let media = media
        call.enqueueMedia {
            do {
                if let targetRemote { try await media.updateLeg(aLeg, remote: targetRemote) }
                if known {
                    try await media.setAudioFormat(targetFormat, for: aLeg)
                    try await media.setAudioFormat(transfereeFormat, for: bLeg)
                }
            } catch {
                // The call goes on without (correct) media, as for a normal call.
            }
        }
        if reinviteTarget {
            // C moves onto A's leg: its answer (answerReceived) points the leg at it.
            let sdp = CallSDP.description(format: targetFormat, leg: aLeg, direction: .sendrecv,
                                          origin: call.nextOrigin(for: cSide, address: aLeg.address),
                                          template: targetDescription)
            feed(call, cSide, .reinvite(offer: SessionBody(bytes: Array(sdp.serialized.utf8))))
        }
        // B: off hold, same leg, its codec confirmed.
        // Same m-lines as B's own description (RFC 3264 §8: a re-offer keeps every media section).
        let sdp = CallSDP.description(format: transfereeFormat, leg: bLeg, direction: .sendrecv,
                                      origin: call.nextOrigin(for: bSide, address: bLeg.address),
                                      template: partyDescription(call, bSide))
        feed(call, bSide, .reinvite(offer: SessionBody(bytes: Array(sdp.serialized.utf8))))
        let (bNumber, _) = identity(call, bSide)
        continuation.yield(CallEvent(kind: .transferred, callID: call.id, caller: bNumber, callee: t.targetNumber,
                                     tenantID: call.tenant.id))
    }

    /// Moves `target` into `slot` of `call`; the referrer's dialog that held the slot is retired (caller slot) or
    /// stays a losing branch (callee slot). Returns C's new slot.
    func adopt(_ call: Call, into slot: CallSide, target: CallBranch, source: SIPTransportSource?,
                       description: CallAudioDescription) -> CallSide {
        let linger = configuration.lingerMilliseconds
        let referrerCallID: String
        let newSide: CallSide
        switch slot {
        case .caller:
            referrerCallID = call.callerCallID
            let retired = CallBranch(index: -1, session: call.caller, callID: call.callerCallID,
                                     destination: call.callerDestination, local: call.callerLocal, target: call.callerFrom.uri)
            retired.isTerminated = call.caller.state.isTerminatedState
            let d = TransferDialog(role: .retiredReferrer, branch: retired, call: call)
            transferDialogs[retired.callID] = d
            if dialogs[retired.callID]?.call === call { dialogs[retired.callID] = nil }
            endpoint.eventLoop.scheduleTask(in: .milliseconds(linger)) { [weak self] in
                if self?.transferDialogs[retired.callID] === d { self?.transferDialogs[retired.callID] = nil }
            }
            call.caller = target.session
            call.callerCallID = target.callID
            call.callerSource = source ?? SIPTransportSource(kind: target.destination.kind, remote: target.destination.address,
                                                             local: nil, connectionID: nil)
            call.callerLocal = target.local
            newSide = .caller
        case .branch(let w):
            referrerCallID = call.branches[w].callID
            let b = CallBranch(index: call.branches.count, session: target.session, callID: target.callID,
                               destination: target.destination, local: target.local, target: target.target,
                               generation: call.generation)
            b.answer = description
            call.branches.append(b)
            call.winner = b.index
            newSide = .branch(b.index)
        }
        dialogs[target.callID] = (call, newSide)
        // A should BYE now; if it does not, Tandem does (at once when the admin API moved A out).
        let grace = call.transfer?.requestedByAPI == true ? 0 : Self.referrerGraceMilliseconds
        endpoint.eventLoop.scheduleTask(in: .milliseconds(grace)) { [weak self] in
            self?.hangUpReferrer(call, slot: slot, callID: referrerCallID)
        }
        return newSide
    }

    func hangUpReferrer(_ call: Call, slot: CallSide, callID: String) {
        switch slot {
        case .caller:
            guard let d = transferDialogs[callID], d.role == .retiredReferrer, !d.branch.session.state.isTerminatedState else { return }
            driveTransfer(d, .hangup)
        case .branch(let i):
            guard call.branches.indices.contains(i), !call.branches[i].session.state.isTerminatedState else { return }
            feed(call, slot, .hangup)
        }
    }

    // MARK: Hooks from the B2BUA

    /// A's dialog ended while its transfer is still calling the target: the transfer goes on (phones hang up
    /// right after the 202). True when the B2BUA must not end the call.
    func referrerLeftDuringTransfer(_ call: Call, _ side: CallSide, _ reason: InviteSession.TerminationReason) -> Bool {
        guard let t = call.transfer, t.phase == .calling, t.referrer == side, call.phase == .answered else { return false }
        switch reason {
        case .remoteBye, .dialogGone:
            t.referrerGone = true
            return true
        default:
            return false
        }
    }

    /// The call is ending: a transfer still calling is cancelled (A hears 487); a completed one is the end reason.
    func transferEnding(_ call: Call, _ reason: CallDetailRecord.EndReason) -> CallDetailRecord.EndReason {
        guard let t = call.transfer else { return reason }
        if t.phase == .calling {
            t.phase = .failed
            t.ringTimer?.cancel()
            notifyReferrer(call, t, 487)
            for d in t.branches where !d.branch.isTerminated { driveTransfer(d, .hangup) }
            let linger = configuration.lingerMilliseconds
            for d in t.branches {
                endpoint.eventLoop.scheduleTask(in: .milliseconds(linger)) { [weak self] in
                    if self?.transferDialogs[d.branch.callID] === d { self?.transferDialogs[d.branch.callID] = nil }
                }
            }
        }
        return t.transferredCall && reason == .normal ? .transferred : reason
    }

    // MARK: NOTIFY

    /// Sends A a NOTIFY with `status` as sipfrag (final statuses terminate the subscription).
    private func notifyReferrer(_ call: Call, _ t: CallTransfer, _ status: Int) {
        guard !t.referrerGone, var subscription = t.subscription, !subscription.subscription.isTerminated else { return }
        let side = t.referrer
        var request: SIPMessageBuilder?
        switch side {
        case .caller:
            guard call.callerCallID == t.referrerCallID else { return }
            request = call.caller.makeInDialogRequest(.notify)
        case .branch(let i):
            guard call.branches.indices.contains(i) else { return }
            request = call.branches[i].session.makeInDialogRequest(.notify)
        }
        guard var b = request else { return }
        subscription.notify(statusCode: status, into: &b, now: clock.now())
        t.subscription = subscription
        b.fields.insert(SIPHeaderField(name: "Via", value: via(slotLocal(call, side))), at: 0)
        if let m = try? SIPMessage(parsing: b.bytes()) { endpoint.send(request: m, to: destination(call, side)).whenComplete { _ in } }
    }

    // MARK: Slots

    private func slotSession(_ call: Call, _ side: CallSide) -> InviteSession? {
        switch side {
        case .caller: return call.caller
        case .branch(let i): return call.branches.indices.contains(i) ? call.branches[i].session : nil
        }
    }

    func slotLocal(_ call: Call, _ side: CallSide) -> CallLocalAddress {
        switch side {
        case .caller: return call.callerLocal
        case .branch(let i): return call.branches[i].local
        }
    }

    private func localHost(_ call: Call, _ side: CallSide) -> String { slotLocal(call, side).host }

    /// The other slot of an answered call.
    func transferee(of side: CallSide, in call: Call) -> CallSide {
        side == .caller ? .branch(call.winner ?? 0) : .caller
    }

    func leg(_ call: Call, _ side: CallSide) -> CallMediaLeg? {
        side == .caller ? call.callerLeg : call.calleeLeg
    }

    func currentFormat(_ call: Call, _ side: CallSide) -> CallAudioFormat? {
        guard let plan = call.plan else { return nil }
        return side == .caller ? plan.caller : plan.callee
    }

    /// What a party's SDP offered or answered (its codecs, in its payload types).
    func partyDescription(_ call: Call, _ side: CallSide) -> CallAudioDescription? {
        switch side {
        case .caller: return call.offer
        case .branch(let i): return call.branches.indices.contains(i) ? call.branches[i].answer : nil
        }
    }

    /// A party's number and display name, as the transfer target sees the transferee.
    func identity(_ call: Call, _ side: CallSide) -> (String, String?) {
        switch side {
        case .caller:
            let uri = call.caller.dialog?.remoteURI
            return (uri?.uri.user ?? call.callerNumber, uri?.displayName ?? call.callerFrom.displayName)
        case .branch(let i):
            // Our INVITE's To (or, for a party moved here by a transfer, its From): its number.
            let uri = call.branches.indices.contains(i) ? call.branches[i].session.dialog?.remoteURI : nil
            return (uri?.uri.user ?? call.calleeNumber, uri?.displayName)
        }
    }
}

extension InviteSession.State {
    var isTerminatedState: Bool {
        if case .terminated = self { return true }
        return false
    }
}
