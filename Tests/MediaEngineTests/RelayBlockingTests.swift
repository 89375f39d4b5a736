import MediaEngine
import RTP
import Testing

/// ng `block media` / `block DTMF` on the relay: what is dropped, what still passes, how it is counted.
@Suite(.serialized) struct RelayBlockingTests {
    @Test func blockedMediaRelaysNoRTPButRTCPAndTheOtherDirectionPass() async throws {
        let engine = try makeEngine(ports: 41300...41399)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "block", a: a, b: b)
        try await engine.updateLeg(pair.b.leg, LegUpdate(remoteRTCP: b.mediaAddress))
        try await engine.updateLeg(pair.a.leg, LegUpdate(remoteRTCP: a.mediaAddress))
        try await engine.updateLeg(pair.a.leg, LegUpdate(blockMedia: true))

        for i in 0..<5 { a.send(makeRTP(sequence: UInt16(i), ssrc: 0xA, payload: payload(i)), to: pair.a.rtpPort) }
        // RTCP from the blocked endpoint is still relayed; it is sent after the RTP, on another socket,
        // so B reading it first does not prove the RTP was handled: the B→A marker below does.
        a.send(makeRTCP(ssrc: 0xA), to: pair.a.rtcpPort)
        #expect(b.receive()?.bytes == makeRTCP(ssrc: 0xA))
        // The other direction is not blocked.
        let back = makeRTP(sequence: 50, ssrc: 0xB, payload: payload(50))
        b.send(back, to: pair.b.rtpPort)
        #expect(a.receive()?.bytes == back)
        // A marker on A's RTP socket after the blocked packets: once the worker answers a query sent
        // after unblocking and relaying it, all five blocked packets were handled.
        try await engine.updateLeg(pair.a.leg, LegUpdate(blockMedia: false))
        let marker = makeRTP(sequence: 5, ssrc: 0xA, payload: payload(5))
        a.send(marker, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == marker, "the first RTP B sees is the one sent after unblocking")

        let legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.dropped.blocked == 5)
        #expect(legA.dropped.total == 5)
        #expect(legA.packetsIn == 7, "blocked packets are still received and counted in")
        #expect(legA.ssrc == SSRC(0xA), "statistics still see the blocked stream")
    }

    @Test func blockedDTMFDropsOnlyTelephoneEventPayloadTypes() async throws {
        let engine = try makeEngine(ports: 41300...41399)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "dtmf", a: a, b: b)
        try await engine.updateLeg(pair.a.leg, LegUpdate(blockDTMF: true, telephoneEventPayloadTypes: [101, 127]))

        // Audio (PT 0), DTMF (PT 101, 127), audio again: only the audio reaches B, in order.
        let audio1 = makeRTP(sequence: 1, ssrc: 0xA, payloadType: 0, payload: payload(1))
        let event1 = makeRTP(sequence: 2, ssrc: 0xA, payloadType: 101, payload: [5, 0x0A, 0, 160])
        let event2 = makeRTP(sequence: 3, ssrc: 0xA, payloadType: 127, payload: [5, 0x8A, 1, 64])
        let audio2 = makeRTP(sequence: 4, ssrc: 0xA, payloadType: 0, payload: payload(4))
        let otherPT = makeRTP(sequence: 5, ssrc: 0xA, payloadType: 100, payload: payload(5))
        for p in [audio1, event1, event2, audio2, otherPT] { a.send(p, to: pair.a.rtpPort) }
        #expect(b.receive()?.bytes == audio1)
        #expect(b.receive()?.bytes == audio2, "both telephone-event packets were dropped")
        #expect(b.receive()?.bytes == otherPT, "a payload type not in the mask passes")

        var legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.dropped.blockedDTMF == 2)
        #expect(legA.dropped.blocked == 0)

        // Unblocked: DTMF passes again.
        try await engine.updateLeg(pair.a.leg, LegUpdate(blockDTMF: false))
        let event3 = makeRTP(sequence: 6, ssrc: 0xA, payloadType: 101, payload: [5, 0x8A, 1, 64])
        a.send(event3, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == event3)
        legA = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg })
        #expect(legA.dropped.blockedDTMF == 2)
    }
}
