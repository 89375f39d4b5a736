import SIPCore
import SIPStack
import TandemBase

/// Builds a SIPMessage from header lines (CRLF added, Content-Length computed).
func sip(_ lines: [String], body: String = "") throws -> SIPMessage {
    var text = lines.joined(separator: "\r\n") + "\r\n"
    if !body.isEmpty { text += "Content-Type: application/sdp\r\n" }
    text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    return try SIPMessage(parsing: Array(text.utf8))
}

/// Parses lines joined by CRLF exactly as given (the caller writes Content-Length and body).
func raw(_ lines: [String]) throws -> SIPMessage { try SIPMessage(parsing: Array(lines.joined(separator: "\r\n").utf8)) }

/// Parses what a builder would put on the wire.
/// Parses what a builder would put on the wire; requests get the Via the transaction layer would add.
func parsed(_ b: SIPMessageBuilder) throws -> SIPMessage {
    var b = b
    if case .request = b.startLine, b.header("via").isEmpty {
        b.fields.insert(SIPHeaderField(name: "Via", value: "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-test"), at: 0)
    }
    return try SIPMessage(parsing: b.bytes())
}

let aliceContact = NameAddress(uri: SIPURI(user: "alice", host: "10.0.0.1", port: 5060))
let bobContact = NameAddress(uri: SIPURI(user: "bob", host: "10.0.0.2", port: 5060))
let offerBody = SessionBody(bytes: Array("v=0 offer".utf8))
let answerBody = SessionBody(bytes: Array("v=0 answer".utf8))

func sessionClock(_ ms: Int64) -> Instant { Instant(nanoseconds: 0).adding(milliseconds: ms) }

/// The INVITE Alice sends (with Via, as the transaction layer sent it).
func aliceInvite(body: String = "v=0 offer", cseq: Int = 1) throws -> SIPMessage {
    try sip([
        "INVITE sip:bob@example.com SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-inv1",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=alicetag",
        "To: <sip:bob@example.com>",
        "Call-ID: call-1@10.0.0.1",
        "CSeq: \(cseq) INVITE",
        "Contact: <sip:alice@10.0.0.1:5060>",
    ] + (body.isEmpty ? [] : []), body: body)
}

/// A response to Alice's INVITE from Bob, with Record-Route p1 then p2.
func bobResponse(_ code: Int, reason: String, cseq: String = "1 INVITE", body: String = "", extra: [String] = [],
                 contact: String = "<sip:bob@10.0.0.2:5060>") throws -> SIPMessage {
    try sip([
        "SIP/2.0 \(code) \(reason)",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-inv1",
        "Record-Route: <sip:p1.example.com;lr>",
        "Record-Route: <sip:p2.example.com;lr>",
        "From: <sip:alice@example.com>;tag=alicetag",
        "To: <sip:bob@example.com>;tag=bobtag",
        "Call-ID: call-1@10.0.0.1",
        "CSeq: \(cseq)",
        "Contact: \(contact)",
    ] + extra, body: body)
}

/// An in-dialog request from Bob to Alice (Alice is the UAC of the dialog).
func bobRequest(_ method: String, cseq: Int, body: String = "", extra: [String] = []) throws -> SIPMessage {
    try sip([
        "\(method) sip:alice@10.0.0.1:5060 SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-b\(cseq)\(method)",
        "Max-Forwards: 70",
        "From: <sip:bob@example.com>;tag=bobtag",
        "To: <sip:alice@example.com>;tag=alicetag",
        "Call-ID: call-1@10.0.0.1",
        "CSeq: \(cseq) \(method)",
    ] + extra, body: body)
}

/// An in-dialog request from Alice to Bob (Bob is the UAS of the dialog, tag bobtag).
func aliceRequest(_ method: String, cseq: Int, body: String = "", extra: [String] = []) throws -> SIPMessage {
    try sip([
        "\(method) sip:bob@10.0.0.2:5060 SIP/2.0",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-a\(cseq)\(method)",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=alicetag",
        "To: <sip:bob@example.com>;tag=bobtag",
        "Call-ID: call-1@10.0.0.1",
        "CSeq: \(cseq) \(method)",
    ] + extra, body: body)
}

/// The same INVITE as Bob receives it, through proxies p1 and p2.
func inviteAtBob(body: String = "v=0 offer", extra: [String] = []) throws -> SIPMessage {
    try sip([
        "INVITE sip:bob@10.0.0.2 SIP/2.0",
        "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK-p2",
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-inv1",
        "Record-Route: <sip:p2.example.com;lr>",
        "Record-Route: <sip:p1.example.com;lr>",
        "Max-Forwards: 68",
        "From: <sip:alice@example.com>;tag=alicetag",
        "To: <sip:bob@example.com>",
        "Call-ID: call-1@10.0.0.1",
        "CSeq: 1 INVITE",
        "Contact: <sip:alice@10.0.0.1:5060>",
    ] + extra, body: body)
}

extension InviteSession.Action {
    var requestBuilder: SIPMessageBuilder? { if case .sendRequest(let b) = self { b } else { nil } }
    var responseBuilder: SIPMessageBuilder? { if case .sendResponse(let b) = self { b } else { nil } }
    var ackBuilder: SIPMessageBuilder? { if case .sendACK(let b) = self { b } else { nil } }
    var isEstablished: Bool { if case .established = self { true } else { false } }
    var offer: SessionBody? { if case .offerReceived(let b) = self { b } else { nil } }
    var answer: SessionBody? { if case .answerReceived(let b) = self { b } else { nil } }
}

extension SIPMessageBuilder {
    var statusCode: Int? { if case .response(let c, _) = startLine { c } else { nil } }
    var methodAndURI: (SIPMethod, String)? { if case .request(let m, let u) = startLine { (m, u) } else { nil } }
    func header(_ name: String) -> [String] { fields.filter { SIPHeaderName($0.name) == SIPHeaderName(name) }.map(\.value) }
}
