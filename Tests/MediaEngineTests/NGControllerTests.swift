import CBatchIO
import Foundation
import MediaControl
import MediaEngine
import SDP
import SRTP
import Testing

/// The ng controller against a real engine on loopback: rewritten SDP, and media that follows it.
@Suite struct NGControllerTests {
    static func sdp(port: Int, proto: String = "RTP/AVP", formats: String = "0 8 101", extra: [String] = []) -> String {
        var lines = [
            "v=0", "o=alice 2890844526 2890844526 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
            "m=audio \(port) \(proto) \(formats)", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
        ]
        lines += extra
        lines.append("a=sendrecv")
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func request(_ command: NGCommand, call: String, from: String? = nil, to: String? = nil, sdp: String? = nil) -> NGRequest {
        var r = NGRequest(command: command)
        r.callID = call
        r.fromTag = from
        r.toTag = to
        r.sdp = sdp
        return r
    }

    static func rewritten(_ reply: NGReply) throws -> SessionDescription {
        guard case .sdp(let text, _) = reply else {
            Issue.record("expected an SDP reply, got \(reply)")
            throw CancellationError()
        }
        return try SessionDescription(parsing: text)
    }

    static func errorReason(_ reply: NGReply) -> String? {
        if case .error(let reason) = reply { return reason }
        return nil
    }

    /// Offer from `a`, answer from `b`: the ports each side must send to.
    static func establish(
        _ controller: NGCallController, call: String, a: RelayEndpoint, b: RelayEndpoint
    ) async throws -> (toReachB: Int, toReachA: Int) {
        let offer = try rewritten(await controller.execute(request(.offer, call: call, from: "A", sdp: sdp(port: a.port))))
        let answer = try rewritten(await controller.execute(
            request(.answer, call: call, from: "A", to: "B", sdp: sdp(port: b.port))))
        // A sends to the port in the answer it got; B to the port in the offer it got.
        return (Int(answer.media[0].port), Int(offer.media[0].port))
    }

    @Test func offerAndAnswerAreRewrittenAndMediaFlowsBothWays() async throws {
        let engine = try makeEngine(ports: 42000...42099)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")

        var offer = Self.request(.offer, call: "call-1", from: "A", sdp: Self.sdp(port: a.port))
        offer.replace = [.origin]
        let towardsB = try Self.rewritten(await controller.execute(offer))
        #expect(towardsB.origin.address == "192.0.2.10")
        #expect(towardsB.connection?.address == "192.0.2.10")
        #expect(towardsB.media[0].connections.first?.address == "192.0.2.10")
        #expect((42000...42099).contains(Int(towardsB.media[0].port)))
        #expect(towardsB.media[0].formats == ["0", "8", "101"])
        #expect(towardsB.media[0].rtcp?.port == towardsB.media[0].port + 1)

        let towardsA = try Self.rewritten(await controller.execute(
            Self.request(.answer, call: "call-1", from: "A", to: "B", sdp: Self.sdp(port: b.port))))
        #expect(towardsA.media[0].port != towardsB.media[0].port)
        #expect((42000...42099).contains(Int(towardsA.media[0].port)))

        // A sends to the port in its answer, B to the port in its offer.
        for seq in UInt16(1)...5 {
            a.send(makeRTP(sequence: seq, ssrc: 0xA, payload: payload(Int(seq))), to: Int(towardsA.media[0].port))
            let got = try #require(b.receive())
            #expect(sequence(of: got.bytes) == seq)
            b.send(makeRTP(sequence: seq, ssrc: 0xB, payload: payload(Int(seq))), to: Int(towardsB.media[0].port))
            let back = try #require(a.receive())
            #expect(ssrc(of: back.bytes) == 0xB)
        }

        guard case .query(let stats) = await controller.execute(Self.request(.query, call: "call-1")) else {
            Issue.record("query failed")
            return
        }
        #expect(stats.tags.map(\.tag).sorted() == ["A", "B"])
        #expect(stats.rtpTotals.packets == 10)
        let fromA = try #require(stats.tags.first { $0.tag == "A" }?.medias.first?.streams.first)
        #expect(fromA.stats.packets == 5)
        #expect(fromA.endpoint?.port == UInt16(a.port))
    }

    @Test func srtpOffererIsBridgedToAPlainAnswerer() async throws {
        let engine = try makeEngine(ports: 42100...42199)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let keyA = SDESKeyParameters.random(for: .aesCM128HMACSHA1_80)
        let inline = SDPBase64.encode(keyA.masterKey + keyA.masterSalt)

        var offer = Self.request(.offer, call: "srtp-1", from: "A", sdp: Self.sdp(
            port: a.port, proto: "RTP/SAVP", extra: ["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(inline)"]))
        offer.transportProtocol = .rtpAVP
        let towardsB = try Self.rewritten(await controller.execute(offer))
        #expect(towardsB.media[0].proto == "RTP/AVP")
        #expect(towardsB.media[0].cryptos.isEmpty)

        let towardsA = try Self.rewritten(await controller.execute(
            Self.request(.answer, call: "srtp-1", from: "A", to: "B", sdp: Self.sdp(port: b.port))))
        #expect(towardsA.media[0].proto == "RTP/SAVP")
        let crypto = try #require(towardsA.media[0].cryptos.first)
        #expect(crypto.tag == 1)
        #expect(crypto.suite == "AES_CM_128_HMAC_SHA1_80")
        let tandemKey = try #require(crypto.keys.first?.keySaltBytes)

        let aSends = try SRTPContext(suite: .aesCM128HMACSHA1_80, keyParameters: keyA)
        let aReceives = try SRTPContext(suite: .aesCM128HMACSHA1_80, keyParameters: SDESKeyParameters(
            masterKey: Array(tandemKey[0..<16]), masterSalt: Array(tandemKey[16...])))
        for seq in UInt16(10)...14 {
            let plain = makeRTP(sequence: seq, ssrc: 0xA1, payload: payload(Int(seq)))
            a.send(try aSends.protected(plain), to: Int(towardsA.media[0].port))
            #expect(try #require(b.receive()).bytes == plain)

            let reply = makeRTP(sequence: seq, ssrc: 0xB1, payload: payload(Int(seq) + 100))
            b.send(reply, to: Int(towardsB.media[0].port))
            let protected = try #require(a.receive()).bytes
            #expect(protected != reply)
            #expect(try aReceives.unprotected(protected) == reply)
        }
    }

    @Test func plainOffererIsBridgedToAnSRTPAnswerer() async throws {
        let engine = try makeEngine(ports: 42200...42299)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")

        var offer = Self.request(.offer, call: "srtp-2", from: "A", sdp: Self.sdp(port: a.port))
        offer.transportProtocol = .rtpSAVP
        let towardsB = try Self.rewritten(await controller.execute(offer))
        #expect(towardsB.media[0].proto == "RTP/SAVP")
        let offered = towardsB.media[0].cryptos
        #expect(offered.map(\.suite) == SRTPSuite.allCases.map(\.rawValue))
        #expect(Set(offered.map(\.tag)).count == offered.count)

        // B picks the 32-bit tag suite and answers with its own key.
        let chosen = try #require(offered.first { $0.suite == "AES_CM_128_HMAC_SHA1_32" })
        let keyB = SDESKeyParameters.random(for: .aesCM128HMACSHA1_32)
        let answerSDP = Self.sdp(port: b.port, proto: "RTP/SAVP", extra: [
            "a=crypto:\(chosen.tag) AES_CM_128_HMAC_SHA1_32 inline:\(SDPBase64.encode(keyB.masterKey + keyB.masterSalt))",
        ])
        let towardsA = try Self.rewritten(await controller.execute(
            Self.request(.answer, call: "srtp-2", from: "A", to: "B", sdp: answerSDP)))
        #expect(towardsA.media[0].proto == "RTP/AVP")
        #expect(towardsA.media[0].cryptos.isEmpty)

        let tandemKey = try #require(chosen.keys.first?.keySaltBytes)
        let bReceives = try SRTPContext(suite: .aesCM128HMACSHA1_32, keyParameters: SDESKeyParameters(
            masterKey: Array(tandemKey[0..<16]), masterSalt: Array(tandemKey[16...])))
        let bSends = try SRTPContext(suite: .aesCM128HMACSHA1_32, keyParameters: keyB)
        for seq in UInt16(1)...5 {
            let plain = makeRTP(sequence: seq, ssrc: 0xA2, payload: payload(Int(seq)))
            a.send(plain, to: Int(towardsA.media[0].port))
            #expect(try bReceives.unprotected(try #require(b.receive()).bytes) == plain)

            let reply = makeRTP(sequence: seq, ssrc: 0xB2, payload: payload(Int(seq) + 50))
            b.send(try bSends.protected(reply), to: Int(towardsB.media[0].port))
            #expect(try #require(a.receive()).bytes == reply)
        }
    }

    @Test func sdesOnBothSidesPassesThroughUntouched() async throws {
        let engine = try makeEngine(ports: 42300...42399)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let line = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(SDPBase64.encode([UInt8](repeating: 7, count: 30)))"
        let towardsB = try Self.rewritten(await controller.execute(Self.request(
            .offer, call: "srtp-3", from: "A", sdp: Self.sdp(port: 5000, proto: "RTP/SAVP", extra: [line]))))
        #expect(towardsB.media[0].proto == "RTP/SAVP")
        #expect(towardsB.media[0].cryptos.count == 1)
        #expect(towardsB.media[0].cryptos.first?.keys.first?.keySaltBytes == [UInt8](repeating: 7, count: 30))
    }

    @Test func codecsAreStrippedAndReorderedAndICEIsRemoved() async throws {
        let engine = try makeEngine(ports: 42400...42499)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        var offer = Self.request(.offer, call: "codec-1", from: "A", sdp: Self.sdp(
            port: 5000, formats: "0 8 9 101",
            extra: ["a=ice-ufrag:abcd", "a=ice-pwd:0123456789abcdefghijkl",
                    "a=candidate:1 1 UDP 2130706431 127.0.0.1 5000 typ host", "a=rtcp-fb:8 nack"]))
        offer.codec.strip = ["PCMA"]
        offer.codec.offer = ["G722"]
        let out = try Self.rewritten(await controller.execute(offer))
        #expect(out.media[0].formats == ["9", "0", "101"])
        #expect(!out.media[0].attributes.contains { ["candidate", "ice-ufrag", "ice-pwd"].contains($0.name) })
        #expect(!out.media[0].attributes.contains { $0.name == "rtcp-fb" })
        #expect(out.media[0].rtpMap(for: 101)?.encodingName == "telephone-event")

        var stripAll = Self.request(.offer, call: "codec-2", from: "A", sdp: Self.sdp(port: 5002))
        stripAll.codec.strip = ["all"]
        #expect(Self.errorReason(await controller.execute(stripAll)) == "No codecs left after codec manipulation")
        #expect(await controller.callCount == 1)
    }

    @Test func badInputGetsErrorRepliesAndLeavesNothingBehind() async throws {
        let engine = try makeEngine(ports: 42500...42503)  // two port pairs: one call
        defer { engine.stop() }
        let controller = NGCallController(
            engine: engine, configuration: NGControllerConfiguration(interfaceNames: ["internal", "external"]))

        #expect(Self.errorReason(await controller.execute(
            Self.request(.offer, call: "bad-1", from: "A", sdp: "v=0\r\nthis is not SDP"))) == "Failed to parse SDP")
        #expect(Self.errorReason(await controller.execute(
            Self.request(.answer, call: "nope", from: "A", to: "B", sdp: Self.sdp(port: 5000)))) == "Unknown call-id")
        #expect(Self.errorReason(await controller.execute(Self.request(.delete, call: "nope"))) == "Unknown call-id")
        var wrongInterface = Self.request(.offer, call: "bad-2", from: "A", sdp: Self.sdp(port: 5000))
        wrongInterface.direction = ["internal", "mars"]
        #expect(Self.errorReason(await controller.execute(wrongInterface)) == "Unknown logical interface 'mars'")
        #expect(await controller.callCount == 0)

        _ = try Self.rewritten(await controller.execute(Self.request(.offer, call: "ok-1", from: "A", sdp: Self.sdp(port: 5000))))
        #expect(Self.errorReason(await controller.execute(
            Self.request(.answer, call: "ok-1", from: "X", to: "B", sdp: Self.sdp(port: 5002)))) == "Unknown tag")
        // The range is used up: the next call is refused and leaves no session behind.
        #expect(Self.errorReason(await controller.execute(
            Self.request(.offer, call: "full", from: "A", sdp: Self.sdp(port: 5004)))) == "Ran out of ports")
        #expect(await controller.callCount == 1)
        #expect(engine.session(id: "full") == nil)

        // Deleting the first call returns its ports: a new call fits again.
        guard case .deleted(let stats, _) = await controller.execute(Self.request(.delete, call: "ok-1", from: "A")) else {
            Issue.record("delete failed")
            return
        }
        #expect(stats?.tags.first?.tag == "A")
        _ = try Self.rewritten(await controller.execute(Self.request(.offer, call: "full", from: "A", sdp: Self.sdp(port: 5004))))
    }

    @Test func blockMediaDropsOnePartysMediaUntilUnblocked() async throws {
        let engine = try makeEngine(ports: 42600...42699)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let (toReachB, toReachA) = try await Self.establish(controller, call: "block-1", a: a, b: b)

        #expect(await controller.execute(Self.request(.blockMedia, call: "block-1", from: "A")) == .ok())
        a.send(makeRTP(sequence: 1, ssrc: 0xA, payload: payload(1)), to: toReachB)
        b.send(makeRTP(sequence: 1, ssrc: 0xB, payload: payload(2)), to: toReachA)
        // B's media still reaches A; A's is dropped (B's socket stays empty).
        #expect(try #require(a.receive()).bytes.count == 172)
        #expect(b.receive(timeoutMS: 200) == nil)

        #expect(await controller.execute(Self.request(.unblockMedia, call: "block-1", from: "A")) == .ok())
        a.send(makeRTP(sequence: 2, ssrc: 0xA, payload: payload(3)), to: toReachB)
        #expect(sequence(of: try #require(b.receive()).bytes) == 2)
        #expect(Self.errorReason(await controller.execute(Self.request(.blockMedia, call: "block-1", from: "Z"))) == "Unknown tag")
    }

    @Test func reOfferFromTheAnswererMovesItsMediaAndKeepsTheOtherSidesPort() async throws {
        let engine = try makeEngine(ports: 42700...42799)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let b2 = try RelayEndpoint(host: "127.0.0.1")
        let (toReachB, toReachA) = try await Self.establish(controller, call: "reinvite-1", a: a, b: b)
        b.send(makeRTP(sequence: 100, timestamp: 1000, ssrc: 0xB, payload: payload(1)), to: toReachA)
        let before = try #require(a.receive()).bytes

        // B re-INVITEs with a new media port: From is B's tag now, To is A's.
        let towardsA = try Self.rewritten(await controller.execute(
            Self.request(.offer, call: "reinvite-1", from: "B", to: "A", sdp: Self.sdp(port: b2.port))))
        // A keeps sending where it did (the port that reaches B), B where it did.
        #expect(Int(towardsA.media[0].port) == toReachB)
        let towardsB = try Self.rewritten(await controller.execute(
            Self.request(.answer, call: "reinvite-1", from: "B", to: "A", sdp: Self.sdp(port: a.port))))
        #expect(Int(towardsB.media[0].port) == toReachA)

        // B's media now comes from another socket with another SSRC and sequence space; A still sees
        // one stream: the same SSRC, the next sequence number.
        b2.send(makeRTP(sequence: 9000, timestamp: 777_000, ssrc: 0xB2, payload: payload(2)), to: toReachA)
        let after = try #require(a.receive()).bytes
        #expect(ssrc(of: after) == ssrc(of: before))
        #expect(sequence(of: after) == sequence(of: before) &+ 1)

        a.send(makeRTP(sequence: 7, ssrc: 0xA, payload: payload(7)), to: toReachB)
        // The leg towards B latched to b's socket when b sent; the re-offer re-signals b2 and the
        // next packet from b2 re-latches (not strict), so A's media reaches b2.
        #expect(sequence(of: try #require(b2.receive()).bytes) == 7)
    }

    @Test func udpServerAnswersRetransmissionsFromItsCacheAndErrorsOnGarbage() async throws {
        let engine = try makeEngine(ports: 42800...42899)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let server = try NGServer(controller: controller, host: "127.0.0.1", port: 0)
        try server.start()
        defer { server.stop() }
        let client = try RelayEndpoint(host: "127.0.0.1")

        // The reply is produced by tasks on the cooperative pool, so the blocking receive runs on a
        // thread of its own rather than holding a pool thread.
        func exchange(_ datagram: [UInt8]) async throws -> [UInt8] {
            client.send(datagram, to: server.localAddress.port)
            let reply = await withCheckedContinuation { (c: CheckedContinuation<[UInt8]?, Never>) in
                Thread { c.resume(returning: client.receive()?.bytes) }.start()
            }
            return try #require(reply)
        }
        let ping = Array("c1 d7:command4:pinge".utf8)
        #expect(try await exchange(ping) == Array("c1 d6:result4:ponge".utf8))

        let body = NGDatagram(cookie: Array("c2".utf8), body: .dictionary([
            "command": .string("offer"), "call-id": .string("udp-1"), "from-tag": .string("A"),
            "sdp": .string(Self.sdp(port: 5000)),
        ])).encoded
        let first = try await exchange(body)
        let again = try await exchange(body)
        #expect(first == again)
        #expect(String(decoding: first, as: UTF8.self).contains("m=audio"))
        #expect(await controller.callCount == 1)
        #expect(server.counters.retransmissions == 1)

        let bad = try await exchange(Array("c3 d7:command".utf8))
        #expect(String(decoding: bad, as: UTF8.self).contains("Failed to decode bencode"))
        // No cookie: nothing to answer; the next request is still served.
        client.send(Array(" d7:command4:pinge".utf8), to: server.localAddress.port)
        #expect(try await exchange(Array("c4 d7:command4:pinge".utf8)) == Array("c4 d6:result4:ponge".utf8))
        #expect(server.counters.dropped == 1)
    }

    @Test func aCallWhoseMediaTimedOutOnEveryLegIsDeleted() async throws {
        let engine = try makeEngine(ports: 42900...42999, mediaTimeout: .milliseconds(200))
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        _ = try await Self.establish(controller, call: "timeout-1", a: a, b: b)
        #expect(await controller.callCount == 1)

        // Feed the engine's events to the controller, as NGServer does, until the call is gone.
        let gone = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await event in engine.events {
                    await controller.handle(event)
                    if await controller.callCount == 0 { return true }
                }
                return false
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))  // an upper bound, not synchronisation
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(gone)
        #expect(engine.session(id: "timeout-1") == nil)
        guard case .statistics(let s) = await controller.execute(NGRequest(command: .statistics)) else {
            Issue.record("statistics failed")
            return
        }
        #expect(s.timeoutSessions == 1)
        #expect(s.sessionsOwn == 0)
    }

    @Test func anIPv6OffererIsBridgedToAnIPv4Answerer() async throws {
        let engine = try makeEngine(ports: 43200...43299)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "::1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let v6 = Self.sdp(port: a.port).replacingOccurrences(of: "IN IP4 127.0.0.1", with: "IN IP6 ::1")
        var offer = Self.request(.offer, call: "v6-1", from: "A", sdp: v6)
        offer.addressFamily = .ip4
        let towardsB = try Self.rewritten(await controller.execute(offer))
        #expect(towardsB.media[0].connections.first?.address == "192.0.2.10")
        let towardsA = try Self.rewritten(await controller.execute(
            Self.request(.answer, call: "v6-1", from: "A", to: "B", sdp: Self.sdp(port: b.port))))
        #expect(towardsA.media[0].connections.first?.address == "::1")
        #expect(towardsA.media[0].connections.first?.addressType == .ipv6)

        a.send(makeRTP(sequence: 3, ssrc: 0xA6, payload: payload(3)), to: Int(towardsA.media[0].port))
        #expect(sequence(of: try #require(b.receive()).bytes) == 3)
        b.send(makeRTP(sequence: 4, ssrc: 0xB4, payload: payload(4)), to: Int(towardsB.media[0].port))
        #expect(sequence(of: try #require(a.receive()).bytes) == 4)
    }

    @Test(arguments: [false, true])
    func asymmetricKeepsSendingToTheSignalledAddress(asymmetric: Bool) async throws {
        let engine = try makeEngine(ports: asymmetric ? 43300...43399 : 43400...43499)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let aOther = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        var offer = Self.request(.offer, call: "asym", from: "A", sdp: Self.sdp(port: a.port))
        offer.flags.asymmetric = asymmetric
        let towardsB = try Self.rewritten(await controller.execute(offer))
        let towardsA = try Self.rewritten(await controller.execute(
            Self.request(.answer, call: "asym", from: "A", to: "B", sdp: Self.sdp(port: b.port))))

        // A's packets come from another socket than its SDP says (a NAT, or a phone that sends from
        // another port); they are relayed either way.
        aOther.send(makeRTP(sequence: 1, ssrc: 0xA, payload: payload(1)), to: Int(towardsA.media[0].port))
        #expect(sequence(of: try #require(b.receive()).bytes) == 1)
        b.send(makeRTP(sequence: 2, ssrc: 0xB, payload: payload(2)), to: Int(towardsB.media[0].port))
        // Symmetric: learned from A's packets. Asymmetric: the SDP address.
        let receiver = asymmetric ? a : aOther
        let silent = asymmetric ? aOther : a
        #expect(sequence(of: try #require(receiver.receive()).bytes) == 2)
        #expect(silent.receive(timeoutMS: 100) == nil)
    }
}
