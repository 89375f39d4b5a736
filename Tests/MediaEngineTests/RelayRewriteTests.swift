import MediaEngine
import RTP
import SRTP
import Testing

/// Outbound stream rewriting: the endpoint behind a rewriting leg sees one SSRC and continuous
/// sequence numbers and timestamps while the source behind the other leg changes.
@Suite(.serialized) struct RelayRewriteTests {
    @Test func aSourceSwitchIsInvisibleToTheRewritingLegsEndpointThroughSRTP() async throws {
        let engine = try makeEngine(ports: 41400...41499)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "rewrite", a: a, b: b)
        // B's endpoint receives SRTP: the engine's outbound context must see one SSRC for it to decrypt.
        let suite = SRTPSuite.aesCM128HMACSHA1_80
        let key = SDESKeyParameters.random(for: suite)
        try await engine.updateLeg(pair.b.leg, LegUpdate(
            remoteRTCP: b.mediaAddress, outboundSRTP: .some(SRTPKeying(suite: suite, keyParameters: key)),
            rewritesOutboundStream: true))
        let receiver = try SRTPContext(suite: suite, keyParameters: key)
        func receiveAtB(rtcp: Bool = false) throws -> [UInt8] {
            let got = try #require(b.receive())
            return try receiver.unprotected(got.bytes, rtcp: rtcp)
        }

        // The first source: passed through with its own SSRC, sequence numbers and timestamps.
        for i in 0..<10 {
            let p = makeRTP(sequence: UInt16(100 + i), timestamp: UInt32(8000 + 160 * i), ssrc: 0xA, payload: payload(i))
            a.send(p, to: pair.a.rtpPort)
            #expect(try receiveAtB() == p)
        }
        // The phone behind A changes (another SSRC, unrelated sequence and timestamp), after a pause.
        try await Task.sleep(for: .milliseconds(60))  // media pause being simulated, not synchronisation
        var outputs: [[UInt8]] = []
        for i in [0, 1, 3, 2, 4] {
            let p = makeRTP(sequence: UInt16(7000 + i), timestamp: UInt32(500_000 + 160 * i), ssrc: 0xC, payload: payload(50 + i))
            a.send(p, to: pair.a.rtpPort)
            let got = try receiveAtB()
            #expect(Array(got[12...]) == Array(p[12...]), "payload untouched")
            outputs.append(got)
        }
        #expect(outputs.allSatisfy { ssrc(of: $0) == 0xA }, "one SSRC for the endpoint")
        #expect(outputs.map { sequence(of: $0) } == [110, 111, 113, 112, 114], "continuous, reordering kept")
        let jump = timestamp(of: outputs[0]) &- UInt32(8000 + 160 * 9)
        // At least the 60 ms pause (480 ticks at 8 kHz), not an unrelated jump.
        #expect(jump >= 480 && jump < 5 * 8000, "timestamp advanced by the elapsed time: \(jump)")
        let base = timestamp(of: outputs[0])
        #expect(outputs.map { timestamp(of: $0) &- base } == [0, 160, 480, 320, 640])

        // An SR from the new source carries the output SSRC and the rewritten RTP timestamp.
        a.send(makeSR(ssrc: 0xC, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 500_000 + 160 * 4), to: pair.a.rtcpPort)
        let sr = try receiveAtB(rtcp: true)
        #expect(word(sr, at: 4) == 0xA)
        #expect(word(sr, at: 16) == timestamp(of: outputs[4]))

        // A second switch (back to a fresh stream) right away: at least one frame (160) later.
        let p = makeRTP(sequence: 1, timestamp: 42, ssrc: 0xD, payload: payload(99))
        a.send(p, to: pair.a.rtpPort)
        let got = try receiveAtB()
        #expect(ssrc(of: got) == 0xA && sequence(of: got) == 115)
        let step = timestamp(of: got) &- timestamp(of: outputs[4])
        #expect(step >= 160 && step < 5 * 8000)
        let legB = try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.b.leg })
        #expect(legB.dropped.total == 0)
    }

    @Test func withoutRewritingASourceSwitchPassesThrough() async throws {
        let engine = try makeEngine(ports: 41400...41499)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "plain", a: a, b: b)
        try await engine.updateLeg(pair.b.leg, LegUpdate(rewritesOutboundStream: true))
        let first = makeRTP(sequence: 5, timestamp: 800, ssrc: 0xA, payload: payload(1))
        a.send(first, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == first)
        // Turned off: packets pass untouched again; turned back on: a new output stream starts.
        try await engine.updateLeg(pair.b.leg, LegUpdate(rewritesOutboundStream: false))
        let second = makeRTP(sequence: 900, timestamp: 90_000, ssrc: 0xE, payload: payload(2))
        a.send(second, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == second)
        try await engine.updateLeg(pair.b.leg, LegUpdate(rewritesOutboundStream: true))
        let third = makeRTP(sequence: 3, timestamp: 7, ssrc: 0xF, payload: payload(3))
        a.send(third, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == third, "the first packet after enabling defines the output stream")
    }
}
