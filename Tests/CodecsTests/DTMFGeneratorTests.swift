import Codecs
import Foundation
import Testing

@Suite struct DTMFGeneratorTests {
    static func render(_ g: DTMFGenerator, count: Int, frame: Int) -> [Int16] {
        var out = [Int16](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { all in
            var start = 0
            while start < count {
                let n = min(frame, count - start)
                g.generate(into: UnsafeMutableBufferPointer(rebasing: all[start..<start + n]))
                start += n
            }
        }
        return out
    }

    @Test(arguments: [8000, 16000])
    func generatorToDetectorRoundTrip(rate: Int) throws {
        let g = try DTMFGenerator(sampleRate: rate)
        try g.play(digits: "0123456789*#ABCD", onMilliseconds: 50, offMilliseconds: 50)
        let y = Self.render(g, count: rate * 17 / 10, frame: rate / 50)
        #expect(g.isFinished)
        let events = try DTMFTestSignal.detect(y, rate: rate)
        #expect(DTMFTestSignal.digits(events) == "0123456789*#ABCD")
        for (k, e) in events.filter({ $0.kind == .ended }).enumerated() {
            #expect(abs(e.startSample - k * rate / 10) <= rate / 200)
            #expect(abs(e.durationSamples - rate / 20) <= rate / 200)
        }
    }

    @Test func digitHasItsFrequenciesLevelAndTwist() throws {
        let g = try DTMFGenerator(sampleRate: 8000)
        try g.play(.five, milliseconds: 100, level: -10, twist: -3)
        let y = Self.render(g, count: 1000, frame: 160)
        let low = ToneTestSupport.amplitude(y[0..<800], frequency: 770, rate: 8000)
        let high = ToneTestSupport.amplitude(y[0..<800], frequency: 1336, rate: 8000)
        #expect(abs(20 * log10(low / ToneGenerator.amplitudeAtZeroDBm0) + 10) < 0.1)
        #expect(abs(20 * log10(high / low) + 3) < 0.1)
        #expect(y[800...].allSatisfy { $0 == 0 })
    }

    @Test func startAndStopForRFC4733Playout() throws {
        let g = try DTMFGenerator(sampleRate: 8000)
        try g.start(.pound)
        _ = Self.render(g, count: 480, frame: 160)
        #expect(!g.isFinished)
        g.stop(afterSamples: 100)
        var buffer = [Int16](repeating: 0, count: 160)
        #expect(buffer.withUnsafeMutableBufferPointer { g.generate(into: $0) } == 100)
        #expect(g.isFinished)
    }

    @Test func rejectsBadRequests() throws {
        let g = try DTMFGenerator(sampleRate: 8000)
        #expect(throws: ToneError.invalidDigit("E")) { try g.play(digits: "12E") }
        #expect(throws: ToneError.invalidParameter) { try g.play(.one, milliseconds: 0) }
        #expect(throws: ToneError.tooManySegments) { try g.play(digits: String(repeating: "1", count: 33)) }
        #expect(throws: ToneError.unsupportedSampleRate(44100)) { try DTMFGenerator(sampleRate: 44100) }
        #expect(DTMFDigit("x") == nil && DTMFDigit(eventCode: 16) == nil)
        for d in DTMFDigit.allCases {
            #expect(DTMFDigit(d.character) == d && DTMFDigit(eventCode: Int(d.eventCode)) == d)
        }
    }
}

@Suite struct DTMFDigitTests {
    @Test func keypadPositionsRoundTrip() {
        for d in DTMFDigit.allCases {
            #expect(DTMFDigit(row: d.position.row, column: d.position.column) == d)
        }
        #expect(DTMFDigit(row: 4, column: 0) == nil && DTMFDigit(row: 0, column: -1) == nil)
        #expect(DTMFDigit.five.lowFrequency == 770 && DTMFDigit.five.highFrequency == 1336)
        #expect(DTMFDigit.d.lowFrequency == 941 && DTMFDigit.d.highFrequency == 1633)
    }
}
