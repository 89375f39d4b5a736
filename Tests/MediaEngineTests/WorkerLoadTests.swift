import MediaEngine
import RTP
import Testing

/// Per-worker load as the control side reads it: counts, packet totals and busy fraction.
@Suite(.serialized) struct WorkerLoadTests {
    @Test func loadsCountSessionsLegsPacketsAndDropsPerWorker() async throws {
        let engine = try makeEngine(workers: 2, ports: 41600...41699, loadWindow: .milliseconds(50))
        defer { engine.stop() }
        var loads = engine.workerLoads()
        #expect(loads.map(\.index) == [0, 1])
        #expect(loads.allSatisfy { $0.sessions == 0 && $0.legs == 0 && $0.packetsIn == 0 && $0.cpu == nil },
                "nothing yet, and the test engine does not pin")

        let a = try RelayEndpoint(host: "127.0.0.1"), b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "load", a: a, b: b)
        let w = pair.session.worker
        loads = engine.workerLoads()
        #expect(loads[w].sessions == 1 && loads[w].legs == 2)
        #expect(loads[1 - w].sessions == 0 && loads[1 - w].legs == 0)

        for i in 0..<20 {
            let p = makeRTP(sequence: UInt16(i), ssrc: 0xA, payload: payload(i))
            a.send(p, to: pair.a.rtpPort)
            #expect(b.receive()?.bytes == p)
        }
        for _ in 0..<3 { a.send([0x41, 0x42, 0x43], to: pair.a.rtpPort) }  // not RTP: dropped
        let marker = makeRTP(sequence: 20, ssrc: 0xA, payload: payload(20))
        a.send(marker, to: pair.a.rtpPort)
        #expect(b.receive()?.bytes == marker)
        // A query answered by the worker comes after it published the totals of the batches before it.
        _ = try await engine.query(pair.session)
        loads = engine.workerLoads()
        #expect(loads[w].packetsIn == 24)
        #expect(loads[w].packetsOut == 21)
        #expect(loads[w].packetsDropped == 3)
        #expect(loads[1 - w].packetsIn == 0 && loads[1 - w].packetsOut == 0)

        // The busy fraction is measured per window (50 ms here): keep the worker busy until one
        // window with traffic has closed; bounded, in case it never does.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(5)
        var seq: UInt16 = 100
        var busy = 0.0
        while clock.now < deadline {
            for _ in 0..<50 {
                a.send(makeRTP(sequence: seq, ssrc: 0xA, payload: payload(Int(seq))), to: pair.a.rtpPort)
                _ = b.receive()
                seq &+= 1
            }
            busy = engine.workerLoads()[w].busyFraction
            if busy > 0 { break }
        }
        #expect(busy > 0 && busy <= 1, "busy fraction \(busy)")
        #expect(engine.workerLoads()[1 - w].busyFraction < 0.5, "the idle worker only ticks")

        try await engine.deleteSession(pair.session)
        loads = engine.workerLoads()
        #expect(loads[w].sessions == 0 && loads[w].legs == 0)
        #expect(loads[w].packetsIn >= 24 + 50, "totals outlive the session")
    }

    @Test func noLoadsWhenStopped() throws {
        let engine = try makeEngine(ports: 41600...41699)
        #expect(engine.workerLoads().count == 1)
        engine.stop()
        #expect(engine.workerLoads().isEmpty)
    }
}
