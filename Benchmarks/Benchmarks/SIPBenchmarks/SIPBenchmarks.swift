import Benchmark
import SIPCore

/// Signalling-path costs: parsing and serialising typical messages. These run on the control plane,
/// so they may allocate; the counts are recorded and gated so that they do not creep up.
let benchmarks: @Sendable () -> Void = {
    // Control-plane code: allocation counts are recorded and may not rise by more than 5 %.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 50, scalingFactor: .kilo,
        maxDuration: .seconds(2), maxIterations: 2_000,
        thresholds: [.mallocCountTotal: .init(relative: [.p90: 5.0], absolute: [.p90: 50])])

    let invite = Array("""
        INVITE sip:bob@biloxi.example.com SIP/2.0\r
        Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport\r
        Max-Forwards: 70\r
        To: Bob <sip:bob@biloxi.example.com>\r
        From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r
        CSeq: 314159 INVITE\r
        Contact: <sip:alice@pc33.atlanta.example.com>\r
        Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, UPDATE, PRACK\r
        Supported: replaces, timer, 100rel\r
        Session-Expires: 1800\r
        User-Agent: Yealink SIP-T46U 108.86.0.20\r
        Content-Type: application/sdp\r
        Content-Length: 142\r
        \r
        v=0\r
        o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r
        s=-\r
        c=IN IP4 192.0.2.101\r
        t=0 0\r
        m=audio 49172 RTP/AVP 0 8 101\r
        a=rtpmap:101 telephone-event/8000\r

        """.utf8)
    let ok = Array("""
        SIP/2.0 200 OK\r
        Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.101;rport=5060\r
        To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r
        From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r
        Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r
        CSeq: 314159 INVITE\r
        Contact: <sip:bob@192.0.2.4>\r
        Content-Length: 0\r
        \r

        """.utf8)
    let register = Array("""
        REGISTER sip:registrar.biloxi.example.com SIP/2.0\r
        Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7\r
        Max-Forwards: 70\r
        To: Bob <sip:bob@biloxi.example.com>\r
        From: Bob <sip:bob@biloxi.example.com>;tag=456248\r
        Call-ID: 843817637684230@998sdasdh09\r
        CSeq: 1826 REGISTER\r
        Contact: <sip:bob@192.0.2.4>;expires=3600\r
        Authorization: Digest username="bob", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:registrar.biloxi.example.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", algorithm=MD5\r
        Content-Length: 0\r
        \r

        """.utf8)

    for (name, bytes) in [("invite", invite), ("ok200", ok), ("register", register)] {
        Benchmark("SIPCore.parse.\(name)") { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                if let message = try? SIPMessage(parsing: bytes) {
                    blackHole(try? message.cseq)
                    blackHole(try? message.callID)
                    blackHole(try? message.vias)
                }
            }
        }
        Benchmark("SIPCore.serialize.\(name)") { benchmark in
            guard let message = try? SIPMessage(parsing: bytes) else { return }
            let builder = SIPMessageBuilder(message)
            var out = [UInt8](repeating: 0, count: 4096)
            out.withUnsafeMutableBytes { buffer in
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try? builder.write(to: buffer)) }
            }
        }
    }
}
