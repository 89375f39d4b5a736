import SIPCore
@testable import SIPStack
import Testing

@Suite struct DialogTests {
    @Test func uacDialogFromProvisionalThenConfirmedByOK() throws {
        let invite = try aliceInvite()
        var d = try Dialog(uacRequest: invite, response: try bobResponse(180, reason: "Ringing"), localContact: aliceContact)
        #expect(d.state == .early)
        #expect(d.id == DialogID(callID: "call-1@10.0.0.1", localTag: "alicetag", remoteTag: "bobtag"))
        // UAC route set is the Record-Route reversed (RFC 3261 §12.1.2).
        #expect(d.routeSet.map(\.uri.host) == ["p2.example.com", "p1.example.com"])
        #expect(d.remoteTarget.host == "10.0.0.2")
        #expect(d.localSequence == 1)
        #expect(d.remoteSequence == nil)
        d.receive(response: try bobResponse(200, reason: "OK", contact: "<sip:bob@10.0.0.9:5070>"))
        #expect(d.state == .confirmed)
        #expect(d.remoteTarget.host == "10.0.0.9")
        #expect(d.remoteTarget.port == 5070)
    }

    @Test func uasDialogKeepsRecordRouteOrderAndBuildsLooseRoutedRequests() throws {
        var d = try Dialog(uasRequest: try inviteAtBob(), localTag: "bobtag", localContact: bobContact)
        #expect(d.routeSet.map(\.uri.host) == ["p2.example.com", "p1.example.com"])
        #expect(d.remoteSequence == 1)
        #expect(d.localSequence == nil)
        #expect(d.id.remoteTag == "alicetag")
        let bye = try parsed(d.makeRequest(.bye))
        #expect(bye.requestURI?.host == "10.0.0.1")
        #expect(try bye.routes.map(\.uri.host) == ["p2.example.com", "p1.example.com"])
        #expect(try bye.cseq == CSeq(number: 1, method: .bye))
        #expect(try bye.from.tag == "bobtag")
        #expect(try bye.to.tag == "alicetag")
        #expect(try bye.callID == "call-1@10.0.0.1")
        #expect(try parsed(d.makeRequest(.info)).cseq.number == 2)
        #expect(d.localSequence == 2)
    }

    @Test func responseCopiesRecordRouteAndAddsTagAndContact() throws {
        let inv = try inviteAtBob()
        let d = try Dialog(uasRequest: inv, localTag: "bobtag", localContact: bobContact)
        let ok = try parsed(d.makeResponse(to: inv, statusCode: 200))
        #expect(try ok.to.tag == "bobtag")
        #expect(try ok.recordRoutes.map(\.uri.host) == ["p2.example.com", "p1.example.com"])
        if case .addresses(let c)? = try ok.contact { #expect(c[0].uri.user == "bob") } else { Issue.record("no contact") }
        #expect(try ok.vias.count == 2)
    }

    @Test func strictRouterBecomesRequestURI() throws {
        let invite = try aliceInvite()
        var resp = try sip([
            "SIP/2.0 200 OK",
            "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-inv1",
            "Record-Route: <sip:strict.example.com>",
            "From: <sip:alice@example.com>;tag=alicetag",
            "To: <sip:bob@example.com>;tag=bobtag",
            "Call-ID: call-1@10.0.0.1",
            "CSeq: 1 INVITE",
            "Contact: <sip:bob@10.0.0.2:5060>",
        ])
        var d = try Dialog(uacRequest: invite, response: resp, localContact: aliceContact)
        let bye = try parsed(d.makeRequest(.bye))
        #expect(bye.requestURI?.host == "strict.example.com")
        #expect(try bye.routes.map(\.uri.host) == ["10.0.0.2"])
        resp = try bobResponse(200, reason: "OK")
        d = try Dialog(uacRequest: invite, response: resp, localContact: aliceContact)
        #expect(try parsed(d.makeRequest(.bye)).requestURI?.host == "10.0.0.2")
    }

    @Test func remoteCSeqMustIncreaseElse500() throws {
        var d = try Dialog(uacRequest: try aliceInvite(), response: try bobResponse(200, reason: "OK"), localContact: aliceContact)
        #expect(d.receive(request: try bobRequest("INFO", cseq: 5)) == .accepted)
        #expect(d.remoteSequence == 5)
        #expect(d.receive(request: try bobRequest("INFO", cseq: 4)) == .reject(statusCode: 500))
        #expect(d.receive(request: try bobRequest("INFO", cseq: 5)) == .reject(statusCode: 500))
        #expect(d.receive(request: try bobRequest("INFO", cseq: 6)) == .accepted)
        // Wrong tags: not this dialog.
        let foreign = try sip([
            "BYE sip:alice@10.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP x;branch=z9hG4bK-x", "From: <sip:bob@example.com>;tag=other",
            "To: <sip:alice@example.com>;tag=alicetag", "Call-ID: call-1@10.0.0.1", "CSeq: 9 BYE",
        ])
        #expect(d.receive(request: foreign) == .reject(statusCode: 481))
    }

    @Test func targetRefreshOnlyOnTargetRefreshRequests() throws {
        var d = try Dialog(uacRequest: try aliceInvite(), response: try bobResponse(200, reason: "OK"), localContact: aliceContact)
        _ = d.receive(request: try bobRequest("INFO", cseq: 2, extra: ["Contact: <sip:bob@10.9.9.9>"]))
        #expect(d.remoteTarget.host == "10.0.0.2")
        _ = d.receive(request: try bobRequest("INVITE", cseq: 3, extra: ["Contact: <sip:bob@10.9.9.9>"]))
        #expect(d.remoteTarget.host == "10.9.9.9")
        _ = d.receive(request: try bobRequest("UPDATE", cseq: 4, extra: ["Contact: <sip:bob@10.8.8.8>"]))
        #expect(d.remoteTarget.host == "10.8.8.8")
    }

    @Test func ackForTwoHundredUsesInviteCSeq() throws {
        var d = try Dialog(uacRequest: try aliceInvite(cseq: 7), response: try bobResponse(200, reason: "OK", cseq: "7 INVITE"),
                           localContact: aliceContact)
        _ = d.makeRequest(.info)
        let ack = try parsed(d.makeACK(inviteSequence: 7, body: answerBody))
        #expect(try ack.cseq == CSeq(number: 7, method: .ack))
        #expect(Array(ack.body) == answerBody.bytes)
        #expect(try ack.routes.map(\.uri.host) == ["p2.example.com", "p1.example.com"])
        #expect(d.localSequence == 8)
    }

    @Test func badInputsThrowTypedErrors() throws {
        #expect(throws: DialogError.notDialogCreating) {
            try Dialog(uacRequest: try aliceInvite(), response: try bobResponse(100, reason: "Trying"), localContact: aliceContact)
        }
        let noContact = try sip([
            "SIP/2.0 200 OK", "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-1", "From: <sip:a@x>;tag=alicetag",
            "To: <sip:b@x>;tag=b", "Call-ID: c", "CSeq: 1 INVITE",
        ])
        #expect(throws: DialogError.missingContact) {
            try Dialog(uacRequest: try aliceInvite(), response: noContact, localContact: aliceContact)
        }
    }
}
