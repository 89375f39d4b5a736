import MediaEngine
import RTP
import Testing

/// Round-trip time per leg from the LSR/DLSR of the reports an endpoint sends about SRs relayed to it.
@Suite(.serialized) struct RelayRoundTripTests {
    @Test func roundTripFromTheReportOnARelayedSR() async throws {
        let engine = try makeEngine(ports: 41500...41599)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "rtt", a: a, b: b)
        try await engine.updateLeg(pair.a.leg, LegUpdate(remoteRTCP: a.mediaAddress))
        try await engine.updateLeg(pair.b.leg, LegUpdate(remoteRTCP: b.mediaAddress))
        func legB() async throws -> LegStatistics {
            try #require(try await engine.query(pair.session).legs.first { $0.leg == pair.b.leg })
        }
        #expect(try await legB().roundTripMilliseconds == nil, "nothing measured yet")

        // A's SR, NTP 0x0001_2345.6789_0000: middle 32 bits 0x2345_6789.
        let sr = makeSR(ssrc: 0xA, ntpSeconds: 0x0001_2345, ntpFraction: 0x6789_0000, rtpTimestamp: 160)
        let lsr: UInt32 = 0x2345_6789
        let clock = ContinuousClock()
        let relayed = clock.now
        a.send(sr, to: pair.a.rtcpPort)
        #expect(b.receive()?.bytes == sr)

        // B's reports: one with a DLSR far longer than could have passed (10 s) and one on another SR:
        // neither gives an RTT. Each is relayed to A, which orders them.
        let impossible = makeRR(ssrc: 0xB, about: 0xA, lsr: lsr, dlsr: 10 << 16)
        b.send(impossible, to: pair.b.rtcpPort)
        #expect(a.receive()?.bytes == impossible)
        let unrelated = makeRR(ssrc: 0xB, about: 0xA, lsr: 0x1111_2222, dlsr: 0)
        b.send(unrelated, to: pair.b.rtcpPort)
        #expect(a.receive()?.bytes == unrelated)
        #expect(try await legB().roundTripMilliseconds == nil, "a negative or unmatched RTT is not recorded")

        // A real report (DLSR 0: answered at once; the second block is the match) gives an RTT no
        // longer than the test saw pass since the SR went out.
        var report = makeRR(ssrc: 0xB, about: 0xA, lsr: lsr, dlsr: 0)
        report[0] = 0x82  // two report blocks
        report[3] = 13
        report = Array(report[0..<8]) + makeRR(ssrc: 0xB, about: 0xC, lsr: 0x0BAD_0BAD, dlsr: 0)[8...] + report[8...]
        b.send(report, to: pair.b.rtcpPort)
        #expect(a.receive()?.bytes == report)
        let upperBound = clock.now - relayed
        let stats = try await legB()
        let rtt = try #require(stats.roundTripMilliseconds)
        let boundMS = Double(upperBound.components.seconds) * 1000 + Double(upperBound.components.attoseconds) / 1e15
        #expect(rtt >= 0 && rtt <= boundMS, "RTT \(rtt) ms within the \(boundMS) ms the test saw")
        #expect(try await engine.query(pair.session).legs.first { $0.leg == pair.a.leg }?.roundTripMilliseconds == nil,
                "measured on B, the leg whose endpoint answered")
        #expect(stats.meanOpinionScore > 4, "a loopback RTT barely changes the MOS")
    }
}
