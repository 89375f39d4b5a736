import Testing
@testable import SIPCore

/// RFC 5118 (IPv6 torture tests) §4 messages. Texts as in the RFC (taken from sipsorcery's RFC 5118 test file,
/// checked against the RFC prose); §4.5's second message is RECONSTRUCTED: that copy carries stray spaces
/// ("sip:user @example.com") that are not in the RFC.
enum RFC5118 {
    static let common = """
    To: sip:user@example.com
    From: sip:user@example.com;tag=81x2
    Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
    Call-ID: SSG9559905523997077@hlau_4100

    """

    /// §4.1 ipv6-good.
    static let ipv6Good = """
    REGISTER sip:[2001:db8::10] SIP/2.0
    \(common)Max-Forwards: 70
    Contact: "Caller" <sip:caller@[2001:db8::1]>
    CSeq: 98176 REGISTER
    Content-Length: 0


    """
    /// §4.2 ipv6-bad: no brackets around the IPv6 reference in the Request-URI.
    static let ipv6Bad = """
    REGISTER sip:2001:db8::10 SIP/2.0
    \(common)Max-Forwards: 70
    Contact: "Caller" <sip:caller@[2001:db8::1]>
    CSeq: 98176 REGISTER
    Content-Length: 0


    """
    /// §4.3 port-ambiguous.
    static let portAmbiguous = """
    REGISTER sip:[2001:db8::10:5070] SIP/2.0
    \(common)Contact: "Caller" <sip:caller@[2001:db8::1]>
    Max-Forwards: 70
    CSeq: 98176 REGISTER
    Content-Length: 0


    """
    /// §4.4 port-unambiguous.
    static let portUnambiguous = """
    REGISTER sip:[2001:db8::10]:5070 SIP/2.0
    \(common)Contact: "Caller" <sip:caller@[2001:db8::1]>
    Max-Forwards: 70
    CSeq: 98176 REGISTER
    Content-Length: 0


    """
    /// §4.5 via-received-param-with-delim.
    static let receivedWithDelim = """
    BYE sip:[2001:db8::10] SIP/2.0
    To: sip:user@example.com;tag=bd76ya
    From: sip:user@example.com;tag=81x2
    Via: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255];branch=z9hG4bKas3-111
    Call-ID: SSG9559905523997077@hlau_4100
    Max-Forwards: 70
    CSeq: 321 BYE
    Content-Length: 0


    """
    /// §4.5 via-received-param-no-delim (RECONSTRUCTED, see above).
    static let receivedNoDelim = """
    OPTIONS sip:[2001:db8::10] SIP/2.0
    To: sip:user@example.com
    From: sip:user@example.com;tag=81x2
    Via: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bKas3
    Call-ID: SSG95523997077@hlau_4100
    Max-Forwards: 70
    Contact: "Caller" <sip:caller@[2001:db8::9:1]>
    CSeq: 921 OPTIONS
    Content-Length: 0


    """
    /// §4.6 ipv6-in-sdp, with Content-Length corrected to 251: the RFC prints 268, but its body is 251 octets
    /// (nksip's copy notes the same), and a UDP receiver must reject a too-large Content-Length (RFC 3261 §18.3).
    static let ipv6InSDP = """
    INVITE sip:user@[2001:db8::10] SIP/2.0
    To: sip:user@[2001:db8::10]
    From: sip:user@example.com;tag=81x2
    Via: SIP/2.0/UDP [2001:db8::20];branch=z9hG4bKas3-111
    Call-ID: SSG9559905523997077@hlau_4100
    Contact: "Caller" <sip:caller@[2001:db8::20]>
    CSeq: 8612 INVITE
    Max-Forwards: 70
    Content-Type: application/sdp
    Content-Length: 251

    v=0
    o=assistant 971731711378798081 0 IN IP6 2001:db8::20
    s=Live video feed for today's meeting
    c=IN IP6 2001:db8::20
    t=3338481189 3370017201
    m=audio 6000 RTP/AVP 2
    a=rtpmap:2 G726-32/8000
    m=video 6024 RTP/AVP 107
    a=rtpmap:107 H263-1998/90000

    """
    /// §4.7 mult-ip-in-header.
    static let multIPInHeader = """
    BYE sip:user@host.example.net SIP/2.0
    Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111
    Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144
    Via: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200
    Call-ID: 997077@lau_4100
    Max-Forwards: 70
    CSeq: 89187 BYE
    To: sip:user@example.net;tag=9817--94
    From: sip:user@example.com;tag=81x2
    Content-Length: 0


    """
    /// §4.8 mult-ip-in-sdp.
    static let multIPInSDP = """
    INVITE sip:user@[2001:db8::10] SIP/2.0
    To: sip:user@[2001:db8::10]
    From: sip:user@example.com;tag=81x2
    Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
    Call-ID: SSG9559905523997077@hlau_4100
    Contact: "Caller" <sip:caller@[2001:db8::9:1]>
    Max-Forwards: 70
    CSeq: 8912 INVITE
    Content-Type: application/sdp
    Content-Length: 181

    v=0
    o=bob 280744730 28977631 IN IP4 host.example.com
    s=
    t=0 0
    m=audio 22334 RTP/AVP 0
    c=IN IP4 192.0.2.1
    m=video 6024 RTP/AVP 107
    c=IN IP6 2001:db8::1
    a=rtpmap:107 H263-1998/90000

    """
    /// §4.9 ipv4-mapped-ipv6.
    static let ipv4Mapped = """
    INVITE sip:user@example.com SIP/2.0
    To: sip:user@example.com
    From: sip:user@east.example.com;tag=81x2
    Via: SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19
    Via: SIP/2.0/UDP [::ffff:192.0.2.2];branch=z9hG4bKas3-111
    Call-ID: SSG9559905523997077@hlau_4100
    Contact: "T. desk phone" <sip:ted@[::ffff:192.0.2.2]>
    CSeq: 612 INVITE
    Max-Forwards: 70
    Content-Type: application/sdp
    Content-Length: 236

    v=0
    o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2
    s=Call me soon, please!
    c=IN IP6 ::ffff:192.0.2.2
    t=3338481189 3370017201
    m=audio 6000 RTP/AVP 2
    a=rtpmap:2 G726-32/8000
    m=video 6024 RTP/AVP 107
    a=rtpmap:107 H263-1998/90000

    """
    /// §4.10 ipv6-bug-abnf-3-colons and ipv6-correct-abnf-2-colons.
    static func abnf(_ host: String) -> String {
        """
        OPTIONS sip:user@[\(host)] SIP/2.0
        To: sip:user@[\(host)]
        From: sip:user@example.com;tag=810x2
        Via: SIP/2.0/UDP lab1.east.example.com;branch=z9hG4bKas3-111
        Call-ID: G9559905523997077@hlau_4100
        CSeq: 689 OPTIONS
        Max-Forwards: 70
        Content-Length: 0


        """
    }

    static var all: [String] {
        [ipv6Good, ipv6Bad, portAmbiguous, portUnambiguous, receivedWithDelim, receivedNoDelim, ipv6InSDP,
         multIPInHeader, multIPInSDP, ipv4Mapped, abnf("2001:db8:::192.0.2.1"), abnf("2001:db8::192.0.2.1")]
    }
}

@Suite struct TortureRFC5118Tests {
    func contacts(_ m: SIPMessage) throws -> [NameAddress] {
        guard case .addresses(let c)? = try m.contact else { return [] }
        return c
    }

    /// §4.1: IPv6 references in the Request-URI, Via and Contact.
    @Test func validIPv6Reference() throws {
        let m = try parsedValid(wire(RFC5118.ipv6Good))
        let ruri = try #require(m.requestURI)
        #expect(ruri.host == "2001:db8::10" && ruri.port == nil && ruri.isIPv6)
        #expect(try m.vias[0].host == "2001:db8::9:1" && m.vias[0].port == nil)
        #expect(try contacts(m)[0].uri.host == "2001:db8::1")
        #expect(try contacts(m)[0].displayName == "Caller")
    }

    /// §4.2: no brackets around the IPv6 reference: 400.
    @Test func invalidIPv6Reference() {
        let e = tortureError(wire(RFC5118.ipv6Bad))
        #expect(e == .invalidRequestURI)
        #expect(e?.suggestedStatusCode == 400)
    }

    /// §4.3: the port written inside the brackets is part of the address; well-formed, no port.
    @Test func portAmbiguous() throws {
        let ruri = try #require(try parsedValid(wire(RFC5118.portAmbiguous)).requestURI)
        #expect(ruri.host == "2001:db8::10:5070")
        #expect(ruri.port == nil)
    }

    /// §4.4: the port after the brackets.
    @Test func portUnambiguous() throws {
        let ruri = try #require(try parsedValid(wire(RFC5118.portUnambiguous)).requestURI)
        #expect(ruri.host == "2001:db8::10")
        #expect(ruri.port == 5070)
        #expect(ruri.description == "sip:[2001:db8::10]:5070")
    }

    /// §4.5: `received` with and without brackets; robust parsers read the topmost Via either way.
    @Test func receivedParameter() throws {
        let with = try parsedValid(wire(RFC5118.receivedWithDelim)).vias[0]
        #expect(with.host == "2001:db8::9:1")
        #expect(with.received == "[2001:db8::9:255]")
        #expect(with.branch == "z9hG4bKas3-111")
        let without = try parsedValid(wire(RFC5118.receivedNoDelim)).vias[0]
        #expect(without.received == "2001:db8::9:255")
        #expect(without.branch == "z9hG4bKas3")
    }

    /// §4.6 and §4.8: IPv6 in the SDP body (no brackets there) does not disturb the SIP layer.
    @Test(arguments: [(RFC5118.ipv6InSDP, 251), (RFC5118.multIPInSDP, 181)])
    func ipv6InSDP(_ text: String, _ length: Int) throws {
        let m = try parsedValid(wire(text))
        #expect(m.body.count == length)
        #expect(try m.to.uri.host == "2001:db8::10")
        #expect(try contacts(m)[0].uri.isIPv6)
    }

    /// §4.6 as printed, with its Content-Length of 268 over a 251-octet body: rejected like RFC 4475 clerr.
    @Test func ipv6InSDPAsPrinted() {
        let printed = RFC5118.ipv6InSDP.replacing("Content-Length: 251", with: "Content-Length: 268")
        #expect(tortureError(wire(printed)) == .contentLengthExceedsMessage)
    }

    /// §4.7: a Via list mixing IPv4 and IPv6, with a port after a bracket.
    @Test func mixedVias() throws {
        let vias = try parsedValid(wire(RFC5118.multIPInHeader)).vias
        #expect(vias.map(\.host) == ["2001:db8::9:1", "192.0.2.1", "2001:db8::9:255"])
        #expect(vias[0].port == 6050)
        #expect(vias[2].transport == "TCP" && vias[2].received == "192.0.2.200")
        #expect(vias[0].description == "SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111")
    }

    /// §4.9: IPv4-mapped IPv6 addresses in Via (with port) and Contact.
    @Test func ipv4Mapped() throws {
        let m = try parsedValid(wire(RFC5118.ipv4Mapped))
        let vias = try m.vias
        #expect(vias[0].host == "::ffff:192.0.2.10" && vias[0].port == 19823)
        #expect(vias[1].host == "::ffff:192.0.2.2" && vias[1].port == nil)
        #expect(try contacts(m)[0].uri.host == "::ffff:192.0.2.2")
        #expect(m.body.count == 236)
    }

    /// §4.10: the RFC 3261 ABNF bug. Three colons is tolerated (the RFC allows robustness), two is correct.
    @Test(arguments: ["2001:db8:::192.0.2.1", "2001:db8::192.0.2.1"])
    func abnfColons(_ host: String) throws {
        let m = try parsedValid(wire(RFC5118.abnf(host)))
        #expect(m.requestURI?.host == host)
        #expect(try m.to.uri.host == host)
    }

    /// Malformed brackets (not RFC 5118 messages; variations on §4.2 built for this suite): rejected with 400.
    @Test(arguments: ["sip:[2001:db8::10", "sip:2001:db8::10]", "sip:[2001:db8::10]5070", "sip:[]", "sip:[2001:db8::g]",
                      "sip:[2001:db8::10]:99999"])
    func badBrackets(_ uri: String) {
        let text = RFC5118.ipv6Good.replacing("REGISTER sip:[2001:db8::10] SIP/2.0", with: "REGISTER \(uri) SIP/2.0")
        let e = tortureError(wire(text))
        #expect(e == .invalidRequestURI, "\(uri)")
        #expect(e?.suggestedStatusCode == 400)
        #expect(throws: SIPParseError.self) { try SIPURI(parsing: uri) }
    }

    /// Every URI in these messages round-trips parse → serialise → parse, brackets restored.
    @Test func uriRoundTrips() throws {
        var seen = 0
        for text in RFC5118.all {
            guard let m = try? SIPMessage(parsing: wire(text)) else { continue }
            var uris: [SIPURI] = []
            if let r = m.requestURI { uris.append(r) }
            if let a = try? m.to { uris.append(a.uri) }
            if let a = try? m.from { uris.append(a.uri) }
            uris += try contacts(m).map(\.uri)
            for u in uris {
                #expect(try SIPURI(parsing: u.description) == u, "\(u.description)")
                if u.isIPv6 { #expect(u.description.contains("[" + u.host + "]")) }
                seen += 1
            }
        }
        #expect(seen >= 30)
    }
}
