import Codecs
import Foundation
import MediaEngine
import RTP
import TandemBase
import Testing

private typealias S = PipelineTestSupport

private let pcmu = AudioEndpointFormat(codec: .pcmu, payloadType: 0)
private let pcma = AudioEndpointFormat(codec: .pcma, payloadType: 8)
private let g722 = AudioEndpointFormat(codec: .g722, payloadType: 9)
private let opus = AudioEndpointFormat(codec: .opus, payloadType: 111)
private let l16 = AudioEndpointFormat(codec: .l16Mono16k, payloadType: 98)

@Suite("AudioPipeline")
struct PipelineTests {
    /// Sends `seconds` of a tone from X through one pipeline with ±10 ms jitter; returns Y's packets and Y's decoded
    /// audio after the warm-up.
    private func transcodeTone(_ input: AudioEndpointFormat, _ output: AudioEndpointFormat, hz: Double,
                               seconds: Double = 1.5) throws -> (packets: [PipelineOutputPacket], pcm: ArraySlice<Int16>, rate: Int) {
        let pipeline = try AudioPipeline(input: input, output: output, ssrc: 0xCAFE, sequenceNumber: 65530, timestamp: 0xFFFF_FF00)
        let rate = S.senderRate(input)
        let payloads = try S.encodePayloads(S.tone(hz: hz, rate: rate, seconds: seconds), format: input, rate: rate)
        let packets = S.run(pipeline, S.packets(payloads, format: input), untilMs: Int(seconds * 1000) + 300)
        #expect(pipeline.counters.decodeErrors == 0)
        #expect(pipeline.counters.unknownPayloadTypes == 0)
        let (pcm, outRate) = try S.decode(packets, format: output)
        // Skip 400 ms of warm-up (jitter buffer, resampler and codec delays) and the tail.
        let start = outRate * 4 / 10
        let end = min(pcm.count, start + outRate * 8 / 10)
        #expect(end - start >= outRate / 2, "too little audio came out: \(pcm.count) samples")
        return (packets, pcm[start..<max(start, end)], outRate)
    }

    private func expectTone(_ input: AudioEndpointFormat, _ output: AudioEndpointFormat, hz: Double) throws {
        let (packets, pcm, rate) = try transcodeTone(input, output, hz: hz)
        guard pcm.count > 0 else { return }
        let found = S.dominantFrequency(pcm, rate: rate)
        #expect(abs(found - hz) <= 25, "\(input.codec.name)→\(output.codec.name): sent \(hz) Hz, found \(found) Hz")
        // Sent at amplitude 8000: −15.3 dBFS RMS.
        let level = S.levelDBFS(pcm)
        #expect(abs(level - -15.26) < 3, "\(input.codec.name)→\(output.codec.name): level \(level) dBFS")
        // Y's stream: one SSRC, consecutive sequence numbers (wrapping), timestamps one frame apart.
        let step = UInt32(output.codec.timestampIncrement(milliseconds: output.ptimeMilliseconds))
        for (a, b) in zip(packets, packets.dropFirst()) {
            #expect(b.sequenceNumber == a.sequenceNumber &+ 1)
            #expect(b.timestamp == a.timestamp &+ step)
            #expect(b.ssrc == 0xCAFE)
        }
        #expect(packets.first?.hasMarker == true)
        #expect(packets.first?.sequenceNumber == 65530)
    }

    @Test("PCMU → Opus carries a 1 kHz and a 400 Hz tone", arguments: [1000.0, 400.0])
    func pcmuToOpus(hz: Double) throws { try expectTone(pcmu, opus, hz: hz) }

    @Test("Opus → PCMU carries a 1 kHz and a 400 Hz tone", arguments: [1000.0, 400.0])
    func opusToPCMU(hz: Double) throws { try expectTone(opus, pcmu, hz: hz) }

    @Test("G.722 → PCMA and PCMA → G.722 carry the tone", arguments: [1000.0, 400.0])
    func g722AndPCMA(hz: Double) throws {
        try expectTone(g722, pcma, hz: hz)
        try expectTone(pcma, g722, hz: hz)
    }

    @Test("L16 ↔ PCMU carry the tone")
    func l16AndPCMU() throws {
        try expectTone(l16, pcmu, hz: 1000)
        try expectTone(pcmu, l16, hz: 400)
    }

    @Test("Opus from G.711 is encoded narrowband at 8 kHz, from G.722 wideband at 16 kHz, both VBR mono")
    func opusSettings() throws {
        let fromPCMU = try AudioPipeline(input: pcmu, output: opus, ssrc: 1, sequenceNumber: 0, timestamp: 0)
        #expect(fromPCMU.opusConfiguration?.sampleRate == 8000)
        #expect(fromPCMU.opusConfiguration?.maxPlaybackRate == 8000)
        #expect(fromPCMU.opusConfiguration?.isConstantBitrate == false)
        #expect(fromPCMU.opusConfiguration?.channels == 1)
        let fromG722 = try AudioPipeline(input: g722, output: opus, ssrc: 1, sequenceNumber: 0, timestamp: 0)
        #expect(fromG722.opusConfiguration?.sampleRate == 16000)
        // Opus → PCMU decodes straight at 8 kHz.
        let toPCMU = try AudioPipeline(input: opus, output: pcmu, ssrc: 1, sequenceNumber: 0, timestamp: 0)
        #expect(toPCMU.decodeSampleRate == 8000)
        // The receiver's maxplaybackrate caps the band even for a wideband source.
        var capped = opus
        capped.opus = try OpusFormatParameters(parsing: "maxplaybackrate=8000;stereo=1")
        let fromG722Capped = try AudioPipeline(input: g722, output: capped, ssrc: 1, sequenceNumber: 0, timestamp: 0)
        #expect(fromG722Capped.opusConfiguration?.sampleRate == 8000)
        #expect(fromG722Capped.opusConfiguration?.channels == 1)
    }

    @Test("ptime 20 → 30 ms: 240-byte packets, timestamps 240 apart, no sequence gaps")
    func ptimeConversion() throws {
        var out = pcma
        out.ptimeMilliseconds = 30
        let (packets, pcm, rate) = try transcodeTone(pcmu, out, hz: 1000)
        #expect(packets.count >= 45)
        for p in packets { #expect(p.payload.count == 240) }
        for (a, b) in zip(packets, packets.dropFirst()) {
            #expect(b.sequenceNumber == a.sequenceNumber &+ 1)
            #expect(b.timestamp == a.timestamp &+ 240)
        }
        #expect(abs(S.dominantFrequency(pcm, rate: rate) - 1000) <= 25)
        // And back: 30 → 20.
        var in30 = pcmu
        in30.ptimeMilliseconds = 30
        let back = try transcodeTone(in30, pcma, hz: 400)
        for p in back.packets { #expect(p.payload.count == 160) }
        #expect(abs(S.dominantFrequency(back.pcm, rate: back.rate) - 400) <= 25)
    }

    /// X sends digit 5 as RFC 4733 (PT 101, 8 kHz clock): updates every 20 ms, three end packets at 800.
    private func dtmfPackets(payloadType: UInt8, startSequence: UInt16, eventTimestamp: UInt32, atMs: Double) -> [PipelineInputPacket] {
        var result: [PipelineInputPacket] = []
        var seq = startSequence
        for k in 1...5 {
            let duration = UInt16(160 * k)
            let isEnd = k == 5
            for _ in 0..<(isEnd ? 3 : 1) {
                let payload: [UInt8] = [5, (isEnd ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xFF)]
                result.append(PipelineInputPacket(
                    arrivalMs: atMs + Double(20 * k),
                    bytes: S.rtp(payloadType: payloadType, sequenceNumber: seq, timestamp: eventTimestamp, marker: k == 1, payload: payload)))
                seq &+= 1
            }
        }
        return result
    }

    @Test("RFC 4733 → RFC 4733 with payload type 101 → 96: one event, scaled durations, three end packets")
    func dtmfForwarded() throws {
        var x = pcmu
        x.telephoneEventPayloadType = 101
        var y = opus
        y.telephoneEventPayloadType = 96
        let pipeline = try AudioPipeline(input: x, output: y, ssrc: 7, sequenceNumber: 100, timestamp: 1000)
        let payloads = try S.encodePayloads(S.tone(hz: 400, rate: 8000, seconds: 1), format: x, rate: 8000)
        // Audio has sequence numbers 1000…1049; the event's packets follow the sender's counter.
        var input = S.packets(payloads, format: x, jitterMs: 0)
        input += dtmfPackets(payloadType: 101, startSequence: 2000, eventTimestamp: 5000 + 160 * 20, atMs: 440)
        let packets = S.run(pipeline, input, untilMs: 1300)
        let events = packets.filter { $0.payloadType == 96 }
        #expect(pipeline.counters.telephoneEvents == 1)
        #expect(events.count == 7)  // 4 updates + 3 end packets (X's repeats are not forwarded twice)
        #expect(events.first?.hasMarker == true)
        #expect(events.dropFirst().allSatisfy { !$0.hasMarker })
        #expect(Set(events.map(\.timestamp)).count == 1)
        let durations = events.map { Int($0.payload[2]) << 8 | Int($0.payload[3]) }
        // 8 kHz → 48 kHz: durations × 6.
        #expect(durations == [960, 1920, 2880, 3840, 4800, 4800, 4800])
        #expect(events.map { $0.payload[0] }.allSatisfy { $0 == 5 })
        #expect(events.map { $0.payload[1] & 0x80 != 0 } == [false, false, false, false, true, true, true])
        // The event's timestamp lies in Y's audio timeline, and all packets share Y's sequence space without gaps.
        let audio = packets.filter { $0.payloadType == 111 }
        #expect(audio.count > 40)
        if let ts = events.first?.timestamp, let firstAudio = audio.first?.timestamp, let lastAudio = audio.last?.timestamp {
            #expect(ts &- firstAudio < lastAudio &- firstAudio)
        }
        for (a, b) in zip(packets, packets.dropFirst()) { #expect(b.sequenceNumber == a.sequenceNumber &+ 1) }
        #expect(Set(packets.map(\.ssrc)) == [7])
    }

    @Test("RFC 4733 → in-band when Y has no telephone-event: a DTMF detector on Y's audio finds the digit")
    func dtmfInBand() throws {
        var x = pcmu
        x.telephoneEventPayloadType = 101
        let pipeline = try AudioPipeline(input: x, output: pcma, ssrc: 7, sequenceNumber: 100, timestamp: 1000)
        let silence = [Int16](repeating: 0, count: 8000)
        let payloads = try S.encodePayloads(silence, format: x, rate: 8000)
        var input = S.packets(payloads, format: x, jitterMs: 0)
        input += dtmfPackets(payloadType: 101, startSequence: 2000, eventTimestamp: 5000 + 160 * 20, atMs: 440)
        let packets = S.run(pipeline, input, untilMs: 1300)
        #expect(packets.allSatisfy { $0.payloadType == 8 })
        #expect(pipeline.counters.telephoneEventsPlayedInBand == 1)
        let (pcm, _) = try S.decode(packets, format: pcma)
        let detector = try DTMFDetector(sampleRate: 8000)
        pcm.withUnsafeBufferPointer { detector.process($0) }
        var digits: [DTMFDigit] = []
        var durationSamples = 0
        while let event = detector.nextEvent() {
            if case .began = event.kind { digits.append(event.digit) }
            if case .ended = event.kind { durationSamples = event.durationSamples }
        }
        #expect(digits == [.five])
        // 800 clock units = 100 ms at 8 kHz; the detector's edges are within a few 10 ms hops.
        #expect(abs(durationSamples - 800) <= 240, "tone lasted \(durationSamples) samples")
    }

    @Test("Unknown payload types, garbage and truncated events are counted, never trap")
    func badInput() throws {
        var x = opus
        x.telephoneEventPayloadType = 101
        x.comfortNoisePayloadType = 13
        let pipeline = try AudioPipeline(input: x, output: pcmu, ssrc: 7, sequenceNumber: 0, timestamp: 0)
        let now = Instant(nanoseconds: 1_000_000_000)
        let cases: [([UInt8], PipelineReceiveResult)] = [
            (S.rtp(payloadType: 55, sequenceNumber: 1, timestamp: 0, payload: [1, 2, 3]), .unknownPayloadType),
            ([0x12, 0x34], .malformed),
            ([], .malformed),
            (S.rtp(payloadType: 101, sequenceNumber: 2, timestamp: 0, payload: [5, 0]), .malformed),
            (S.rtp(payloadType: 13, sequenceNumber: 3, timestamp: 0, payload: []), .malformed),
        ]
        for (bytes, expected) in cases {
            let result = bytes.withUnsafeBytes { pipeline.receive($0, now: now) }
            #expect(result == expected)
        }
        #expect(pipeline.counters.unknownPayloadTypes == 1)
        #expect(pipeline.counters.malformedPackets == 4)
        // Garbage Opus payloads are decode errors, concealed, and the stream goes on.
        var input: [PipelineInputPacket] = []
        for i in 0..<50 {
            let payload: [UInt8] = i % 5 == 0 ? [0xFF, 0xFF, 0xFF] : [0xFC] + [UInt8](repeating: 0xA5, count: 40)
            input.append(PipelineInputPacket(arrivalMs: Double(i * 20), bytes: S.rtp(payloadType: 111, sequenceNumber: UInt16(i),
                                                                                     timestamp: UInt32(i * 960), payload: payload)))
        }
        let out = S.run(pipeline, input, untilMs: 1200)
        #expect(pipeline.counters.decodeErrors > 0)
        #expect(out.count > 30)
    }

    @Test("Random packets (fixed seed) into every codec pair: no trap, counters add up")
    func fuzz() throws {
        let formats = [pcmu, pcma, g722, opus, l16]
        var random = SeededGenerator(seed: 42)
        for input in formats {
            var x = input
            x.telephoneEventPayloadType = 101
            x.comfortNoisePayloadType = 13
            for output in formats where output.codec != input.codec {
                let pipeline = try AudioPipeline(input: x, output: output, ssrc: 9, sequenceNumber: 0, timestamp: 0)
                var packets: [PipelineInputPacket] = []
                for i in 0..<150 {
                    let types: [UInt8] = [x.payloadType, 101, 13, 77]
                    let pt = types[Int.random(in: 0..<types.count, using: &random)]
                    let length = Int.random(in: 0..<400, using: &random)
                    let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                    var bytes = S.rtp(payloadType: pt, sequenceNumber: UInt16.random(in: 0...40, using: &random) &+ UInt16(i),
                                      timestamp: UInt32.random(in: 0...UInt32.max, using: &random) % 100_000,
                                      ssrc: i % 50 == 0 ? UInt32(i) : 1, payload: payload)
                    if i % 17 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0..<14, using: &random))) }
                    packets.append(PipelineInputPacket(arrivalMs: Double(i) * 7.3, bytes: bytes))
                }
                _ = S.run(pipeline, packets, untilMs: 1400)
                let c = pipeline.counters
                #expect(c.packetsReceived == 150)
                #expect(c.unknownPayloadTypes > 0)
                #expect(c.malformedPackets > 0)
                #expect(c.packetsSent >= c.telephoneEventPacketsSent)
            }
        }
    }

    @Test("Encode-only: the source drives Y's stream; nothing is sent while it is silent")
    func encodeOnly() throws {
        final class Beep: PipelineSource {
            var framesLeft = 25
            var phase = 0.0
            func render(into pcm: UnsafeMutableBufferPointer<Int16>, sampleRate: Int) -> Bool {
                guard framesLeft > 0 else { return false }
                framesLeft -= 1
                for i in pcm.indices {
                    pcm[i] = Int16(8000 * sin(phase))
                    phase += 2 * .pi * 1000 / Double(sampleRate)
                }
                return true
            }
        }
        let pipeline = try AudioPipeline(input: nil, output: pcmu, ssrc: 3, sequenceNumber: 10, timestamp: 0)
        let beep = Beep()
        pipeline.source = beep
        let packets = S.run(pipeline, [], untilMs: 1000)
        #expect(packets.count == 25)
        let (pcm, rate) = try S.decode(packets, format: pcmu)
        #expect(abs(S.dominantFrequency(pcm[...], rate: rate) - 1000) <= 25)
    }

    @Test("The tap sees each decoded frame once at the decode rate")
    func tap() throws {
        final class Counter: PipelineTap {
            var frames = 0
            var rate = 0
            func decoded(_ pcm: UnsafeBufferPointer<Int16>, sampleRate: Int) { frames += 1; rate = sampleRate }
        }
        let pipeline = try AudioPipeline(input: g722, output: pcmu, ssrc: 3, sequenceNumber: 10, timestamp: 0)
        let counter = Counter()
        pipeline.tap = counter
        let payloads = try S.encodePayloads(S.tone(hz: 400, rate: 16000, seconds: 1), format: g722, rate: 16000)
        _ = S.run(pipeline, S.packets(payloads, format: g722), untilMs: 1200)
        #expect(counter.rate == 16000)
        #expect(counter.frames >= 50 && counter.frames <= 60)
    }

    @Test("Comfort noise from X becomes one CN packet to Y, then silence until speech resumes with the marker")
    func comfortNoise() throws {
        var x = pcmu
        x.comfortNoisePayloadType = 13
        var y = pcma
        y.comfortNoisePayloadType = 13
        let pipeline = try AudioPipeline(input: x, output: y, ssrc: 3, sequenceNumber: 10, timestamp: 0)
        let speech = try S.encodePayloads(S.tone(hz: 400, rate: 8000, seconds: 0.4), format: x, rate: 8000)
        var input: [PipelineInputPacket] = []
        var seq: UInt16 = 1
        for (i, p) in speech.enumerated() {
            input.append(PipelineInputPacket(arrivalMs: Double(i * 20 + 40), bytes: S.rtp(payloadType: 0, sequenceNumber: seq, timestamp: UInt32(i * 160), payload: p)))
            seq += 1
        }
        // CN at 400 ms, then speech again at 1000 ms.
        input.append(PipelineInputPacket(arrivalMs: 440, bytes: S.rtp(payloadType: 13, sequenceNumber: seq, timestamp: 3200, payload: [60])))
        seq += 1
        for (i, p) in speech.enumerated() {
            input.append(PipelineInputPacket(arrivalMs: Double(1040 + i * 20), bytes: S.rtp(payloadType: 0, sequenceNumber: seq, timestamp: UInt32(8000 + i * 160), marker: i == 0, payload: p)))
            seq += 1
        }
        let packets = S.run(pipeline, input, untilMs: 1800)
        let cn = packets.filter { $0.payloadType == 13 }
        // One CN packet for the gap, and one more when X stops for good (the buffer runs dry into comfort noise).
        #expect(cn.filter { $0.producedAtMs < 1000 }.count == 1)
        #expect(cn.count == 2)
        #expect(cn.first?.payload == [60])
        #expect(pipeline.counters.framesSuppressed > 10)
        if let index = packets.firstIndex(where: { $0.payloadType == 13 }), index + 1 < packets.count {
            #expect(packets[index + 1].hasMarker)
            #expect(packets[index + 1].payloadType == 8)
        }
    }
}
