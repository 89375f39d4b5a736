import Foundation
@testable import PBX
import SIPCore
import SIPStack
import Store
import Testing
import TandemBase

/// Transfer logic that needs no network: which dialog an attended transfer's Replaces names, the REFER's
/// parsing into a subscription, the NOTIFY sipfrag bodies, and the CDR reason.
@Suite struct CallTransferTests {
    let dialog = DialogID(callID: "consult-1@phone", localTag: "tandem-tag", remoteTag: "phone-tag")

    @Test func replacesNamesTandemsDialogFromEitherEnd() {
        // The transferor's view (to-tag = Tandem's, from-tag = its own) and RFC 3891's recipient view both match.
        #expect(ReplacesMatch.names(Replaces(callID: "consult-1@phone", toTag: "tandem-tag", fromTag: "phone-tag"), dialog))
        #expect(ReplacesMatch.names(Replaces(callID: "consult-1@phone", toTag: "phone-tag", fromTag: "tandem-tag"), dialog))
        #expect(!ReplacesMatch.names(Replaces(callID: "consult-2@phone", toTag: "tandem-tag", fromTag: "phone-tag"), dialog))
        #expect(!ReplacesMatch.names(Replaces(callID: "consult-1@phone", toTag: "tandem-tag", fromTag: "other"), dialog))
        #expect(!ReplacesMatch.names(Replaces(callID: "consult-1@phone", toTag: "x", fromTag: "y"), dialog))
    }

    func refer(_ referTo: String) throws -> SIPMessage {
        let text = "REFER sip:tandem@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1\r\n"
            + "From: <sip:100@pbx.example>;tag=a\r\nTo: <sip:200@pbx.example>;tag=b\r\nCall-ID: call-1\r\n"
            + "CSeq: 7 REFER\r\nContact: <sip:100@192.0.2.7>\r\nRefer-To: \(referTo)\r\nMax-Forwards: 70\r\n"
            + "Content-Length: 0\r\n\r\n"
        return try SIPMessage(parsing: Array(text.utf8))
    }

    @Test func blindAndAttendedReferToAreTellApart() throws {
        let now = MonotonicClock().now()
        let blind = try ReferSubscription(refer: try refer("<sip:300@pbx.example>"), now: now)
        #expect(blind.referTo.uri.user == "300" && blind.replaces == nil)
        let attended = try ReferSubscription(
            refer: try refer("<sip:300@pbx.example?Replaces=consult-1%40phone%3Bto-tag%3Dtandem-tag%3Bfrom-tag%3Dphone-tag>"),
            now: now)
        let replaces = try #require(attended.replaces)
        #expect(ReplacesMatch.names(replaces, dialog), "\(replaces)")
        #expect(throws: ReferSubscription.ReferError.badReplaces) {
            _ = try ReferSubscription(refer: try refer("<sip:300@pbx.example?Replaces=broken>"), now: now)
        }
    }

    @Test func notifyCarriesSipfragAndTerminatesOnTheFinalStatus() throws {
        let now = MonotonicClock().now()
        var s = try ReferSubscription(refer: try refer("<sip:300@pbx.example>"), now: now)
        var trying = SIPMessageBuilder(method: .notify, uri: SIPURI(user: "100", host: "192.0.2.7"))
        s.notify(statusCode: 100, into: &trying, now: now)
        let t = String(decoding: trying.bytes(), as: UTF8.self)
        #expect(t.contains("SIP/2.0 100 Trying") && t.lowercased().contains("subscription-state: active"), "\(t)")
        var busy = SIPMessageBuilder(method: .notify, uri: SIPURI(user: "100", host: "192.0.2.7"))
        s.notify(statusCode: 486, into: &busy, now: now)
        let b = String(decoding: busy.bytes(), as: UTF8.self)
        #expect(b.contains("SIP/2.0 486") && b.lowercased().contains("terminated"), "\(b)")
        #expect(s.subscription.isTerminated)
    }

    @Test func transferredIsAStoredEndReason() {
        #expect(CallDetailRecord.EndReason(rawValue: "transferred") == .transferred)
    }
}
