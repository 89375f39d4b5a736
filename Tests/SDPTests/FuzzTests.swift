import Testing
@testable import SDP

/// Bounded, fixed-seed mutation fuzzing: parsing never traps, and whatever parses round-trips.
@Suite struct FuzzTests {
    static let seeds = [Samples.deskPhoneOffer, Samples.webRTCOffer, Samples.rtpengineRewritten, Samples.sdesOffer, Samples.audioVideoOffer]
    static let tokens: [String] = [
        "\r\n", "\n", "\r", " ", "  ", ":", "/", "|", ";", "=", "0", "-1", "65536", "99999999999999999999", "a=", "m=audio 0 RTP/AVP 0\r\n",
        "a=crypto:1 X inline:", "a=rtpmap:", "c=IN IP6 ::\r\n", "é", "\u{301}", "\t", "2^", "IN IP4", "a=rtcp-mux", "v=0\r\n", "\0",
    ]

    @Test func mutatedSamplesNeverCrashAndRoundTrip() {
        var rng = SplitMix64(state: 0x5D9_2024)
        var accepted = 0
        for iteration in 0..<12_000 {
            var scalars = Array(Self.seeds[iteration % Self.seeds.count].unicodeScalars)
            let edits = Int.random(in: 1...4, using: &rng)
            for _ in 0..<edits {
                let position = scalars.isEmpty ? 0 : Int.random(in: 0..<scalars.count, using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0 where !scalars.isEmpty:
                    scalars.remove(at: position)
                case 1:
                    let token = Self.tokens[Int.random(in: 0..<Self.tokens.count, using: &rng)]
                    scalars.insert(contentsOf: token.unicodeScalars, at: position)
                case 2 where !scalars.isEmpty:
                    scalars[position] = Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng))
                case 3 where !scalars.isEmpty:
                    // Truncate.
                    scalars.removeSubrange(position...)
                default:
                    scalars.insert(Unicode.Scalar(UInt8.random(in: 0...0x7F, using: &rng)), at: position)
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let text = String(view)
            guard let first = try? SessionDescription(parsing: text) else { continue }
            accepted += 1
            let written = first.serialized
            guard let second = try? SessionDescription(parsing: written) else {
                Issue.record("serialised output did not parse: \(written.debugDescription)")
                return
            }
            if second != first || second.serialized != written {
                Issue.record("round trip unstable for \(text.debugDescription)")
                return
            }
            // The answerer must not trap on whatever parses either (every 8th input, to keep the test fast in debug).
            guard accepted % 8 == 0 else { continue }
            var keys = CountingKeys()
            let caps = [SDPMediaCapability(port: 4000, codecs: [.pcmu, .opus], cryptoSuites: ["AES_CM_128_HMAC_SHA1_80"], srtp: .optional)]
            let (answer, _) = OfferAnswer.makeAnswer(to: first, session: SDPLocalSession(sessionID: "1", sessionVersion: 1, address: "10.0.0.1"),
                                                     media: caps, keys: &keys)
            _ = try? OfferAnswer.processAnswer(answer, to: first)
        }
        // The mutations are mild enough that a good share still parses, so the round-trip check has teeth.
        #expect(accepted > 1_200)
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(state: 7)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0..<200, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = "v=0\r\n" + String(decoding: bytes, as: UTF8.self)
            if let sdp = try? SessionDescription(parsing: text) {
                #expect((try? SessionDescription(parsing: sdp.serialized)) == sdp)
            }
        }
    }
}
