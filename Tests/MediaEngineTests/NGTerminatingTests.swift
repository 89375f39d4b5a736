import Codecs
import Foundation
import MediaControl
import MediaEngine
import SDP
import Testing

/// The ng protocol's terminating-path commands against a running engine: `codec-transcode`,
/// `play media`, `play DTMF`, `record call` / `start recording`.
@Suite struct NGTerminatingTests {
    typealias C = NGControllerTests

    @Test func aTranscodeFlagBridgesAPCMUCallerToAnOpusOnlyCallee() async throws {
        let engine = try makeEngine(ports: 45000...45099)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")

        var offer = C.request(.offer, call: "tx-ng", from: "A", sdp: C.sdp(port: a.port, formats: "0 101"))
        offer.codec.transcode = ["opus"]
        let towardsB = try C.rewritten(await controller.execute(offer))
        let opusPT = try #require(towardsB.media[0].rtpMaps.first { $0.encodingName == "opus" }?.payloadType)
        #expect(towardsB.media[0].formats == ["0", String(opusPT), "101"])

        // B accepts only Opus; A is answered with its own PCMU (and its telephone-event).
        let answer = C.sdp(port: b.port, formats: "\(opusPT)", extra: ["a=rtpmap:\(opusPT) opus/48000/2"])
            .replacingOccurrences(of: "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n", with: "")
        let towardsA = try C.rewritten(await controller.execute(C.request(.answer, call: "tx-ng", from: "A", to: "B", sdp: answer)))
        #expect(towardsA.media[0].formats == ["0", "101"])
        #expect(towardsA.media[0].rtpMap(for: 101)?.encodingName == "telephone-event")

        try await TerminatingEngineTests.sendTone(
            1000, seconds: 0.8, format: AudioEndpointFormat(codec: .pcmu, payloadType: 0), from: a,
            to: Int(towardsA.media[0].port), ssrc: 0xA)
        let atB = TerminatingEngineTests.drain(b)
        #expect(atB.count >= 20)
        #expect(atB.allSatisfy { $0.payloadType == opusPT })
        let heard = try PipelineTestSupport.decode(atB, format: AudioEndpointFormat(codec: .opus, payloadType: opusPT))
        #expect(abs(PipelineTestSupport.dominantFrequency(heard.pcm.dropFirst(heard.rate / 4), rate: heard.rate) - 1000) <= 25)
    }

    @Test func playMediaPlaysABlobToOneParticipantAndReportsItsDuration() async throws {
        let engine = try makeEngine(ports: 45100...45199)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        _ = try await C.establish(controller, call: "play-ng", a: a, b: b)

        let tone = PipelineTestSupport.tone(hz: 1000, rate: 8000, seconds: 0.4)
        let wav = WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000), samples: tone).serialized()
        var play = C.request(.playMedia, call: "play-ng", from: "B")
        play.blob = wav
        #expect(await controller.execute(play) == .played(durationMilliseconds: 400))
        let atB = TerminatingEngineTests.drain(b)
        #expect((19...21).contains(atB.count))
        #expect(a.receive(timeoutMS: 50) == nil)

        var missing = C.request(.playMedia, call: "play-ng", from: "B")
        missing.file = "/nonexistent/prompt.wav"
        #expect(C.errorReason(await controller.execute(missing))?.contains("cannot play") == true)
        var noSource = C.request(.playMedia, call: "play-ng", from: "B")
        noSource.repeatTimes = 2
        #expect(C.errorReason(await controller.execute(noSource)) != nil)
    }

    @Test func playDTMFReachesTheOtherParticipantAsRFC4733Events() async throws {
        let engine = try makeEngine(ports: 45200...45249)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        _ = try await C.establish(controller, call: "dtmf-4733", a: a, b: b)

        var dtmf = C.request(.playDTMF, call: "dtmf-4733", from: "A")
        dtmf.dtmfCode = .integer(5)
        dtmf.duration = 200
        #expect(await controller.execute(dtmf) == .ok())
        let events = TerminatingEngineTests.drain(b).filter { $0.payloadType == 101 }
        // Updates every 20 ms with growing durations (in 8 kHz units), one timestamp, the end three times.
        #expect(events.count >= 10 + 2)
        #expect(events.first?.hasMarker == true)
        #expect(Set(events.map(\.timestamp)).count == 1)
        #expect(events.allSatisfy { $0.payload[0] == 5 })
        let durations = events.map { Int($0.payload[2]) << 8 | Int($0.payload[3]) }
        #expect(durations == durations.sorted())
        #expect(durations.last == 1600)
        #expect(events.suffix(3).allSatisfy { $0.payload[1] & 0x80 != 0 })
        #expect(events.filter { $0.payload[1] & 0x80 != 0 }.count == 3)
    }

    @Test func playDTMFIsPlayedInBandToAParticipantWithoutTelephoneEvent() async throws {
        let engine = try makeEngine(ports: 45250...45299)
        defer { engine.stop() }
        let controller = NGCallController(engine: engine)
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")
        let plain = { (port: Int) in
            C.sdp(port: port, formats: "0").replacingOccurrences(of: "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n", with: "")
        }
        _ = try C.rewritten(await controller.execute(C.request(.offer, call: "dtmf-ib", from: "A", sdp: plain(a.port))))
        _ = try C.rewritten(await controller.execute(C.request(.answer, call: "dtmf-ib", from: "A", to: "B", sdp: plain(b.port))))

        var dtmf = C.request(.playDTMF, call: "dtmf-ib", from: "A")
        dtmf.dtmfCode = .string("5")
        dtmf.duration = 200
        #expect(await controller.execute(dtmf) == .ok())
        let heard = try PipelineTestSupport.decode(TerminatingEngineTests.drain(b), format: AudioEndpointFormat(codec: .pcmu, payloadType: 0))
        let detector = try DTMFDetector(sampleRate: 8000)
        heard.pcm.withUnsafeBufferPointer { detector.process($0) }
        var digits: [DTMFDigit] = []
        while let e = detector.nextEvent() { if e.kind == .began { digits.append(e.digit) } }
        #expect(digits == [.five])

        var bad = C.request(.playDTMF, call: "dtmf-ib", from: "A")
        bad.dtmfCode = .string("x")
        #expect(C.errorReason(await controller.execute(bad)) == "Invalid DTMF digit")
    }

    @Test func recordCallWritesBothPartiesAndDeleteFinalisesTheFile() async throws {
        let engine = try makeEngine(ports: 45300...45399)
        defer { engine.stop() }
        let writer = try RecordingWriter()
        defer { writer.shutdown() }
        let directory = NSTemporaryDirectory() + "tandem-ng-rec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let controller = NGCallController(engine: engine, configuration: NGControllerConfiguration(
            recordingDirectory: directory, recordingWriter: writer))
        let a = try RelayEndpoint(host: "127.0.0.1")
        let b = try RelayEndpoint(host: "127.0.0.1")

        _ = try C.rewritten(await controller.execute(C.request(.offer, call: "rec/ng 1", from: "A", sdp: C.sdp(port: a.port))))
        var answer = C.request(.answer, call: "rec/ng 1", from: "A", to: "B", sdp: C.sdp(port: b.port))
        answer.recordCall = true
        let towardsA = try C.rewritten(await controller.execute(answer))
        guard case .query(let q) = await controller.execute(C.request(.query, call: "rec/ng 1")) else {
            Issue.record("query failed")
            return
        }
        let towardsB = try #require(q.tags.first { $0.tag == "B" }?.medias.first?.streams.first?.localPort)

        let pcmu = AudioEndpointFormat(codec: .pcmu, payloadType: 0)
        async let aSends: Void = TerminatingEngineTests.sendTone(1000, seconds: 0.8, format: pcmu, from: a, to: Int(towardsA.media[0].port), ssrc: 1)
        async let bSends: Void = TerminatingEngineTests.sendTone(400, seconds: 0.8, format: pcmu, from: b, to: Int(towardsB), ssrc: 2)
        _ = try await (aSends, bSends)
        _ = await controller.execute(C.request(.delete, call: "rec/ng 1"))

        var stopped: String?
        for _ in 0..<10 where stopped == nil {
            for event in writer.waitForEvents(timeout: .milliseconds(500)) {
                if case .stopped(_, let path, _) = event { stopped = path }
            }
        }
        let path = try #require(stopped)
        #expect(path.hasPrefix(directory + "/rec_ng_1-"))
        let wav = try WAVFile(contentsOf: path)
        #expect(wav.format.channels == 2)
        let samples = wav.samples()
        let left = stride(from: 0, to: samples.count, by: 2).map { samples[$0] }
        let right = stride(from: 1, to: samples.count, by: 2).map { samples[$0] }
        #expect(abs(PipelineTestSupport.dominantFrequency(left.dropFirst(1600), rate: 8000) - 1000) <= 25)
        #expect(abs(PipelineTestSupport.dominantFrequency(right.dropFirst(1600), rate: 8000) - 400) <= 25)
    }
}
