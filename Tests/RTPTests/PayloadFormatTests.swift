import RTP
import TandemBase
import Testing

@Suite struct TelephoneEventTests {
    @Test func payloadRoundTripMatchesRFCLayout() throws {
        let event = TelephoneEvent(event: 5, isEnd: true, volume: 10, duration: 1600)
        let bytes = try serialize(size: 4) { try event.write(to: $0) }
        #expect(bytes == [5, 0x8A, 0x06, 0x40])
        try withBytes(bytes) { b in
            let parsed = try TelephoneEvent(parsing: b)
            #expect(parsed == event)
        }
        // The reserved bit is ignored on receipt.
        try withBytes([11, 0x4A, 0, 160]) { b in
            let e = try TelephoneEvent(parsing: b)
            #expect(e.event == 11 && !e.isEnd && e.volume == 10 && e.duration == 160)
        }
        withBytes([1, 2, 3]) { b in #expect(throws: RTPPayloadParseError.truncated) { try TelephoneEvent(parsing: b) } }
        let loud = TelephoneEvent(event: 1, isEnd: false, volume: 64, duration: 0)
        #expect(throws: RTPWriteError.invalidField) { _ = try serialize(size: 4) { try loud.write(to: $0) } }
    }

    static func drain(_ sender: inout TelephoneEventSender) -> [TelephoneEventPacket] {
        var packets: [TelephoneEventPacket] = []
        while let p = sender.nextPacket() { packets.append(p) }
        return packets
    }

    @Test func senderProducesStartUpdatesAndThreeEnds() {
        var sender = TelephoneEventSender(clockRate: 8000, packetIntervalMilliseconds: 50)
        #expect(sender.nextPacket() == nil)
        sender.start(event: 7, volume: 10, duration: 1600, timestamp: RTPTimestamp(8000))
        let packets = Self.drain(&sender)
        #expect(packets.map(\.payload.duration) == [400, 800, 1200, 1600, 1600, 1600])
        #expect(packets.map(\.hasMarker) == [true, false, false, false, false, false])
        #expect(packets.map(\.payload.isEnd) == [false, false, false, true, true, true])
        #expect(packets.allSatisfy { $0.timestamp == RTPTimestamp(8000) && $0.payload.event == 7 })
        #expect(!sender.isActive)
    }

    @Test func eventShorterThanOneIntervalStartsWithMarkedEndPacket() {
        var sender = TelephoneEventSender(packetInterval: 160)
        sender.start(event: 1, duration: 100, timestamp: RTPTimestamp(0))
        let packets = Self.drain(&sender)
        #expect(packets.count == 3)
        #expect(packets[0].hasMarker && packets.allSatisfy { $0.payload.isEnd && $0.payload.duration == 100 })
    }

    @Test func receiverReportsEachDigitOnce() {
        var sender = TelephoneEventSender(packetInterval: 400)
        var receiver = TelephoneEventReceiver()
        var reported: [ReceivedTelephoneEvent] = []
        for (digit, ts) in [(UInt8(1), UInt32(1000)), (2, 5000), (2, 9000)] {
            sender.start(event: digit, duration: 1200, timestamp: RTPTimestamp(ts))
            for p in Self.drain(&sender) {
                if let r = receiver.receive(p.payload, timestamp: p.timestamp) { reported.append(r) }
            }
        }
        #expect(reported.map(\.event) == [1, 2, 2], "same digit twice is two events (different timestamps)")
        #expect(reported.allSatisfy { $0.sawEndPacket && $0.duration == 1200 })
        // A late end packet of the first event is ignored.
        #expect(receiver.receive(TelephoneEvent(event: 1, isEnd: true, volume: 10, duration: 1200), timestamp: RTPTimestamp(1000)) == nil)
    }

    @Test func receiverReportsEventWhoseEndPacketsWereLost() {
        var receiver = TelephoneEventReceiver()
        #expect(receiver.receive(TelephoneEvent(event: 3, isEnd: false, volume: 10, duration: 400), timestamp: RTPTimestamp(100)) == nil)
        #expect(receiver.receive(TelephoneEvent(event: 3, isEnd: false, volume: 10, duration: 800), timestamp: RTPTimestamp(100)) == nil)
        let r = receiver.receive(TelephoneEvent(event: 4, isEnd: false, volume: 10, duration: 400), timestamp: RTPTimestamp(5000))
        #expect(r == ReceivedTelephoneEvent(event: 3, timestamp: RTPTimestamp(100), duration: 800, sawEndPacket: false))
        let end = receiver.receive(TelephoneEvent(event: 4, isEnd: true, volume: 10, duration: 800), timestamp: RTPTimestamp(5000))
        #expect(end?.event == 4 && end?.sawEndPacket == true)
    }
}

@Suite struct ComfortNoiseTests {
    @Test func parsesLevelAndCoefficients() throws {
        try withBytes([40, 1, 2, 3]) { b in
            let cn = try ComfortNoise(parsing: b)
            #expect(cn.noiseLevel == 40 && cn.levelDBov == -40)
            #expect(cn.reflectionCoefficients.array == [1, 2, 3])
        }
        try withBytes([127]) { b in
            let cn = try ComfortNoise(parsing: b)
            #expect(cn.reflectionCoefficients.isEmpty)
        }
        withBytes([]) { b in #expect(throws: RTPPayloadParseError.truncated) { try ComfortNoise(parsing: b) } }
        withBytes([0x80]) { b in #expect(throws: RTPPayloadParseError.invalidValue) { try ComfortNoise(parsing: b) } }
    }

    @Test func writeRoundTrip() throws {
        let coefficients: [UInt8] = [10, 20, 30, 40, 50]
        let out = try coefficients.withUnsafeBytes { c in
            try serialize(size: 16) { try ComfortNoise(noiseLevel: 70, reflectionCoefficients: c).write(to: $0) }
        }
        #expect(out == [70, 10, 20, 30, 40, 50])
        #expect(throws: RTPWriteError.invalidField) { _ = try serialize(size: 4) { try ComfortNoise(noiseLevel: 128).write(to: $0) } }
    }
}
