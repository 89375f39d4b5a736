import Testing
@testable import SIPCore

/// The parse error for `bytes`, at parse time or from `validate()`; nil when the message is accepted.
func tortureError(_ bytes: [UInt8]) -> SIPParseError? {
    do {
        _ = try parsedValid(bytes)
        return nil
    } catch let e as SIPParseError {
        return e
    } catch {
        return nil
    }
}

/// RFC 4475 messages with their exact bytes (see `TortureRFC4475Messages.swift`); complements `TortureTests.swift`.
@Suite struct TortureRFC4475ExactTests {
    /// §3.1.1: every valid message, exact bytes, parses and validates.
    @Test(arguments: ["wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq", "semiuri",
                      "transports", "mpart01", "unreason", "noreason"])
    func validMessageAccepted(_ name: String) throws {
        let m = try parsedValid(RFC4475.bytes(name))
        // Every Content-Length in these messages is right: the transcription kept every body byte.
        if let declared = try m.contentLength { #expect(m.body.count == declared, "\(name)") }
    }

    /// §3.1.1.11 mpart01: multipart MIME body with a binary part, kept byte for byte.
    @Test func mpart01BinaryBody() throws {
        let m = try parsedValid(RFC4475.mpart01Bytes)
        #expect(m.method == .message)
        #expect(m.body.count == 553)
        let ct = try #require(try m.contentType)
        #expect(ct.type == "multipart" && ct.subtype == "mixed")
        #expect(ct.parameters["boundary"] == "7a9cbec02ceef655")
        // The DER part survives untouched, including its embedded 0x0D and 0x0A octets.
        let der = RFC4475.mpart01DER
        #expect(find(der, in: Array(m.body)) != nil)
        #expect(try m.vias[0].rport == .requested)
        #expect(try m.routes[0].uri.host == "127.0.0.1" && (try m.routes[0].uri.port) == 5080)
        #expect(m.value("identity")?.hasSuffix("UhkMWYUA=") == true)
    }

    /// §3.1.1.7 longreq with the RFC's exact long values.
    @Test func longreqExactValues() throws {
        let m = try parsedValid(RFC4475.bytes("longreq"))
        let vias = try m.vias
        #expect(vias.count == 34)
        #expect(vias[0].host == "sip33.example.com" && vias[32].host == "sip1.example.com")
        #expect(vias[33].received == "192.0.2.5" && vias[33].branch?.hasSuffix("longbranchvalue") == true)
        let to = try m.to
        #expect(to.uri.port == 6000)
        #expect(to.uri.parameters.contains("verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglongParameterNameWithNoValue"))
        let from = try m.from
        #expect(from.tag?.hasSuffix("982424") == true)
        #expect(from.parameters.contains("unknownValuelessparamnameparamnameparamnameparamnameparamnameparamnameparamnameparamnameparamnameparamname"))
        #expect(try m.callID.count == "longreq.one".count + 6 * 20 + "longcallid".count)
    }

    /// §3.1.1.8 dblreq exact: only the REGISTER is kept, the INVITE octets are discarded.
    @Test func dblreqExact() throws {
        let m = try parsedValid(RFC4475.bytes("dblreq"))
        #expect(m.method == .register)
        #expect(find(Array("INVITE".utf8), in: m.bytes) == nil)
    }

    /// §3.1.1.12 unreason exact: UTF-8 reason phrase and a body.
    @Test func unreasonExact() throws {
        let m = try parsedValid(RFC4475.bytes("unreason"))
        guard case .response(let code, let reason) = m.startLine else { Issue.record("not a response"); return }
        #expect(code == 200)
        #expect(reason == "= 2**3 * 5**2 но сто девяносто девять - простое")
        #expect(m.body.count == 154)
    }

    /// §3.1.2: each invalid message with the error the parser raises and the status it calls for.
    static let invalid: [(String, SIPParseError, Int)] = [
        ("badinv01", .invalidHeaderValue("Via"), 400),
        ("clerr", .contentLengthExceedsMessage, 400),
        ("ncl", .invalidContentLength, 400),
        ("scalar02", .valueOutOfRange("CSeq"), 400),
        ("scalarlg", .valueOutOfRange("CSeq"), 400),
        ("quotbal", .invalidHeaderValue("To"), 400),
        ("ltgtruri", .invalidRequestURI, 400),
        ("lwsruri", .invalidRequestURI, 400),
        ("lwsstart", .malformedStartLine, 400),
        ("trws", .malformedStartLine, 400),
        ("escruri", .invalidRequestURI, 400),
        ("regbadct", .invalidHeaderValue("Contact"), 400),
        ("badaspec", .invalidHeaderValue("To"), 400),
        ("baddn", .invalidHeaderValue("From"), 400),
        ("badvers", .unsupportedVersion, 505),
        ("mismatch01", .cseqMethodMismatch, 400),
        ("mismatch02", .cseqMethodMismatch, 400),
        ("bigcode", .invalidStatusCode, 400),
    ]

    @Test(arguments: invalid.map(\.0))
    func invalidMessageRejected(_ name: String) throws {
        let (_, expected, status) = try #require(Self.invalid.first { $0.0 == name })
        let error = try #require(tortureError(RFC4475.bytes(name)), "\(name) must be rejected")
        #expect(error == expected, "\(name)")
        #expect(error.suggestedStatusCode == status, "\(name)")
    }

    /// §3.1.2.12 baddate: a non-GMT Date. The RFC lets an element that does not use Date accept the request;
    /// the parser does, and leaves the value for whoever cares.
    @Test func baddateAcceptedWithRawDate() throws {
        let m = try parsedValid(RFC4475.bytes("baddate"))
        #expect(m.value("date") == "Fri, 01 Jan 2010 16:00:00 EST")
        #expect(m.body.count == 150)
    }

    /// §3.2.1 badbranch: a branch of only the magic cookie is still a well-formed message.
    @Test func badbranchAccepted() throws {
        let m = try parsedValid(RFC4475.bytes("badbranch"))
        let via = try m.vias[0]
        #expect(via.branch == "z9hG4bK")
        #expect(via.hasMagicCookie)
    }

    /// §3.3.1 insuf: To, From, Call-ID and Max-Forwards missing: 400.
    @Test func insufMissingHeaders() {
        let e = tortureError(RFC4475.bytes("insuf"))
        guard case .missingMandatoryHeader = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(e?.suggestedStatusCode == 400)
    }

    /// §3.3.2 unkscm and §3.3.3 novelsc: well-formed with a non-SIP Request-URI; the UAS answers 416, so the
    /// parser accepts and reports no SIP URI.
    @Test(arguments: [("unkscm", "nobodyKnowsThisScheme:totallyopaquecontent"), ("novelsc", "soap.beep://192.0.2.103:3002")])
    func unknownRequestURIScheme(_ name: String, _ uri: String) throws {
        let m = try parsedValid(RFC4475.bytes(name))
        #expect(m.startLine == .request(method: .options, uri: uri))
        #expect(m.requestURI == nil)
    }

    /// §3.3.4 unksm2: unknown schemes in To, From and Contact. The message is well-formed; a registrar answers
    /// 400 because the To URI is no SIP AOR, which is what the typed To accessor reports.
    @Test func unknownSchemesInHeaders() throws {
        let m = try SIPMessage(parsing: RFC4475.bytes("unksm2"))
        #expect(m.value(.to) == "isbn:2983792873")
        #expect(m.value(.from) == "<http://www.example.com>;tag=3234233")
        #expect(m.value(.contact) == "<name:John_Smith>")
        #expect(throws: SIPParseError.invalidHeaderValue("To")) { _ = try m.to }
        #expect(SIPParseError.invalidHeaderValue("To").suggestedStatusCode == 400)
    }

    /// §3.3.5 bext01: unknown Require and Proxy-Require options, visible for a 420 Bad Extension with Unsupported.
    @Test func bext01Extensions() throws {
        let m = try parsedValid(RFC4475.bytes("bext01"))
        #expect(try m.require == ["nothingSupportsThis", "nothingSupportsThisEither"])
        #expect(try m.proxyRequire == ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"])
        #expect(try m.vias[0].transport == "TLS")
    }

    /// §3.3.6 invut: unknown Content-Type, visible for a 415 Unsupported Media Type.
    @Test func invutUnknownContentType() throws {
        let m = try parsedValid(RFC4475.bytes("invut"))
        #expect(try m.contentType == MediaType(type: "application", subtype: "unknownformat"))
        #expect(m.body.count == 40)
    }

    /// §3.3.7 regaut01: an unknown authorization scheme; the message is fine, the credentials are not Digest
    /// (the registrar challenges with 401).
    @Test func regaut01UnknownScheme() throws {
        let m = try parsedValid(RFC4475.bytes("regaut01"))
        #expect(m.value("authorization") == "NoOneKnowsThisScheme opaque-data=here")
        #expect((try? m.authorization)?.isEmpty ?? true)
    }

    /// §3.3.8 multi01: two values in single-valued fields (CSeq, Call-ID, From, To, Max-Forwards): 400.
    /// Regression: the parser used to take the first of each.
    @Test func multi01MultipleSingleValues() {
        let e = tortureError(RFC4475.bytes("multi01"))
        #expect(e == .invalidHeaderValue("From"))
        #expect(e?.suggestedStatusCode == 400)
        // Only the duplication is at fault: with one of each, the same message is accepted.
        var single = RFC4475.multi01
        for line in ["CSeq: 59 INVITE\n", "Call-ID: multi01.98asdh@192.0.2.2\n", "To: sip:other@example.net\n",
                     "From: sip:caller@example.net;tag=2923420123\n", "Max-Forwards: 5\n"] {
            single = single.replacing(line, with: "")
        }
        #expect(tortureError(wire(single)) == nil)
    }

    /// §3.3.9 mcl01: two different Content-Length values: 400.
    @Test func mcl01TwoContentLengths() {
        #expect(tortureError(RFC4475.bytes("mcl01")) == .invalidContentLength)
    }

    /// §3.3.10 bcast: a 200 whose second Via is a broadcast address; parsed, for the transaction layer to drop.
    @Test func bcastVia() throws {
        let m = try parsedValid(RFC4475.bytes("bcast"))
        #expect(try m.vias.map(\.host) == ["192.0.2.198", "255.255.255.255"])
    }

    /// §3.3.11 zeromf: Max-Forwards 0 parses as 0 (a proxy answers 483, a UAS may answer the OPTIONS).
    @Test func zeromf() throws {
        #expect(try parsedValid(RFC4475.bytes("zeromf")).maxForwards == 0)
    }

    /// §3.3.12 cparam01: without <>, `;unknownparam` is a Contact parameter, not a URI parameter.
    @Test func cparam01() throws {
        guard case .addresses(let c) = try parsedValid(RFC4475.bytes("cparam01")).contact else { Issue.record("no contact"); return }
        #expect(c[0].uri.user == "+19725552222" && c[0].uri.parameters.items.isEmpty)
        #expect(c[0].parameters.contains("unknownparam"))
    }

    /// §3.3.13 cparam02: inside <>, `;unknownparam` is a URI parameter.
    @Test func cparam02() throws {
        guard case .addresses(let c) = try parsedValid(RFC4475.bytes("cparam02")).contact else { Issue.record("no contact"); return }
        #expect(c[0].uri.parameters.contains("unknownparam"))
        #expect(c[0].parameters.items.isEmpty)
    }

    /// §3.3.14 regescrt: an escaped Route header inside a Contact URI in <> is legal and kept.
    @Test func regescrt() throws {
        guard case .addresses(let c) = try parsedValid(RFC4475.bytes("regescrt")).contact else { Issue.record("no contact"); return }
        #expect(c[0].uri.headers == [SIPParameter("Route", "<sip:sip.example.com>")])
        #expect(c[0].uri.description == "sip:user@example.com?Route=%3Csip:sip.example.com%3E")
    }

    /// §3.3.15 sdp01: Accept excludes SDP; visible for a 406 (or answering without SDP).
    @Test func sdp01() throws {
        let m = try parsedValid(RFC4475.bytes("sdp01"))
        #expect(m.listValues("accept") == ["text/nobodyKnowsThis"])
        #expect(try m.contentType == MediaType(type: "application", subtype: "sdp"))
    }

    /// §3.4.1 inv2543: RFC 2543 syntax (no Max-Forwards, no branch, no Content-Length over UDP) is accepted.
    @Test func inv2543() throws {
        let m = try parsedValid(RFC4475.bytes("inv2543"))
        let via = try m.vias[0]
        #expect(via.branch == nil && !via.hasMagicCookie)
        #expect(try m.maxForwards == nil)
        #expect(try m.contentLength == nil)
        // Outside <>, `;user=phone` belongs to the To header, not the URI (RFC 3261 §20).
        #expect(try m.to.parameters["user"] == "phone" && m.to.uri.userParameter == nil)
        #expect(try m.from.uri.userParameter == "phone")
        #expect(try m.recordRoutes[0].uri.maddr == "ss1.example.com")
        #expect(m.body.count == wire(String(RFC4475.inv2543.split(separator: "\n\n", maxSplits: 1)[1])).count)
    }

    /// Every URI in every message that parses survives parse → serialise → parse unchanged.
    @Test func uriRoundTrips() throws {
        var count = 0
        for (name, bytes) in RFC4475.all {
            guard let m = try? SIPMessage(parsing: bytes) else { continue }
            var uris: [SIPURI] = []
            if let r = m.requestURI { uris.append(r) }
            if let a = try? m.to { uris.append(a.uri) }
            if let a = try? m.from { uris.append(a.uri) }
            if case .addresses(let c)? = try? m.contact { uris += c.map(\.uri) }
            uris += ((try? m.routes) ?? []).map(\.uri) + ((try? m.recordRoutes) ?? []).map(\.uri)
            for u in uris {
                let again = try SIPURI(parsing: u.description)
                #expect(again == u, "\(name): \(u.description)")
                #expect(again.description == u.description, "\(name)")
                count += 1
            }
        }
        #expect(count > 60)
    }
}
