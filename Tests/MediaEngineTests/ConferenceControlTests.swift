import Codecs
import Foundation
import MediaEngine
import RTP
import TandemBase
import Testing

@Suite("Conference controls")
struct ConferenceControlTests {
    typealias H = ConferenceHarness
    typealias S = PipelineTestSupport

    @Test("Mute takes a talker out of the mix; deaf sends encoded silence, not nothing")
    func muteAndDeaf() throws {
        let room = try ConferenceRoom()
        let a = try room.join(format: H.pcmu, ssrc: 1)
        let b = try room.join(format: H.pcmu, ssrc: 2, options: ConferenceParticipantOptions(isMuted: true))
        let deaf = try room.join(format: H.pcmu, ssrc: 3, options: ConferenceParticipantOptions(isDeaf: true))
        let listener = try room.join(format: H.pcmu, ssrc: 4)
        let input = [a: try H.tonePackets(hz: 600, amplitude: 5000, format: H.pcmu, seconds: 1.5),
                     b: try H.tonePackets(hz: 1000, amplitude: 5000, format: H.pcmu, seconds: 1.5)]
        let out = H.run(room, input, untilMs: 1200)
        let (heard, rate) = try H.heard(out[listener], format: H.pcmu)
        #expect(H.relativeDB(heard, rate: rate, hz: 1000, among: [600, 1000]) < -40)
        #expect(H.relativeDB(heard, rate: rate, hz: 600, among: [600, 1000]) == 0)
        #expect(room.statistics(of: b)?.isTalking == false && room.selectedTalkers == [a])
        // The deaf participant's stream goes on (one packet per frame) and carries silence.
        #expect((out[deaf]?.count ?? 0) >= 59)
        let (silence, _) = try H.heard(out[deaf], format: H.pcmu, fromMs: 0)
        #expect(S.levelDBFS(silence) < -70)
        // The muted participant still hears the room.
        let (heardByB, _) = try H.heard(out[b], format: H.pcmu)
        #expect(S.dominantFrequency(heardByB, rate: rate) == 600)
    }

    @Test("Mute all but the moderator")
    func muteAllButModerator() throws {
        let room = try ConferenceRoom()
        let moderator = try room.join(format: H.l16, ssrc: 1, options: ConferenceParticipantOptions(isModerator: true))
        let other = try room.join(format: H.l16, ssrc: 2)
        let listener = try room.join(format: H.l16, ssrc: 3)
        room.muteAll()
        let input = [moderator: try H.tonePackets(hz: 700, amplitude: 5000, format: H.l16, seconds: 1.5),
                     other: try H.tonePackets(hz: 1100, amplitude: 5000, format: H.l16, seconds: 1.5)]
        let out = H.run(room, input, untilMs: 1000)
        let (heard, rate) = try H.heard(out[listener], format: H.l16)
        #expect(H.relativeDB(heard, rate: rate, hz: 1100, among: [700, 1100]) < -40)
        #expect(room.selectedTalkers == [moderator])
    }

    @Test("Talking starts with speech and stops after the hangover; a pause shorter than the hangover is no stop")
    func activeSpeakerHangover() throws {
        let room = try ConferenceRoom()  // 600 ms hangover
        let a = try room.join(format: H.l16, ssrc: 1)
        let listener = try room.join(format: H.l16, ssrc: 2)
        // Speech 0–600 ms, a 300 ms pause (silent packets), speech 900–1500 ms, then silence to 3000 ms.
        var packets = try H.tonePackets(hz: 500, amplitude: 5000, format: H.l16, seconds: 3)
        let silent = try H.tonePackets(hz: 500, amplitude: 0, format: H.l16, seconds: 3)
        for k in 0..<packets.count where (30..<45).contains(k) || k >= 75 { packets[k] = silent[k] }
        var events: [ConferenceEvent] = []
        var sink = ConferenceCollectingSink()
        H.run(room, [a: packets], untilMs: 3000, events: &events, sink: &sink)
        let talkingAt = sink.events.filter { $0.event == .talking(participant: a) }.map(\.ms)
        let stoppedAt = sink.events.filter { $0.event == .stoppedTalking(participant: a) }.map(\.ms)
        #expect(talkingAt.count == 1 && stoppedAt.count == 1)
        #expect(talkingAt.first.map { $0 <= 100 } == true)
        // Speech ends at 1500 ms (+ 5 ms network + jitter-buffer delay); the stop comes one hangover later.
        if let stop = stoppedAt.first { #expect((2100...2300).contains(stop), "stopped at \(stop) ms") }
        #expect(!events.contains(.talking(participant: listener)))
    }

    @Test("RFC 4733 digits become one dtmf event each and are not mixed")
    func dtmfEvents() throws {
        let room = try ConferenceRoom()
        var format = H.pcmu
        format.telephoneEventPayloadType = 101
        let a = try room.join(format: format, ssrc: 1)
        let listener = try room.join(format: H.pcmu, ssrc: 2)
        var packets: [PipelineInputPacket] = []
        // Digit 5: three updates and three end packets, all with the event's timestamp (RFC 4733 §2.5).
        for k in 0..<6 {
            let isEnd = k >= 3
            let duration = UInt16(min(k + 1, 4) * 160)
            let payload: [UInt8] = [5, (isEnd ? 0x80 : 0) | 10, UInt8(duration >> 8), UInt8(duration & 0xFF)]
            packets.append(PipelineInputPacket(arrivalMs: 200 + Double(k) * 20,
                                               bytes: S.rtp(payloadType: 101, sequenceNumber: UInt16(500 + k),
                                                            timestamp: 90_000, marker: k == 0, payload: payload)))
        }
        // Then '#' (11).
        packets.append(PipelineInputPacket(arrivalMs: 500, bytes: S.rtp(payloadType: 101, sequenceNumber: 510,
                                                                      timestamp: 95_000, payload: [11, 0x80 | 10, 0, 160])))
        var events: [ConferenceEvent] = []
        var sink = ConferenceCollectingSink()
        let out = H.run(room, [a: packets], untilMs: 800, events: &events, sink: &sink)
        #expect(events.filter { if case .dtmf = $0 { true } else { false } } == [.dtmf(participant: a, event: 5),
                                                                                 .dtmf(participant: a, event: 11)])
        #expect(room.statistics(of: a)?.telephoneEvents == 2)
        // Nothing of it is heard.
        let (heard, _) = try H.heard(out[listener], format: H.pcmu, fromMs: 0)
        #expect(S.levelDBFS(heard) < -70)
    }

    @Test("Garbage, a wrong payload type, a codec change and a flood from one participant: dropped, counted, others unaffected")
    func badInputIsolation() throws {
        let room = try ConferenceRoom()
        let bad = try room.join(format: H.pcmu, ssrc: 1)
        let b = try room.join(format: H.pcmu, ssrc: 2)
        let c = try room.join(format: H.pcmu, ssrc: 3)
        let listener = try room.join(format: H.pcmu, ssrc: 4)
        var random = SeededGenerator(seed: 42)
        var badPackets: [PipelineInputPacket] = []
        for k in 0..<50 {
            let garbage = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            badPackets.append(PipelineInputPacket(arrivalMs: Double(k * 20) + 1, bytes: garbage))
        }
        // A codec change mid-call (G.722 payloads with PT 9 where PCMU was negotiated) and an unknown PT.
        let g722 = try H.tonePackets(hz: 300, amplitude: 8000, format: H.g722, seconds: 0.5, startMs: 300)
        badPackets += g722
        badPackets += (0..<20).map { k in
            PipelineInputPacket(arrivalMs: 100 + Double(k), bytes: S.rtp(payloadType: 77, sequenceNumber: UInt16(k), timestamp: 0,
                                                                        payload: [UInt8](repeating: 1, count: 160)))
        }
        // A flood: 2000 valid PCMU packets of a loud 300 Hz tone within 10 ms.
        let flood = try H.tonePackets(hz: 300, amplitude: 20000, format: H.pcmu, seconds: 40)
        badPackets += flood.enumerated().map { k, p in PipelineInputPacket(arrivalMs: 600 + Double(k) / 200, bytes: p.bytes) }
        let input = [bad: badPackets,
                     b: try H.tonePackets(hz: 700, amplitude: 5000, format: H.pcmu, seconds: 1.5),
                     c: try H.tonePackets(hz: 1100, amplitude: 5000, format: H.pcmu, seconds: 1.5)]
        let out = H.run(room, input, untilMs: 1400)
        let stats = try #require(room.statistics(of: bad))
        #expect(stats.malformedPackets > 20)
        // Some random garbage parses as RTP with yet another payload type: counted there too.
        #expect(stats.unknownPayloadTypes >= 20 + g722.count)
        #expect(stats.floodDrops > 1800)
        for other in [b, c, listener] {
            let s = try #require(room.statistics(of: other))
            #expect(s.malformedPackets == 0 && s.unknownPayloadTypes == 0 && s.floodDrops == 0)
            #expect(s.packetsSent >= 69)
        }
        let (heard, rate) = try H.heard(out[listener], format: H.pcmu)
        // B and C stay mixed at their own level whatever the bad participant sends (the flood's first burst, within
        // the token bucket, is played like any audio: it is the 300 Hz tone the listener also hears for a while).
        #expect(room.selectedTalkers.contains(b) && room.selectedTalkers.contains(c))
        for hz in [700.0, 1100.0] {
            let amplitude = H.amplitude(heard, rate: rate, hz: hz)
            #expect(abs(amplitude - 5000) < 500, "\(hz) Hz at amplitude \(amplitude)")
        }
        let (heardByB, _) = try H.heard(out[b], format: H.pcmu)
        #expect(abs(H.amplitude(heardByB, rate: rate, hz: 1100) - 5000) < 500)
    }

    @Test("Maximum participants and lock")
    func capacityAndLock() throws {
        var configuration = ConferenceRoomConfiguration()
        configuration.maximumParticipants = 3
        let room = try ConferenceRoom(configuration: configuration)
        let ids = try (0..<3).map { try room.join(format: H.pcmu, ssrc: UInt32($0)) }
        #expect(ids == [0, 1, 2])
        #expect(throws: ConferenceError.full) { try room.join(format: H.pcmu, ssrc: 9) }
        room.leave(1)
        room.lock()
        #expect(throws: ConferenceError.locked) { try room.join(format: H.pcmu, ssrc: 9) }
        room.unlock()
        #expect(try room.join(format: H.pcmu, ssrc: 9) == 1)
        try room.kick(2)
        #expect(room.participants == [0, 1])
        #expect(room.nextEvent() == .kicked(participant: 2))
        #expect(throws: ConferenceError.noSuchParticipant(2)) { try room.setMuted(2, true) }
        var ptime30 = H.pcmu
        ptime30.ptimeMilliseconds = 30
        #expect(throws: ConferenceError.unsupportedFormat(.unsupportedPacketTime(30))) { try room.join(format: ptime30, ssrc: 5) }
        #expect(throws: ConferenceError.invalidConfiguration) {
            try ConferenceRoom(configuration: ConferenceRoomConfiguration(sampleRate: 11025))
        }
    }

    @Test("A prompt to the room is heard by everyone and ends with an event; one to a participant only by it")
    func playback() throws {
        let room = try ConferenceRoom()
        let a = try room.join(format: H.pcmu, ssrc: 1)
        let b = try room.join(format: H.pcmu, ssrc: 2)
        var events: [ConferenceEvent] = []
        var sink = ConferenceCollectingSink()
        try room.play(PlaybackSource(toneSequence: "1400/400", sampleRate: 16000))
        #expect(throws: ConferenceError.playbackRateMismatch(8000)) {
            try room.play(PlaybackSource(toneSequence: "1400/400", sampleRate: 8000))
        }
        H.run(room, [:], untilMs: 600, events: &events, sink: &sink)
        #expect(events.contains(.playbackEnded(participant: nil, reason: .completed)))
        try room.play(PlaybackSource(toneSequence: "900/400", sampleRate: 16000), to: b)
        var sink2 = ConferenceCollectingSink()
        H.run(room, [:], untilMs: 600, events: &events, sink: &sink2, offsetMs: 700)
        #expect(events.contains(.playbackEnded(participant: b, reason: .completed)))
        let (first, rate) = try H.heard(sink.packets[a], format: H.pcmu, fromMs: 0)
        #expect(S.dominantFrequency(first[..<min(first.count, 3200)], rate: rate) == 1400)
        let (toB, _) = try H.heard(sink2.packets[b], format: H.pcmu, fromMs: 0)
        let (toA, _) = try H.heard(sink2.packets[a], format: H.pcmu, fromMs: 0)
        #expect(S.dominantFrequency(toB[..<min(toB.count, 3200)], rate: rate) == 900)
        #expect(S.levelDBFS(toA) < -70)
    }

    @Test("The room recording is a valid WAV of the mix, as long as the frames mixed")
    func recording() throws {
        let writer = try RecordingWriter(drainInterval: .milliseconds(5))
        defer { writer.shutdown() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conference-\(UInt32.random(in: 0...UInt32.max)).wav").path
        defer { unlink(path) }
        let room = try ConferenceRoom()
        let a = try room.join(format: H.pcmu, ssrc: 1)
        let b = try room.join(format: H.g722, ssrc: 2)
        let channel = try writer.start(path: path, options: RecordingOptions(mode: .mono, sampleRate: 16000,
                                                                                bufferMilliseconds: 10_000))
        room.startRecording(channel)
        let input = [a: try H.tonePackets(hz: 600, amplitude: 5000, format: H.pcmu, seconds: 2.5),
                     b: try H.tonePackets(hz: 1300, amplitude: 5000, format: H.g722, seconds: 2.5)]
        H.run(room, input, untilMs: 1990)
        room.stopRecording()
        let frames = room.statistics.frames
        #expect(frames == 100)
        var end: RecordingEvent?
        let deadline = MonotonicClock().now().adding(milliseconds: 10_000)
        while end == nil && MonotonicClock().now() < deadline {
            for event in writer.waitForEvents(timeout: .milliseconds(500)) {
                if case .stopped(let id, _, _) = event, id == channel.id { end = event }
            }
        }
        #expect(end == .stopped(id: channel.id, path: path, durationMilliseconds: frames * 20))
        let file = try WAVFile(contentsOf: path)
        #expect(file.format == WAVFormat(encoding: .pcm16, sampleRate: 16000, channels: 1))
        let samples = file.samples()
        #expect(samples.count == frames * 320)
        let steady = samples[8000...]
        #expect(H.relativeDB(steady, rate: 16000, hz: 600, among: [600, 1300]) > -3)
        #expect(H.relativeDB(steady, rate: 16000, hz: 1300, among: [600, 1300]) > -3)
    }
}
