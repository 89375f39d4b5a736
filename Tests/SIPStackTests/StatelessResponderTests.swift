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

    static func options(topVia: String, to: String = "<sip:tandem@192.0.2.1>", folded: Bool = false) throws -> SIPMessage {
        try SIPMessage(parsing: Array("""
            OPTIONS sip:tandem@192.0.2.1 SIP/2.0\r
            Via: \(topVia)\r
            Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-0\r
            From: <sip:monitor@example.com>;tag=abc\r
            To: \(to)\r
            Call-ID: 42@monitor\r
            CSeq: 7 OPTIONS\r
            \(folded ? "Subject: a\r\n b" : "Max-Forwards: 70")\r
            Content-Length: 0\r
            \r

            """.utf8))
    }

    /// The direct (raw-bytes) response carries exactly what the general path writes: same Vias as typed values,
    /// same From, To (but the tag counter), Call-ID and CSeq.
    @Test(arguments: [
        "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1;rport",
        "SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bK-1",
        "SIP/2.0/UDP 198.51.100.7:40000;received=10.1.1.1;branch=z9hG4bK-1;rport",
        "SIP/2.0/UDP 10.0.0.5;rport;branch=z9hG4bK-1;received=10.9.9.9",
        "SIP/2.0/UDP 10.0.0.5;rport=1234;branch=z9hG4bK-1",
        "SIP/2.0/UDP 198.51.100.7:40000;branch=z9hG4bK-1, SIP/2.0/TCP inner.example.com;branch=z9hG4bK-2",
        "sip / 2.0 / udp  host.example.com:5060 ; branch=z9hG4bK-1 ; rport",
    ])
    func directResponseMatchesTheGeneralOne(topVia: String) throws {
        let request = try Self.options(topVia: topVia)
        let source = SIPTransportSource(kind: .udp, remote: try SocketAddress(ipAddress: "198.51.100.7", port: 40000),
                                        local: nil, connectionID: nil)
        var direct = StatelessResponder(tagPrefix: "feedbeef")
        var general = StatelessResponder(tagPrefix: "feedbeef")
        var a = ByteBufferAllocator().buffer(capacity: 512)
        var b = ByteBufferAllocator().buffer(capacity: 512)
        #expect(direct.writeDatagramResponse(statusCode: 200, reasonPhrase: "OK", to: request, source: source, into: &a))
        #expect(general.write(statusCode: 200, reasonPhrase: "OK", to: request, source: source, into: &b))
        let x = try SIPMessage(parsing: Array(a.readableBytesView))
        let y = try SIPMessage(parsing: Array(b.readableBytesView))
        #expect(x.statusCode == 200)
        #expect(try x.vias == y.vias)
        #expect(try x.from == y.from)
        #expect(try x.to == y.to)
        #expect(try x.to.tag == "feedbeef1")
        #expect(try x.callID == y.callID)
        #expect(try x.cseq == y.cseq)
    }

    /// Requests whose response is not simply sent back to the source over IPv4, or whose headers cannot be
    /// copied as they are, are left to the general path.
    @Test func directResponseDeclinesWhatNeedsTheGeneralPath() throws {
        let v4 = SIPTransportSource(kind: .udp, remote: try SocketAddress(ipAddress: "198.51.100.7", port: 40000), local: nil, connectionID: nil)
        let v6 = SIPTransportSource(kind: .udp, remote: try SocketAddress(ipAddress: "2001:db8::7", port: 40000), local: nil, connectionID: nil)
        let tcp = SIPTransportSource(kind: .tcp, remote: try SocketAddress(ipAddress: "198.51.100.7", port: 40000), local: nil,
                                     connectionID: SIPTransportConnectionID(rawValue: 1))
        let cases: [(SIPMessage, SIPTransportSource)] = [
            (try Self.options(topVia: "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1;rport"), v6),
            (try Self.options(topVia: "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1;rport"), tcp),
            (try Self.options(topVia: "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1"), v4),          // goes to sent-by
            (try Self.options(topVia: "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-1"), v4),      // other port
            (try Self.options(topVia: "SIP/2.0/UDP 10.0.0.5;maddr=10.0.0.9;branch=z9hG4bK-1;rport"), v4),
            (try Self.options(topVia: "SIP/2.0/UDP 10.0.0.5;branch=\"z9hG4bK-1\";rport"), v4),
            (try Self.options(topVia: "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK-1;rport", to: "<sip:a@b>\r\n ;x=y"), v4),
        ]
        for (request, source) in cases {
            var responder = StatelessResponder(tagPrefix: "feedbeef")
            var buffer = ByteBufferAllocator().buffer(capacity: 512)
            #expect(!responder.writeDatagramResponse(statusCode: 200, reasonPhrase: "OK", to: request, source: source, into: &buffer))
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func canonicalIPv4Comparison() {
        let ip: UInt32 = 0xC633_6407 // 198.51.100.7
        for (text, expected) in [("198.51.100.7", true), ("198.51.100.07", false), ("198.51.100", false), ("198.51.100.7.1", false),
                                 ("198.51.100.8", false), ("0.0.0.0", false), ("198.51.100.", false), ("host", false)] {
            let bytes = Array(text.utf8)[...]
            #expect(StatelessResponder.isCanonicalIPv4(bytes, 0..<bytes.count, equalTo: ip) == expected, "\(text)")
        }
        #expect(StatelessResponder.isCanonicalIPv4(Array("0.0.0.0".utf8)[...], 0..<7, equalTo: 0))
    }
}
