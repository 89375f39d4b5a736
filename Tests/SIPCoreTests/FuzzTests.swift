import Testing
import TandemBase
@testable import SIPCore

/// Bounded, fixed-seed mutation fuzzing: parsing never traps, and whatever parses survives write → parse unchanged.
@Suite struct FuzzTests {
    static let seeds: [[UInt8]] = [
        wire(HeaderTests.invite), wire(TortureValidTests.wsinv), wire(TortureValidTests.intmeth), FramerTests.options,
        wire("SIP/2.0 401 Unauthorized\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;rport=5060;received=[::1]\nTo: <sip:a@b>;tag=x\nFrom: \"A\" <sip:a@b>;tag=y\nCall-ID: c\nCSeq: 1 REGISTER\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\", algorithm=SHA-256\nContent-Length: 0\n\n"),
    ]
    static let interesting: [UInt8] = Array("\r\n\t :;,=\"<>%@?&[]/\\*0123456789.-".utf8) + [0, 0x7f, 0x80, 0xff, 0xc3]

    static func mutate(_ input: [UInt8], _ rng: inout XorShift) -> [UInt8] {
        var b = input
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds {
            guard !b.isEmpty else { break }
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 7 {
            case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
            case 1: b[i] = interesting[Int(rng.next() % UInt64(interesting.count))]
            case 2: b.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: i)
            case 3: b.remove(at: i)
            case 4: b.removeSubrange(i..<b.count)
            case 5:
                // Duplicate a slice (repeated headers, doubled separators).
                let len = min(b.count - i, 1 + Int(rng.next() % 40))
                b.insert(contentsOf: Array(b[i..<(i + len)]), at: i)
            default:
                let j = Int(rng.next() % UInt64(b.count))
                b.swapAt(i, j)
            }
        }
        return b
    }

    /// Touches every typed accessor; each may throw but must not trap.
    static func exercise(_ m: SIPMessage) {
        _ = try? m.validate()
        _ = try? m.vias
        _ = try? m.from
        _ = try? m.to
        _ = try? m.contact
        _ = try? m.routes
        _ = try? m.recordRoutes
        _ = try? m.pAssertedIdentities
        _ = try? m.remotePartyIDs
        _ = try? m.diversions
        _ = try? m.historyInfo
        _ = try? m.referTo?.embeddedReplaces
        _ = try? m.referredBy
        _ = try? m.replaces
        _ = try? m.event
        _ = try? m.sessionExpires
        _ = try? m.minSE
        _ = try? m.supported
        _ = try? m.allow
        _ = try? m.privacy
        _ = try? m.expires
        _ = try? m.minExpires
        _ = try? m.contentType
        _ = try? m.wwwAuthenticate
        _ = try? m.authorization
        _ = m.requestURI
        _ = m.listValues("x-unknown")
    }

    @Test func messageParseWriteParse() throws {
        var rng = XorShift(seed: 0x5EED_0001)
        var parsed = 0
        for n in 0..<20_000 {
            let input = Self.mutate(Self.seeds[n % Self.seeds.count], &rng)
            guard let m1 = try? SIPMessage(parsing: input) else { continue }
            parsed += 1
            if n % 4 == 0 { Self.exercise(m1) }
            let written = SIPMessageBuilder(m1).bytes()
            let m2: SIPMessage
            do {
                m2 = try SIPMessage(parsing: written)
            } catch {
                Issue.record("re-parse failed (\(error)) for input \(input)")
                return
            }
            guard sameContent(m1, m2) else {
                Issue.record("round trip changed the message for input \(input)")
                return
            }
            // Typed values that parse must be stable across the round trip.
            if let v1 = try? m1.vias { #expect(try m2.vias == v1) }
            if let f1 = try? m1.from { #expect(try m2.from == f1) }
        }
        // The mutator must leave a fair share parseable or the round-trip check means little.
        #expect(parsed > 2_000)
    }

    @Test func valueParsersNeverTrap() throws {
        var rng = XorShift(seed: 0x5EED_0002)
        let samples = [
            "sips:alice:pw@[2001:db8::1]:5061;transport=tls;lr;maddr=x?h=v&i=%20", "tel:+1-201-555-0123;phone-context=example.com",
            "\"Quoted \\\" name\" <sip:a@b;lr>;tag=1;expires=60;q=0.5", "SIP / 2.0 / UDP 192.0.2.1:5060 ; branch = z9hG4bK1 ; rport",
            "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"abc\", qop=auth, nc=00000001, cnonce=\"c\"",
            "call@id;to-tag=1;from-tag=2;early-only", "1800;refresher=uas", "application/sdp;charset=utf-8", "123 INVITE",
        ]
        for n in 0..<20_000 {
            let bytes = Self.mutate(Array(samples[n % samples.count].utf8), &rng)
            let text = String(decoding: bytes, as: UTF8.self)
            let s = Substring(text)
            if let u = try? SIPURI(parsing: s) {
                #expect(try SIPURI(parsing: u.description) == u, "URI round trip: \(text)")
            }
            if let a = try? NameAddress(parsing: s) {
                #expect(try NameAddress(parsing: Substring(a.description)) == a, "name-addr round trip: \(text)")
            }
            if let v = try? Via(parsing: s) {
                #expect(try Via(parsing: Substring(v.description)) == v, "Via round trip: \(text)")
            }
            if let c = try? DigestCredentials(parsing: text) {
                #expect(try DigestCredentials(parsing: c.description) == c, "credentials round trip: \(text)")
            }
            if let c = try? DigestChallenge(parsing: text) {
                #expect(try DigestChallenge(parsing: c.description) == c, "challenge round trip: \(text)")
            }
            if let r = try? Replaces(parsing: s) { #expect(try Replaces(parsing: Substring(r.description)) == r) }
            if let e = try? SessionExpires(parsing: s) { #expect(try SessionExpires(parsing: Substring(e.description)) == e) }
            if let t = try? MediaType(parsing: s) { #expect(try MediaType(parsing: Substring(t.description)) == t) }
            if let c = try? CSeq(parsing: s) { #expect(try CSeq(parsing: Substring(c.description)) == c) }
        }
    }

    @Test func framerRandomChunking() throws {
        var rng = XorShift(seed: 0x5EED_0003)
        for _ in 0..<300 {
            var f = SIPStreamFramer(maximumMessageSize: 4096)
            var stream: [UInt8] = []
            for _ in 0..<3 {
                stream += rng.next() % 5 == 0 ? Self.mutate(FramerTests.options, &rng) : FramerTests.options
                if rng.next() % 3 == 0 { stream += Array("\r\n\r\n".utf8) }
            }
            var i = 0
            loop: while i < stream.count {
                let len = min(stream.count - i, 1 + Int(rng.next() % 64))
                f.append(stream[i..<(i + len)])
                i += len
                while true {
                    do {
                        guard try f.next() != nil else { break }
                    } catch {
                        break loop
                    }
                }
            }
        }
    }
}
