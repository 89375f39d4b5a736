import Testing
import TandemBase
@testable import MediaControl

@Suite struct NGRequestTests {
    /// The rtpengine docs' complete offer example, extended with codec and SDES, keys in document (unsorted) order.
    static let docOffer: String =
        "5323_1 d" + bstr("command") + bstr("offer")
        + bstr("call-id") + bstr("cfBXzDSZqhYNcXM") + bstr("from-tag") + bstr("mS9rSAn0Cr")
        + bstr("sdp") + bstr(sampleSDP) + bstr("via-branch") + bstr("5KiTRPZHH1nL6")
        + bstr("flags") + blist(["trust address", "SDES-no-NULL_HMAC_SHA1_32", "codec-mask-opus", "early media"])
        + bstr("replace") + blist(["origin", "session connection"])
        + bstr("address family") + bstr("IP6") + bstr("received-from") + blist(["IP4", "10.65.31.43"])
        + bstr("ICE") + bstr("force") + bstr("transport protocol") + bstr("RTP/SAVPF")
        + bstr("media address") + bstr("2001:d8::6f24:65b") + bstr("DTLS") + bstr("passive")
        + bstr("codec") + "d" + bstr("strip") + blist(["all"]) + bstr("offer") + blist(["PCMU", "opus/48000/2"])
        + bstr("transcode") + blist(["G722"]) + bstr("except") + blist(["telephone-event"]) + "e"
        + bstr("SDES") + blist(["off", "only-AES_CM_128_HMAC_SHA1_80", "pad"])
        + bstr("rtcp-mux") + blist(["demux"]) + bstr("direction") + blist(["priv", "pub"])
        + bstr("record call") + bstr("yes") + bstr("label") + bstr("caller")
        + bstr("x-custom") + "i7e"
        + "e"

    func decodeRequest(_ text: String) throws -> (cookie: String, request: NGRequest) {
        guard case .request(let cookie, let request) = NGProtocolHandler.decode(Array(text.utf8)) else {
            Issue.record("not a request: \(NGProtocolHandler.decode(Array(text.utf8)))")
            throw CancellationError()
        }
        return (cookie.text, request)
    }

    @Test func documentOffer() throws {
        let (cookie, r) = try decodeRequest(Self.docOffer)
        #expect(cookie == "5323_1")
        #expect(r.command == .offer)
        #expect(r.callID == "cfBXzDSZqhYNcXM")
        #expect(r.fromTag == "mS9rSAn0Cr")
        #expect(r.toTag == nil)
        #expect(r.viaBranch == "5KiTRPZHH1nL6")
        #expect(r.sdp == sampleSDP)
        #expect(r.flags.trustAddress)
        #expect(!r.flags.asymmetric)
        #expect(r.flags.other == ["early-media"])
        #expect(r.replace == [.origin, .sessionConnection])
        #expect(r.addressFamily == .ip6)
        #expect(r.receivedFrom == NGReceivedFrom(family: .ip4, address: "10.65.31.43"))
        #expect(r.ice == .force)
        #expect(r.transportProtocol == .rtpSAVPF)
        #expect(r.mediaAddress == "2001:d8::6f24:65b")
        #expect(r.dtls == .passive)
        #expect(r.codec.strip == ["all"])
        #expect(r.codec.offer == ["PCMU", "opus/48000/2"])
        #expect(r.codec.transcode == ["G722"])
        #expect(r.codec.except == ["telephone-event"])
        #expect(r.codec.mask == ["opus"])  // from the codec-mask- flag
        // The SDES key is applied before the flags list (keys in byte order), then SDES- flags.
        #expect(r.sdes == [.off, .only("AES_CM_128_HMAC_SHA1_80"), .other("pad"), .exclude("NULL_HMAC_SHA1_32")])
        #expect(r.rtcpMux == [.demux])
        #expect(r.direction == ["priv", "pub"])
        #expect(r.recordCall == true)
        #expect(r.label == "caller")
        #expect(r.extra == ["x-custom": .integer(7)])
    }

    @Test func requestDictionaryRoundTrips() throws {
        let (_, r) = try decodeRequest(Self.docOffer)
        let again = try NGRequest(decoding: r.dictionary)
        #expect(again == r)
        // And through bytes.
        let bytes = NGDatagram(cookie: Array("c1".utf8), body: r.dictionary).encoded
        let (_, viaBytes) = try decodeRequest(bytes.text)
        #expect(viaBytes == r)
    }

    @Test func answer() throws {
        let text = "a1 d" + bstr("command") + bstr("answer") + bstr("call-id") + bstr("abc")
            + bstr("from-tag") + bstr("ft") + bstr("to-tag") + bstr("tt") + bstr("sdp") + bstr(sampleSDP)
            + bstr("transport-protocol") + bstr("accept") + bstr("ICE") + bstr("remove")
            + bstr("flags") + blist(["symmetric", "single codec"]) + "e"
        let (_, r) = try decodeRequest(text)
        #expect(r.command == .answer)
        #expect(r.toTag == "tt")
        #expect(r.transportProtocol == .accept)
        #expect(r.ice == .remove)
        #expect(r.flags.symmetric && r.flags.singleCodec)
    }

    @Test func deleteWithDelayAsStringOrInteger() throws {
        let a = "d1 d" + bstr("command") + bstr("delete") + bstr("call-id") + bstr("abc")
            + bstr("from-tag") + bstr("ft") + bstr("delete-delay") + "i0e" + bstr("flags") + blist(["fatal"]) + "e"
        let (_, r) = try decodeRequest(a)
        #expect(r.command == .delete)
        #expect(r.deleteDelay == 0)
        #expect(r.flags.fatal)
        let b = "d2 d" + bstr("command") + bstr("delete") + bstr("call-id") + bstr("abc")
            + bstr("delete delay") + bstr("30") + bstr("all") + bstr("all") + "e"
        let (_, s) = try decodeRequest(b)
        #expect(s.deleteDelay == 30)
        #expect(s.all == .all)
    }

    @Test func queryListPingStatistics() throws {
        let (_, q) = try decodeRequest("q d" + bstr("command") + bstr("query") + bstr("call-id") + bstr("abc") + "e")
        #expect(q.command == .query && q.callID == "abc")
        let (_, l) = try decodeRequest("l d" + bstr("command") + bstr("list") + bstr("limit") + "i10e" + "e")
        #expect(l.command == .list && l.limit == 10)
        let (c, p) = try decodeRequest("5323_1 d7:command4:pinge")
        #expect(c == "5323_1" && p.command == .ping)
        let (_, s) = try decodeRequest("s d" + bstr("command") + bstr("statistics") + "e")
        #expect(s.command == .statistics)
    }

    @Test(arguments: [NGCommand.blockMedia, .unblockMedia, .blockDTMF, .unblockDTMF, .startRecording, .stopRecording, .pauseRecording, .stopMedia])
    func callScopedCommands(command: NGCommand) throws {
        let text = "k d" + bstr("command") + bstr(command.rawValue) + bstr("call-id") + bstr("abc")
            + bstr("from-tag") + bstr("ft") + bstr("label") + bstr("L") + "e"
        let (_, r) = try decodeRequest(text)
        #expect(r.command == command)
        #expect(r.fromTag == "ft" && r.label == "L")
        // Without a call-id every one of them is rejected.
        let bad = NGProtocolHandler.decode(Array(("k d" + bstr("command") + bstr(command.rawValue) + "e").utf8))
        #expect(bad == .reply(Array(("k d" + bstr("error-reason") + bstr("No call-id in message") + bstr("result") + bstr("error") + "e").utf8)))
    }

    @Test func playMediaAndDTMF() throws {
        let (_, m) = try decodeRequest("p d" + bstr("command") + bstr("play media") + bstr("call-id") + bstr("c")
            + bstr("from-tag") + bstr("f") + bstr("file") + bstr("/tmp/prompt.wav") + bstr("repeat-times") + "i2e" + "e")
        #expect(m.command == .playMedia && m.file == "/tmp/prompt.wav" && m.repeatTimes == 2)
        let (_, d) = try decodeRequest("p d" + bstr("command") + bstr("play DTMF") + bstr("call-id") + bstr("c")
            + bstr("code") + bstr("#") + bstr("duration") + "i300e" + bstr("volume") + "i-8e" + "e")
        #expect(d.command == .playDTMF && d.dtmfCode == .string("#") && d.duration == 300 && d.volume == -8)
    }

    static let errorCases: [(String, String)] = [
        ("d" + bstr("command") + bstr("frobnicate") + "e", "Unrecognized command"),
        ("d" + bstr("call-id") + bstr("x") + "e", "No command in message"),
        ("d" + bstr("command") + bstr("offer") + bstr("sdp") + bstr("v=0") + bstr("from-tag") + bstr("f") + "e", "No call-id in message"),
        ("d" + bstr("command") + bstr("offer") + bstr("call-id") + bstr("c") + bstr("from-tag") + bstr("f") + "e", "No SDP body in message"),
        ("d" + bstr("command") + bstr("offer") + bstr("call-id") + bstr("c") + bstr("sdp") + bstr("v=0") + "e", "No from-tag in message"),
        ("d" + bstr("command") + bstr("answer") + bstr("call-id") + bstr("c") + bstr("sdp") + bstr("v=0") + bstr("from-tag") + bstr("f") + "e", "No to-tag in message"),
        ("d" + bstr("command") + bstr("query") + "e", "No call-id in message"),
        ("d" + bstr("command") + "i1e" + "e", "Invalid value for key 'command'"),
        ("d" + bstr("command") + bstr("query") + bstr("call-id") + bstr("c") + bstr("ICE") + bstr("sideways") + "e", "Invalid value for key 'ICE'"),
        ("d" + bstr("command") + bstr("query") + bstr("call-id") + bstr("c") + bstr("received from") + blist(["IP5", "x"]) + "e", "Invalid value for key 'received-from'"),
        ("l" + bstr("command") + "e", "Could not decode dictionary"),
        ("garbage", "Failed to decode bencode dictionary"),
        ("d7:command4:pinge trailing", "Failed to decode bencode dictionary"),
    ]

    @Test(arguments: errorCases)
    func errorReplies(body: String, reason: String) throws {
        let inbound = NGProtocolHandler.decode(Array(("ck9 " + body).utf8))
        guard case .reply(let bytes) = inbound else {
            Issue.record("expected an error reply, got \(inbound)")
            return
        }
        let reply = try parseReply(bytes)
        #expect(reply.cookie.text == "ck9")
        // An error reply holds exactly result and error-reason (ng protocol).
        #expect(reply.body == .dictionary(["result": .string("error"), "error-reason": .string(reason)]))
    }

    @Test(arguments: ["", " d7:command4:pinge", "nocookie", String(repeating: "c", count: 300) + " de"])
    func unanswerableDatagramsAreDropped(text: String) {
        guard case .drop = NGProtocolHandler.decode(Array(text.utf8)) else {
            Issue.record("expected drop for \(text.prefix(20))")
            return
        }
    }
}
