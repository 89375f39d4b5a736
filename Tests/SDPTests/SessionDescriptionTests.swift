import Testing
@testable import SDP

@Suite struct SessionDescriptionTests {
    @Test func deskPhoneOfferParses() throws {
        let sdp = try SessionDescription(parsing: Samples.deskPhoneOffer)
        #expect(sdp.origin.sessionID == "20518")
        #expect(sdp.origin.sessionVersion == 0)
        #expect(sdp.origin.address == "192.168.1.50")
        #expect(sdp.sessionName == "SDP data")
        #expect(sdp.connection == SDPConnection(address: "192.168.1.50"))
        #expect(sdp.timings == [SDPTiming()])
        let audio = try #require(sdp.media.first)
        #expect(audio.media == "audio" && audio.port == 11780 && audio.proto == "RTP/AVP")
        #expect(audio.formats == ["9", "0", "8", "18", "101"])
        #expect(audio.rtpMap(for: 9) == SDPRTPMap(payloadType: 9, encodingName: "G722", clockRate: 8000))
        #expect(audio.formatParameters(for: "101") == "0-15")
        #expect(audio.formatParameters(for: "18") == "annexb=no")
        #expect(audio.ptime == 20)
        #expect(audio.directionAttribute == .sendrecv)
        #expect(sdp.serialized.contains("\r\n") && !sdp.serialized.contains("\n\n"))
    }

    @Test func webRTCOfferKeepsUnknownAttributesInOrder() throws {
        let sdp = try SessionDescription(parsing: Samples.webRTCOffer)
        #expect(sdp.attributes == [.other(name: "group", value: "BUNDLE 0"), .other(name: "msid-semantic", value: " WMS")])
        let m = try #require(sdp.media.first)
        #expect(m.proto == "UDP/TLS/RTP/SAVPF")
        #expect(m.isSecureProfile)
        #expect(m.rtcp == SDPRTCPAttribute(port: 9, connection: SDPConnection(address: "0.0.0.0")))
        #expect(m.attribute(named: "ice-ufrag") == .other(name: "ice-ufrag", value: "Oyef"))
        #expect(m.attribute(named: "ice-pwd") == .other(name: "ice-pwd", value: "d8Lq9yKsUyBAsTq8MKcKfWyU"))
        #expect(m.attribute(named: "setup") == .other(name: "setup", value: "actpass"))
        #expect(m.mid == "0")
        #expect(m.hasRTCPMux)
        #expect(m.rtpMap(for: 111) == SDPRTPMap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(m.attributes.contains(.extmap(SDPExtmap(id: 2, direction: .sendonly, uri: "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"))))
        #expect(m.attributes.contains(.rtcpFeedback(SDPRTCPFeedback(format: "111", feedback: "transport-cc"))))
        #expect(m.attributes.contains(.ssrc(SDPSSRCAttribute(ssrc: 3_570_614_608, attribute: "cname:4TOk42mSjXCkVIa6"))))
        // Unknown attributes come out in the same order and text.
        let names = m.attributes.map(\.name)
        #expect(names.prefix(8) == ["rtcp", "candidate", "ice-ufrag", "ice-pwd", "ice-options", "fingerprint", "setup", "mid"])
        let out = sdp.serialized
        #expect(out.contains("a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0\r\n"))
        #expect(out.contains("a=fingerprint:sha-256 49:66:12:17:"))
        // Byte-for-byte identical: the sample is already canonical.
        #expect(out == Samples.webRTCOffer)
    }

    @Test func rtpengineRewrittenSDP() throws {
        let sdp = try SessionDescription(parsing: Samples.rtpengineRewritten)
        #expect(sdp.bandwidths == [SDPBandwidth(type: "CT", value: 384)])
        #expect(sdp.directionAttribute == .sendrecv)
        let m = try #require(sdp.media.first)
        #expect(m.bandwidths == [SDPBandwidth(type: "AS", value: 80), SDPBandwidth(type: "TIAS", value: 64000)])
        #expect(m.maxPtime == 150)
        #expect(m.rtcp == SDPRTCPAttribute(port: 30113, connection: SDPConnection(address: "203.0.113.10")))
        #expect(m.attribute(named: "oldmediaip") == .other(name: "oldmediaip", value: "10.0.0.5"))
        #expect(sdp.serialized == Samples.rtpengineRewritten)
    }

    @Test func sdesOfferHasTwoCryptoLines() throws {
        let sdp = try SessionDescription(parsing: Samples.sdesOffer)
        let cryptos = try #require(sdp.media.first?.cryptos)
        #expect(cryptos.count == 2)
        #expect(cryptos[0].tag == 1 && cryptos[0].suite == "AES_CM_128_HMAC_SHA1_80")
        #expect(cryptos[0].keys[0].lifetime == "2^20")
        #expect(cryptos[0].keys[0].mki?.value == 1 && cryptos[0].keys[0].mki?.length == 4)
        #expect(cryptos[0].keys[0].keySaltBytes?.count == 30)
        #expect(cryptos[1].suite == "AES_CM_128_HMAC_SHA1_32" && cryptos[1].keys[0].lifetime == nil)
        #expect(sdp.serialized == Samples.sdesOffer)
    }

    @Test(arguments: [Samples.deskPhoneOffer, Samples.webRTCOffer, Samples.rtpengineRewritten, Samples.sdesOffer, Samples.audioVideoOffer])
    func roundTripIsStable(_ text: String) throws {
        let first = try SessionDescription(parsing: text)
        let second = try SessionDescription(parsing: first.serialized)
        #expect(first == second)
        #expect(first.serialized == second.serialized)
    }

    @Test func lfOnlyAndCRLFParseTheSame() throws {
        let lf = try SessionDescription(parsing: Samples.sdesOffer.replacingCRLF())
        let crlf = try SessionDescription(parsing: Samples.sdesOffer)
        #expect(lf == crlf)
    }

    @Test func allFieldsRoundTrip() throws {
        let text = [
            "v=0", "o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1", "s=Call to John Smith",
            "i=SDP Offer #1", "u=http://www.jdoe.example.com/home.html", "e=Jane Doe <jane@jdoe.example.com>",
            "p=+1 617 555-6011", "c=IN IP4 198.51.100.1", "b=AS:128", "t=2873397496 2873404696",
            "r=7d 1h 0 25h", "t=0 0", "z=2882844526 -1h 2898848070 0", "k=prompt", "a=recvonly",
            "m=audio 49170/2 RTP/AVP 0", "i=voice", "c=IN IP4 233.252.0.1/127", "b=TIAS:64000", "k=prompt",
            "a=tool:x", "m=application 32416 udp wb", "a=orient:portrait", "",
        ].joined(separator: "\r\n")
        let sdp = try SessionDescription(parsing: text)
        #expect(sdp.timings.count == 2 && sdp.timings[0].repeats == ["7d 1h 0 25h"])
        #expect(sdp.media[0].portCount == 2)
        #expect(sdp.media[0].connections == [SDPConnection(address: "233.252.0.1/127")])
        #expect(sdp.direction(of: 0) == .recvonly)
        #expect(sdp.serialized == text)
    }

    @Test(arguments: [
        ("", SDPParseError.empty),
        ("o=- 1 1 IN IP4 1.2.3.4\r\n", .versionNotFirst),
        ("v=1\r\n", .unsupportedVersion),
        ("v=0\r\ns=x\r\n", .missingField("o")),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n", .missingField("s")),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\n", .missingField("t")),
        ("v=0\r\no=- 1 x IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\n", .invalidOrigin(line: 2)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nc=IN IPX 1.2.3.4\r\nt=0 0\r\n", .invalidConnection(line: 4)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nb=AS\r\nt=0 0\r\n", .invalidBandwidth(line: 4)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0\r\n", .invalidTiming(line: 4)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nr=1 2\r\nt=0 0\r\n", .invalidTiming(line: 4)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n", .invalidMedia(line: 5)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nt=0 0\r\n", .unexpectedLine(line: 6)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\nx=1\r\n", .unknownType(line: 5)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\nhello\r\n", .malformedLine(line: 5)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\na=\r\n", .invalidAttribute(line: 5)),
        ("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=x\r\ns=y\r\nt=0 0\r\n", .unexpectedLine(line: 4)),
    ])
    func structuralErrors(_ text: String, _ expected: SDPParseError) {
        #expect(throws: expected) { try SessionDescription(parsing: text) }
    }

    @Test func oversizeInputIsRejected() {
        let big = "v=0\r\n" + String(repeating: "a=x\r\n", count: 20_000)
        #expect(throws: SDPParseError.tooLarge) { try SessionDescription(parsing: big) }
    }

    @Test func malformedKnownAttributesAreKeptVerbatim() throws {
        let text = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"
            + "a=rtpmap:300 X/8000\r\na=ptime:abc\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80\r\na=rtcp:70000\r\n"
        let sdp = try SessionDescription(parsing: text)
        #expect(sdp.media[0].attributes == [
            .other(name: "rtpmap", value: "300 X/8000"), .other(name: "ptime", value: "abc"),
            .other(name: "crypto", value: "1 AES_CM_128_HMAC_SHA1_80"), .other(name: "rtcp", value: "70000"),
        ])
        #expect(sdp.serialized == text)
    }

    @Test func holdDetection() throws {
        var sdp = try SessionDescription(parsing: Samples.deskPhoneOffer)
        #expect(!sdp.isHold(mediaIndex: 0))
        sdp.media[0].setDirection(.sendonly)
        #expect(sdp.isHold(mediaIndex: 0))
        sdp.media[0].setDirection(.inactive)
        #expect(sdp.isHold(mediaIndex: 0))
        sdp.media[0].setDirection(.sendrecv)
        sdp.connection = SDPConnection(address: "0.0.0.0")
        #expect(sdp.isHold(mediaIndex: 0))
    }

    @Test func base64RoundTrip() {
        for n in 0..<50 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(SDPBase64.decode(SDPBase64.encode(bytes)) == bytes)
        }
        #expect(SDPBase64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(SDPBase64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(SDPBase64.decode("Zm9v!") == nil)
        #expect(SDPBase64.decode("Z") == nil)
    }
}

extension String {
    func replacingCRLF() -> String {
        String(String.UnicodeScalarView(unicodeScalars.filter { $0 != "\r" }))
    }
}
