import Foundation
import SDP
import SIPCore
import SIPStack
import Store
import TandemBase

/// An INVITE with Replaces (RFC 3891) from a phone of the tenant: a phone completing an attended transfer itself,
/// or taking over a call. The replaced party (Y) is one slot of an answered call through Tandem; the new caller
/// (X) takes that slot: Y's leg is pointed at X, X is answered from that leg in a codec of its offer that the
/// other party's format relays or transcodes to, and Y gets BYE. The other party keeps its dialog and leg.
/// Confined to the SIP endpoint's event loop, like the rest of the B2BUA.
extension B2BUA {
    /// Handles `request` (authenticated as `user` of `tenant`) when it carries Replaces; false when it does not.
    func handleReplacingInvite(_ request: SIPMessage, source: SIPTransportSource, tenant: DirectoryTenant,
                               user: DirectoryUser) -> Bool {
        guard request.contains("replaces") else { return false }
        func reject(_ code: Int) {
            if let b = try? SIPMessageBuilder.response(to: request, statusCode: code, toTag: TransactionLayer.makeTag()) {
                respond(b)
            }
        }
        guard let replaces = (try? request.replaces) ?? nil, let callID = try? request.callID else {
            reject(400)
            return true
        }
        if dialogs[callID] != nil || transferDialogs[callID] != nil {
            reject(482)
            return true
        }
        // RFC 3891 §3: no such dialog → 481; a confirmed dialog with early-only → 486.
        guard let (call, ySide) = dialogNamed(by: replaces, except: nil), call.tenant.id == tenant.id else {
            reject(481)
            return true
        }
        if replaces.isEarlyOnly {
            reject(486)
            return true
        }
        if let t = call.transfer, t.phase == .calling {
            reject(491)
            return true
        }
        let otherSide = transferee(of: ySide, in: call)
        guard let body = SessionBody(message: request), body.isSessionDescription,
              let text = String(bytes: body.bytes, encoding: .utf8), let offer = try? CallAudioDescription(parsing: text),
              let yLeg = leg(call, ySide), let otherDescription = partyDescription(call, otherSide),
              let otherFormat = currentFormat(call, otherSide),
              let p = CallSDP.plan(offer: offer, answer: otherDescription, canTranscode: media.canTranscode) else {
            reject(488)
            return true
        }
        let local = localAddress(for: source)
        var configuration = InviteSessionConfiguration()
        configuration.sessionTimer = nil
        guard let (session, _) = try? InviteSession.incoming(request, localTag: TransactionLayer.makeTag(),
                                                            localContact: local.contact, configuration: configuration)
        else {
            reject(400)
            return true
        }
        let yCallID: String
        switch ySide {
        case .caller: yCallID = call.callerCallID
        case .branch(let i): yCallID = call.branches[i].callID
        }
        let t = CallTransfer(referrer: ySide, referrerCallID: yCallID, subscription: nil, targetNumber: user.number)
        t.inherit(from: call.transfer)
        t.phase = .completed
        t.connected(user.number, into: ySide)
        call.transfer = t
        let x = CallBranch(index: -1, session: session, callID: callID,
                           destination: SIPTransportDestination(kind: source.kind, address: source.remote),
                           local: local, target: (try? request.from)?.uri ?? SIPURI(user: user.number, host: tenant.domain))
        x.answer = offer
        call.targets.append(x.target.description)
        let xSide = adopt(call, into: ySide, target: x, source: source, description: offer)
        // X's format is its codec from the plan; the other party keeps its own.
        let xFormat = p.caller
        let transcodes = xFormat.name.lowercased() != otherFormat.name.lowercased() || xFormat.clockRate != otherFormat.clockRate
        let known = media.canTranscode(name: xFormat.name, clockRate: xFormat.clockRate)
            && media.canTranscode(name: otherFormat.name, clockRate: otherFormat.clockRate)
        call.plan = xSide == .caller
            ? CallCodecPlan(caller: xFormat, callee: otherFormat, transcodes: transcodes, engineKnowsCodecs: known)
            : CallCodecPlan(caller: otherFormat, callee: xFormat, transcodes: transcodes, engineKnowsCodecs: known)
        guard let otherLeg = leg(call, otherSide) else { return true }
        let media = media, remote = offer.remote
        call.enqueueMedia {
            do {
                try await media.updateLeg(yLeg, remote: remote)
                if known {
                    try await media.setAudioFormat(xFormat, for: yLeg)
                    try await media.setAudioFormat(otherFormat, for: otherLeg)
                }
            } catch {
                // The call goes on without (correct) media, as for a normal call.
            }
        }
        let sdp = CallSDP.description(format: xFormat, leg: yLeg, direction: offer.remote.direction,
                                      origin: call.nextOrigin(for: xSide, address: yLeg.address), template: offer)
        feed(call, xSide, .accept(body: SessionBody(bytes: Array(sdp.serialized.utf8))))
        // The replaced party is hung up at once (RFC 3891 §3).
        hangUpReferrer(call, slot: ySide, callID: yCallID)
        continuation.yield(CallEvent(kind: .transferred, callID: call.id, caller: identityNumber(call, otherSide),
                                     callee: user.number, tenantID: call.tenant.id))
        return true
    }

    private func identityNumber(_ call: Call, _ side: CallSide) -> String {
        switch side {
        case .caller: return call.callerNumber
        case .branch: return call.calleeNumber
        }
    }
}
