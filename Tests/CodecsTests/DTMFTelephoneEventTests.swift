import Codecs
import Testing

@Suite struct DTMFTelephoneEventTests {
    @Test func detectorEventsBecomeRFC4733Reports() throws {
        let g = try DTMFGenerator(sampleRate: 16000)
        try g.play(digits: "1#", onMilliseconds: 100, offMilliseconds: 100)
        let detector = try DTMFDetector(sampleRate: 16000)
        var source = TelephoneEventSource(sampleRate: 16000, clockRate: 8000)
        var reports: [TelephoneEventReport] = []
        var frame = [Int16](repeating: 0, count: 320)
        for k in 0..<25 {
            frame.withUnsafeMutableBufferPointer { _ = g.generate(into: $0) }
            frame.withUnsafeBufferPointer { detector.process($0) }
            while let e = detector.nextEvent() {
                if let r = source.handle(e) { reports.append(r) }
            }
            if let r = source.update(now: (k + 1) * 320) { reports.append(r) }
        }
        let ends = reports.filter(\.isEnd)
        #expect(ends.map(\.eventCode) == [1, 11])
        // Starts and durations on the 8 kHz clock: digits at 0 and 200 ms, 100 ms long (±5 ms).
        #expect(abs(ends[0].start - 0) <= 40 && abs(ends[1].start - 1600) <= 40)
        #expect(ends.allSatisfy { abs($0.duration - 800) <= 40 })
        // Updates in between carry the same start and a growing duration.
        let firstDigit = reports.prefix { !$0.isEnd }
        #expect(firstDigit.count >= 2 && firstDigit.allSatisfy { $0.eventCode == 1 && $0.start == ends[0].start })
        #expect(zip(firstDigit, firstDigit.dropFirst()).allSatisfy { $0.duration <= $1.duration })
    }

    @Test func longEventsAreSegmented() {
        var source = TelephoneEventSource()
        let began = source.handle(DTMFEvent(kind: .began, digit: .seven, startSample: 100, durationSamples: 320))
        #expect(began == TelephoneEventReport(eventCode: 7, start: 100, duration: 320, isEnd: false, volume: 10))
        let later = source.update(now: 100 + 70_000)
        #expect(later?.start == 100 + 0xFFFF && later?.duration == 70_000 - 0xFFFF)
        let end = source.handle(DTMFEvent(kind: .ended, digit: .seven, startSample: 100, durationSamples: 70_100))
        #expect(end?.isEnd == true && end?.start == 100 + 0xFFFF && end?.duration == 70_100 - 0xFFFF)
        #expect(source.update(now: 80_000) == nil)
    }

    @Test func playerPlaysReceivedEventsForTheirDuration() throws {
        let player = try TelephoneEventPlayer(sampleRate: 8000, clockRate: 8000)
        var out: [Int16] = []
        var frame = [Int16](repeating: 0, count: 160)
        var tone = 0
        func tick() {
            tone += frame.withUnsafeMutableBufferPointer { player.generate(into: $0) }
            out += frame
        }
        // Event "5" at timestamp 1000: start, two updates, end (800 = 100 ms), end repeated twice.
        try player.receive(eventCode: 5, timestamp: 1000, duration: 160, isEnd: false)
        tick()
        try player.receive(eventCode: 5, timestamp: 1000, duration: 320, isEnd: false)
        tick()
        try player.receive(eventCode: 5, timestamp: 1000, duration: 480, isEnd: false)
        tick()
        try player.receive(eventCode: 5, timestamp: 1000, duration: 800, isEnd: true)
        try player.receive(eventCode: 5, timestamp: 1000, duration: 800, isEnd: true)
        for _ in 0..<3 { tick() }
        try player.receive(eventCode: 5, timestamp: 1000, duration: 800, isEnd: true)
        #expect(tone == 800)
        #expect(!player.isPlaying)
        // Only the end packets of event "0" arrived: it still plays, for its 60 ms.
        try player.receive(eventCode: 0, timestamp: 3000, duration: 480, isEnd: true)
        for _ in 0..<5 { tick() }
        #expect(tone == 800 + 480)
        let events = try DTMFTestSignal.detect(out)
        #expect(DTMFTestSignal.digits(events) == "50")
        #expect(throws: ToneError.unsupportedEventCode(16)) { try player.receive(eventCode: 16, timestamp: 1, duration: 1, isEnd: false) }
    }
}
