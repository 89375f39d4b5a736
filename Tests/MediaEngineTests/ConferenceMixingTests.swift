import Codecs
import Foundation
import MediaEngine
import RTP
import TandemBase
import Testing

/// Collects every packet the room sends, per participant.
struct ConferenceCollectingSink: ConferenceOutputSink {
    var packets: [Int: [PipelineOutputPacket]] = [:]
    /// Events drained after each tick, with the tick's time in ms.
    var events: [(ms: Int, event: ConferenceEvent)] = []
    var nowMs = 0
    mutating func send(participant: Int, packet: UnsafeRawBufferPointer) {
        packets[participant, default: []].append(PipelineTestSupport.parse(Array(packet), at: nowMs))
    }
}

/// Drives a room like a worker: a 10 ms tick, packets delivered when they arrive, `produce` every tick.
enum ConferenceHarness {
    typealias S = PipelineTestSupport

    static let pcmu = AudioEndpointFormat(codec: .pcmu, payloadType: 0)
    static let pcma = AudioEndpointFormat(codec: .pcma, payloadType: 8)
    static let g722 = AudioEndpointFormat(codec: .g722, payloadType: 9)
    static let opus = AudioEndpointFormat(codec: .opus, payloadType: 111)
    static let l16 = AudioEndpointFormat(codec: .l16Mono16k, payloadType: 96)

    /// RTP packets of a tone (`amplitude` 0 = digital silence) in `format`, sent every 20 ms from `startMs`,
    /// arriving 5 ms later, for `seconds`.
    static func tonePackets(hz: Double, amplitude: Double, format: AudioEndpointFormat, seconds: Double,
                            startMs: Double = 0, ssrc: UInt32 = 0x1111) throws -> [PipelineInputPacket] {
        let rate = S.senderRate(format)
        let pcm = S.tone(hz: hz, rate: rate, seconds: seconds, amplitude: amplitude)
        let payloads = try S.encodePayloads(pcm, format: format, rate: rate)
        let step = UInt32(format.codec.timestampIncrement(milliseconds: 20))
        return payloads.enumerated().map { index, payload in
            PipelineInputPacket(arrivalMs: startMs + Double(index * 20) + 5,
                                bytes: S.rtp(payloadType: format.payloadType, sequenceNumber: UInt16(truncatingIfNeeded: 100 + index),
                                             timestamp: 3000 &+ UInt32(index) &* step, ssrc: ssrc, marker: index == 0,
                                             payload: payload))
        }
    }

    /// Runs the room from 0 to `untilMs`; `input` maps participant → packets. Returns every sent packet.
    @discardableResult
    static func run(_ room: ConferenceRoom, _ input: [Int: [PipelineInputPacket]], untilMs end: Int,
                    events: inout [ConferenceEvent], sink: inout ConferenceCollectingSink,
                    offsetMs: Int = 0) -> [Int: [PipelineOutputPacket]] {
        var queue: [(Double, Int, [UInt8])] = []
        for (participant, packets) in input { for p in packets { queue.append((p.arrivalMs, participant, p.bytes)) } }
        queue.sort { $0.0 < $1.0 }
        var next = 0
        var t = offsetMs
        while t <= end + offsetMs {
            while next < queue.count, queue[next].0 + Double(offsetMs) <= Double(t) {
                let (arrival, participant, bytes) = queue[next]
                let at = Instant(nanoseconds: 1_000_000_000 + UInt64((arrival + Double(offsetMs)) * 1_000_000))
                bytes.withUnsafeBytes { _ = room.receive(participant: participant, $0, now: at) }
                next += 1
            }
            sink.nowMs = t
            room.produce(now: Instant(nanoseconds: 1_000_000_000 + UInt64(t) * 1_000_000), sink: &sink)
            room.drainEvents { event in
                events.append(event)
                sink.events.append((t, event))
            }
            t += 10
        }
        return sink.packets
    }

    @discardableResult
    static func run(_ room: ConferenceRoom, _ input: [Int: [PipelineInputPacket]], untilMs end: Int) -> [Int: [PipelineOutputPacket]] {
        var events: [ConferenceEvent] = []
        var sink = ConferenceCollectingSink()
        return run(room, input, untilMs: end, events: &events, sink: &sink)
    }

    /// The decoded audio one participant received, from `fromMs` of its stream on.
    static func heard(_ packets: [PipelineOutputPacket]?, format: AudioEndpointFormat, fromMs: Int = 400) throws -> (pcm: ArraySlice<Int16>, rate: Int) {
        let (pcm, rate) = try S.decode(packets ?? [], format: format)
        let skip = min(pcm.count, rate * fromMs / 1000)
        return (pcm[skip...], rate)
    }

    /// Power of `hz` relative to the loudest of `all` frequencies, in dB (0 for the loudest).
    static func relativeDB(_ pcm: ArraySlice<Int16>, rate: Int, hz: Double, among all: [Double]) -> Double {
        let powers = all.map { S.goertzel(pcm, hz: $0, rate: rate) }
        let top = powers.max() ?? 1
        return 10 * log10(max(S.goertzel(pcm, hz: hz, rate: rate), 1e-12) / max(top, 1e-12))
    }

    /// Amplitude of `hz` in `pcm` (Goertzel power is amplitude² / 4 for a whole number of periods).
    static func amplitude(_ pcm: ArraySlice<Int16>, rate: Int, hz: Double) -> Double {
        2 * sqrt(S.goertzel(pcm, hz: hz, rate: rate))
    }
}

@Suite("Conference mixing")
struct ConferenceMixingTests {
    typealias H = ConferenceHarness

    @Test("Three parties: each hears the other two and not itself (sum-minus-self)")
    func sumMinusSelf() throws {
        let room = try ConferenceRoom()
        let tones = [400.0, 700.0, 1100.0]
        var input: [Int: [PipelineInputPacket]] = [:]
        var ids: [Int] = []
        for (i, hz) in tones.enumerated() {
            let id = try room.join(format: H.pcmu, ssrc: UInt32(100 + i))
            ids.append(id)
            input[id] = try H.tonePackets(hz: hz, amplitude: 6000, format: H.pcmu, seconds: 1.5, ssrc: UInt32(10 + i))
        }
        let out = H.run(room, input, untilMs: 1500)
        for (i, id) in ids.enumerated() {
            let (pcm, rate) = try H.heard(out[id], format: H.pcmu)
            #expect(pcm.count > 4000)
            for (j, hz) in tones.enumerated() {
                let db = H.relativeDB(pcm, rate: rate, hz: hz, among: tones)
                if i == j {
                    #expect(db < -30, "participant \(i) hears itself at \(db) dB")
                } else {
                    #expect(db > -3, "participant \(i) hears \(hz) Hz at \(db) dB")
                }
            }
        }
        #expect(Set(room.selectedTalkers) == Set(ids))
    }

    @Test("Five talkers, two mixed: a listener hears exactly the two loudest")
    func nLoudest() throws {
        var configuration = ConferenceRoomConfiguration()
        configuration.maximumTalkers = 2
        let room = try ConferenceRoom(configuration: configuration)
        let tones = [400.0, 600.0, 800.0, 1000.0, 1200.0]
        let amplitudes = [1500.0, 2500.0, 3500.0, 9000.0, 7000.0]
        var input: [Int: [PipelineInputPacket]] = [:]
        var ids: [Int] = []
        for i in 0..<5 {
            let id = try room.join(format: H.l16, ssrc: UInt32(i + 1))
            ids.append(id)
            input[id] = try H.tonePackets(hz: tones[i], amplitude: amplitudes[i], format: H.l16, seconds: 1.5)
        }
        let listener = try room.join(format: H.l16, ssrc: 99)
        let out = H.run(room, input, untilMs: 1500)
        #expect(Set(room.selectedTalkers) == [ids[3], ids[4]])
        let (pcm, rate) = try H.heard(out[listener], format: H.l16)
        for i in 0..<5 {
            let db = H.relativeDB(pcm, rate: rate, hz: tones[i], among: tones)
            if i >= 3 { #expect(db > -6, "\(tones[i]) Hz at \(db) dB") } else { #expect(db < -40, "\(tones[i]) Hz at \(db) dB") }
        }
        // The quieter talkers hear the two loudest; a selected talker hears the other one only.
        let (loudest, _) = try H.heard(out[ids[3]], format: H.l16)
        #expect(H.relativeDB(loudest, rate: rate, hz: 1000, among: tones) < -40)
        #expect(H.relativeDB(loudest, rate: rate, hz: 1200, among: tones) == 0)
    }

    @Test("Two loud talkers: the listener's mix clips only at the output; each talker hears the other unclipped")
    func saturationOnlyAtOutput() throws {
        let room = try ConferenceRoom()
        let a = try room.join(format: H.l16, ssrc: 1)
        let b = try room.join(format: H.l16, ssrc: 2)
        let listener = try room.join(format: H.l16, ssrc: 3)
        let input = [a: try H.tonePackets(hz: 500, amplitude: 24000, format: H.l16, seconds: 1.5),
                     b: try H.tonePackets(hz: 750, amplitude: 24000, format: H.l16, seconds: 1.5)]
        let out = H.run(room, input, untilMs: 1200)
        let (mix, rate) = try H.heard(out[listener], format: H.l16)
        // The sum peaks near 48000: clipped at exactly the int16 limits, not wrapped.
        #expect(mix.max() == 32767 && mix.min() == -32768)
        #expect(!zip(mix, mix.dropFirst()).contains { abs(Int($0) - Int($1)) > 20000 }, "wrap-around")
        // A hears B alone, at full amplitude and with no trace of its own tone: the subtraction happened in 32 bits.
        let (heardByA, _) = try H.heard(out[a], format: H.l16)
        #expect(heardByA.max()! <= 24100 && heardByA.max()! >= 23000)
        #expect(H.relativeDB(heardByA, rate: rate, hz: 500, among: [500, 750]) < -40)
        #expect(abs(H.amplitude(heardByA, rate: rate, hz: 750) - 24000) < 800)
    }

    @Test("Input gain −6 dB lowers one talker for everyone; output gain +6 dB raises one listener's mix")
    func gains() throws {
        let room = try ConferenceRoom()
        let a = try room.join(format: H.l16, ssrc: 1, options: ConferenceParticipantOptions(inputGainDB: -6))
        let b = try room.join(format: H.l16, ssrc: 2)
        let plain = try room.join(format: H.l16, ssrc: 3)
        let louder = try room.join(format: H.l16, ssrc: 4, options: ConferenceParticipantOptions(outputGainDB: 6))
        let input = [a: try H.tonePackets(hz: 500, amplitude: 4000, format: H.l16, seconds: 1.5),
                     b: try H.tonePackets(hz: 900, amplitude: 4000, format: H.l16, seconds: 1.5)]
        let out = H.run(room, input, untilMs: 1200)
        let (p, rate) = try H.heard(out[plain], format: H.l16)
        let (l, _) = try H.heard(out[louder], format: H.l16)
        let aLevel = 20 * log10(H.amplitude(p, rate: rate, hz: 500) / H.amplitude(p, rate: rate, hz: 900))
        #expect(abs(aLevel + 6) < 0.5, "input gain gave \(aLevel) dB")
        let outLevel = 20 * log10(H.amplitude(l, rate: rate, hz: 900) / H.amplitude(p, rate: rate, hz: 900))
        #expect(abs(outLevel - 6) < 0.5, "output gain gave \(outLevel) dB")
        // Different output gain: two encode groups.
        #expect(room.statistics.encodeGroups == 2)
    }

    @Test("Listeners with the same codec get byte-identical payloads behind their own SSRC, sequence and timestamp")
    func sharedEncoding() throws {
        let room = try ConferenceRoom()
        let talker = try room.join(format: H.g722, ssrc: 1)
        var listeners: [Int] = []
        for i in 0..<4 {
            listeners.append(try room.join(format: H.g722, ssrc: UInt32(50 + i),
                                           options: ConferenceParticipantOptions(initialSequenceNumber: UInt16(1000 * i),
                                                                                 initialTimestamp: UInt32(7777 * i))))
        }
        let pcmuListener = try room.join(format: H.pcmu, ssrc: 60)
        let out = H.run(room, [talker: try H.tonePackets(hz: 800, amplitude: 5000, format: H.g722, seconds: 1)], untilMs: 1000)
        let streams = listeners.map { out[$0] ?? [] }
        #expect(streams.allSatisfy { $0.count == streams[0].count } && streams[0].count >= 49)
        for k in 0..<streams[0].count {
            let payloads = Set(streams.map { $0[k].payload })
            #expect(payloads.count == 1, "frame \(k) differs between listeners")
        }
        for (i, stream) in streams.enumerated() {
            #expect(stream.allSatisfy { $0.ssrc == UInt32(50 + i) })
            #expect(stream.first?.sequenceNumber == UInt16(1000 * i))
            #expect(stream.first?.timestamp == UInt32(7777 * i))
            for (x, y) in zip(stream, stream.dropFirst()) {
                #expect(y.sequenceNumber == x.sequenceNumber &+ 1 && y.timestamp == x.timestamp &+ 160)
            }
        }
        // The talker hears sum-minus-self (silence here) through its own encoder: its payload differs.
        #expect(out[talker]?.last?.payload != streams[0].last?.payload)
        // One G.722 shared encode + one talker encode + one PCMU encode per frame, not one per listener.
        let s = room.statistics
        #expect(s.encodeGroups == 2)
        #expect(s.encodersInUse == 3)
        #expect(s.framesEncoded <= 3 * s.frames && s.packetsSent == 6 * s.frames)
        let (heard, rate) = try H.heard(out[pcmuListener], format: H.pcmu)
        #expect(PipelineTestSupport.dominantFrequency(heard, rate: rate) == 800)
    }

    @Test("PCMU, G.722, Opus and L16 in one room: each hears the other three and not itself")
    func mixedCodecs() throws {
        let room = try ConferenceRoom()
        let formats = [H.pcmu, H.g722, H.opus, H.l16]
        let tones = [500.0, 900.0, 1300.0, 1700.0]
        var input: [Int: [PipelineInputPacket]] = [:]
        var ids: [Int] = []
        for i in 0..<4 {
            let id = try room.join(format: formats[i], ssrc: UInt32(i + 1))
            ids.append(id)
            input[id] = try H.tonePackets(hz: tones[i], amplitude: 5000, format: formats[i], seconds: 1.5)
        }
        let out = H.run(room, input, untilMs: 1500)
        for i in 0..<4 {
            let (pcm, rate) = try H.heard(out[ids[i]], format: formats[i], fromMs: 500)
            #expect(pcm.count > rate / 2)
            for j in 0..<4 {
                let db = H.relativeDB(pcm, rate: rate, hz: tones[j], among: tones)
                if i == j { #expect(db < -25, "\(formats[i].codec.name) hears itself at \(db) dB") } else {
                    #expect(db > -6, "\(formats[i].codec.name) hears \(tones[j]) Hz at \(db) dB")
                }
            }
        }
    }
}
