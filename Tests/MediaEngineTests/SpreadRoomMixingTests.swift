#if canImport(Glibc)
import Glibc
#endif
import Codecs
@testable import MediaEngine
import RTP
import TandemBase
import Testing

/// A spread room driven in one thread and in simulated time, socket-free: two shards (`ConferenceRoom`s in shard
/// mode) and the `ConferenceSpreadMixer` between them, against an unspread room fed the same packets.
@Suite struct SpreadRoomMixingTests {
    static let pcmu = AudioEndpointFormat(codec: .pcmu, payloadType: 0)
    static let tones: [Double] = [500, 1100, 1700, 2300]

    /// Every participant's 20 ms PCMU payloads of its tone (participant 3, when present, sends near-silence).
    static func payloads(parties: Int, frames: Int) throws -> [[[UInt8]]] {
        try (0..<parties).map { i in
            let amplitude: Double = i == 3 ? 3 : 8000
            let pcm = PipelineTestSupport.tone(hz: tones[i], rate: 8000, seconds: Double(frames) / 50, amplitude: amplitude)
            return try PipelineTestSupport.encodePayloads(pcm, format: pcmu, rate: 8000)
        }
    }

    final class Spread {
        let shards: [ConferenceRoom]
        let mixer: ConferenceSpreadMixer
        let layout: ConferenceSpreadLayout
        let scratch: UnsafeMutableRawPointer

        init(shards count: Int, configuration: ConferenceRoomConfiguration) throws {
            var shards: [ConferenceRoom] = []
            for k in 0..<count {
                let room = try ConferenceRoom(configuration: configuration)
                room.spreadShard = k
                room.spreadShardCount = count
                shards.append(room)
            }
            self.shards = shards
            layout = ConferenceSpreadLayout(frameSamples: shards[0].frameSamples, maximumTalkers: configuration.maximumTalkers)
            mixer = ConferenceSpreadMixer(layout: layout, shards: count, replacementMarginDB: configuration.replacementMarginDB)
            scratch = .allocate(byteCount: layout.slotBytes, alignment: 64)
        }

        deinit { scratch.deallocate() }

        /// Joins in order, round-robin over the shards (as the engine places sessions): room index `i`.
        func join(_ i: Int, ssrc: UInt32) throws {
            let k = i % shards.count
            let local = try shards[k].join(format: SpreadRoomMixingTests.pcmu, ssrc: ssrc)
            #expect(local * shards.count + k == i)
        }

        func receive(_ i: Int, _ packet: [UInt8], now: Instant) {
            packet.withUnsafeBytes { _ = shards[i % shards.count].receive(participant: i / shards.count, $0, now: now) }
        }

        /// One tick: every shard collects, the mixer mixes what is due, every shard sends what came back.
        func tick<S: ConferenceOutputSink>(now: Instant, sink: inout S) {
            var frames = 0
            for (k, shard) in shards.enumerated() {
                let n = shard.spreadCollect(now: now, ring: mixer.toMixer[k], layout: layout, scratch: scratch)
                if k == 0 { frames = n }
            }
            for _ in 0..<frames { mixer.mix() }
            for (k, shard) in shards.enumerated() {
                var shardSink = ShardSink(inner: sink, shard: k, count: shards.count)
                while let slot = mixer.fromMixer[k].consumerSlot() {
                    shard.spreadSend(mix: slot, layout: layout, sink: &shardSink)
                    mixer.fromMixer[k].release()
                }
                sink = shardSink.inner
            }
        }
    }

    /// Maps a shard's local participant indices to the room's.
    struct ShardSink<Inner: ConferenceOutputSink>: ConferenceOutputSink {
        var inner: Inner
        let shard: Int
        let count: Int
        mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
            inner.send(participant: participant * count + shard, packet: packet)
        }
    }

    struct PayloadSink: ConferenceOutputSink {
        var payloads: [Int: [[UInt8]]] = [:]
        mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
            payloads[participant, default: []].append(Array(packet[12...]))
        }
    }

    struct CountingSink: ConferenceOutputSink {
        var packets = 0
        mutating func send(participant: Int, packet: UnsafeRawBufferPointer) { packets += 1 }
    }

    @Test(arguments: [2, 3])
    func spreadRoomSendsTheSameBytesAsAnUnspreadRoom(shards: Int) throws {
        let frames = 60
        let parties = 4
        let payloads = try Self.payloads(parties: parties, frames: frames)
        let configuration = ConferenceRoomConfiguration(sampleRate: 16000, maximumTalkers: 3)
        let plain = try ConferenceRoom(configuration: configuration)
        let spread = try Spread(shards: shards, configuration: configuration)
        for i in 0..<parties {
            #expect(try plain.join(format: Self.pcmu, ssrc: UInt32(100 + i)) == i)
            try spread.join(i, ssrc: UInt32(100 + i))
        }
        var plainSink = PayloadSink()
        var spreadSink = PayloadSink()
        for f in 0..<frames {
            let now = Instant(nanoseconds: UInt64(f) * 20_000_000 + 1_000_000_000)
            for i in 0..<parties {
                let packet = makeRTP(sequence: UInt16(f), timestamp: UInt32(f * 160), ssrc: UInt32(0x10 + i),
                                     payloadType: 0, payload: payloads[i][f])
                packet.withUnsafeBytes { _ = plain.receive(participant: i, $0, now: now) }
                spread.receive(i, packet, now: now)
            }
            plain.produce(now: now, sink: &plainSink)
            spread.tick(now: now, sink: &spreadSink)
        }
        for i in 0..<parties {
            let a = plainSink.payloads[i] ?? []
            let b = spreadSink.payloads[i] ?? []
            #expect(a.count == frames)
            #expect(a == b, "participant \(i): \(zip(a, b).filter { $0 != $1 }.count) of \(a.count) payloads differ")
        }
        // Three loud talkers selected (the near-silent fourth is not), on every shard's view.
        #expect(Set(spread.mixer.selectedTalkers) == [0, 1, 2])
        #expect(spread.mixer.missingShardFrames == 0)
        #expect(spread.mixer.droppedShardFrames == 0)
    }

    @Test func aShardThatFallsBehindIsDroppedToTheBacklogAndOthersKeepBeingMixed() throws {
        let configuration = ConferenceRoomConfiguration(sampleRate: 8000, maximumTalkers: 2)
        let spread = try Spread(shards: 2, configuration: configuration)
        try spread.join(0, ssrc: 1)
        try spread.join(1, ssrc: 2)
        // Shard 1 publishes five frames before the mixer runs (a stalled room worker).
        for f in 0..<5 {
            let now = Instant(nanoseconds: UInt64(f) * 20_000_000 + 1_000_000_000)
            _ = spread.shards[1].spreadCollect(now: now, ring: spread.mixer.toMixer[1], layout: spread.layout,
                                               scratch: spread.scratch)
        }
        spread.mixer.mix()
        #expect(spread.mixer.droppedShardFrames == 3)
        #expect(spread.mixer.missingShardFrames == 1) // shard 0 had nothing
        #expect(spread.mixer.toMixer[1].count == 1)
        #expect(spread.mixer.fromMixer[0].count == 1 && spread.mixer.fromMixer[1].count == 1)
    }

    #if DEBUG
    static let isOptimized = false
    #else
    static let isOptimized = true
    #endif

    /// Counted like `RecordingAllocationTests` (LD_PRELOAD), in an optimised build only: unoptimised Swift allocates
    /// on these paths (an unspread `ConferenceRoom.produce` does too, 16 per frame in a debug build).
    @Test(.enabled(if: RecordingAllocationTests.isCounting && isOptimized, "needs LD_PRELOAD of the counter and -c release"))
    func collectMixAndSendDoNotAllocate() throws {
        let counter = try #require(RecordingAllocationTests.counter)
        let frames = 200
        let payloads = try Self.payloads(parties: 4, frames: frames)
        let spread = try Spread(shards: 2, configuration: ConferenceRoomConfiguration(sampleRate: 16000, maximumTalkers: 3))
        for i in 0..<4 { try spread.join(i, ssrc: UInt32(7 + i)) }
        var packets: [[[UInt8]]] = []
        for f in 0..<frames {
            var row: [[UInt8]] = []
            for i in 0..<4 {
                let sequence = UInt16(f)
                let timestamp = UInt32(f * 160)
                let ssrc = UInt32(0x20 + i)
                row.append(makeRTP(sequence: sequence, timestamp: timestamp, ssrc: ssrc, payloadType: 0, payload: payloads[i][f]))
            }
            packets.append(row)
        }
        var sink = CountingSink()
        var allocations: UInt64 = 0
        for f in 0..<frames {
            let now = Instant(nanoseconds: UInt64(f) * 20_000_000 + 1_000_000_000)
            for i in 0..<4 { spread.receive(i, packets[f][i], now: now) }
            // The worker's calls, as MediaWorker+SpreadRoom makes them (the test's generic wrappers left out).
            let before = counter()
            for (k, shard) in spread.shards.enumerated() {
                _ = shard.spreadCollect(now: now, ring: spread.mixer.toMixer[k], layout: spread.layout, scratch: spread.scratch)
            }
            let afterCollect = counter()
            spread.mixer.mix()
            let afterMix = counter()
            for (k, shard) in spread.shards.enumerated() {
                while let slot = spread.mixer.fromMixer[k].consumerSlot() {
                    shard.spreadSend(mix: slot, layout: spread.layout, sink: &sink)
                    spread.mixer.fromMixer[k].release()
                }
            }
            let afterSend = counter()
            // The first frames set up the talker encoders' first use; count from the 20th.
            if f >= 20 {
                allocations += afterSend - before
                #expect(afterSend == before, "frame \(f): collect \(afterCollect - before), mix \(afterMix - afterCollect), send \(afterSend - afterMix)")
            }
        }
        #expect(sink.packets == 4 * frames)
        #expect(allocations == 0)
    }
}
