import MediaEngine
import RTP
import SRTP
import Testing

/// Sessions, ports, events and timeouts of the media engine's control API.
@Suite(.serialized) struct EngineLifecycleTests {
    @Test func mediaTimeoutFiresOnceAndNotWhileOnHold() async throws {
        let engine = try makeEngine(mediaTimeout: .milliseconds(300))
        defer { engine.stop() }
        let session = try await engine.createSession(id: "timeout")
        let active = try await engine.addLeg(to: session)
        let held = try await engine.addLeg(to: session)
        try await engine.updateLeg(held.leg, LegUpdate(direction: .inactive))
        let event = await nextEvent(engine) { $0.kind == .mediaTimeout }
        #expect(event?.leg == active.leg, "the leg not on hold timed out first")
        // Both legs are checked on the same tick, so the held one would have fired by now.
        let stats = try await engine.query(session)
        #expect(stats.legs.first { $0.leg == active.leg }?.isTimedOut == true)
        #expect(stats.legs.first { $0.leg == held.leg }?.isTimedOut == false)
    }

    @Test func streamStartedAndSSRCChangeEvents() async throws {
        let engine = try makeEngine()
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "events", a: a, b: b)
        let legA = pair.a.leg
        a.send(makeRTP(sequence: 1, ssrc: 0x111, payload: payload(1)), to: pair.a.rtpPort)
        #expect(b.receive() != nil)
        a.send(makeRTP(sequence: 2, ssrc: 0x111, payload: payload(2)), to: pair.a.rtpPort)
        #expect(b.receive() != nil)
        a.send(makeRTP(sequence: 900, ssrc: 0x222, payload: payload(3)), to: pair.a.rtpPort)
        #expect(b.receive() != nil)
        // One iterator reads the stream in order: start first, then exactly one change.
        let started = await nextEvent(engine) { $0.leg == legA }
        #expect(started?.kind == .streamStarted(SSRC(0x111)))
        let changed = await nextEvent(engine) { $0.leg == legA }
        #expect(changed?.kind == .ssrcChanged(from: SSRC(0x111), to: SSRC(0x222)))
        let stats = try await engine.query(pair.session)
        #expect(stats.legs.first { $0.leg == legA }?.ssrc == SSRC(0x222))
    }

    @Test func portExhaustionIsATypedErrorAndDeleteReturnsThePorts() async throws {
        // Four even/odd pairs in all.
        let engine = try makeEngine(ports: 41200...41207)
        defer { engine.stop() }
        let first = try await engine.createSession(id: "one")
        var legs: [LegInfo] = []
        for _ in 0..<4 { legs.append(try await engine.addLeg(to: first)) }
        #expect(Set(legs.map(\.rtpPort)) == [41200, 41202, 41204, 41206])
        await #expect(throws: MediaSessionError.portsExhausted) { try await engine.addLeg(to: first) }
        await #expect(throws: MediaSessionError.sessionExists) { try await engine.createSession(id: "one") }

        try await engine.deleteSession(first)
        await #expect(throws: MediaSessionError.unknownSession) { try await engine.query(first) }
        #expect(engine.session(id: "one") == nil)
        let again = try await engine.createSession(id: "one")
        for _ in 0..<4 { _ = try await engine.addLeg(to: again) }
        await #expect(throws: MediaSessionError.portsExhausted) { try await engine.addLeg(to: again) }
        // A stale leg handle from the deleted session is refused, not confused with its slot's new leg.
        await #expect(throws: MediaSessionError.unknownSession) {
            try await engine.updateLeg(legs[0].leg, LegUpdate(direction: .inactive))
        }
    }

    @Test func sessionsSpreadOverWorkersAndStopFailsLaterCalls() async throws {
        let engine = try makeEngine(workers: 2)
        var workers: [Int] = []
        for i in 0..<4 { workers.append(try await engine.createSession(id: "s\(i)").worker) }
        #expect(workers.sorted() == [0, 0, 1, 1])
        #expect(engine.sessionsPerWorker == [2, 2])
        let handle = try #require(engine.session(id: "s0"))
        engine.stop()
        await #expect(throws: MediaSessionError.notRunning) { try await engine.addLeg(to: handle) }
        await #expect(throws: MediaSessionError.notRunning) { try await engine.createSession(id: "late") }
        // The ports were closed: a new engine binds the same range.
        let second = try makeEngine(workers: 2)
        defer { second.stop() }
        let s = try await second.createSession(id: "x")
        #expect(try await second.addLeg(to: s).rtpPort >= 41000)
    }

    @Test func badAddressesAndKeysAreTypedErrors() async throws {
        #expect(throws: MediaSessionError.invalidAddress("example.com")) {
            try MediaEngine(configuration: MediaEngineConfiguration(bindAddress: "example.com"))
        }
        let engine = try makeEngine()
        defer { engine.stop() }
        let s = try await engine.createSession(id: "bad")
        let leg = try await engine.addLeg(to: s)
        await #expect(throws: MediaSessionError.invalidAddress("not-an-ip")) {
            try await engine.updateLeg(leg.leg, LegUpdate(remoteRTP: MediaAddress(host: "not-an-ip", port: 4000)))
        }
        await #expect(throws: MediaSessionError.invalidSRTPKey) {
            try await engine.updateLeg(leg.leg, LegUpdate(inboundSRTP: .some(SRTPKeying(
                suite: .aesCM128HMACSHA1_80, keyParameters: .init(masterKey: [1, 2, 3], masterSalt: [4])))))
        }
    }
}
