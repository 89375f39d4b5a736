import Testing
@testable import SIPCore

/// The byte-level fast paths of the parser agree with the general (String) paths they stand in for: each accepts
/// only what the general path accepts, with the same values, on fixed corpora and bounded fixed-seed mutations.
@Suite struct FastPathTests {
    static let uris = [
        "sip:service@127.0.0.1:25060", "sip:alice@example.com", "sips:bob:pw@[2001:db8::1]:5061;transport=tcp",
        "sip:example.com;lr;maddr=10.0.0.1", "tel:+1-555-0100;phone-context=example.com", "sip:%61lice@host",
        "sip:user;par=1@host", "sip:host:99999", "sip:host:", "sip:@host", "sip:[::1", "sip:host;", "sip:host;=x",
        "sip:host;a=", "sip:a@b@c", "sip:a?b@host", "sip:host?Subject=x", "SIP:HOST", "tel:", "tel:12@34",
        "sip:ho_st", "sip:host:5060:1", "sip:[::1]x", "sip:[::1]:70000", "sips:x@y.z;transport=tls;ob",
        "http:example.com", "sip:host;a=b=c", "sip:us%er@h", "sip:u:p:w@h", "sip:h;%zz", "tel:1;a=b;c",
    ]
    static let interesting: [UInt8] = Array(":;@=[]?%.-_09aZ<>\" \t".utf8) + [0x7f, 0xc3]

    static func mutate(_ input: [UInt8], _ rng: inout XorShift) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            guard !b.isEmpty else { break }
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 4 {
            case 0: b[i] = interesting[Int(rng.next() % UInt64(interesting.count))]
            case 1: b.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: i)
            case 2: b.remove(at: i)
            default: b.removeSubrange(i..<b.count)
            }
        }
        return b
    }

    static func generalAccepts(_ uri: [UInt8]) -> Bool {
        do {
            try SIPMessage.checkRequestURI(Substring(String(decoding: uri, as: UTF8.self)))
            return true
        } catch {
            return false
        }
    }

    @Test func requestURIFastPathIsExactForSIPAndTelWithoutHeaders() {
        var rng = XorShift(seed: 7)
        var cases = Self.uris.map { Array($0.utf8) }
        for seed in cases { for _ in 0..<300 { cases.append(Self.mutate(seed, &rng)) } }
        var fastAccepted = 0
        for uri in cases {
            let fast = SIPURI.isValidRequestURI(uri, 0..<uri.count)
            let general = Self.generalAccepts(uri)
            // Accepting must always agree; declining may hand a valid URI to the general path only for other
            // schemes or a `?` (URI headers, or a `?` inside the user part).
            if fast { #expect(general, "fast path accepted \(String(decoding: uri, as: UTF8.self))") }
            let text = String(decoding: uri, as: UTF8.self).lowercased()
            if general, !uri.contains(UInt8(ascii: "?")), text.hasPrefix("sip:") || text.hasPrefix("sips:") || text.hasPrefix("tel:") {
                #expect(fast, "fast path declined \(text)")
            }
            if fast { fastAccepted += 1 }
        }
        #expect(fastAccepted > 100)
    }

    @Test func headerNamesFromBytesMatchTheStringInitialiser() {
        let names = ["Via", "v", "FROM", "f", "t", "To", "call-ID", "i", "CSeq", "Max-Forwards", "Content-Length", "l",
                     "X-Custom", "P-Asserted-Identity", "proxy-authorization", "Accept", "q", "WWW-Authenticate", "Session-Expires"]
        for name in names {
            let bytes = Array(name.utf8)
            let fast = SIPHeaderName.fromBytes(bytes, 0..<bytes.count)
            #expect(fast == SIPHeaderName(name))
            #expect(fast.canonical == SIPHeaderName(name).canonical)
        }
    }

    @Test func cseqFastPathAgreesWithTheCSeqParser() {
        let values = ["1 OPTIONS", "4711   INVITE", "2147483647 OPTIONS", "2147483648 OPTIONS", "1OPTIONS", " 1 OPTIONS",
                      "1 OPTIONS x", "x OPTIONS", "1 \tOPTIONS", "1 options", "", "1", "1 OPT\u{e9}", "01 OPTIONS"]
        let method = Array("OPTIONS".utf8)
        for v in values {
            // The line as the index stores it: "OPTIONS " + value, value range from its first byte.
            let line = method + [0x20] + Array(v.utf8)
            let range = (method.count + 1)..<line.count
            let fast = SIPMessage.fastCSeqMatches(line, range, method: 0..<method.count)
            let general = (try? CSeq(parsing: Substring(v))).map { $0.method == .options } ?? false
            if fast { #expect(general, "\(v)") }
            if general, !v.hasPrefix(" ") { #expect(fast, "\(v)") }
        }
    }

    static let vias = [
        "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1", "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK-1;rport",
        "SIP / 2.0 / TCP host.example.com ;branch=x ; received=1.2.3.4;rport=9", "SIP/2.0/UDP [2001:db8::1]:5060;maddr=x",
        "SIP/2.0/UDP h;rport=abc", "SIP/2.0/UDP h;branch=\"q\"", "SIP/2.0/UDP h:0;ttl=1", "SIP/2.0/UDP h:65536",
        "SIP/2.0/UDP h, SIP/2.0/TCP g", "SIP/2.0/UDP", "SIP/2.0 UDP h", "SIP/2.0/UDP h;", "SIP/2.0/UDP h;b=",
        "SIP/2.0/UDP h;RPORT;Received=[::1]", "SIP/2.0/UDP u@h", "SIP/2.0/UDP h:50600",
    ]

    @Test func rawViaAgreesWithTheViaParser() {
        var rng = XorShift(seed: 11)
        var cases = Self.vias.map { Array($0.utf8) }
        for seed in cases { for _ in 0..<300 { cases.append(Self.mutate(seed, &rng)) } }
        var accepted = 0
        for bytes in cases {
            guard let raw = SIPRawVia(bytes[...]) else { continue }
            accepted += 1
            let text = String(decoding: bytes[0..<raw.end], as: UTF8.self)
            let via: Via
            do { via = try Via(parsing: Substring(text)) } catch {
                Issue.record("raw scan accepted \(text) but Via(parsing:) rejects it")
                continue
            }
            #expect(String(decoding: bytes[raw.host], as: UTF8.self) == via.host, "\(text)")
            #expect(raw.port == via.port, "\(text)")
            #expect(raw.rport == via.rport, "\(text)")
            #expect(raw.isIPv6 == via.host.contains(":"), "\(text)")
            #expect((raw.receivedParameter != nil) == via.parameters.contains("received"), "\(text)")
            if via.maddr != nil { #expect(raw.hasMaddr, "\(text)") }
            // Whatever follows the via-parm (but trailing whitespace) is the next one.
            if raw.end < bytes.count {
                let rest = bytes[raw.end...].drop { $0 == 0x20 || $0 == 0x09 }
                if let next = rest.first { #expect(next == UInt8(ascii: ","), "\(text)") }
            }
        }
        #expect(accepted > 100)
    }
}
