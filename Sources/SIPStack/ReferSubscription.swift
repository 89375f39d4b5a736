import SIPCore
import TandemBase

/// A received REFER (RFC 3515) and the implicit `refer` subscription it creates: the notifier reports the
/// referenced request's progress in NOTIFYs with `message/sipfrag` bodies ("SIP/2.0 100 Trying" first,
/// the final status last with `terminated;reason=noresource`). Pure; control plane.
public struct ReferSubscription: Equatable, Sendable {
    /// Why a REFER cannot be accepted.
    public enum ReferError: Error, Equatable, Sendable {
        /// No Refer-To, several, or a malformed one: answer 400 (RFC 3515 §2.4.1).
        case badReferTo
        /// A malformed Replaces inside the Refer-To URI: answer 400.
        case badReplaces
    }

    /// Where to send the new request.
    public let referTo: NameAddress
    /// The Replaces the new INVITE must carry (attended transfer, RFC 3891 §7), if any.
    public let replaces: Replaces?
    /// The subscription state (notifier side).
    public private(set) var subscription: Subscription
    /// The last sipfrag status reported.
    public private(set) var lastReportedStatus: Int?

    /// How long the implicit subscription lasts without a final NOTIFY, in seconds (the product's choice).
    public static let defaultExpires: UInt32 = 60

    /// Accepts a REFER: parses Refer-To and any embedded Replaces. The Event id is the REFER's CSeq number
    /// (RFC 3515 §2.4.6), so several REFERs in one dialog have distinct subscriptions. Answer 202 (RFC 3515 §2.4.2).
    public init(refer: SIPMessage, now: Instant, expires: UInt32 = ReferSubscription.defaultExpires) throws(ReferError) {
        guard refer.values("refer-to").count == 1, let to = (try? refer.referTo) ?? nil else { throw .badReferTo }
        referTo = to
        do { replaces = try to.embeddedReplaces } catch { throw .badReplaces }
        var params = SIPParameters()
        if let n = try? refer.cseq.number { params["id"] = String(n) }
        subscription = Subscription(role: .notifier, event: SIPEvent(package: "refer", parameters: params),
                                    requestedExpires: expires, state: .active)
        // The REFER itself starts the implicit subscription (RFC 3515 §2.4.4).
        subscription.start(expires: expires, now: now)
    }

    /// Headers for a NOTIFY reporting `statusCode` of the referenced request: Event, Subscription-State
    /// (active while provisional, `terminated;reason=noresource` on a final) and the sipfrag body.
    /// Build the request with `Dialog.makeRequest(.notify)` and pass it here.
    public mutating func notify(statusCode: Int, reasonPhrase: String? = nil, into builder: inout SIPMessageBuilder, now: Instant) {
        let state: SubscriptionStateValue.Substate = statusCode >= 200 ? .terminated(reason: "noresource") : .active
        let value = subscription.notifyState(state, now: now)
        lastReportedStatus = statusCode
        builder.set("event", subscription.event.description)
        builder.set("subscription-state", value.description)
        let reason = reasonPhrase ?? SIPMessageBuilder.reasonPhrase(for: statusCode)
        SessionBody(contentType: "message/sipfrag;version=2.0",
                    bytes: Array(("SIP/2.0 " + String(statusCode) + " " + reason + "\r\n").utf8)).apply(to: &builder)
    }

    /// The status line of a sipfrag NOTIFY body (referrer side): the code, or nil when it is not one.
    public static func sipfragStatus(of notify: SIPMessage) -> Int? {
        let body = notify.body
        guard body.count >= 12 else { return nil }
        let text = String(decoding: body.prefix(64), as: UTF8.self)
        guard text.hasPrefix("SIP/2.0 ") else { return nil }
        let code = text.dropFirst(8).prefix(3)
        guard code.count == 3, let n = Int(code), n >= 100, n <= 699 else { return nil }
        return n
    }

    /// Builds the REFER headers (referrer side): Refer-To, and an embedded Replaces for attended transfer.
    public static func addReferHeaders(to builder: inout SIPMessageBuilder, target: SIPURI, replaces: Replaces? = nil) {
        var uri = target
        if let replaces { uri.headers.append(SIPParameter("Replaces", replaces.description)) }
        builder.set("refer-to", NameAddress(uri: uri).description)
    }
}

/// The outcome of matching an INVITE's Replaces to this UA's dialogs (RFC 3891 §3).
public enum ReplacesMatch: Equatable, Sendable {
    /// A confirmed dialog: accept the new INVITE, then BYE the old dialog.
    case replaceConfirmed(DialogID)
    /// An early dialog we initiated: accept, then CANCEL the old INVITE.
    case replaceEarly(DialogID)
    /// Reject the new INVITE with this status: 481 none/not ours/not INVITE, 486 early-only on a confirmed
    /// dialog, 603 a terminated dialog.
    case reject(statusCode: Int)

    /// Matches `replaces` against `dialogs` (INVITE dialogs only): its to-tag is compared with our local tag
    /// and its from-tag with the remote tag, as if the tags came in a request (RFC 3891 §3).
    public static func find(_ replaces: Replaces, in dialogs: [Dialog]) -> ReplacesMatch {
        guard let d = dialogs.first(where: {
            $0.id.callID == replaces.callID && $0.id.localTag == replaces.toTag && $0.id.remoteTag == replaces.fromTag
        }) else { return .reject(statusCode: 481) }
        switch d.state {
        case .terminated: return .reject(statusCode: 603)
        case .confirmed: return replaces.isEarlyOnly ? .reject(statusCode: 486) : .replaceConfirmed(d.id)
        case .early: return d.role == .uac ? .replaceEarly(d.id) : .reject(statusCode: 481)
        }
    }
}
