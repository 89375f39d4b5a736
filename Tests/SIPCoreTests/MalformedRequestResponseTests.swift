import Foundation
import SIPCore
import Testing

@Suite struct MalformedRequestResponseTests {
    func respond(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        let error: SIPParseError
        do {
            _ = try SIPMessage(parsing: bytes)
            Issue.record("expected a parse failure")
            return nil
        } catch let e {
            error = e
        }
        return bytes.withUnsafeBytes { MalformedRequestResponse.response(for: $0, error: error) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static let badMaxForwards = """
        INVITE sip:bob@example.com SIP/2.0\r
        Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-bad\r
        Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-p\r
        f: <sip:alice@example.com>;tag=1\r
        To: <sip:bob@example.com>\r
        Call-ID: bad-cseq@192.0.2.1\r
        CSeq: 1 INVITE\r
        Max-Forwards: 7000\r
        Content-Length: 0\r
        \r

        """

    @Test func malformedRequestGets400WithItsHeadersCopied() throws {
        let text = try #require(respond(Self.badMaxForwards))
        let response = try SIPMessage(parsing: Array(text.utf8))
        #expect(response.statusCode == 400)
        #expect(try response.vias.count == 2)
        #expect(try response.vias[0].branch == "z9hG4bK-bad")
        #expect(try response.from.tag == "1")
        #expect(try response.callID == "bad-cseq@192.0.2.1")
        #expect(response.value(.cseq) == "1 INVITE")
    }

    @Test func badVersionGets505() throws {
        let text = try #require(respond(Self.badMaxForwards.replacingOccurrences(of: "Max-Forwards: 7000", with: "Max-Forwards: 70")
            .replacingOccurrences(of: "sip:bob@example.com SIP/2.0", with: "sip:bob@example.com SIP/7.0")))
        #expect(text.hasPrefix("SIP/2.0 505 "))
    }

    @Test(arguments: [
        // A malformed response is never answered.
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nCSeq: x\r\n\r\n",
        // Missing Call-ID: the response could not be matched, so none is sent.
        "INVITE sip:b@c SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCSeq: x INVITE\r\n\r\n",
        // No Via at all.
        "INVITE sip:b@c SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: 1\r\nCSeq: x INVITE\r\n\r\n",
        // Garbage.
        "\u{1}\u{2}\u{3} hello",
    ])
    func unaddressableInputGetsNoResponse(text: String) {
        #expect(respond(text) == nil)
    }
}
