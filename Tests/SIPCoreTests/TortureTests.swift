import Testing
@testable import SIPCore

/// RFC 4475 SIP torture messages, written out by hand (CRLF line ends are added by `wire`).
@Suite struct TortureValidTests {
    static let intmeth = """
    !interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
    Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~
    To: "BEL:\\\u{07} NUL:\\\u{00} DEL:\\\u{7F}" <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>
    From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%="работающий";tag=_token~1'+`*%!-.
    Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\\/"][?}{
    CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
    Max-Forwards: 255
    extensionHeader-!.%*+_`'~: 大停電
    Content-Length: 0


    """

    static let wsinv = """
    INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
    TO :
     sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
    from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>
      ;
      tag = 98asjd8
    MaX-fOrWaRdS: 0068
    Call-ID: wsinv.ndaksdj@192.0.2.1
    Content-Length   : {LEN}
    cseq: 0009
      INVITE
    Via  : SIP  /   2.0
     /UDP
        192.0.2.2;branch=390skdjuw
    s :
    NewFangledHeader:   newfangled value
     continued newfangled value
    UnknownHeaderWithUnusualValue: ;;,,;;,;
    Content-Type: application/sdp
    Route:
     <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
    v:  SIP  / 2.0  / TCP     spindle.example.com   ;
      branch  =   z9hG4bK9ikj8  ,
     SIP  /    2.0   / UDP  192.168.255.111   ; branch=
     z9hG4bK30239
    m:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
          newvalue ;
      secondparam ; q = 0.33

    """ + sdpBody

    /// §3.1.1.1 wsinv: a short tortuous INVITE.
    @Test func shortTortuousInvite() throws {
        let text = Self.wsinv
        let m = try parsedValid(wire(text))
        #expect(m.method == .invite)
        #expect(m.requestURI?.parameters.contains("unknownparam") == true)
        let to = try m.to
        #expect(to.uri.user == "vivekg")
        #expect(to.tag == "1918181833n")
        let from = try m.from
        #expect(from.displayName == "J Rosenberg \\\"")
        #expect(from.tag == "98asjd8")
        #expect(try m.maxForwards == 68)
        #expect(try m.cseq == CSeq(number: 9, method: .invite))
        let vias = try m.vias
        #expect(vias.count == 3)
        #expect(vias[0].transport == "UDP" && vias[0].host == "192.0.2.2" && vias[0].branch == "390skdjuw")
        #expect(vias[1].transport == "TCP" && vias[1].host == "spindle.example.com" && vias[1].branch == "z9hG4bK9ikj8")
        #expect(vias[2].host == "192.168.255.111" && vias[2].branch == "z9hG4bK30239")
        #expect(m.value("subject") == "")
        #expect(m.value("newfangledheader") == "newfangled value continued newfangled value")
        #expect(m.value("UnknownHeaderWithUnusualValue") == ";;,,;;,;")
        let routes = try m.routes
        #expect(routes.count == 1 && routes[0].uri.isLooseRouting)
        guard case .addresses(let contacts) = try m.contact else { Issue.record("no contact"); return }
        #expect(contacts[0].displayName == "Quoted string \"\"")
        #expect(contacts[0].parameters["newparam"] == "newvalue")
        #expect(contacts[0].parameters.contains("secondparam"))
        #expect(contacts[0].q == 0.33)
        #expect(m.body.elementsEqual(wire(sdpText)))
    }

    /// §3.1.1.2 intmeth: a wide range of valid characters.
    @Test func wideRangeOfValidCharacters() throws {
        let text = Self.intmeth
        let m = try parsedValid(wire(text))
        #expect(m.method == .other("!interesting-Method0123456789_*+`.%indeed'~"))
        let ruri = try #require(m.requestURI)
        #expect(ruri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        #expect(ruri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        #expect(ruri.host == "example.com")
        let to = try m.to
        #expect(to.displayName == "BEL:\u{07} NUL:\u{00} DEL:\u{7F}")
        let from = try m.from
        #expect(from.displayName == "token1~` token2'+_ token3*%!.-")
        #expect(from.tag == "_token~1'+`*%!-.")
        #expect(from.parameters["fromParam''~+*_!.-%"] == "работающий")
        #expect(try m.callID == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
        #expect(m.value("extensionHeader-!.%*+_`'~") == "大停電")
        #expect(try m.maxForwards == 255)
    }

    /// §3.1.1.3 esc01: valid use of % escaping.
    @Test func escapedURIs() throws {
        let text = """
        INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
        To: sip:%75se%72@example.com
        From: <sip:I%20have%20spaces@example.net>;tag=938
        Max-Forwards: 87
        i: esc01.239409asdfakjkn23onasd0-3234
        CSeq: 234234 INVITE
        Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
        C: application/sdp
        Contact:
          <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
        Content-Length: {LEN}

        """ + sdpBody
        let m = try parsedValid(wire(text))
        #expect(m.requestURI?.user == "sips:user@example.com")
        #expect(m.requestURI?.host == "example.net")
        #expect(try m.to.uri.user == "user")
        #expect(try m.from.uri.user == "I have spaces")
        #expect(try m.callID == "esc01.239409asdfakjkn23onasd0-3234")
        #expect(try m.contentType == MediaType(type: "application", subtype: "sdp"))
        guard case .addresses(let c) = try m.contact else { Issue.record("no contact"); return }
        #expect(c[0].uri.user == "caller")
        #expect(c[0].uri.isLooseRouting)
        #expect(c[0].uri.parameters["name"] == "value%41")
        // Written back with escapes where needed, and still equal after a second parse.
        let again = try SIPURI(parsing: c[0].uri.description)
        #expect(again == c[0].uri)
    }

    /// §3.1.1.4 escnull: escaped NULs in URIs.
    @Test func escapedNulls() throws {
        let text = """
        REGISTER sip:example.com SIP/2.0
        To: sip:null-%00-null@example.com
        From: sip:null-%00-null@example.com;tag=839923423
        Max-Forwards: 70
        Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
        CSeq: 14398234 REGISTER
        Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
        Contact: <sip:%00@host5.example.com>
        Contact: <sip:%00%00@host5.example.com>
        L:0


        """
        let m = try parsedValid(wire(text))
        #expect(try m.to.uri.user == "null-\u{0}-null")
        guard case .addresses(let c) = try m.contact else { Issue.record("no contact"); return }
        #expect(c.count == 2)
        #expect(c[1].uri.user == "\u{0}\u{0}")
        #expect(c[1].uri.description == "sip:%00%00@host5.example.com")
    }

    /// §3.1.1.5 esc02: % that is not an escape.
    @Test func percentNotEscape() throws {
        let text = """
        RE%47IST%45R sip:registrar.example.com SIP/2.0
        To: "%Z%45" <sip:resource@example.com>
        From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
        Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
        Via: SIP/2.0/TCP host.example.com;rport;branch=z9hG4bK209093
        CSeq: 29344 RE%47IST%45R
        Max-Forwards: 70
        Contact: <sip:alias1@host1.example.com>
        C%6Fntact: <sip:alias2@host2.example.com>
        Contact: <sip:alias3@host3.example.com>
        l: 0


        """
        let m = try parsedValid(wire(text))
        #expect(m.method == .other("RE%47IST%45R"))
        #expect(try m.to.displayName == "%Z%45")
        #expect(try m.vias[0].rport == .requested)
        guard case .addresses(let c) = try m.contact else { Issue.record("no contact"); return }
        #expect(c.count == 2)
        #expect(m.value("C%6Fntact") == "<sip:alias2@host2.example.com>")
    }

    /// §3.1.1.6 lwsdisp: no LWS between display name and <.
    @Test func noLWSBeforeAngle() throws {
        let text = """
        OPTIONS sip:user@example.com SIP/2.0
        To: sip:user@example.com
        From: caller<sip:caller@example.com>;tag=323
        Max-Forwards: 70
        Call-ID: lwsdisp.1234abcd@funky.example.com
        CSeq: 60 OPTIONS
        Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
        l: 0


        """
        let m = try parsedValid(wire(text))
        #expect(try m.from.displayName == "caller")
        #expect(try m.from.tag == "323")
    }

    /// §3.1.1.7 longreq: long values in header fields.
    @Test func longValues() throws {
        let long = String(repeating: "very", count: 300) + "long"
        var vias = ""
        for i in 0..<40 { vias += "Via: SIP/2.0/TCP host\(i).example.com;branch=z9hG4bK\(long.prefix(40))\(i)\n" }
        let text = """
        INVITE sip:user@example.com SIP/2.0
        To: "I have a user name of \(long) proportion" <sip:user@example.com:6000;unknownparam1=\(long);\(long)=\(long)>
        From: sip:amazinglylongcallername\(long)@example.net;tag=12982982\(long)
        Call-ID: longreq.one\(long)
        CSeq: 3882340 INVITE
        Max-Forwards: 70
        \(vias)Unknown-\(long)-Name: unknown-\(long)-value; unknown-\(long)-parameter-name = unknown-\(long)-parameter-value
        Contact: <sip:amazinglylongcallername\(long)@host5.example.net>
        Content-Type: application/sdp
        l: {LEN}

        """ + sdpBody
        let m = try parsedValid(wire(text))
        #expect(try m.vias.count == 40)
        #expect(try m.to.uri.port == 6000)
        #expect(try m.to.uri.parameters[long] == long)
        #expect(try m.from.tag == "12982982" + long)
        #expect(m.value(SIPHeaderName("Unknown-\(long)-Name"))?.hasPrefix("unknown-") == true)
    }

    /// §3.1.1.8 dblreq: extra trailing octets in a UDP datagram are discarded (RFC 3261 §18.3).
    @Test func extraTrailingOctets() throws {
        let text = """
        REGISTER sip:example.com SIP/2.0
        To: sip:j.user@example.com
        From: sip:j.user@example.com;tag=43251j3j324
        Max-Forwards: 8
        I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
        Contact: sip:j.user@host.example.com
        CSeq: 8 REGISTER
        Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
        Content-Length: 0


        INVITE sip:joe@example.com SIP/2.0
        t: sip:joe@example.com
        From: sip:caller@example.net;tag=141334
        Max-Forwards: 8
        Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
        CSeq: 8 INVITE
        Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
        Content-Type: application/sdp
        Content-Length: 150

        """ + sdpBody
        let m = try parsedValid(wire(text))
        #expect(m.method == .register)
        #expect(m.body.isEmpty)
        #expect(try m.callID == "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
        #expect(m.bytes.count < wire(text).count)
    }

    /// §3.1.1.9 semiuri: semicolons in the user part.
    @Test func semicolonInUserPart() throws {
        let text = """
        OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
        To: sip:j_user@example.com
        From: sip:caller@example.org;tag=33242
        Max-Forwards: 3
        Call-ID: semiuri.0ha0isndaksdj
        CSeq: 8 OPTIONS
        Accept: application/sdp, application/pkcs7-mime,
                multipart/mixed, multipart/signed,
                message/sip, message/sipfrag
        Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
        l: 0


        """
        let m = try parsedValid(wire(text))
        #expect(m.requestURI?.user == "user;par=u@example.net")
        #expect(m.requestURI?.host == "example.com")
        #expect(m.requestURI?.parameters.items.isEmpty == true)
        #expect(m.listValues("accept").count == 6)
    }

    /// §3.1.1.10 transports: varied and unknown transport types.
    @Test func variedTransports() throws {
        let text = """
        OPTIONS sip:user@example.com SIP/2.0
        To: sip:user@example.com
        From: <sip:caller@example.com>;tag=323
        Max-Forwards: 70
        Call-ID:  transports.kijh4akdnaqjkwendsasfdj
        Accept: application/sdp
        CSeq: 60 OPTIONS
        Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
        Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
        Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
        Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
        Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
        l: 0


        """
        let m = try parsedValid(wire(text))
        #expect(try m.vias.map(\.transport) == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"])
    }

    /// §3.1.1.12 unreason and §3.1.1.13 noreason: unusual and empty reason phrases.
    @Test(arguments: ["SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое", "SIP/2.0 100 "])
    func unusualReasonPhrases(_ statusLine: String) throws {
        let text = statusLine + """

        Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
        Call-ID: unreason.1234ksdfak3j2erwedfsASdf
        CSeq: 35 INVITE
        From: sip:user@example.com;tag=11141343
        To: sip:user@example.edu;tag=2229
        Content-Length: 0


        """
        let m = try parsedValid(wire(text))
        if case .response(let code, let reason) = m.startLine {
            #expect(code == (statusLine.contains(" 100 ") ? 100 : 200))
            #expect(reason == String(statusLine.dropFirst(12)))
        } else {
            Issue.record("not a response")
        }
    }
}

@Suite struct TortureInvalidTests {
    static let baseHeaders = """
    To: sip:j.user@example.com
    From: sip:caller@example.net;tag=134161461246
    Max-Forwards: 7
    Call-ID: torture.0ha0isndaksdjasdf3234nas
    Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
    """

    /// Each case: a label, the message, and the parse error expected when it is raised at parse time
    /// (nil when rejection comes from `validate()`).
    static let cases: [(String, String)] = [
        // §3.1.2.1 badinv01: extraneous header field separators.
        ("badinv01", """
        INVITE sip:user@example.com SIP/2.0
        To: sip:j.user@example.com
        From: sip:caller@example.net;;tag=134161461246
        Max-Forwards: 7
        Call-ID: badinv01.0ha0isndaksdjasdf3234nas
        CSeq: 8 INVITE
        Via: SIP/2.0/UDP 192.0.2.15;;,;,,
        Contact: "Joe" <sip:joe@example.org>;;;;
        Content-Length: 0


        """),
        // §3.1.2.2 clerr: Content-Length larger than the message.
        ("clerr", """
        INVITE sip:user@example.com SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: 9999
        Content-Type: application/sdp

        """ + sdpBody),
        // §3.1.2.3 ncl: negative Content-Length.
        ("ncl", """
        INVITE sip:user@example.com SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: -999
        Content-Type: application/sdp

        """ + sdpBody),
        // §3.1.2.4 scalar02: request scalar fields with overlarge values.
        ("scalar02", """
        REGISTER sip:example.com SIP/2.0
        Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
        To: <sip:user@example.com>
        From: <sip:user@example.com>;tag=239232jh3
        CSeq: 36893488147419103232 REGISTER
        Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
        Max-Forwards: 300
        Expires: 1000000000000000000000000000000000000000000000000000000000000000000000000000000
        Contact: <sip:user@host129.example.com>;expires=280297596632815
        Content-Length: 0


        """),
        // §3.1.2.5 scalarlg: response scalar fields with overlarge values.
        ("scalarlg", """
        SIP/2.0 503 Service Unavailable
        Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
        To: <sip:user@example.com>
        From: <sip:other@example.net>;tag=2easdjfejw
        CSeq: 9292394834772304023312 OPTIONS
        Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
        Retry-After: 949302838503028349304023988
        Warning: 1812 overture "In Progress"
        Content-Length: 0


        """),
        // §3.1.2.6 quotbal: unterminated quoted string in display name.
        ("quotbal", """
        INVITE sip:user@example.com SIP/2.0
        To: "Mr. J. User <sip:j.user@example.com>
        From: sip:caller@example.net;tag=93334
        Max-Forwards: 10
        Call-ID: quotbal.aksdj
        CSeq: 0 INVITE
        Via: SIP/2.0/UDP 192.0.2.15:5060;branch=z9hG4bKkdjuw
        Content-Length: 0


        """),
        // §3.1.2.7 ltgtruri: <> enclosing the Request-URI.
        ("ltgtruri", """
        INVITE <sip:user@example.com> SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: 0


        """),
        // §3.1.2.8 lwsruri: embedded LWS in the Request-URI.
        ("lwsruri", """
        INVITE sip:user@example.com; lr SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: 0


        """),
        // §3.1.2.9 lwsstart: multiple SP separating Request-Line elements.
        ("lwsstart", """
        INVITE  sip:user@example.com  SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: 0


        """),
        // §3.1.2.10 trws: SP at the end of the Request-Line.
        ("trws", """
        OPTIONS sip:remote-target@example.com SIP/2.0  
        \(baseHeaders)
        CSeq: 8 OPTIONS
        Content-Length: 0


        """),
        // §3.1.2.11 escruri: escaped headers in the Request-URI.
        ("escruri", """
        INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: 0


        """),
        // §3.1.2.13 regbadct: a URI with ? outside <>.
        ("regbadct", """
        REGISTER sip:example.com SIP/2.0
        To: sip:user@example.com
        From: sip:user@example.com;tag=998332
        Max-Forwards: 70
        Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
        CSeq: 1 REGISTER
        Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
        Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
        l: 0


        """),
        // §3.1.2.14 badaspec: spaces within addr-spec.
        ("badaspec", """
        OPTIONS sip:user@example.org SIP/2.0
        Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
        Max-Forwards: 70
        From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
        To: "Watson, Thomas" < sip:t.watson@example.org >
        Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
        Accept: application/sdp
        CSeq: 3923239 OPTIONS
        l: 0


        """),
        // §3.1.2.15 baddn: non-token characters in a display name.
        ("baddn", """
        OPTIONS sip:t.watson@example.org SIP/2.0
        Via: SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
        Max-Forwards: 70
        From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43
        To: Watson, Thomas <sip:t.watson@example.org>
        Call-ID: baddn.31415@c.example.com
        Accept: application/sdp
        CSeq: 3923239 OPTIONS
        l: 0


        """),
        // §3.1.2.16 badvers: unknown protocol version.
        ("badvers", """
        OPTIONS sip:t.watson@example.org SIP/7.0
        Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
        Max-Forwards:     70
        From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
        To:      T. Watson <sip:t.watson@example.org>
        Call-ID: badvers.31417@c.example.com
        CSeq:    1 OPTIONS
        l: 0


        """),
        // §3.1.2.17 mismatch01: start line and CSeq method mismatch.
        ("mismatch01", """
        OPTIONS sip:user@example.com SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Length: 0


        """),
        // §3.1.2.18 mismatch02: unknown method with CSeq method mismatch.
        ("mismatch02", """
        NEWMETHOD sip:user@example.com SIP/2.0
        \(baseHeaders)
        CSeq: 8 INVITE
        Content-Type: application/sdp
        l: {LEN}

        """ + sdpBody),
        // §3.1.2.19 bigcode: overlarge response code.
        ("bigcode", """
        SIP/2.0 4294967301 better not break the receiver
        Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
        Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
        CSeq: 353494 INVITE
        From: <sip:user@example.com>;tag=39ansfi3
        To: <sip:user@example.edu>;tag=902jndnke3
        Content-Length: 0


        """),
    ]

    @Test(arguments: cases.map(\.0))
    func rejected(_ label: String) throws {
        let text = try #require(Self.cases.first { $0.0 == label }?.1)
        #expect(acceptable(wire(text)) == nil, "\(label) should be rejected")
    }

    @Test func specificErrors() throws {
        func error(_ label: String) -> SIPParseError? {
            guard let text = Self.cases.first(where: { $0.0 == label })?.1 else { return nil }
            do {
                _ = try SIPMessage(parsing: wire(text))
                return nil
            } catch {
                return error
            }
        }
        #expect(error("clerr") == .contentLengthExceedsMessage)
        #expect(error("ncl") == .invalidContentLength)
        #expect(error("badvers") == .unsupportedVersion)
        #expect(error("badvers")?.suggestedStatusCode == 505)
        #expect(error("mismatch01") == .cseqMethodMismatch)
        #expect(error("mismatch02") == .cseqMethodMismatch)
        #expect(error("bigcode") == .invalidStatusCode)
        #expect(error("scalar02") == .valueOutOfRange("CSeq"))
        #expect(error("escruri") == .invalidRequestURI)
        #expect(error("ltgtruri") == .invalidRequestURI)
        #expect(error("lwsstart") == .malformedStartLine)
        #expect(error("trws") == .malformedStartLine)
    }

    @Test func validationErrors() throws {
        func error(_ label: String) -> SIPParseError? {
            guard let text = Self.cases.first(where: { $0.0 == label })?.1 else { return nil }
            do {
                _ = try parsedValid(wire(text))
                return nil
            } catch let e as SIPParseError {
                return e
            } catch {
                return nil
            }
        }
        #expect(error("badinv01") == .invalidHeaderValue("Via"))
        #expect(error("quotbal") == .invalidHeaderValue("To"))
        #expect(error("badaspec") == .invalidHeaderValue("To"))
        #expect(error("baddn") == .invalidHeaderValue("From"))
        #expect(error("regbadct") == .invalidHeaderValue("Contact"))
        #expect(error("lwsruri") == .invalidRequestURI)
        #expect(error("scalarlg") == .valueOutOfRange("CSeq"))
    }

    @Test func garbageAndTruncation() {
        #expect(throws: SIPParseError.empty) { try SIPMessage(parsing: [UInt8]()) }
        #expect(throws: SIPParseError.empty) { try SIPMessage(parsing: Array("\r\n\r\n".utf8)) }
        #expect(throws: SIPParseError.missingHeaderTerminator) { try SIPMessage(parsing: Array("OPTIONS sip:a@b SIP/2.0\r\nTo: x".utf8)) }
        #expect(throws: SIPParseError.malformedHeaderLine) { try SIPMessage(parsing: Array("OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n".utf8)) }
        #expect(throws: SIPParseError.missingMandatoryHeader("Via")) {
            try SIPMessage(parsing: Array("OPTIONS sip:a@b SIP/2.0\r\nTo: <sip:a@b>\r\n\r\n".utf8))
        }
    }
}
