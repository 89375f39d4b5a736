import Testing
import TandemBase
@testable import MediaControl

@Suite struct NGReplyTests {
    let cookie = Array("5323_1".utf8)

    @Test func pongMatchesDocumentBytes() {
        #expect(NGReply.pong.encoded(cookie: cookie).text == "5323_1 d6:result4:ponge")
    }

    @Test func offerReply() throws {
        let bytes = NGReply.sdp(sampleSDP).encoded(cookie: cookie)
        #expect(bytes.text == "5323_1 d" + bstr("result") + bstr("ok") + bstr("sdp") + bstr(sampleSDP) + "e")
        let warned = try parseReply(NGReply.sdp("v=0", warning: "no ICE").encoded(cookie: cookie))
        #expect(warned.body["warning"] == .string("no ICE"))
        #expect(warned.body["result"] == .string("ok"))
    }

    @Test func errorReplyHasOnlyResultAndReason() throws {
        let reply = try parseReply(NGReply.error(.missingCallID).encoded(cookie: cookie))
        #expect(reply.body == .dictionary(["result": .string("error"), "error-reason": .string("No call-id in message")]))
    }

    /// The query reply shape from the rtpengine docs (one tag, one audio media with RTP and RTCP streams).
    static let stats = NGCallStatistics(
        created: 1_402_064_111, lastSignal: 1_402_064_116,
        tags: [
            NGTagStatistics(tag: "cs6kn1rloc", created: 1_402_064_111, inDialogueWith: "0f0d2e18", medias: [
                NGMediaStatistics(index: 1, type: "audio", transportProtocol: "RTP/AVP", flags: ["initialized"], streams: [
                    NGStreamStatistics(localPort: 30018, endpoint: NGEndpoint(family: "IPv4", address: "10.0.0.1", port: 57370),
                                       advertisedEndpoint: NGEndpoint(family: "IPv4", address: "10.0.0.1", port: 57370),
                                       lastPacket: 1_402_064_124, flags: ["RTP", "filled", "confirmed"],
                                       stats: NGCounters(packets: 343, bytes: 56950, errors: 0)),
                    NGStreamStatistics(localPort: 30019, cryptoSuite: "AES_CM_128_HMAC_SHA1_80", flags: ["RTCP"],
                                       stats: NGCounters(packets: 2, bytes: 164, errors: 0)),
                ]),
            ]),
            NGTagStatistics(tag: "0f0d2e18", created: 1_402_064_111, label: "callee", inDialogueWith: "cs6kn1rloc"),
        ],
        rtpTotals: NGCounters(packets: 705, bytes: 100_287, errors: 0),
        rtcpTotals: NGCounters(packets: 22, bytes: 2244, errors: 1))

    @Test func queryReply() throws {
        let body = try parseReply(NGReply.query(Self.stats).encoded(cookie: cookie)).body
        #expect(body["result"] == .string("ok"))
        #expect(body["created"] == .integer(1_402_064_111))
        #expect(body["last signal"] == .integer(1_402_064_116))
        #expect(body["totals"]?["RTP"] == .dictionary(["packets": .integer(705), "bytes": .integer(100_287), "errors": .integer(0)]))
        #expect(body["totals"]?["RTCP"]?["errors"] == .integer(1))
        let tag = try #require(body["tags"]?["cs6kn1rloc"])
        #expect(tag["tag"] == .string("cs6kn1rloc"))
        #expect(tag["in dialogue with"] == .string("0f0d2e18"))
        let media = try #require(tag["medias"]?.listValue?.first)
        #expect(media["protocol"] == .string("RTP/AVP"))
        #expect(media["index"] == .integer(1))
        let streams = try #require(media["streams"]?.listValue)
        #expect(streams.count == 2)
        #expect(streams[0]["local port"] == .integer(30018))
        #expect(streams[0]["endpoint"]?["port"] == .integer(57370))
        #expect(streams[0]["endpoint"]?["family"] == .string("IPv4"))
        #expect(streams[0]["stats"]?["packets"] == .integer(343))
        #expect(streams[0]["last packet"] == .integer(1_402_064_124))
        #expect(streams[1]["crypto suite"] == .string("AES_CM_128_HMAC_SHA1_80"))
        #expect(streams[1]["endpoint"] == nil)
        #expect(body["tags"]?["0f0d2e18"]?["label"] == .string("callee"))
    }

    @Test func deleteReply() throws {
        let plain = try parseReply(NGReply.deleted(nil).encoded(cookie: cookie)).body
        #expect(plain == .dictionary(["result": .string("ok")]))
        let warned = try parseReply(NGReply.deleted(nil, warning: "Call-ID not found").encoded(cookie: cookie)).body
        #expect(warned["warning"] == .string("Call-ID not found"))
        let full = try parseReply(NGReply.deleted(Self.stats).encoded(cookie: cookie)).body
        #expect(full["totals"]?["RTP"]?["bytes"] == .integer(100_287))
        #expect(full["created"] == .integer(1_402_064_111))
    }

    @Test func listAndStatisticsReplies() throws {
        let list = try parseReply(NGReply.list(callIDs: ["a", "b"]).encoded(cookie: cookie)).body
        #expect(list["calls"] == .stringList(["a", "b"]))
        var g = NGGlobalStatistics()
        g.sessionsOwn = 3
        g.relayedPackets = 1000
        g.uptimeSeconds = 18
        let stats = try parseReply(NGReply.statistics(g).encoded(cookie: cookie)).body
        #expect(stats["statistics"]?["currentstatistics"]?["sessionsown"] == .integer(3))
        #expect(stats["statistics"]?["currentstatistics"]?["sessionstotal"] == .integer(3))
        #expect(stats["statistics"]?["totalstatistics"]?["relayedpackets"] == .integer(1000))
        #expect(stats["statistics"]?["totalstatistics"]?["uptime"] == .string("18"))
    }

    @Test func countersClampInsteadOfTrapping() {
        let c = NGCounters(packets: .max, bytes: 1, errors: 0)
        #expect(c.bencode["packets"] == .integer(.max))
    }
}
