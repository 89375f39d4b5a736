import MediaEngine
import Testing

/// The media timeout restarts when signalling re-points a leg (the B2BUA does so on answer): a timeout that
/// fired while a call was ringing must not leave the answered call without one.
@Suite(.serialized) struct MediaTimeoutRestartTests {
    @Test func repointingALegRestartsItsTimeoutAfterItFired() async throws {
        let engine = try makeEngine(ports: 47100...47199, mediaTimeout: .milliseconds(300))
        defer { engine.stop() }
        let session = try await engine.createSession(id: "restart")
        let leg = try await engine.addLeg(to: session)
        let first = await nextEvent(engine) { $0.kind == .mediaTimeout }
        #expect(first?.leg == leg.leg)
        #expect(try await engine.query(session).legs.first?.isTimedOut == true)
        // Signalling points the leg at its party (the answer): the timeout counts again from now...
        try await engine.updateLeg(leg.leg, LegUpdate(remoteRTP: MediaAddress(host: "127.0.0.1", port: 9)))
        #expect(try await engine.query(session).legs.first?.isTimedOut == false)
        // ...and fires once more when no RTP follows.
        let second = await nextEvent(engine) { $0.kind == .mediaTimeout }
        #expect(second?.leg == leg.leg)
        // A direction-only change (hold, unhold) does not re-arm a fired timeout by itself.
        try await engine.updateLeg(leg.leg, LegUpdate(direction: .sendrecv))
        #expect(try await engine.query(session).legs.first?.isTimedOut == true)
    }
}
