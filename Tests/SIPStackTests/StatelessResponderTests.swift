import NIOCore
import SIPCore
import Testing
@testable import SIPStack

@Suite struct StatelessResponderTests {
    let request = try! SIPMessage(parsing: Array("""
        OPTIONS sip:tandem@192.0.2.1 SIP/2.0\r
        Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1;rport\r
        Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-0\r
        From: <sip:monitor@example.com>;tag=abc\r
        To: <sip:tandem@192.0.2.1;transport=udp>\r
        Call-ID: 42@monitor\r
        CSeq: 7 OPTIONS\r
        Max-Forwards: 70\r
        Content-Length: 0\r
        \r

        """.utf8))

    @Test func answersWithStampedViaAndAFreshTag() throws {
        var responder = StatelessResponder(tagPrefix: "feedbeef")
        let source = SIPTransportSource(kind: .udp, remote: try SocketAddress(ipAddress: "198.51.100.7", port: 40000),
                                        local: nil, connectionID: nil)
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        #expect(responder.write(statusCode: 200, reasonPhrase: "OK", to: request, source: source, into: &buffer))
        let response = try SIPMessage(parsing: Array(buffer.readableBytesView))
        #expect(response.statusCode == 200)
        let vias = try response.vias
        #expect(vias.count == 2)
        #expect(vias[0].received == "198.51.100.7")
        #expect(vias[0].rport == .value(40000))
        #expect(vias[1].host == "proxy.example.com")
        #expect(try response.to.tag == "feedbeef1")
        #expect(try response.from.tag == "abc")
        #expect(try response.callID == "42@monitor")
        #expect(try response.cseq.description == "7 OPTIONS")
        // A second response gets a different tag; a To that has a tag keeps it.
        buffer.clear()
        _ = responder.write(statusCode: 200, reasonPhrase: "OK", to: request, source: source, into: &buffer)
        #expect(try SIPMessage(parsing: Array(buffer.readableBytesView)).to.tag == "feedbeef2")
    }

    @Test(arguments: [("<sip:a@b>;tag=1", true), ("<sip:a@b;tag=1>", false), ("sip:a@b;TAG=x", true), ("\"x;tag=\" <sip:a@b>", false)])
    func recognisesTagParameters(value: String, expected: Bool) {
        #expect(StatelessResponder.hasTag(value) == expected)
    }
}
