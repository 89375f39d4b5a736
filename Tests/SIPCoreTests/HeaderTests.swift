import Testing
@testable import SIPCore

@Suite struct HeaderTests {
    static let invite = """
    INVITE sip:bob@biloxi.example.com SIP/2.0
    v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;received=192.0.2.1;rport=5070;maddr=224.2.0.1;ttl=16
    VIA: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKtop
    Max-Forwards: 70
    t: Bob <sip:bob@biloxi.example.com>
    f: "Alice \\"A\\" Liddell" <sip:alice@atlanta.example.com>;tag=1928301774
    i: a84b4c76e66710@pc33.atlanta.example.com
    CSeq: 314159 INVITE
    m: <sip:alice@pc33.atlanta.example.com;transport=tcp>;expires=3600;q=0.7, "Other, Name" <sips:alice@[2001:db8::2]:5071>;+sip.instance="<urn:uuid:1>"
    Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
    Route: <sip:p3.example.com;lr>
    Record-Route: <sip:rr.example.com;lr;transport=udp>
    k: replaces, 100rel,timer
    Require: timer
    Allow: INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS
    o: refer;id=93809824
    u: dialog, presence
    r: <sip:carol@chicago.example.com;method=INVITE?Replaces=12345%40192.168.118.3%3Bto-tag%3D12345%3Bfrom-tag%3D5FFE-3994>
    b: <sip:alice@atlanta.example.com>
    Replaces: 98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only
    P-Asserted-Identity: "Cullen Jennings" <sip:fluffy@cisco.com>, <tel:+1-408-555-1212>
    Privacy: id;header
    Remote-Party-ID: "John" <sip:2125551212@example.com>;party=calling;screen=yes;privacy=off
    Diversion: <sip:3333@example.com>;reason=unconditional;counter=1
    History-Info: <sip:UserA@ims.example.com>;index=1, <sip:UserB@example.com?Reason=SIP%3Bcause%3D302>;index=1.1
    x: 1800;refresher=uac
    Min-SE: 90
    Expires: 120
    Min-Expires: 60
    s: Lunch?
    e: gzip
    X-Unknown:   kept   as written ;;, "q,uoted"
    c: application/sdp;charset=UTF-8
    l: 0


    """

    @Test func compactFormsAndCaseInsensitiveNames() throws {
        let m = try parsedValid(wire(Self.invite))
        #expect(SIPHeaderName("v") == .via && SIPHeaderName("VIA") == .via)
        #expect(SIPHeaderName("i").description == "Call-ID")
        #expect(try m.callID == "a84b4c76e66710@pc33.atlanta.example.com")
        #expect(m.value("Subject") == "Lunch?")
        #expect(m.value("content-encoding") == "gzip")
        #expect(m.value("X-UNKNOWN") == "kept   as written ;;, \"q,uoted\"")
        #expect(m.fields.first { $0.name == "X-Unknown" }?.value == "kept   as written ;;, \"q,uoted\"")
        #expect(try m.contentType?.parameters["charset"] == "UTF-8")
        #expect(try m.contentLength == 0)
    }

    @Test func viaValues() throws {
        let m = try parsedValid(wire(Self.invite))
        let v = try m.vias
        #expect(v.count == 3)
        #expect(v[0].transport == "UDP" && v[0].host == "pc33.atlanta.example.com" && v[0].port == nil && v[0].rport == .requested)
        #expect(v[0].hasMagicCookie)
        #expect(v[1].transport == "TCP" && v[1].host == "2001:db8::1" && v[1].port == 5061)
        #expect(v[1].received == "192.0.2.1" && v[1].rport == .value(5070) && v[1].maddr == "224.2.0.1" && v[1].ttl == 16)
        #expect(v[2].transport == "WSS" && v[2].branch == "z9hG4bKtop")
        #expect(v[1].description == "SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;received=192.0.2.1;rport=5070;maddr=224.2.0.1;ttl=16")
        var mod = v[0]
        mod.rport = .value(1234)
        mod.received = "198.51.100.7"
        #expect(try Via(parsing: Substring(mod.description)) == mod)
        #expect(throws: SIPParseError.invalidHeaderValue("Via")) { try Via(parsing: "SIP/2.0 host") }
        #expect(throws: SIPParseError.invalidHeaderValue("Via")) { try Via(parsing: "SIP/2.0/UDP host:99999") }
    }

    @Test func addressHeaders() throws {
        let m = try parsedValid(wire(Self.invite))
        #expect(try m.to.displayName == "Bob")
        #expect(try m.to.tag == nil)
        let from = try m.from
        #expect(from.displayName == "Alice \"A\" Liddell" && from.tag == "1928301774")
        guard case .addresses(let c) = try m.contact else { Issue.record("contact"); return }
        #expect(c.count == 2)
        #expect(c[0].uri.transport == "tcp" && c[0].expires == 3600 && c[0].q == 0.7)
        #expect(c[1].displayName == "Other, Name" && c[1].uri.scheme == .sips && c[1].uri.host == "2001:db8::2" && c[1].uri.port == 5071)
        #expect(c[1].parameters["+sip.instance"] == "<urn:uuid:1>")
        #expect(try m.routes.map(\.uri.host) == ["p1.example.com", "p2.example.com", "p3.example.com"])
        #expect(try m.recordRoutes.first?.uri.transport == "udp")
        let pai = try m.pAssertedIdentities
        #expect(pai.count == 2 && pai[1].uri.scheme == .tel && pai[1].uri.user == "+1-408-555-1212")
        #expect(try m.privacy == ["id", "header"])
        let rpid = try m.remotePartyIDs
        #expect(rpid.first?.parameters["party"] == "calling" && rpid.first?.parameters["screen"] == "yes")
        let div = try m.diversions
        #expect(div.first?.parameters["reason"] == "unconditional" && div.first?.parameters["counter"] == "1")
        let hi = try m.historyInfo
        #expect(hi.map { $0.parameters["index"] } == ["1", "1.1"])
        #expect(hi[1].uri.headers.first?.value == "SIP;cause=302")
    }

    @Test func referAndReplaces() throws {
        let m = try parsedValid(wire(Self.invite))
        let referTo = try #require(try m.referTo)
        #expect(referTo.uri.user == "carol" && referTo.uri.method == "INVITE")
        let embedded = try #require(try referTo.embeddedReplaces)
        #expect(embedded == Replaces(callID: "12345@192.168.118.3", toTag: "12345", fromTag: "5FFE-3994"))
        #expect(try m.referredBy?.uri.user == "alice")
        let r = try #require(try m.replaces)
        #expect(r == Replaces(callID: "98732@sip.example.com", toTag: "ff87ff", fromTag: "r33th4x0r", isEarlyOnly: true))
        #expect(try Replaces(parsing: Substring(r.description)) == r)
        // The embedded Replaces survives a URI write (re-escaped) and re-parse.
        let again = try NameAddress(parsing: Substring(referTo.description))
        #expect(try again.embeddedReplaces == embedded)
        #expect(throws: SIPParseError.invalidHeaderValue("Replaces")) { try Replaces(parsing: "abc;to-tag=1") }
    }

    @Test func tokenListsAndScalars() throws {
        let m = try parsedValid(wire(Self.invite))
        #expect(try m.supported == ["replaces", "100rel", "timer"])
        #expect(try m.require == ["timer"])
        #expect(try m.allow == [.invite, .ack, .cancel, .bye, .refer, .notify, .options])
        #expect(try m.event == SIPEvent(package: "refer", parameters: SIPParameters([SIPParameter("id", "93809824")])))
        #expect(try m.event?.id == "93809824")
        #expect(try m.allowEvents == ["dialog", "presence"])
        #expect(try m.sessionExpires == SessionExpires(seconds: 1800, refresher: .uac))
        #expect(try m.minSE == 90)
        #expect(try m.expires == 120)
        #expect(try m.minExpires == 60)
        #expect(try m.maxForwards == 70)
        #expect(try m.cseq == CSeq(number: 314159, method: .invite))
        #expect(throws: SIPParseError.valueOutOfRange("CSeq")) { try CSeq(parsing: "2147483648 INVITE") }
        #expect(try CSeq(parsing: "2147483647 INVITE").number == 2_147_483_647)
        #expect(throws: SIPParseError.invalidHeaderValue("Session-Expires")) { try SessionExpires(parsing: "90;refresher=me") }
    }

    @Test func wildcardContact() throws {
        let text = """
        REGISTER sip:example.com SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1
        To: <sip:a@example.com>
        From: <sip:a@example.com>;tag=1
        Call-ID: x
        CSeq: 2 REGISTER
        Contact: *
        Expires: 0
        Content-Length: 0


        """
        let m = try parsedValid(wire(text))
        #expect(try m.contact == .wildcard)
    }

    @Test func foldingAndMultiValueSplitting() throws {
        let text = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=9\r\nCall-ID: 1\r\n"
            + "CSeq: 1 OPTIONS\r\nX-List: \"a,b\" , <sip:x@y;p=1,2>,\r\n\tthird\r\nX-List: fourth\r\nContent-Length: 0\r\n\r\n"
        let m = try SIPMessage(parsing: Array(text.utf8))
        #expect(m.values("x-list") == ["\"a,b\" , <sip:x@y;p=1,2>, third", "fourth"])
        #expect(m.listValues("x-list") == ["\"a,b\"", "<sip:x@y;p=1,2>", "third", "fourth"])
    }

    @Test func bareLineFeedsAccepted() throws {
        let text = "OPTIONS sip:a@b SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nTo: <sip:a@b>\nFrom: <sip:c@d>;tag=9\nCall-ID: 1\nCSeq: 1 OPTIONS\n\n"
        let m = try SIPMessage(parsing: Array(text.utf8))
        #expect(try m.from.tag == "9")
    }
}

@Suite struct URITests {
    @Test func sipURIComponents() throws {
        let u = try SIPURI(parsing: "sips:alice:pw@atlanta.example.com:5061;transport=tls;user=phone;lr;maddr=239.255.255.1;ttl=15;method=REGISTER?subject=project%20x&priority=urgent")
        #expect(u.scheme == .sips && u.user == "alice" && u.password == "pw" && u.host == "atlanta.example.com" && u.port == 5061)
        #expect(u.transport == "tls" && u.userParameter == "phone" && u.isLooseRouting && u.maddr == "239.255.255.1" && u.ttl == 15)
        #expect(u.method == "REGISTER")
        #expect(u.headers == [SIPParameter("subject", "project x"), SIPParameter("priority", "urgent")])
        #expect(u.description == "sips:alice:pw@atlanta.example.com:5061;transport=tls;user=phone;lr;maddr=239.255.255.1;ttl=15;method=REGISTER?subject=project%20x&priority=urgent")
    }

    @Test(arguments: ["sip:192.0.2.4", "sip:[2001:db8::10]:5070", "SIP:User@Host.Example.COM", "tel:+358-555-1234567;phone-context=example.com",
                      "sip:%61lice@example.com", "sip:user@example.com;param=%22q%22"])
    func roundTrip(_ text: String) throws {
        let u = try SIPURI(parsing: text)
        #expect(try SIPURI(parsing: u.description) == u)
    }

    @Test func escapingOnWrite() throws {
        var u = SIPURI(host: "example.com")
        u.user = "a b@c"
        u.parameters["x"] = "v;w"
        #expect(u.description == "sip:a%20b%40c@example.com;x=v%3Bw")
        #expect(try SIPURI(parsing: u.description) == u)
        #expect(try SIPURI(parsing: "sip:[2001:db8::1]").isIPv6)
        #expect(try SIPURI(parsing: "tel:+1-201-555-0123").user == "+1-201-555-0123")
    }

    @Test(arguments: ["", "sip:", "http://x", "sip:user@", "sip:host:70000", "sip:ho st", "sip:[::1", "sip:a@b;=x", "sip:a@b?noequals", "sip:a@b;x=",
                      "sip:<a@b>", "tel:", "sip:@host"])
    func invalid(_ text: String) {
        #expect(throws: SIPParseError.invalidURI) { try SIPURI(parsing: text) }
    }
}

@Suite struct IPv6AndRawBufferTests {
    /// RFC 5118 §4.1-style IPv6 references in the Request-URI, Via and Contact.
    @Test func ipv6References() throws {
        let text = """
        REGISTER sip:[2001:db8::10] SIP/2.0
        To: sip:user@example.com
        From: sip:user@example.com;tag=81x2
        Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111;received=[2001:db8::9:255];rport=6050
        Call-ID: SSG9559905523997077@hlau_4100
        Max-Forwards: 70
        Contact: "Caller" <sip:caller@[2001:db8::1]:5070;transport=tcp>
        CSeq: 98176 REGISTER
        Content-Length: 0


        """
        let bytes = wire(text)
        let m = try bytes.withUnsafeBytes { try SIPMessage(parsing: $0) }
        try m.validate()
        #expect(m.requestURI?.host == "2001:db8::10" && m.requestURI?.isIPv6 == true)
        let via = try #require(try m.vias.first)
        #expect(via.host == "2001:db8::9:1" && via.port == 6050 && via.received == "[2001:db8::9:255]" && via.rport == .value(6050))
        guard case .addresses(let c) = try m.contact else { Issue.record("contact"); return }
        #expect(c[0].uri.host == "2001:db8::1" && c[0].uri.port == 5070)
        #expect(c[0].uri.description == "sip:caller@[2001:db8::1]:5070;transport=tcp")
        // An IPv6 address outside brackets is not a valid host.
        #expect(throws: SIPParseError.invalidURI) { try SIPURI(parsing: "sip:2001:db8::10") }
    }
}

@Suite struct URIEquivalenceTests {
    /// RFC 3261 §19.1.4 examples.
    @Test(arguments: [
        ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp", true),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5", true),
        ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on", true),
        ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com", "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com", true),
        ("sip:alice@atlanta.com?subject=project%20x&priority=urgent", "sip:alice@atlanta.com?priority=urgent&subject=project%20x", true),
        ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP", false),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060", false),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp", false),
        ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp", false),
        ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting", false),
        ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4", false),
        ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off", false),
    ])
    func equivalence(_ a: String, _ b: String, _ expected: Bool) throws {
        let x = try SIPURI(parsing: a), y = try SIPURI(parsing: b)
        #expect(x.isEquivalent(to: y) == expected)
        #expect(y.isEquivalent(to: x) == expected)
    }
}
