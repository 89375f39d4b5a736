import Foundation
import PBX
import SDP
import Store
import Testing

/// The B2BUA's SDP work: offers towards the callee, codec plans (relay or transcode), answers pointed at the
/// engine's legs, and CDRs in the store.
@Suite struct CallSDPTests {
    static let engineCodecs: Set<String> = ["pcmu/8000", "pcma/8000", "g722/8000", "opus/48000"]
    let canTranscode: (String, Int) -> Bool = { engineCodecs.contains($0.lowercased() + "/" + String($1)) }
    let callerLeg = CallMediaLeg(session: "c1", index: 0, address: "192.0.2.10", rtpPort: 30000, rtcpPort: 30001)
    let calleeLeg = CallMediaLeg(session: "c1", index: 1, address: "192.0.2.10", rtpPort: 30002, rtcpPort: 30003)
    let origin = SDPOrigin(username: "tandem", sessionID: "42", sessionVersion: 1, addressType: SDPAddressType(address: "192.0.2.10"),
                           address: "192.0.2.10")

    func sdp(_ host: String, _ port: Int, _ formats: String, _ lines: [String], video: Bool = false) -> String {
        var s = "v=0\r\no=- 1 1 IN IP4 \(host)\r\ns=-\r\nc=IN IP4 \(host)\r\nt=0 0\r\nm=audio \(port) RTP/AVP \(formats)\r\n"
        for l in lines { s += l + "\r\n" }
        if video { s += "m=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n" }
        return s
    }

    @Test func pcmuCallerAndPCMUCalleeRelayWithAddressesRewritten() throws {
        let offer = try CallAudioDescription(parsing: sdp("198.51.100.1", 6000, "0 101",
            ["a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=candidate:1 1 UDP 1 198.51.100.1 6000 typ host"],
            video: true))
        #expect(offer.remote.rtp == CallEndpointAddress(host: "198.51.100.1", port: 6000))
        let toCallee = CallSDP.offerToCallee(from: offer, leg: calleeLeg, origin: origin, canTranscode: canTranscode)
        let text = toCallee.serialized
        #expect(text.contains("c=IN IP4 192.0.2.10"))
        #expect(!text.contains("198.51.100.1"), "the caller's address leaked: \(text)")
        #expect(!text.contains("candidate"))
        #expect(toCallee.media[0].port == 30002)
        #expect(toCallee.media[0].formats == ["0", "8", "101"], "PCMA added as a transcodable fallback")
        #expect(toCallee.media[1].port == 0, "video refused")
        #expect(toCallee.media[0].rtcp?.port == 30003)

        let answer = try CallAudioDescription(parsing: sdp("203.0.113.5", 7000, "0 101",
            ["a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000"]))
        let plan = try #require(CallSDP.plan(offer: offer, answer: answer, canTranscode: canTranscode))
        #expect(!plan.transcodes)
        #expect(plan.caller.payloadType == 0 && plan.callee.payloadType == 0)
        #expect(plan.caller.telephoneEventPayloadType == 101)

        let toCaller = CallSDP.description(format: plan.caller, leg: callerLeg, direction: .sendrecv, origin: origin, template: offer)
        #expect(toCaller.media.count == 2 && toCaller.media[1].port == 0, "the answer keeps the offer's sections")
        #expect(toCaller.media[0].port == 30000 && toCaller.media[0].formats == ["0", "101"])
        #expect(toCaller.connection?.address == "192.0.2.10")
    }

    @Test func opusCallerAndPCMUCalleeTranscode() throws {
        let offer = try CallAudioDescription(parsing: sdp("198.51.100.1", 6000, "111",
            ["a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1"]))
        let toCallee = CallSDP.offerToCallee(from: offer, leg: calleeLeg, origin: origin, canTranscode: canTranscode)
        #expect(toCallee.media[0].formats == ["111", "0", "8"])
        let answer = try CallAudioDescription(parsing: sdp("203.0.113.5", 7000, "0", []))
        let plan = try #require(CallSDP.plan(offer: offer, answer: answer, canTranscode: canTranscode))
        #expect(plan.transcodes && plan.engineKnowsCodecs)
        #expect(plan.caller.name == "opus" && plan.caller.payloadType == 111 && plan.caller.channels == 2)
        #expect(plan.callee.name == "PCMU" && plan.callee.payloadType == 0)
        let toCaller = CallSDP.description(format: plan.caller, leg: callerLeg, direction: .sendrecv, origin: origin)
        #expect(toCaller.serialized.contains("a=rtpmap:111 opus/48000/2"))
        #expect(toCaller.serialized.contains("a=fmtp:111 useinbandfec=1"))
    }

    @Test func unknownCodecWithoutOverlapIsNotAnswerable() throws {
        let offer = try CallAudioDescription(parsing: sdp("198.51.100.1", 6000, "18", ["a=rtpmap:18 G729/8000"]))
        let toCallee = CallSDP.offerToCallee(from: offer, leg: calleeLeg, origin: origin, canTranscode: canTranscode)
        #expect(toCallee.media[0].formats == ["18"], "nothing transcodable offered: no fallbacks")
        let answer = try CallAudioDescription(parsing: sdp("203.0.113.5", 7000, "0", []))
        #expect(CallSDP.plan(offer: offer, answer: answer, canTranscode: canTranscode) == nil)
        // The same unknown codec on both sides is a plain relay.
        let same = try CallAudioDescription(parsing: sdp("203.0.113.5", 7000, "18", ["a=rtpmap:18 G729/8000"]))
        let plan = try #require(CallSDP.plan(offer: offer, answer: same, canTranscode: canTranscode))
        #expect(!plan.transcodes && !plan.engineKnowsCodecs)
    }

    @Test func holdKeepsDirectionAndZeroAddressMeansNoDestination() throws {
        let hold = try CallAudioDescription(parsing: sdp("0.0.0.0", 6000, "0", ["a=sendonly"]))
        #expect(hold.remote.rtp == nil)
        #expect(hold.remote.direction == .sendonly)
        let format = CallAudioFormat(name: "PCMU", clockRate: 8000, payloadType: 0)
        let reoffer = CallSDP.description(format: format, leg: calleeLeg, direction: .sendonly, origin: origin)
        #expect(reoffer.direction(of: 0) == .sendonly)
        #expect(reoffer.media[0].port == 30002)
    }

    @Test func malformedAndAudiolessSDPAreRefused() {
        #expect(throws: CallAudioDescription.ReadError.malformed) { try CallAudioDescription(parsing: "garbage") }
        #expect(throws: CallAudioDescription.ReadError.noAudio) {
            try CallAudioDescription(parsing: "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=video 5 RTP/AVP 96\r\n")
        }
    }

    @Test func callRecordsAreStoredAndListedNewestFirst() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try TandemStore(directory: directory)
        #expect(try store.appliedMigrations().contains("v3-cdrs"))
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let answered = CallDetailRecord(id: "a", tenantID: "t1", caller: "100", callee: "200", targets: ["sip:200@10.0.0.2:5060"],
                                        startedAt: t0, answeredAt: t0.addingTimeInterval(2), endedAt: t0.addingTimeInterval(12),
                                        endReason: .normal, sipStatus: nil, hungUpBy: .callee, callerCodec: "opus/48000",
                                        calleeCodec: "PCMU/8000", transcoded: true)
        let busy = CallDetailRecord(id: "b", tenantID: "t1", caller: "100", callee: "200", targets: ["sip:200@10.0.0.2:5060"],
                                    startedAt: t0.addingTimeInterval(60), answeredAt: nil, endedAt: t0.addingTimeInterval(61),
                                    endReason: .busy, sipStatus: 486, hungUpBy: .callee, callerCodec: nil, calleeCodec: nil,
                                    transcoded: false)
        try store.insertCallRecord(answered)
        try store.insertCallRecord(busy)
        try store.insertCallRecord(CallDetailRecord(id: "c", tenantID: "t2", caller: "1", callee: "2", targets: [], startedAt: t0,
                                                    answeredAt: nil, endedAt: t0, endReason: .notFound, sipStatus: 404,
                                                    hungUpBy: .system, callerCodec: nil, calleeCodec: nil, transcoded: false))
        let listed = try store.callRecords(tenantID: "t1")
        #expect(listed.map(\.id) == ["b", "a"])
        #expect(listed[1].durationSeconds == 10)
        #expect(listed[1].targets == ["sip:200@10.0.0.2:5060"])
        #expect(listed[1].transcoded && listed[1].hungUpBy == .callee)
        #expect(listed[0].sipStatus == 486 && listed[0].endReason == .busy && listed[0].durationSeconds == 0)
        #expect(try store.callRecords().count == 3)
        // Durable: a fresh store over the same file sees them.
        #expect(try TandemStore(directory: directory).callRecords(limit: 1).first?.id == "b")
    }
}
