import Codecs
import Foundation
import Testing

/// A pair of rates the resampler must convert between.
struct ResamplerRatePair: CustomStringConvertible, Sendable {
    let input: Int
    let output: Int
    var description: String { "\(input / 1000)k→\(output / 1000)k" }

    static let all: [ResamplerRatePair] = Resampler.supportedRates.flatMap { i in
        Resampler.supportedRates.compactMap { o in i == o ? nil : ResamplerRatePair(input: i, output: o) }
    }
}

/// Spec measured here, for every pair (band edges relative to the LOWER of the two rates):
/// - passband 0 … Resampler.passbandFraction (0.80) × lowerNyquist (3.2 kHz for an 8 kHz side): every tone's gain within ±0.1 dB;
/// - stopband: above the output Nyquist when downsampling (tones from outputNyquist+20 Hz to
///   inputNyquist−20 Hz, measured as total output energy = aliases), above the input Nyquist when
///   upsampling (everything in the output except the tone itself = images): ≤ −70 dB.
/// Tones are multiples of 20 Hz, analysed over exactly 50 ms of steady-state output, so every
/// component completes whole cycles and a rectangular-window DFT separates them without leakage.
@Suite struct ResamplerTests {
    static let amplitude = 16384.0

    /// Feeds `seconds` of a sine at `frequency` through the streaming API in 20 ms frames.
    static func resampleTone(_ r: Resampler, frequency: Double, inputCount: Int) -> [Int16] {
        let input = (0..<inputCount).map { k in
            Int16((amplitude * sin(2 * Double.pi * frequency * Double(k) / Double(r.inputRate))).rounded())
        }
        return resampleFramed(r, input, frame: r.inputRate / 50)
    }

    static func resampleFramed(_ r: Resampler, _ input: [Int16], frame: Int) -> [Int16] {
        var out: [Int16] = []
        var scratch = [Int16](repeating: 0, count: r.outputCapacity(forInputCount: frame))
        var start = 0
        while start < input.count {
            let n = min(frame, input.count - start)
            let produced = input.withUnsafeBufferPointer { inp in
                scratch.withUnsafeMutableBufferPointer { o in
                    r.process(UnsafeBufferPointer(rebasing: inp[start..<start + n]), into: o)
                }
            }
            out.append(contentsOf: scratch[0..<produced])
            start += n
        }
        return out
    }

    /// Tone amplitude at `frequency` and energy of everything else, over `y[start ..< start + count]`.
    static func analyse(_ y: [Int16], start: Int, count: Int, frequency: Double, rate: Int) -> (amplitude: Double, residual: Double) {
        var re = 0.0, im = 0.0, total = 0.0
        for n in 0..<count {
            let v = Double(y[start + n])
            let w = 2 * Double.pi * frequency * Double(n) / Double(rate)
            re += v * cos(w)
            im -= v * sin(w)
            total += v * v
        }
        let amp = 2 * (re * re + im * im).squareRoot() / Double(count)
        let toneEnergy = Double(count) * amp * amp / 2
        return (amp, max(0, total - toneEnergy))
    }

    struct Measurement { var gainDB: Double; var spuriousDB: Double }

    static func measure(_ pair: ResamplerRatePair, frequency: Double) throws -> Measurement {
        let r = try Resampler(inputRate: pair.input, outputRate: pair.output)
        let L = Double(r.interpolation), M = Double(r.decimation)
        // Skip the start-up transient: outputs before K·L/M have zero history in their window.
        let settle = Int((Double(r.tapsPerPhase) * L / M).rounded(.up)) + 8
        let count = pair.output / 20
        let inputCount = Int(Double(settle + count) * M / L) + r.tapsPerPhase + 16
        let y = resampleTone(r, frequency: frequency, inputCount: inputCount)
        #expect(y.count >= settle + count)
        let toneIsAliased = frequency >= Double(pair.output) / 2
        let a = analyse(y, start: settle, count: count, frequency: toneIsAliased ? 0 : frequency, rate: pair.output)
        let reference = Double(count) * amplitude * amplitude / 2
        let spurious = toneIsAliased ? a.residual + Double(count) * a.amplitude * a.amplitude / 2 : a.residual
        return Measurement(gainDB: 20 * log10(max(a.amplitude, 1e-9) / amplitude),
                           spuriousDB: 10 * log10(max(spurious, 1e-12) / reference))
    }

    @Test(arguments: ResamplerRatePair.all)
    func passbandRippleAndImagesWithinSpec(pair: ResamplerRatePair) throws {
        let lowNyquist = Double(min(pair.input, pair.output)) / 2
        let edge = (Resampler.passbandFraction * lowNyquist / 20).rounded(.down) * 20
        var frequencies = stride(from: 100.0, to: edge, by: (edge - 100) / 9).map { ($0 / 20).rounded() * 20 }
        frequencies.append(edge)
        var gains: [Double] = []
        for f in frequencies {
            let m = try Self.measure(pair, frequency: f)
            gains.append(m.gainDB)
            #expect(abs(m.gainDB) <= 0.1, "gain \(m.gainDB) dB at \(f) Hz")
            // Upsampling: images above the input Nyquist; downsampling: nothing but the tone.
            #expect(m.spuriousDB <= -70, "spurious \(m.spuriousDB) dB at \(f) Hz")
        }
        let ripple = (gains.max() ?? 0) - (gains.min() ?? 0)
        #expect(ripple <= 0.1, "ripple \(ripple) dB")
    }

    @Test(arguments: ResamplerRatePair.all)
    func stopbandAttenuationAtLeastSeventyDecibels(pair: ResamplerRatePair) throws {
        let inNyquist = Double(pair.input) / 2
        let outNyquist = Double(pair.output) / 2
        if pair.output < pair.input {
            // Downsampling: every tone above the output Nyquist must come out ≥ 70 dB down (aliases).
            for k in 0..<8 {
                let f = ((outNyquist + 20 + Double(k) * (inNyquist - outNyquist - 40) / 7) / 20).rounded() * 20
                let m = try Self.measure(pair, frequency: f)
                #expect(m.spuriousDB <= -70, "alias \(m.spuriousDB) dB for \(f) Hz")
            }
        } else {
            // Upsampling: tones in the transition band up to just under the input Nyquist; their
            // images lie just above the input Nyquist, the hardest place for the filter.
            let edge = Resampler.passbandFraction * inNyquist
            for k in 0..<6 {
                let f = ((edge + Double(k) * (inNyquist - 20 - edge) / 5) / 20).rounded() * 20
                let m = try Self.measure(pair, frequency: f)
                #expect(m.spuriousDB <= -70, "image \(m.spuriousDB) dB for \(f) Hz")
            }
        }
    }

    @Test(arguments: ResamplerRatePair.all)
    func delayIsReportedInWholeOutputSamples(pair: ResamplerRatePair) throws {
        let r = try Resampler(inputRate: pair.input, outputRate: pair.output)
        let f = 1000.0
        let inputCount = pair.input / 10
        let y = Self.resampleTone(r, frequency: f, inputCount: inputCount)
        let settle = Int(Double(r.tapsPerPhase * r.interpolation) / Double(r.decimation)) + 8
        var worst = 0.0
        for n in settle..<(y.count - 8) {
            let expected = Self.amplitude * sin(2 * Double.pi * f * Double(n - r.delaySamples) / Double(pair.output))
            worst = max(worst, abs(Double(y[n]) - expected))
        }
        // One sample of error at 1 kHz / 8 kHz would be ~70 % of the amplitude.
        #expect(worst < 0.005 * Self.amplitude, "worst \(worst)")
    }

    @Test(arguments: ResamplerRatePair.all)
    func dcGainIsOne(pair: ResamplerRatePair) throws {
        let r = try Resampler(inputRate: pair.input, outputRate: pair.output)
        let input = [Int16](repeating: 12345, count: pair.input / 10)
        let y = Self.resampleFramed(r, input, frame: pair.input / 50)
        let settle = Int(Double(r.tapsPerPhase * r.interpolation) / Double(r.decimation)) + 8
        for v in y[settle...] { #expect(abs(Int(v) - 12345) <= 1) }
    }

    @Test(arguments: ResamplerRatePair.all)
    func streamingEqualsOneShot(pair: ResamplerRatePair) throws {
        var rng = DSPTestRandom(seed: 42)
        let input = (0..<(pair.input / 5)).map { _ in Int16(truncatingIfNeeded: rng.next() >> 48) }
        let whole = try Resampler(inputRate: pair.input, outputRate: pair.output)
        let oneShot = Self.resampleFramed(whole, input, frame: input.count)
        let framed = Self.resampleFramed(try Resampler(inputRate: pair.input, outputRate: pair.output),
                                         input, frame: pair.input / 50)
        #expect(framed.count == oneShot.count && framed == oneShot)
        // Irregular frame sizes, including frames shorter than the filter's history.
        let irregular = try Resampler(inputRate: pair.input, outputRate: pair.output, chunkSize: 97)
        var out: [Int16] = []
        var scratch = [Int16](repeating: 0, count: irregular.outputCapacity(forInputCount: 400))
        var start = 0
        while start < input.count {
            let n = min(Int(rng.next() % 400) + 1, input.count - start)
            let produced = input.withUnsafeBufferPointer { inp in
                scratch.withUnsafeMutableBufferPointer { irregular.process(UnsafeBufferPointer(rebasing: inp[start..<start + n]), into: $0) }
            }
            out.append(contentsOf: scratch[0..<produced])
            start += n
        }
        #expect(out.count == oneShot.count && out == oneShot, "irregular framing differs")
        #expect(oneShot.count == input.count * pair.output / pair.input)
    }

    @Test func floatPathMatchesInt16Path() throws {
        let a = try Resampler(inputRate: 8000, outputRate: 48000)
        let b = try Resampler(inputRate: 8000, outputRate: 48000)
        let x16 = (0..<160).map { Int16(1000 * sin(Double($0) * 0.3)) }
        let x = x16.map(Float.init)
        var y16 = [Int16](repeating: 0, count: 970)
        var y = [Float](repeating: 0, count: 970)
        let n16 = x16.withUnsafeBufferPointer { i in y16.withUnsafeMutableBufferPointer { a.process(i, into: $0) } }
        let n = x.withUnsafeBufferPointer { i in y.withUnsafeMutableBufferPointer { b.process(i, into: $0) } }
        #expect(n16 == 960 && n == 960)
        for k in 0..<n { #expect(abs(Float(y16[k]) - y[k]) <= 0.5) }
    }

    @Test func saturatesInsteadOfWrapping() throws {
        // A full-scale square wave overshoots after filtering (Gibbs): the Int16 path must equal the
        // Float path clamped to Int16, not a wrapped value.
        let input = (0..<1600).map { ($0 / 20) % 2 == 0 ? Int16.max : Int16.min }
        let y16 = Self.resampleFramed(try Resampler(inputRate: 8000, outputRate: 16000), input, frame: 160)
        let f = try Resampler(inputRate: 8000, outputRate: 16000)
        var y = [Float](repeating: 0, count: 3210)
        let n = input.map(Float.init).withUnsafeBufferPointer { i in y.withUnsafeMutableBufferPointer { f.process(i, into: $0) } }
        #expect(n == y16.count)
        #expect(y[0..<n].contains { $0 > 32767.5 } && y[0..<n].contains { $0 < -32768.5 })
        for k in 0..<n {
            let clamped = min(max(y[k], -32768), 32767)
            #expect(abs(Float(y16[k]) - clamped) <= 0.5)
        }
    }

    @Test func rejectsUnsupportedRatesAndShortOutput() throws {
        #expect(throws: ResamplerError.unsupportedRate(11025)) { try Resampler(inputRate: 11025, outputRate: 8000) }
        #expect(throws: ResamplerError.invalidChunkSize(0)) { try Resampler(inputRate: 8000, outputRate: 16000, chunkSize: 0) }
        let r = try Resampler(inputRate: 8000, outputRate: 48000)
        let input = [Int16](repeating: 100, count: 160)
        var small = [Int16](repeating: 0, count: 100)
        let n = input.withUnsafeBufferPointer { i in small.withUnsafeMutableBufferPointer { r.process(i, into: $0) } }
        #expect(n == 100)
        #expect(r.droppedSamples == 860)
    }

    @Test func sameRateIsIdentity() throws {
        let r = try Resampler(inputRate: 16000, outputRate: 16000)
        let input = (0..<320).map { Int16($0 * 97 % 30000) }
        #expect(Self.resampleFramed(r, input, frame: 320) == input)
        #expect(r.delaySamples == 0)
    }
}

/// A small deterministic PRNG for tests (SplitMix64).
struct DSPTestRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
