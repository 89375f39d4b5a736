import Foundation
import SIPCore
import SIPStack
import Store

/// A party of a two-party call, as the admin API names it.
public enum CallParty: String, Sendable, CaseIterable {
    /// The caller slot (the original caller, or whoever a transfer put there).
    case caller
    /// The callee slot.
    case callee
}

/// What became of an operator's transfer request (the admin API maps each case to an HTTP status).
public enum CallTransferRequestOutcome: Sendable, Equatable {
    /// The transfer started (blind: the target is being called) or completed (attended).
    case started(ActiveCallSnapshot)
    /// No such active call (or, attended, the other call is unknown or of another tenant).
    case noSuchCall
    /// The call (or the other call) is not answered yet.
    case notAnswered
    /// The target is not an enabled extension of the call's tenant.
    case unknownTarget
    /// Another transfer of the call is still calling its target.
    case transferInProgress
    /// Attended: the two calls have no party in common.
    case notShared
}

/// Transfers started by an operator through the admin API, on the same code paths as a phone's REFER
/// (B2BUA+Transfer.swift): a blind transfer keeps the other party of `party` and connects it to the target
/// (`blindTransfer` → `connect`); `party` gets BYE as soon as the target is connected. An attended transfer of two
/// calls sharing a party joins the two other parties (`join`, as for REFER with Replaces) and hangs the shared
/// party up on both calls. There is no REFER subscription, so no NOTIFYs; a failing target emits the
/// `transfer_failed` call event and leaves the call as it was. Confined to the SIP endpoint's event loop.
extension B2BUA {
    /// Blind transfer of call `id`: the other party of `party` is connected to extension `number` of the call's
    /// tenant, `party` is hung up when the target answers (call on the loop).
    public func transfer(callID id: String, party: CallParty, to number: String) -> CallTransferRequestOutcome {
        guard let call = calls[id], call.phase != .ended else { return .noSuchCall }
        guard call.phase == .answered, call.acceptedCaller, let w = call.winner else { return .notAnswered }
        if let t = call.transfer, t.phase == .calling { return .transferInProgress }
        let found: DirectoryUser?
        do { found = try registrar.directory.user(tenantID: call.tenant.id, number: number) } catch { found = nil }
        guard let user = found, user.isEnabled else { return .unknownTarget }
        let side: CallSide = party == .caller ? .caller : .branch(w)
        let t = CallTransfer(referrer: side, referrerCallID: slotCallID(call, side), subscription: nil,
                             targetNumber: user.number)
        t.inherit(from: call.transfer)
        t.requestedByAPI = true
        call.transfer = t
        blindTransfer(call, t)
        return .started(snapshot(of: call))
    }

    /// Attended transfer: call `id` and call `otherID` share a party (`party` of call `id`, or either when nil);
    /// the two other parties are joined in call `id` and the shared party is hung up on both (call on the loop).
    public func attendedTransfer(callID id: String, party: CallParty?, replacingCallID otherID: String)
        -> CallTransferRequestOutcome {
        guard let call = calls[id], call.phase != .ended, let other = calls[otherID], other !== call,
              other.phase != .ended, other.tenant.id == call.tenant.id else { return .noSuchCall }
        guard call.phase == .answered, call.acceptedCaller, let w = call.winner,
              other.phase == .answered, other.acceptedCaller, let ow = other.winner else { return .notAnswered }
        if let t = call.transfer, t.phase == .calling { return .transferInProgress }
        if let t = other.transfer, t.phase == .calling { return .transferInProgress }
        let candidates: [CallSide] = party.map { [$0 == .caller ? .caller : .branch(w)] } ?? [.caller, .branch(w)]
        for side in candidates {
            let number = partyNumber(call, side)
            guard let shared = [CallSide.caller, .branch(ow)].first(where: { partyNumber(other, $0) == number }) else { continue }
            let cNumber = partyNumber(other, transferee(of: shared, in: other))
            let t = CallTransfer(referrer: side, referrerCallID: slotCallID(call, side), subscription: nil, targetNumber: cNumber)
            t.inherit(from: call.transfer)
            t.requestedByAPI = true
            call.transfer = t
            join(call, t, other: other, sharedSlot: shared)
            return .started(snapshot(of: call))
        }
        return .notShared
    }

    /// The CDR's transfer facts: the last transfer target and the parties connected at the end.
    func addTransferDetails(_ call: Call, to record: inout CallDetailRecord) {
        let t = call.transfer
        record.transferredTo = t?.lastConnectedTarget
        guard call.answeredAt != nil else { return }
        record.finalCaller = t?.callerSlotNumber ?? call.callerNumber
        record.finalCallee = t?.calleeSlotNumber ?? call.target.number
    }

    /// The extension number in `side` of `call` now (after any completed transfers).
    func partyNumber(_ call: Call, _ side: CallSide) -> String {
        switch side {
        case .caller: return call.transfer?.callerSlotNumber ?? call.callerNumber
        case .branch: return call.transfer?.calleeSlotNumber ?? call.target.number
        }
    }

    private func slotCallID(_ call: Call, _ side: CallSide) -> String {
        switch side {
        case .caller: return call.callerCallID
        case .branch(let i): return call.branches[i].callID
        }
    }

    func snapshot(of call: Call) -> ActiveCallSnapshot {
        ActiveCallSnapshot(id: call.id, tenantID: call.tenant.id, caller: call.callerNumber, callee: call.calleeNumber,
                           state: call.phase == .answered ? .answered : .ringing, startedAt: call.startedAt,
                           answeredAt: call.answeredAt, target: call.target.number)
    }
}
