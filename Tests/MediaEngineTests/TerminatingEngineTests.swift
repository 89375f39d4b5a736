import Codecs
import Foundation
import MediaEngine
import RTP
import Testing

let terminatingPCMU = AudioEndpointFormat(codec: .pcmu, payloadType: 0, telephoneEventPayloadType: 101)
let terminatingPCMA = AudioEndpointFormat(codec: .pcma, payloadType: 8)
let terminatingG722 = AudioEndpointFormat(codec: .g722, payloadType: 9)
let terminatingOpus = AudioEndpointFormat(codec: .opus, payloadType: 111)

// Each endpoint is driven by one task at a time in these tests.
extension RelayEndpoint: @unchecked Sendable {}

/// What `task` returns, or nil when `seconds` pass first (an upper bound, not synchronisation); the
/// task is cancelled either way.
func firstResult<T: Sendable>(of task: Task<T?, Never>, within seconds: Int) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await task.value }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        task.cancel()
        return first
    }
}

/// The terminating path inside a running engine on loopback: transcoding between linked legs,
/// playback into a leg, and call recording, with real sockets and the worker's tick.
@Suite struct TerminatingEngineTests {
    static var pcmu: AudioEndpointFormat { terminatingPCMU }
    static var pcma: AudioEndpointFormat { terminatingPCMA }

    /// Sends `seconds` of a tone from `endpoint` to `port` as `format` packets, paced at the packet
    /// time (the engine's pipelines play out in real time).
    static func sendTone(_ hz: Double, seconds: Double, format: AudioEndpointFormat, from endpoint: RelayEndpoint,
                         to port: Int, ssrc: UInt32) async throws {
        let rate = PipelineTestSupport.senderRate(format)
        let payloads = try PipelineTestSupport.encodePayloads(
            PipelineTestSupport.tone(hz: hz, rate: rate, seconds: seconds), format: format, rate: rate)
        let step = UInt32(format.codec.timestampIncrement(milliseconds: format.ptimeMilliseconds))
        let start = ContinuousClock.now
        for (i, payload) in payloads.enumerated() {
            endpoint.send(PipelineTestSupport.rtp(
                payloadType: format.payloadType, sequenceNumber: UInt16(i), timestamp: UInt32(i) &* step, ssrc: ssrc,
                payload: payload), to: port)
            // Pacing the sender like a phone, not waiting for an event.
            try await Task.sleep(until: start + .milliseconds(format.ptimeMilliseconds * (i + 1)), clock: .continuous)
        }
    }

    /// Everything `endpoint` received until it has been quiet for 300 ms, parsed.
    static func drain(_ endpoint: RelayEndpoint) -> [PipelineOutputPacket] {
        var out: [PipelineOutputPacket] = []
        while let datagram = endpoint.receive(timeoutMS: 300) {
            guard datagram.bytes.count >= 12 else { continue }
            out.append(PipelineTestSupport.parse(datagram.bytes, at: 0))
        }
        return out
    }

    /// Sets up a linked pair with formats on both legs; returns the ports each endpoint sends to.
    static func call(_ engine: MediaEngine, id: String, a: RelayEndpoint, fa: AudioEndpointFormat?,
                     b: RelayEndpoint, fb: AudioEndpointFormat?) async throws -> LinkedPair {
        let pair = try await makeLinkedPair(engine, id: id, a: a, b: b)
        try await engine.updateLeg(pair.a.leg, LegUpdate(clockRate: fa?.codec.rtpClockRate))
        try await engine.updateLeg(pair.b.leg, LegUpdate(clockRate: fb?.codec.rtpClockRate))
        try await engine.setAudioFormat(fa, for: pair.a.leg)
        try await engine.setAudioFormat(fb, for: pair.b.leg)
        return pair
    }

    @Test(arguments: [(terminatingPCMU, terminatingOpus), (terminatingG722, terminatingPCMA)])
    func aTranscodedCallCarriesTonesBothWays(fa: AudioEndpointFormat, fb: AudioEndpointFormat) async throws {
        let engine = try makeEngine(ports: fa == Self.pcmu ? 44000...44099 : 44100...44199)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "tx-\(fa.codec.name)", a: a, fa: fa, b: b, fb: fb)

        async let aSends: Void = Self.sendTone(1000, seconds: 1.2, format: fa, from: a, to: pair.a.rtpPort, ssrc: 0xA)
        async let bSends: Void = Self.sendTone(400, seconds: 1.2, format: fb, from: b, to: pair.b.rtpPort, ssrc: 0xB)
        _ = try await (aSends, bSends)
        let atB = Self.drain(b)
        let atA = Self.drain(a)

        // Each side receives its own codec, at its own packet rate, carrying the other side's tone.
        #expect(atB.allSatisfy { $0.payloadType == fb.payloadType })
        #expect(atA.allSatisfy { $0.payloadType == fa.payloadType })
        #expect(atB.count >= 40)
        #expect(atA.count >= 40)
        let heardByB = try PipelineTestSupport.decode(atB, format: fb)
        let heardByA = try PipelineTestSupport.decode(atA, format: fa)
        // Skip the jitter buffer's start-up.
        let bTail = heardByB.pcm.dropFirst(heardByB.rate / 4)
        let aTail = heardByA.pcm.dropFirst(heardByA.rate / 4)
        #expect(abs(PipelineTestSupport.dominantFrequency(bTail, rate: heardByB.rate) - 1000) <= 25)
        #expect(abs(PipelineTestSupport.dominantFrequency(aTail, rate: heardByA.rate) - 400) <= 25)
        #expect(PipelineTestSupport.levelDBFS(bTail) > -30)
        #expect(PipelineTestSupport.levelDBFS(aTail) > -30)
    }

    @Test func matchingFormatsAreRelayedUntouchedAndAReInviteSwitchesToTranscoding() async throws {
        let engine = try makeEngine(ports: 44200...44299)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "relay-switch", a: a, fa: Self.pcmu, b: b, fb: Self.pcmu)
        let sent = makeRTP(sequence: 5, ssrc: 0xA, payloadType: 0, payload: payload(5))
        a.send(sent, to: pair.a.rtpPort)
        #expect(try #require(b.receive()).bytes == sent)

        // B re-negotiates to PCMA: A's PCMU is now transcoded.
        try await engine.setAudioFormat(Self.pcma, for: pair.b.leg)
        try await Self.sendTone(1000, seconds: 0.6, format: Self.pcmu, from: a, to: pair.a.rtpPort, ssrc: 0xA)
        let atB = Self.drain(b)
        #expect(!atB.isEmpty)
        #expect(atB.allSatisfy { $0.payloadType == 8 })

        // The pipeline's counters show in the statistics of the leg it feeds; garbage from A is counted there.
        a.send([0x80, 0x0D, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x0A, 1, 2], to: pair.a.rtpPort)
        _ = b.receive(timeoutMS: 100)
        let stats = try await engine.query(pair.session)
        let counters = try #require(stats.legs.first { $0.leg == pair.b.leg }?.pipeline)
        #expect(counters.framesEncoded > 0)
        #expect(counters.unknownPayloadTypes + counters.malformedPackets >= 1)

        // And back to PCMU: relayed byte for byte again (the old pipeline's last frames may still be in
        // flight, so look for the packet among the next few).
        try await engine.setAudioFormat(Self.pcmu, for: pair.b.leg)
        a.send(sent, to: pair.a.rtpPort)
        var relayed: [UInt8]?
        for _ in 0..<20 {
            guard let d = b.receive() else { break }
            if d.bytes[12...] == sent[12...] { relayed = d.bytes; break }
        }
        #expect(relayed?.count == sent.count)
    }

    @Test func aPromptPlayedIntoARelayedLegArrivesWithItsDurationAndEnds() async throws {
        let engine = try makeEngine(ports: 44300...44399)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "play-1", a: a, fa: Self.pcmu, b: b, fb: Self.pcmu)

        async let ended = nextEvent(engine, timeout: .seconds(5)) {
            if case .playbackEnded = $0.kind { return true }
            return false
        }
        let duration = try await engine.play(PlaybackRequest(.tones("1000/600")), into: pair.b.leg)
        #expect(duration == 600)
        let event = try #require(await ended)
        #expect(event.kind == .playbackEnded(.completed))
        #expect(event.leg == pair.b.leg)
        let atB = Self.drain(b)
        let heard = try PipelineTestSupport.decode(atB, format: Self.pcmu)
        // 600 ms of tone as 20 ms PCMU packets: 30 of them (one frame of slack either way).
        #expect((29...31).contains(atB.filter { PipelineTestSupport.levelDBFS($0.payload.map { G711.decodeULawComputed($0) }[...]) > -40 }.count))
        #expect(abs(PipelineTestSupport.dominantFrequency(heard.pcm[...], rate: 8000) - 1000) <= 25)

        // After the end, the leg is relayed again.
        try await engine.playbackDidEnd(into: pair.b.leg)
        let sent = makeRTP(sequence: 9, ssrc: 0xA, payloadType: 0, payload: payload(9))
        a.send(sent, to: pair.a.rtpPort)
        #expect(try #require(b.receive()).bytes == sent)

        // A missing file is an error and changes nothing.
        await #expect(throws: MediaTerminatingError.self) {
            try await engine.play(PlaybackRequest(.file("/nonexistent/prompt.wav")), into: pair.b.leg)
        }
        a.send(sent, to: pair.a.rtpPort)
        #expect(try #require(b.receive()).bytes == sent)
    }

    @Test func aRecordingHasEachLegsToneOnItsOwnChannel() async throws {
        let engine = try makeEngine(ports: 44400...44499)
        defer { engine.stop() }
        let writer = try RecordingWriter()
        defer { writer.shutdown() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "rec-1", a: a, fa: Self.pcmu, b: b, fb: Self.pcmu)
        let path = NSTemporaryDirectory() + "tandem-rec-\(UUID().uuidString).wav"
        defer { try? FileManager.default.removeItem(atPath: path) }

        let started = ContinuousClock.now
        _ = try await engine.startRecording(pair.session, writer: writer, path: path)
        async let aSends: Void = Self.sendTone(1000, seconds: 1.0, format: Self.pcmu, from: a, to: pair.a.rtpPort, ssrc: 0xA)
        async let bSends: Void = Self.sendTone(400, seconds: 1.0, format: Self.pcmu, from: b, to: pair.b.rtpPort, ssrc: 0xB)
        _ = try await (aSends, bSends)
        _ = Self.drain(a)
        _ = Self.drain(b)
        try await engine.stopRecording(pair.session)
        let elapsed = ContinuousClock.now - started
        // Events come in batches (started, then stopped once the file is final): wait, bounded, for the stop.
        var stopped = false
        for _ in 0..<10 where !stopped {
            stopped = writer.waitForEvents(timeout: .milliseconds(500)).contains { if case .stopped = $0 { true } else { false } }
        }
        #expect(stopped)

        let wav = try WAVFile(contentsOf: path)
        #expect(wav.format.channels == 2)
        let samples = wav.samples()
        let left = stride(from: 0, to: samples.count, by: 2).map { samples[$0] }
        let right = stride(from: 1, to: samples.count, by: 2).map { samples[$0] }
        let rate = Int(wav.format.sampleRate)
        // The file follows the call's wall clock: at least the second of tone, at most the time the
        // recording ran (silence fills what nobody said).
        let ranSamples = Int(Double(rate) * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        #expect(left.count >= rate * 8 / 10)
        #expect(left.count <= ranSamples + rate / 10)
        let leftTail = left.dropFirst(rate / 5)
        let rightTail = right.dropFirst(rate / 5)
        #expect(abs(PipelineTestSupport.dominantFrequency(leftTail, rate: rate) - 1000) <= 25)
        #expect(abs(PipelineTestSupport.dominantFrequency(rightTail, rate: rate) - 400) <= 25)
    }

    @Test func deletingASessionFinishesItsRunningRecording() async throws {
        let engine = try makeEngine(ports: 44800...44899)
        defer { engine.stop() }
        let writer = try RecordingWriter()
        defer { writer.shutdown() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "rec-delete", a: a, fa: Self.pcmu, b: b, fb: Self.pcmu)
        let path = NSTemporaryDirectory() + "tandem-rec-\(UUID().uuidString).wav"
        defer { try? FileManager.default.removeItem(atPath: path) }

        _ = try await engine.startRecording(pair.session, writer: writer, path: path)
        try await Self.sendTone(1000, seconds: 0.4, format: Self.pcmu, from: a, to: pair.a.rtpPort, ssrc: 0xA)
        // No stopRecording: the session goes while the recording runs, as when a call manager deletes a call.
        try await engine.deleteSession(pair.session)
        var stopped = false
        for _ in 0..<10 where !stopped {
            stopped = writer.waitForEvents(timeout: .milliseconds(500)).contains { if case .stopped = $0 { true } else { false } }
        }
        #expect(stopped)
        let wav = try WAVFile(contentsOf: path)
        #expect(wav.samples().count >= Int(wav.format.sampleRate) * 2 / 10)
    }

    @Test func rtcpIsTerminatedAndRegeneratedOnATranscodedLeg() async throws {
        let engine = try makeEngine(ports: 44500...44599)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await makeLinkedPair(engine, id: "rtcp-regen", a: a, b: b, options: LegOptions(rtcpMux: true))
        try await engine.setAudioFormat(Self.pcmu, for: pair.a.leg)
        try await engine.setAudioFormat(Self.pcma, for: pair.b.leg)

        // A's own SR (SSRC 0xA) must not reach B: its counts describe a stream B never gets.
        var sr: [UInt8] = [0x80, 200, 0, 6, 0, 0, 0, 0xA]
        sr += [UInt8](repeating: 1, count: 20)
        a.send(sr, to: pair.a.rtpPort)
        // B sends a little too, so Tandem's SR to B carries a report block about B's stream.
        for i in 0..<3 {
            b.send(makeRTP(sequence: UInt16(i), ssrc: 0xB, payloadType: 8, payload: payload(i)), to: pair.b.rtpPort)
        }
        try await Self.sendTone(1000, seconds: 1.4, format: Self.pcmu, from: a, to: pair.a.rtpPort, ssrc: 0xA)

        var rtpSSRCs: Set<UInt32> = []
        var reports: [[UInt8]] = []
        while let d = b.receive(timeoutMS: 300) {
            if d.bytes[1] == 200 { reports.append(d.bytes) } else { rtpSSRCs.insert(ssrc(of: d.bytes)) }
        }
        #expect(rtpSSRCs.count == 1)
        let report = try #require(reports.first)
        // One SR from Tandem, about the PCMA stream it sends (same SSRC), with a report block on A's stream.
        #expect(reports.count == 1)
        #expect(ssrc(of: Array(report[0..<12])) != 0xA)
        let sender = report[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(rtpSSRCs.contains(sender))
        #expect(report[0] & 0x1F == 1)
        let blockSource = report[28..<32].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(blockSource == 0xB)
    }

    @Test func aKeyPressIsReportedAndBargesIntoThePromptPlayingToThatParty() async throws {
        let engine = try makeEngine(ports: 44600...44699)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "barge", a: a, fa: Self.pcmu, b: b, fb: Self.pcmu)
        try await engine.updateLeg(pair.b.leg, LegUpdate(telephoneEventPayloadTypes: [101]))

        let collected = Task { () -> [MediaEvent.Kind]? in
            var kinds: [MediaEvent.Kind] = []
            for await e in engine.events where e.leg == pair.b.leg {
                if case .streamStarted = e.kind { continue }
                kinds.append(e.kind)
                if case .playbackEnded = e.kind { break }
            }
            return kinds
        }
        _ = try await engine.play(PlaybackRequest(.tones("440/10000"), bargeInDigits: [.five]), into: pair.b.leg)
        // B presses 5: an RFC 4733 event (code 5, volume 10, duration 160), sent three times as phones
        // do; one digit is reported.
        for _ in 0..<3 {
            b.send(makeRTP(sequence: 1, timestamp: 8000, ssrc: 0xB, payloadType: 101, payload: [5, 10, 0, 160]), to: pair.b.rtpPort)
        }
        let kinds = await firstResult(of: collected, within: 5)
        #expect(kinds == [.dtmf(.five), .playbackEnded(.bargeIn(.five))])
    }

    @Test func inBandDTMFFromALegIsReportedWhenAsked() async throws {
        let engine = try makeEngine(ports: 44700...44799)
        defer { engine.stop() }
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let pair = try await Self.call(engine, id: "inband", a: a, fa: Self.pcmu, b: b, fb: Self.pcmu)
        try await engine.detectInBandDTMF(true, on: pair.a.leg)

        // 200 ms of the 7 key in A's audio, then silence.
        let generator = try DTMFGenerator(sampleRate: 8000)
        try generator.play(.seven, milliseconds: 200)
        var pcm = [Int16](repeating: 0, count: 8000 * 6 / 10)
        _ = pcm.withUnsafeMutableBufferPointer { generator.generate(into: $0) }
        let payloads = try PipelineTestSupport.encodePayloads(pcm, format: Self.pcmu, rate: 8000)
        let heard = Task { () -> DTMFDigit? in
            for await e in engine.events where e.leg == pair.a.leg {
                if case .dtmf(let d) = e.kind { return d }
            }
            return nil
        }
        let start = ContinuousClock.now
        for (i, p) in payloads.enumerated() {
            a.send(PipelineTestSupport.rtp(payloadType: 0, sequenceNumber: UInt16(i), timestamp: UInt32(i * 160), ssrc: 0xA, payload: p),
                   to: pair.a.rtpPort)
            try await Task.sleep(until: start + .milliseconds(20 * (i + 1)), clock: .continuous)
        }
        let digit = await firstResult(of: heard, within: 3)
        #expect(digit == .seven)
    }
}
