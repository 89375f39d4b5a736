import Codecs
import Foundation
import Testing

enum ToneTestSupport {
    /// Amplitude of the `frequency` component of `x` (single-bin DFT, Hann-windowed so that a
    /// neighbouring tone a few bins away does not leak in).
    static func amplitude(_ x: ArraySlice<Int16>, frequency: Double, rate: Int) -> Double {
        var re = 0.0, im = 0.0, wsum = 0.0
        let n = x.count
        for (i, v) in x.enumerated() {
            let w = 0.5 - 0.5 * cos(2 * Double.pi * (Double(i) + 0.5) / Double(n))
            let p = 2 * Double.pi * frequency * Double(i) / Double(rate)
            re += w * Double(v) * cos(p)
            im -= w * Double(v) * sin(p)
            wsum += w
        }
        return 2 * (re * re + im * im).squareRoot() / wsum
    }

    /// Runs `generator` for `count` samples in frames of `frame` samples.
    static func render(_ generator: ToneGenerator, count: Int, frame: Int) -> [Int16] {
        var out = [Int16](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { all in
            var start = 0
            while start < count {
                let n = min(frame, count - start)
                generator.generate(into: UnsafeMutableBufferPointer(rebasing: all[start..<start + n]))
                start += n
            }
        }
        return out
    }
}

struct TonePlanCase: CustomStringConvertible, Sendable {
    let plan: TonePlan
    let tone: CallProgressTone
    let rate: Int
    var description: String { "\(plan)/\(tone)@\(rate)" }

    static let all: [TonePlanCase] = TonePlan.allCases.enumerated().flatMap { p, plan in
        CallProgressTone.allCases.enumerated().map { t, tone in
            // Spread the three rates over the cases so each is exercised for every plan.
            TonePlanCase(plan: plan, tone: tone, rate: [8000, 16000, 48000][(p + t) % 3])
        }
    }
}

@Suite struct ToneGeneratorTests {
    /// Checks frequencies (Goertzel) and cadence (sample counts) of every plan's every tone.
    @Test(arguments: TonePlanCase.all)
    func callProgressToneHasItsFrequenciesAndCadence(c: TonePlanCase) throws {
        let sequence = c.plan.sequence(for: c.tone)
        #expect(sequence == (try ToneSequence(parsing: c.plan.description(of: c.tone))))
        let generator = try ToneGenerator(sampleRate: c.rate, level: -13)
        try generator.play(sequence)
        // One full cycle plus the start of the next (continuous tones: 1 s).
        let cycle = sequence.segments.reduce(0) { $0 + ($1.durationMilliseconds ?? 1000) * c.rate / 1000 }
        let firstSegment = (sequence.segments[0].durationMilliseconds ?? 0) * c.rate / 1000
        let total = cycle + min(firstSegment, c.rate / 2)
        let y = ToneTestSupport.render(generator, count: total, frame: c.rate / 50 + 3)
        let expectedAmplitude = ToneGenerator.amplitudeAtZeroDBm0 * pow(10, -13.0 / 20)
        var start = 0
        for segment in sequence.segments + [sequence.segments[0]] where start < total {
            let length = min((segment.durationMilliseconds ?? 1000) * c.rate / 1000, total - start)
            let slice = y[start..<start + length]
            if segment.frequencies.isEmpty {
                #expect(slice.allSatisfy { $0 == 0 }, "silence at \(start) for \(length)")
            } else {
                for f in segment.frequencies {
                    let a = ToneTestSupport.amplitude(slice, frequency: f, rate: c.rate)
                    #expect(abs(a / expectedAmplitude - 1) < 0.02, "\(f) Hz amplitude \(a)")
                }
                // Nothing else: energy matches the tones'.
                let ms = slice.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(length)
                let expected = Double(segment.frequencies.count) * expectedAmplitude * expectedAmplitude / 2
                #expect(abs(ms / expected - 1) < 0.05)
                // The tone fills its whole slot: sound in the first and last 2 ms.
                let edge = c.rate / 500
                #expect(slice.prefix(edge).contains { $0 != 0 } && slice.suffix(edge).contains { $0 != 0 })
            }
            start += length
        }
    }

    @Test func framingDoesNotChangeOutput() throws {
        let sequence = try ToneSequence(parsing: "350+440/130,0/70,440*0.5/300")
        let a = try ToneGenerator(sampleRate: 16000)
        let b = try ToneGenerator(sampleRate: 16000)
        try a.play(sequence)
        try b.play(sequence)
        let oneShot = ToneTestSupport.render(a, count: 16000, frame: 16000)
        let framed = ToneTestSupport.render(b, count: 16000, frame: 37)
        #expect(oneShot == framed)
        // Continuous phase across the 37-sample frames of the first 130 ms segment: no
        // sample-to-sample step larger than the two sines' slopes allow (A·2π·f/fs each).
        let level = ToneGenerator.amplitudeAtZeroDBm0 * pow(10, -13.0 / 20)
        let maxStep = level * 2 * Double.pi * (350 + 440) / 16000 + 2
        var worst = 0.0
        for i in 1..<2080 { worst = max(worst, abs(Double(framed[i]) - Double(framed[i - 1]))) }
        #expect(worst <= maxStep && worst > 0.8 * maxStep, "worst step \(worst)")
    }

    @Test func playOnceSegmentsAndEnd() throws {
        let g = try ToneGenerator(sampleRate: 8000)
        try g.play(try ToneSequence(parsing: "!440/100,!0/50"))
        var buffer = [Int16](repeating: 1, count: 2000)
        let n = buffer.withUnsafeMutableBufferPointer { g.generate(into: $0) }
        #expect(n == 1200)
        #expect(g.isFinished)
        #expect(buffer[1200...].allSatisfy { $0 == 0 })
        // A stutter then a steady tone: the "!" part plays once, the rest repeats.
        try g.play(try ToneSequence(parsing: "!350+440/100,!0/100,425"))
        let y = ToneTestSupport.render(g, count: 8000, frame: 160)
        #expect(y[800..<1600].allSatisfy { $0 == 0 })
        #expect(ToneTestSupport.amplitude(y[1600..<8000], frequency: 425, rate: 8000) > 1000)
        #expect(!g.isFinished)
    }

    @Test func endCurrentSegmentAndStop() throws {
        let g = try ToneGenerator(sampleRate: 8000)
        try g.play(ToneSequence([ToneSegment([1000], milliseconds: nil, playsOnce: true)]))
        _ = ToneTestSupport.render(g, count: 100, frame: 100)
        g.endCurrentSegment(afterSamples: 30)
        var buffer = [Int16](repeating: 0, count: 100)
        let n = buffer.withUnsafeMutableBufferPointer { g.generate(into: $0) }
        #expect(n == 30 && g.isFinished)
        #expect(throws: ToneError.unsupportedSampleRate(11025)) { try ToneGenerator(sampleRate: 11025) }
        #expect(throws: ToneError.invalidParameter) { try ToneGenerator(sampleRate: 8000, level: 6) }
    }
}
