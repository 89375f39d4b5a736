import Testing
@testable import SIPCore

/// Equality of everything a parse exposes: start line, header names and unfolded values, body.
func sameContent(_ a: SIPMessage, _ b: SIPMessage) -> Bool {
    let strip: (SIPMessage) -> [SIPHeaderField] = { m in m.fields.filter { SIPHeaderName($0.name) != .contentLength } }
    return a.startLine == b.startLine && strip(a) == strip(b) && a.body.elementsEqual(b.body)
}

@Suite struct BuilderTests {
    @Test func buildRequestAndParse() throws {
        var b = SIPMessageBuilder(method: .invite, uri: try SIPURI(parsing: "sip:bob@biloxi.example.com"))
        b.add(.via, Via(transport: "udp", host: "192.0.2.1", port: 5060, parameters: SIPParameters([SIPParameter("branch", "z9hG4bK1"), SIPParameter("rport")])).description)
        b.add(.maxForwards, "70")
        b.add(.from, NameAddress(displayName: "Alice", uri: try SIPURI(parsing: "sip:alice@atlanta.example.com"),
                                 parameters: SIPParameters([SIPParameter("tag", "abc")])).description)
        b.add(.to, "<sip:bob@biloxi.example.com>")
        b.add(.callID, "call-1@192.0.2.1")
        b.add(.cseq, CSeq(number: 1, method: .invite).description)
        b.add(.contentType, "application/sdp")
        b.add(name: "X-Evil", value: "a\r\nInjected: yes")
        b.body = wire(sdpText)
        let bytes = b.bytes()
        #expect(bytes.count == b.serializedSize)
        let m = try parsedValid(bytes)
        #expect(m.method == .invite)
        #expect(try m.vias[0].rport == .requested)
        #expect(try m.from.displayName == "Alice")
        #expect(try m.contentLength == wire(sdpText).count)
        #expect(m.body.elementsEqual(wire(sdpText)))
        #expect(!m.contains("injected"))
        #expect(m.value("x-evil") == "a Injected: yes")

        // write(to:) into a caller's buffer: exact size works, one byte short is a typed error.
        var out = [UInt8](repeating: 0, count: b.serializedSize)
        let n = try out.withUnsafeMutableBytes { try b.write(to: $0) }
        #expect(n == bytes.count && out == bytes)
        var small = [UInt8](repeating: 0, count: b.serializedSize - 1)
        #expect(throws: SIPSerializeError.bufferTooSmall(needed: bytes.count)) {
            _ = try small.withUnsafeMutableBytes { try b.write(to: $0) }
        }
    }

    @Test func responseFromRequest() throws {
        let req = try parsedValid(wire(HeaderTests.invite))
        var r = try SIPMessageBuilder.response(to: req, statusCode: 180, toTag: "tt1")
        r.add(.contact, "<sip:bob@192.0.2.4>")
        let resp = try parsedValid(r.bytes())
        #expect(resp.statusCode == 180)
        guard case .response(_, let reason) = resp.startLine else { Issue.record("not a response"); return }
        #expect(reason == "Ringing")
        #expect(resp.values(.via) == req.values(.via))
        #expect(try resp.vias.count == 3)
        #expect(try resp.from == req.from)
        #expect(try resp.to.tag == "tt1")
        #expect(try resp.to.uri == req.to.uri)
        #expect(try resp.callID == req.callID)
        #expect(try resp.cseq == req.cseq)
        // 100 Trying carries no To tag (RFC 3261 §8.2.6.2).
        let trying = try parsedValid(SIPMessageBuilder.response(to: req, statusCode: 100, toTag: "x").bytes())
        #expect(try trying.to.tag == nil)
        #expect(throws: SIPParseError.malformedStartLine) { try SIPMessageBuilder.response(to: resp, statusCode: 200) }
    }

    @Test(arguments: [0, 1, 2])
    func parseWriteParse(_ which: Int) throws {
        let samples = [HeaderTests.invite, TortureValidTests.wsinv, TortureValidTests.intmeth]
        let m1 = try SIPMessage(parsing: wire(samples[which]))
        let m2 = try SIPMessage(parsing: SIPMessageBuilder(m1).bytes())
        #expect(sameContent(m1, m2))
        try m2.validate()
        #expect(try m2.vias == m1.vias)
        #expect(try m2.from == m1.from)
    }
}

@Suite struct FramerTests {
    static let options = wire("""
    OPTIONS sip:a@example.com SIP/2.0
    Via: SIP/2.0/TCP h;branch=z9hG4bK1
    To: <sip:a@example.com>
    From: <sip:b@example.com>;tag=1
    Call-ID: f1
    CSeq: 1 OPTIONS
    Content-Type: text/plain
    l: 5

    hello
    """)

    @Test func dripFedByteByByte() throws {
        var f = SIPStreamFramer()
        var stream: [UInt8] = Array("\r\n\r\n".utf8) + Self.options + Self.options + Array("\r\n".utf8) + Self.options
        stream += Array("\r\n\r\n".utf8)
        var frames: [String] = []
        for b in stream {
            f.append([b])
            while let frame = try f.next() {
                switch frame {
                case .keepAlivePing: frames.append("ping")
                case .keepAlivePong: frames.append("pong")
                case .message(let m):
                    #expect(Array(m.body) == Array("hello".utf8))
                    frames.append("msg")
                }
            }
        }
        #expect(frames == ["ping", "msg", "msg", "pong", "msg", "ping"])
        #expect(f.bufferedByteCount == 0)
    }

    @Test func wholeChunks() throws {
        var f = SIPStreamFramer()
        let chunk = Self.options + Self.options
        chunk.withUnsafeBytes { f.append($0) }
        var count = 0
        while case .message = try f.next() { count += 1 }
        #expect(count == 2)
    }

    @Test func missingContentLengthOnStream() {
        var f = SIPStreamFramer()
        f.append(Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n".utf8))
        #expect(throws: SIPFramingError.missingContentLength) { try f.next() }
    }

    @Test func oversizeRejected() {
        var f = SIPStreamFramer(maximumMessageSize: 100)
        f.append(Self.options)
        #expect(throws: SIPFramingError.messageTooLarge) { try f.next() }
        var g = SIPStreamFramer(maximumMessageSize: 100)
        g.append(Array(repeating: UInt8(ascii: "A"), count: 150))
        #expect(throws: SIPFramingError.messageTooLarge) { try g.next() }
        var h = SIPStreamFramer(maximumMessageSize: 1000)
        h.append(Array("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n".utf8))
        #expect(throws: SIPFramingError.messageTooLarge) { try h.next() }
    }

    @Test func invalidMessageReported() {
        var f = SIPStreamFramer()
        f.append(Array("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n".utf8))
        #expect(throws: SIPFramingError.invalidMessage(.missingMandatoryHeader("Via"))) { try f.next() }
        var g = SIPStreamFramer()
        g.append(Array("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n".utf8))
        #expect(throws: SIPFramingError.invalidMessage(.invalidContentLength)) { try g.next() }
    }

    @Test func floodOfBareCarriageReturnsDoesNotRecurse() throws {
        var f = SIPStreamFramer(maximumMessageSize: 1 << 20)
        f.append(Array(repeating: Byte.cr, count: 200_000) + Self.options)
        guard case .message = try f.next() else { Issue.record("expected a message"); return }
    }
}
