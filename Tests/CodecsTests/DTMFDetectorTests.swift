import Codecs
import Foundation
import Testing

/// Builds test signals and runs the detector over them in awkward frame sizes.
enum DTMFTestSignal {
    /// Peak amplitude of a sine at `dBm0`.
    static func amplitude(_ dBm0: Double) -> Double { ToneGenerator.amplitudeAtZeroDBm0 * pow(10, dBm0 / 20) }

    /// Appends `ms` of a two-tone signal (frequencies scaled by `1 + deviation`).
    static func tone(_ digit: DTMFDigit, ms: Int, rate: Int = 8000, lowDBm0: Double = -10, highDBm0: Double = -10,
                     lowDeviation: Double = 0, highDeviation: Double = 0, into s: inout [Double]) {
        let n = ms * rate / 1000
        let fl = digit.lowFrequency * (1 + lowDeviation), fh = digit.highFrequency * (1 + highDeviation)
        let al = amplitude(lowDBm0), ah = amplitude(highDBm0)
        let start = s.count
        for i in 0..<n {
            let t = Double(start + i) / Double(rate)
            s.append(al * sin(2 * .pi * fl * t) + ah * sin(2 * .pi * fh * t))
        }
    }

    static func silence(ms: Int, rate: Int = 8000, into s: inout [Double]) {
        s.append(contentsOf: repeatElement(0, count: ms * rate / 1000))
    }

    /// Adds white Gaussian noise of `rms` (Box–Muller on a fixed-seed generator).
    static func addNoise(rms: Double, seed: UInt64, to s: inout [Double]) {
        var rng = DSPTestRandom(seed: seed)
        for i in s.indices {
            let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-300)
            let u2 = Double(rng.next() >> 11) / Double(1 << 53)
            s[i] += rms * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
        }
    }

    static func pcm(_ s: [Double]) -> [Int16] { s.map { Int16(max(-32768, min(32767, $0.rounded()))) } }

    /// All events, feeding `samples` in frames of varying sizes (1 … 173 samples).
    static func detect(_ samples: [Int16], rate: Int = 8000) throws -> [DTMFEvent] {
        let d = try DTMFDetector(sampleRate: rate)
        var events: [DTMFEvent] = []
        var start = 0
        var k = 0
        let sizes = [160, 1, 37, 173, 80, 7, 160, 59]
        let padded = samples + [Int16](repeating: 0, count: rate / 5)
        padded.withUnsafeBufferPointer { all in
            while start < padded.count {
                let n = min(sizes[k % sizes.count], padded.count - start)
                d.process(UnsafeBufferPointer(rebasing: all[start..<start + n]))
                while let e = d.nextEvent() { events.append(e) }
                start += n
                k += 1
            }
        }
        return events
    }

    static func digits(_ events: [DTMFEvent]) -> String {
        String(events.filter { $0.kind == .ended }.map(\.digit.character))
    }
}

@Suite struct DTMFDetectorTests {
    @Test(arguments: [8000, 16000])
    func detectsAllSixteenDigitsAtNominalFrequencies(rate: Int) throws {
        var s: [Double] = []
        DTMFTestSignal.silence(ms: 50, rate: rate, into: &s)
        var expectedStarts: [Int] = []
        for digit in DTMFDigit.allCases {
            expectedStarts.append(s.count)
            DTMFTestSignal.tone(digit, ms: 60, rate: rate, into: &s)
            DTMFTestSignal.silence(ms: 60, rate: rate, into: &s)
        }
        let events = try DTMFTestSignal.detect(DTMFTestSignal.pcm(s), rate: rate)
        #expect(DTMFTestSignal.digits(events) == String(DTMFDigit.allCases.map(\.character)))
        #expect(events.filter { $0.kind == .began }.count == 16)
        let ended = events.filter { $0.kind == .ended }
        for (event, start) in zip(ended, expectedStarts) {
            // Start and duration within 5 ms (the detector works in 2.5 ms steps).
            #expect(abs(event.startSample - start) <= rate / 200, "start \(event.startSample) vs \(start)")
            #expect(abs(event.durationSamples - 60 * rate / 1000) <= rate / 200, "duration \(event.durationSamples)")
        }
    }

    @Test(arguments: [0.015, -0.015])
    func acceptsOnePointFivePercentDeviation(deviation: Double) throws {
        var s: [Double] = []
        for digit in DTMFDigit.allCases {
            DTMFTestSignal.tone(digit, ms: 60, lowDeviation: deviation, highDeviation: deviation, into: &s)
            DTMFTestSignal.silence(ms: 60, into: &s)
        }
        // Mixed signs as well: row high, column low.
        for digit in DTMFDigit.allCases {
            DTMFTestSignal.tone(digit, ms: 60, lowDeviation: deviation, highDeviation: -deviation, into: &s)
            DTMFTestSignal.silence(ms: 60, into: &s)
        }
        let all = String(DTMFDigit.allCases.map(\.character))
        #expect(DTMFTestSignal.digits(try DTMFTestSignal.detect(DTMFTestSignal.pcm(s))) == all + all)
    }

    @Test(arguments: [0.035, -0.035])
    func rejectsThreePointFivePercentDeviation(deviation: Double) throws {
        for digit in DTMFDigit.allCases {
            // Either group off by 3.5 % is enough to reject.
            var low: [Double] = [], high: [Double] = []
            DTMFTestSignal.tone(digit, ms: 80, lowDeviation: deviation, into: &low)
            DTMFTestSignal.tone(digit, ms: 80, highDeviation: deviation, into: &high)
            #expect(try DTMFTestSignal.detect(DTMFTestSignal.pcm(low)).isEmpty, "\(digit) low \(deviation)")
            #expect(try DTMFTestSignal.detect(DTMFTestSignal.pcm(high)).isEmpty, "\(digit) high \(deviation)")
        }
    }

    /// (low-group dBm0, high-group dBm0, accepted): normal twist = high group weaker.
    @Test(arguments: [(-6.0, -13.0, true), (-4.0, -14.5, false), (-10.0, -6.5, true), (-12.0, -6.0, false),
                      (-20.0, -20.0, true), (-40.0, -40.0, false)])
    func twistAndLevelLimits(low: Double, high: Double, accepted: Bool) throws {
        var s: [Double] = []
        for digit in [DTMFDigit.one, .five, .nine, .d] {
            DTMFTestSignal.tone(digit, ms: 60, lowDBm0: low, highDBm0: high, into: &s)
            DTMFTestSignal.silence(ms: 60, into: &s)
        }
        #expect(DTMFTestSignal.digits(try DTMFTestSignal.detect(DTMFTestSignal.pcm(s))) == (accepted ? "159D" : ""))
    }

    @Test func durationLimits() throws {
        for digit in DTMFDigit.allCases {
            for lead in [0, 3, 7, 11, 17] {
                var short: [Double] = [], long: [Double] = []
                DTMFTestSignal.silence(ms: 20, into: &short)
                short.append(contentsOf: repeatElement(0, count: lead))
                DTMFTestSignal.tone(digit, ms: 30, into: &short)
                DTMFTestSignal.silence(ms: 20, into: &long)
                long.append(contentsOf: repeatElement(0, count: lead))
                DTMFTestSignal.tone(digit, ms: 45, into: &long)
                #expect(try DTMFTestSignal.detect(DTMFTestSignal.pcm(short)).isEmpty, "30 ms \(digit) accepted")
                #expect(DTMFTestSignal.digits(try DTMFTestSignal.detect(DTMFTestSignal.pcm(long))) == digit.description, "45 ms \(digit) rejected")
            }
        }
    }

    @Test func pauseSeparatesDigitsAndShortDropoutIsBridged() throws {
        var s: [Double] = []
        DTMFTestSignal.tone(.five, ms: 60, into: &s)
        DTMFTestSignal.silence(ms: 40, into: &s)
        DTMFTestSignal.tone(.five, ms: 60, into: &s)
        DTMFTestSignal.silence(ms: 100, into: &s)
        DTMFTestSignal.tone(.seven, ms: 50, into: &s)
        DTMFTestSignal.silence(ms: 10, into: &s)
        DTMFTestSignal.tone(.seven, ms: 50, into: &s)
        let events = try DTMFTestSignal.detect(DTMFTestSignal.pcm(s))
        #expect(DTMFTestSignal.digits(events) == "557")
        let last = events.last { $0.kind == .ended }
        // The bridged digit lasts the whole 110 ms.
        #expect(abs((last?.durationSamples ?? 0) - 880) <= 40)
    }

    @Test func detectsInWhiteNoiseAtTwentyDecibelsSNR() throws {
        var s: [Double] = []
        for digit in DTMFDigit.allCases {
            DTMFTestSignal.tone(digit, ms: 60, lowDBm0: -15, highDBm0: -15, into: &s)
            DTMFTestSignal.silence(ms: 60, into: &s)
        }
        // Signal power while a digit sounds: two sines of amplitude A have mean square A².
        let a = DTMFTestSignal.amplitude(-15)
        DTMFTestSignal.addNoise(rms: a / 10, seed: 7, to: &s)
        #expect(DTMFTestSignal.digits(try DTMFTestSignal.detect(DTMFTestSignal.pcm(s))) == String(DTMFDigit.allCases.map(\.character)))
    }

    @Test func noFalseDetectionsOnNoiseSingleTonesOrHarmonicRichSignals() throws {
        var noise = [Double](repeating: 0, count: 8000 * 3)
        DTMFTestSignal.addNoise(rms: 3000, seed: 11, to: &noise)
        #expect(try DTMFTestSignal.detect(DTMFTestSignal.pcm(noise)).isEmpty)
        for f in DTMFDigit.rowFrequencies + DTMFDigit.columnFrequencies {
            let single = (0..<4000).map { 8000 * sin(2 * Double.pi * f * Double($0) / 8000) }
            #expect(try DTMFTestSignal.detect(DTMFTestSignal.pcm(single)).isEmpty, "\(f) Hz")
        }
        // A buzz with harmonics of 100 Hz has components at 700 and 1200 Hz, within 1 % of
        // 697 and 1209 Hz, but they hold a small share of its energy.
        let buzz = (0..<8000).map { i in
            (1...30).reduce(0.0) { $0 + 6000 / Double($1) * sin(2 * Double.pi * 100 * Double($1) * Double(i) / 8000) }
        }
        #expect(try DTMFTestSignal.detect(DTMFTestSignal.pcm(buzz)).isEmpty)
    }

    @Test func rejectsUnsupportedRate() {
        #expect(throws: ToneError.unsupportedSampleRate(48000)) { try DTMFDetector(sampleRate: 48000) }
    }
}
