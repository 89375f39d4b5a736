import Foundation
@testable import PBX
import SDP
import SIPStack
import Testing

/// Offers the B2BUA did not anchor before: SDES-SRTP callers (RTP/SAVP with a=crypto, terminated on the caller's
/// leg), DTLS-SRTP and other profiles refused with a reason, the late-offer template, and short session timers
/// for tests.
@Suite struct CallOfferTests {
    static let engineCodecs: Set<String> = ["pcmu/8000", "pcma/8000", "g722/8000", "opus/48000"]
    let canTranscode: (String, Int) -> Bool = { engineCodecs.contains($0.lowercased() + "/" + String($1)) }
    let callerLeg = CallMediaLeg(session: "c1", index: 0, address: "192.0.2.10", rtpPort: 30000, rtcpPort: 30001)
    let calleeLeg = CallMediaLeg(session: "c1", index: 1, address: "192.0.2.10", rtpPort: 30002, rtcpPort: 30003)
    let origin = SDPOrigin(username: "tandem", sessionID: "42", sessionVersion: 1, addressType: SDPAddressType(address: "192.0.2.10"),
                           address: "192.0.2.10")
    /// 30 bytes (16 key + 14 salt), base64.
    static let callerKey = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

    func sdp(proto: String, _ lines: [String], session: [String] = []) -> String {
        var s = "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n"
        for l in session { s += l + "\r\n" }
        s += "m=audio 6000 \(proto) 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        for l in lines { s += l + "\r\n" }
        return s
    }

    @Test(arguments: ["AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"])
    func sdesOfferIsReadAndTheCalleeGetsPlainRTP(suite: String) throws {
        let offer = try CallAudioDescription(parsing: sdp(proto: "RTP/SAVP", [
            "a=crypto:1 AEAD_AES_256_GCM inline:" + String(repeating: "A", count: 60),
            "a=crypto:2 \(suite) inline:\(Self.callerKey)|2^31",
        ]))
        let key = try #require(offer.srtp)
        #expect(key.tag == 2 && key.suite == suite && key.keySalt == Self.callerKey && key.lifetime == "2^31")
        #expect(key.keyParameters == "inline:\(Self.callerKey)|2^31")
        // The callee is offered plain RTP/AVP at the callee leg, without the caller's key.
        let toCallee = CallSDP.offerToCallee(from: offer, leg: calleeLeg, origin: origin, canTranscode: canTranscode).serialized
        #expect(toCallee.contains("m=audio 30002 RTP/AVP 8 0 101"))
        #expect(!toCallee.contains("crypto") && !toCallee.contains(Self.callerKey))
        // The caller's answer: RTP/SAVP with Tandem's own key under the offered tag and suite.
        let ours = CallSRTPKey.fresh(suite: key.suite, tag: key.tag)
        #expect(ours.keySalt != key.keySalt && Data(base64Encoded: ours.keySalt)?.count == 30)
        #expect(CallSRTPKey.fresh(suite: suite, tag: 2).keySalt != ours.keySalt)
        let format = CallAudioFormat(name: "PCMA", clockRate: 8000, payloadType: 8)
        let answer = CallSDP.description(format: format, leg: callerLeg, direction: .sendrecv, origin: origin, template: offer,
                                         crypto: ours.attribute).serialized
        #expect(answer.contains("m=audio 30000 RTP/SAVP 8"))
        #expect(answer.contains("a=crypto:2 \(suite) inline:\(ours.keySalt)"))
        // It reads back as an SRTP description with Tandem's key.
        #expect(try CallAudioDescription(parsing: answer).srtp?.keySalt == ours.keySalt)
    }

    @Test func plainOfferWithCryptoLinesStaysPlain() throws {
        let offer = try CallAudioDescription(parsing: sdp(proto: "RTP/AVP", ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.callerKey)"]))
        #expect(offer.srtp == nil)
    }

    @Test func dtlsAVPFAndUnusableKeysAreRefusedWithAReason() {
        func refusal(_ text: String) -> String? {
            do {
                _ = try CallAudioDescription(parsing: text)
                return nil
            } catch .unsupportedSecurity(let why) {
                return why
            } catch {
                return "other: \(error)"
            }
        }
        let dtls = refusal(sdp(proto: "UDP/TLS/RTP/SAVPF", ["a=fingerprint:sha-256 AB:CD", "a=setup:actpass"]))
        #expect(dtls?.contains("DTLS-SRTP") == true, "\(dtls ?? "accepted")")
        let savpDTLS = refusal(sdp(proto: "RTP/SAVP", ["a=setup:actpass"], session: ["a=fingerprint:sha-256 AB:CD"]))
        #expect(savpDTLS?.contains("DTLS-SRTP") == true, "\(savpDTLS ?? "accepted")")
        let noKey = refusal(sdp(proto: "RTP/SAVP", []))
        #expect(noKey?.contains("a=crypto") == true, "\(noKey ?? "accepted")")
        let shortKey = refusal(sdp(proto: "RTP/SAVP", ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:QUJD"]))
        #expect(shortKey?.contains("a=crypto") == true, "\(shortKey ?? "accepted")")
        let mki = refusal(sdp(proto: "RTP/SAVP", ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.callerKey)|2^20|1:4"]))
        #expect(mki != nil)
        let avpf = refusal(sdp(proto: "RTP/SAVPF", ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Self.callerKey)"]))
        #expect(avpf?.contains("RTP/SAVPF") == true, "\(avpf ?? "accepted")")
        // A second, plain audio section is still anchored.
        let both = sdp(proto: "UDP/TLS/RTP/SAVPF", ["a=fingerprint:sha-256 AB:CD"]) + "m=audio 7000 RTP/AVP 0\r\n"
        #expect(refusal(both) == nil)
    }

    @Test func lateOfferTemplateOffersEveryEngineCodecWithoutAnAddress() throws {
        let template = try #require(B2BUA.lateOfferTemplate(canTranscode: canTranscode))
        #expect(template.codecs.map(\.name) == ["PCMA", "PCMU", "G722", "opus"])
        #expect(template.remote.rtp == nil && template.srtp == nil)
        #expect(template.telephoneEvent(at: 8000) == 101 && template.telephoneEvent(at: 48000) == 102)
        let toCallee = CallSDP.offerToCallee(from: template, leg: calleeLeg, origin: origin, canTranscode: canTranscode).serialized
        #expect(toCallee.contains("m=audio 30002 RTP/AVP 8 0 9 111 101 102"), "\(toCallee)")
        #expect(toCallee.contains("c=IN IP4 192.0.2.10"))
        // The callee answers PCMU: the caller's leg is planned PCMU too (relay, no transcoding).
        let answer = try CallAudioDescription(parsing: "v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\n"
            + "m=audio 7000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
        let plan = try #require(CallSDP.plan(offer: template, answer: answer, canTranscode: canTranscode))
        #expect(plan.caller.name == "PCMU" && plan.caller.payloadType == 0 && !plan.transcodes)
        // Only G.729: nothing the engine knows, no template.
        #expect(B2BUA.lateOfferTemplate(canTranscode: { _, _ in false }) == nil)
    }

    @Test func sessionTimerFloorIsRFC4028UnlessLoweredForTests() {
        #expect(SessionTimerPolicy(sessionExpires: 4, minimumSE: 2).minimumSE == 90)
        #expect(SessionTimerPolicy(sessionExpires: 4, minimumSE: 2).sessionExpires == 90)
        let short = SessionTimerPolicy(sessionExpires: 4, minimumSE: 2, floor: 2)
        #expect(short.minimumSE == 2 && short.sessionExpires == 4)
        #expect(SessionTimerPolicy(sessionExpires: 4, minimumSE: 0, floor: 0).minimumSE == 1)
    }
}
