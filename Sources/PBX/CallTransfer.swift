import NIOCore
import SIPCore
import SIPStack

/// One transfer (RFC 3515 REFER) of an answered call: the referrer's side, its implicit `refer` subscription, and
/// for a blind transfer the INVITEs ringing the target. Confined to the SIP endpoint's event loop (like the B2BUA).
final class CallTransfer: @unchecked Sendable {
    enum Phase: Equatable {
        /// The target is being called (blind transfer).
        case calling
        /// The transferee and the target are connected.
        case completed
        /// The target did not answer; the original call goes on.
        case failed
    }

    /// The referrer's slot in the call (the transferee is the other slot); for an INVITE with Replaces, the
    /// replaced party's.
    let referrer: CallSide
    /// The referrer's dialog Call-ID (NOTIFYs and its BYE).
    let referrerCallID: String
    /// The REFER's implicit subscription; nil for an INVITE with Replaces (no REFER, no NOTIFYs).
    var subscription: ReferSubscription?
    var phase: Phase = .calling
    /// The INVITEs to the target's contacts (blind transfer).
    var branches: [TransferDialog] = []
    /// The target branch that answered.
    var winner: TransferDialog?
    /// The referrer hung up while the target was being called (phones often do right after the 202).
    var referrerGone = false
    /// The ring timeout passed: the target's branches were cancelled.
    var timedOut = false
    /// An earlier transfer of the same call completed (so the CDR says `transferred`).
    var earlierTransferCompleted = false
    let targetNumber: String
    var ringTimer: Scheduled<Void>?
    /// Started through the admin API: no REFER subscription, and the party being transferred away gets BYE as
    /// soon as the target is connected (no grace period for it to hang up itself).
    var requestedByAPI = false
    /// The target rang (180 from one of its contacts): the referrer got NOTIFY 180 (RFC 5589 §6.1).
    var ringingReported = false
    /// The target number this or an earlier transfer of the call connected last (the CDR's `transferred_to`).
    var lastConnectedTarget: String?
    /// The extension numbers in the caller and callee slots after this or earlier completed transfers (nil: the
    /// original party is still there).
    var callerSlotNumber: String?
    var calleeSlotNumber: String?

    init(referrer: CallSide, referrerCallID: String, subscription: ReferSubscription?, targetNumber: String) {
        self.referrer = referrer
        self.referrerCallID = referrerCallID
        self.subscription = subscription
        self.targetNumber = targetNumber
    }

    /// Carries over what earlier transfers of the same call completed.
    func inherit(from earlier: CallTransfer?) {
        guard let earlier else { return }
        earlierTransferCompleted = earlier.transferredCall
        lastConnectedTarget = earlier.lastConnectedTarget
        callerSlotNumber = earlier.callerSlotNumber
        calleeSlotNumber = earlier.calleeSlotNumber
    }

    /// Records that `number` now holds `slot` (the transfer connected it there).
    func connected(_ number: String, into slot: CallSide) {
        lastConnectedTarget = number
        if slot == .caller { callerSlotNumber = number } else { calleeSlotNumber = number }
    }

    /// True once any transfer of the call connected its parties.
    var transferredCall: Bool { phase == .completed || earlierTransferCompleted }
}

/// A dialog the B2BUA drives outside a call's two slots: an INVITE to a blind-transfer target (until it answers
/// and takes the referrer's slot), or the referrer's dialog after the target took its caller slot (kept so its
/// BYE and the NOTIFY responses are answered). Confined to the SIP endpoint's event loop.
final class TransferDialog: @unchecked Sendable {
    enum Role {
        case target
        case retiredReferrer
        /// An INVITE to a click-to-call caller's phone (B2BUA+ClickToCall.swift).
        case clickToCallCaller
    }

    let role: Role
    /// The session, Call-ID, addressing and target of this dialog (a `CallBranch` outside the call's branches).
    let branch: CallBranch
    weak var call: Call?

    /// The click-to-call this dialog rings the caller for (role `clickToCallCaller`); cleared when it ends.
    var clickToCall: ClickToCall?

    init(role: Role, branch: CallBranch, call: Call) {
        self.role = role
        self.branch = branch
        self.call = call
    }

    init(clickToCall: ClickToCall, branch: CallBranch) {
        role = .clickToCallCaller
        self.branch = branch
        self.clickToCall = clickToCall
    }
}

extension ReplacesMatch {
    /// Whether `replaces` names the dialog `id`, from either end: a B2BUA's dialog seen by the transferor has
    /// the transferor's tag as one tag and Tandem's as the other, and phones differ on which they call to-tag
    /// (RFC 3891 §3 reads the tags from the recipient's point of view; the transferor's view is the reverse).
    static func names(_ replaces: Replaces, _ id: DialogID) -> Bool {
        guard id.callID == replaces.callID else { return false }
        return (id.localTag == replaces.toTag && id.remoteTag == replaces.fromTag)
            || (id.localTag == replaces.fromTag && id.remoteTag == replaces.toTag)
    }
}
