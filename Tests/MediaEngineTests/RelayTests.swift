import CBatchIO
import MediaEngine
import RTP
import SRTP
import Testing

/// The RTP relay end to end: real engine threads, fake endpoints on loopback sockets.
@Suite(.serialized) struct RelayTests {
    @Test(arguments: [(1, "127.0.0.1"), (2, "127.0.0.1"), (1, "::1"), (2, "::1")])
    func relaysRTPBothWaysUnchanged(workers: Int, host: String) async throws {
        let engine = try makeEngine(workers: workers)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: host), b = try RelayEndpoint(host: host)
        // A second session first, so that with two workers the pair under test lands on worker 1.
        _ = try await engine.createSession(id: "other")
        let pair = try await makeLinkedPair(engine, id: "call", a: a, b: b, options: LegOptions(isIPv6: host == "::1"),
                                            signal: false)
        #expect(pair.a.address == (host == "::1" ? "::1" : "192.0.2.10"), "the advertised address, not the bound one")
        #expect(pair.a.rtpPort % 2 == 0 && pair.a.rtcpPort == pair.a.rtpPort + 1)
        #expect(pair.session.worker == (workers == 2 ? 1 : 0))

        // A speaks first: B's address is unknown until B sends, so latch B by a first packet.
        b.send(makeRTP(sequence: 1, ssrc: 0xB, payload: payload(0)), to: pair.b.rtpPort)
        for i in 0..<20 {
            let packet = makeRTP(sequence: UInt16(100 + i), timestamp: UInt32(i * 160), ssrc: 0xA, payload: payload(i))
            a.send(packet, to: pair.a.rtpPort)
            let got = try #require(b.receive())
            #expect(got.bytes == packet, "payload, SSRC and sequence unchanged")
            #expect(Int(got.from.port) == pair.b.rtpPort, "sent from the B leg's RTP port")
            let back = makeRTP(sequence: UInt16(500 + i), ssrc: 0xB, payload: payload(100 + i))
            b.send(back, to: pair.b.rtpPort)
            let reply = try #require(a.receive())
            #expect(reply.bytes == back)
            #expect(Int(reply.from.port) == pair.a.rtpPort)
        }
        let stats = try await engine.query(pair.session)
        let legA = try #require(stats.legs.first { $0.leg == pair.a.leg })
        let legB = try #require(stats.legs.first { $0.leg == pair.b.leg })
        #expect(legA.packetsIn == 20 && legA.packetsOut == 20)
        #expect(legB.packetsIn == 21 && legB.packetsOut == 20)
        #expect(legA.peer?.port == a.port, "latching learned A's source port")
        #expect(legB.peer?.port == b.port)
        #expect(legA.ssrc == SSRC(0xA))
        // B's first packet found A's address still unknown (nothing signalled, nothing latched).
        #expect(legA.dropped.noDestination == 1 && legA.dropped.total == 1)
        #expect(legB.dropped.total == 0)
    }

    @Test func strictSourceDropsAThirdSocketAndReLatchesAfterAVerifiedChange() async throws {
        let engine = try makeEngine(relatchThreshold: 5)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let intruder = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "strict", a: a, b: b)
        try await engine.updateLeg(pair.a.leg, LegUpdate(strictSource: true))
        a.send(makeRTP(sequence: 1, ssrc: 0xA, payload: payload(1)), to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == makeRTP(sequence: 1, ssrc: 0xA, payload: payload(1)))
        for i in 0..<3 { intruder.send(makeRTP(sequence: UInt16(900 + i), ssrc: 0xE, payload: payload(9)), to: pair.a.rtpPort) }
        // A marker from the latched source: once it arrives, the intruder's packets were handled.
        let marker = makeRTP(sequence: 2, ssrc: 0xA, payload: payload(2))
        a.send(marker, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == marker, "nothing from the intruder got through first")
        var legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.dropped.sourceMismatch == 3)
        #expect(legA.peer?.port == a.port)

        // Five in a row from a new source is a verified change (e.g. a NAT rebinding).
        for i in 0..<5 { intruder.send(makeRTP(sequence: UInt16(10 + i), ssrc: 0xA, payload: payload(i)), to: pair.a.rtpPort) }
        let relatched = try #require(b.receive())
        #expect(sequence(of: relatched.bytes) == 14, "the fifth packet re-latched and was relayed")
        legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.peer?.port == intruder.port)
        #expect(legA.dropped.sourceMismatch == 3 + 4)
    }

    @Test func nonStrictLegReLatchesImmediately() async throws {
        let engine = try makeEngine()
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let moved = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "loose", a: a, b: b)
        a.send(makeRTP(sequence: 1, ssrc: 0xA, payload: payload(1)), to: pair.a.rtpPort)
        #expect(b.receive() != nil)
        moved.send(makeRTP(sequence: 2, ssrc: 0xA, payload: payload(2)), to: pair.a.rtpPort)
        #expect(b.receive() != nil)
        b.send(makeRTP(sequence: 7, ssrc: 0xB, payload: payload(7)), to: pair.b.rtpPort)
        #expect(moved.receive()?.bytes == makeRTP(sequence: 7, ssrc: 0xB, payload: payload(7)), "replies follow the new source")
    }

    @Test func rtcpOnTheOddPortAndMuxedOnTheRTPPort() async throws {
        let engine = try makeEngine()
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let aRTCP = try RelayEndpoint(host: "127.0.0.1"), bRTCP = try RelayEndpoint(host: "127.0.0.1")
        // Non-muxed: RTCP from A's RTCP socket to the odd port reaches B's signalled RTCP address.
        let pair = try await makeLinkedPair(engine, id: "rtcp", a: a, b: b)
        try await engine.updateLeg(pair.b.leg, LegUpdate(remoteRTCP: bRTCP.mediaAddress))
        let report = makeRTCP(ssrc: 0xA)
        aRTCP.send(report, to: pair.a.rtcpPort)
        let got = try #require(bRTCP.receive())
        #expect(got.bytes == report)
        #expect(Int(got.from.port) == pair.b.rtcpPort)
        // And back, to A's latched RTCP source.
        bRTCP.send(makeRTCP(ssrc: 0xB), to: pair.b.rtcpPort)
        #expect(aRTCP.receive()?.bytes == makeRTCP(ssrc: 0xB))

        // rtcp-mux: RTCP and RTP share the RTP port on both legs.
        let c = try RelayEndpoint(host: "127.0.0.1"), d = try RelayEndpoint(host: "127.0.0.1")
        let muxed = try await makeLinkedPair(engine, id: "mux", a: c, b: d, options: LegOptions(rtcpMux: true))
        #expect(muxed.a.rtcpPort == muxed.a.rtpPort)
        c.send(makeRTCP(ssrc: 0xC), to: muxed.a.rtpPort)
        let m = try #require(d.receive())
        #expect(m.bytes == makeRTCP(ssrc: 0xC))
        #expect(Int(m.from.port) == muxed.b.rtpPort)
        let rtp = makeRTP(sequence: 3, ssrc: 0xC, payload: payload(3))
        c.send(rtp, to: muxed.a.rtpPort)
        #expect(d.receive()?.bytes == rtp)
        let stats = try await engine.query(muxed.session)
        #expect(stats.legs.first { $0.leg == muxed.a.leg }?.rtcpPacketsIn == 1)
    }

    @Test(arguments: [SRTPSuite.aesCM128HMACSHA1_80, .aeadAES128GCM])
    func bridgesSRTPToPlainRTPBothWays(suite: SRTPSuite) async throws {
        let engine = try makeEngine()
        defer { engine.stop() }
        let secure = try RelayEndpoint(host: "127.0.0.1"), plain = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "srtp", a: secure, b: plain)
        // SDES: each side declares the key it sends with (RFC 4568 §6.1).
        let endpointKey = SDESKeyParameters.random(for: suite), engineKey = SDESKeyParameters.random(for: suite)
        try await engine.updateLeg(pair.a.leg, LegUpdate(
            inboundSRTP: .some(SRTPKeying(suite: suite, keyParameters: endpointKey)),
            outboundSRTP: .some(SRTPKeying(suite: suite, keyParameters: engineKey))))
        let endpointSend = try SRTPContext(suite: suite, keyParameters: endpointKey)
        let endpointReceive = try SRTPContext(suite: suite, keyParameters: engineKey)

        for i in 0..<10 {
            let rtp = makeRTP(sequence: UInt16(40 + i), timestamp: UInt32(i * 160), ssrc: 0x5EC, payload: payload(i))
            secure.send(try endpointSend.protected(rtp), to: pair.a.rtpPort)
            #expect(plain.receive()?.bytes == rtp, "decrypted for the plain side")
            let back = makeRTP(sequence: UInt16(70 + i), ssrc: 0x91A, payload: payload(50 + i))
            plain.send(back, to: pair.b.rtpPort)
            let srtp = try #require(secure.receive())
            #expect(srtp.bytes.count == back.count + suite.rtpTagLength)
            #expect(try endpointReceive.unprotected(srtp.bytes) == back, "encrypted for the SRTP side")
        }
        // SRTCP ↔ RTCP; the plain endpoint takes RTCP on its one socket (a=rtcp in its SDP).
        try await engine.updateLeg(pair.b.leg, LegUpdate(remoteRTCP: plain.mediaAddress))
        secure.send(try endpointSend.protected(makeRTCP(ssrc: 0x5EC), rtcp: true), to: pair.a.rtcpPort)
        #expect(plain.receive()?.bytes == makeRTCP(ssrc: 0x5EC))
        plain.send(makeRTCP(ssrc: 0x91A), to: pair.b.rtcpPort)
        let srtcp = try #require(secure.receive())
        #expect(try endpointReceive.unprotected(srtcp.bytes, rtcp: true) == makeRTCP(ssrc: 0x91A))

        // Tampered and replayed SRTP is counted and dropped.
        var tampered = try endpointSend.protected(makeRTP(sequence: 60, ssrc: 0x5EC, payload: payload(60)))
        tampered[20] ^= 0x01
        secure.send(tampered, to: pair.a.rtpPort)
        let replay = try endpointSend.protected(makeRTP(sequence: 61, ssrc: 0x5EC, payload: payload(61)))
        secure.send(replay, to: pair.a.rtpPort)
        #expect(plain.receive().map { sequence(of: $0.bytes) } == 61)
        secure.send(replay, to: pair.a.rtpPort)
        let marker = makeRTP(sequence: 62, ssrc: 0x5EC, payload: payload(62))
        secure.send(try endpointSend.protected(marker), to: pair.a.rtpPort)
        #expect(plain.receive()?.bytes == marker, "neither the tampered nor the replayed packet got through")
        let legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.dropped.srtpAuthentication == 1)
        #expect(legA.dropped.srtpReplay == 1)
    }

    @Test func garbageIsCountedAndDoesNotStopTheRelay() async throws {
        let engine = try makeEngine()
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "garbage", a: a, b: b)
        var rng = SeededGenerator(seed: 42)
        var sent = 0
        for n in 0..<300 {
            var g = (0..<(n % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Keep it unmistakably not RTP/RTCP: a first byte outside 128...191 (RFC 7983 §7).
            if !g.isEmpty { g[0] = g[0] & 0x3F | 0x40 }
            if g.isEmpty { continue }
            a.send(g, to: n % 2 == 0 ? pair.a.rtpPort : pair.a.rtcpPort)
            sent += 1
        }
        a.send([0x80, 0x00, 0x01], to: pair.a.rtpPort)  // RTP-looking but shorter than a header
        a.send([0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xA], to: pair.a.rtcpPort)  // RTP on the RTCP port
        a.send([0x8F, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xA], to: pair.a.rtpPort)  // 15 CSRCs that are not there
        let marker = makeRTP(sequence: 9, ssrc: 0xA, payload: payload(9))
        a.send(marker, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == marker)
        // The RTCP socket is read on its own: a marker there too, delivered to B's one socket.
        try await engine.updateLeg(pair.b.leg, LegUpdate(remoteRTCP: b.mediaAddress))
        a.send(makeRTCP(ssrc: 0xA), to: pair.a.rtcpPort)
        #expect(b.receive()?.bytes == makeRTCP(ssrc: 0xA))
        let legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.dropped.malformed == UInt64(sent + 3))
        #expect(legA.packetsIn == UInt64(sent + 5))
    }

    @Test func statisticsCountPacketsAndLossAcrossAGap() async throws {
        let engine = try makeEngine()
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "stats", a: a, b: b)
        // Sequence 1000...1049 with 1010...1014 missing: 45 sent, 5 lost.
        var sent = 0
        for s in 1000..<1050 where !(1010..<1015).contains(s) {
            let p = makeRTP(sequence: UInt16(s), timestamp: UInt32(s * 160), ssrc: 0x1055, payload: payload(s))
            a.send(p, to: pair.a.rtpPort)
            #expect(b.receive()?.bytes == p)
            sent += 1
        }
        let stats = try await engine.query(pair.session)
        let legA = try #require(stats.legs.first { $0.leg == pair.a.leg })
        let legB = try #require(stats.legs.first { $0.leg == pair.b.leg })
        #expect(legA.packetsIn == UInt64(sent))
        #expect(legA.bytesIn == UInt64(sent * (12 + 160)))
        #expect(legB.packetsOut == UInt64(sent) && legB.bytesOut == UInt64(sent * 172))
        #expect(legA.cumulativeLost == 5)
        // RFC 3550 A.1 probation: the count starts at the second packet.
        #expect(legA.expectedPackets == 49)
        #expect(legA.meanOpinionScore < 4.4 && legA.meanOpinionScore > 1)
        #expect(legA.jitterMilliseconds >= 0)
    }
}
