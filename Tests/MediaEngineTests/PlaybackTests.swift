#if canImport(Glibc)
import Glibc
#endif
import Codecs
import Foundation
@testable import MediaEngine
import Testing

@Suite struct PlaybackTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("tandem-play-\(getpid())-\(name).wav").path
    }

    static func sine(_ frequency: Double, rate: Int, count: Int, amplitude: Double = 10000) -> [Int16] {
        (0..<count).map { Int16(amplitude * sin(2 * Double.pi * frequency * Double($0) / Double(rate))) }
    }

    /// Writes `file` to a temporary path and returns the path.
    static func store(_ file: WAVFile, _ name: String) throws -> String {
        let path = temporaryPath(name)
        try Data(file.serialized()).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Renders `frameSize`-sample frames until `render` returns false (at most `limit` frames).
    static func renderAll(_ source: PlaybackSource, frameSize: Int, limit: Int = 10_000) -> (samples: [Int16], frames: Int) {
        var samples: [Int16] = []
        var frame = [Int16](repeating: 0, count: frameSize)
        for index in 1...limit {
            let more = frame.withUnsafeMutableBufferPointer { source.render(into: $0) }
            samples += frame
            if !more { return (samples, index) }
        }
        return (samples, limit)
    }

    static func rms(_ samples: ArraySlice<Int16>) -> Double {
        (samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(samples.count, 1))).squareRoot()
    }

    @Test func aWAVAt16kHzPlaysInto8kHzWithItsDurationAndFrequency() throws {
        let wav = WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 16000), samples: Self.sine(440, rate: 16000, count: 16000))
        let path = try Self.store(wav, "440")
        defer { unlink(path) }
        let source = try PlaybackSource(wavFile: path, sampleRate: 8000)
        #expect(source.durationMilliseconds == 1000 && source.totalMilliseconds == 1000)
        let (samples, frames) = Self.renderAll(source, frameSize: 160)
        // 8000 samples = 50 frames of 20 ms; the 50th is the last and reports the end.
        #expect(frames == 50)
        #expect(source.endReason == .completed && source.playedMilliseconds == 1000)
        let body = samples[400..<7600]
        #expect(RecordingTests.power(body, 440, rate: 8000) > 0.95)
        #expect(abs(Self.rms(body) - 10000 / 2.0.squareRoot()) < 200)
        // Time-aligned (the resampler's delay is removed): sample for sample the 440 Hz sine sampled at 8 kHz, within
        // the filter's ripple; a one-sample shift would be off by up to ~3400.
        let ideal = Self.sine(440, rate: 8000, count: 8000)
        let worst = (100..<7900).map { abs(Int(samples[$0]) - Int(ideal[$0])) }.max() ?? .max
        #expect(worst < 300)
        // Further renders stay silent and keep reporting the end.
        var frame = [Int16](repeating: 7, count: 160)
        #expect(!frame.withUnsafeMutableBufferPointer { source.render(into: $0) })
        #expect(frame.allSatisfy { $0 == 0 })
    }

    @Test func a44kHzStereoWAVIsMixedDownAndConverted() throws {
        let left = Self.sine(1000, rate: 44100, count: 22050)
        let interleaved = left.flatMap { [$0, $0] }
        let wav = WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 44100, channels: 2), samples: interleaved)
        let source = try PlaybackSource(wav: wav, sampleRate: 16000)
        #expect(source.firstPassSamples == 8000)
        let (samples, _) = Self.renderAll(source, frameSize: 320)
        #expect(samples.count == 8000)
        #expect(RecordingTests.power(samples[500..<7500], 1000, rate: 16000) > 0.95)
        #expect(abs(Self.rms(samples[500..<7500]) - 10000 / 2.0.squareRoot()) < 300)
    }

    @Test func aMuLawWAVAtTheLegRateIsPlayedAsIs() throws {
        let original = Self.sine(700, rate: 8000, count: 800)
        let wav = WAVFile(format: WAVFormat(encoding: .uLaw, sampleRate: 8000), samples: original)
        let source = try PlaybackSource(wav: wav, sampleRate: 8000)
        let (samples, frames) = Self.renderAll(source, frameSize: 160)
        #expect(frames == 5)
        #expect(samples == wav.samples())
    }

    @Test func aPromptLoopsTheRequestedNumberOfTimes() throws {
        let prompt = (0..<800).map { Int16($0) }
        let source = try PlaybackSource(wav: WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000), samples: prompt),
                                        sampleRate: 8000, repeatCount: 2)
        #expect(source.totalMilliseconds == 200)
        // 20 ms frames do not divide the passes evenly here (frames of 300 samples): the wrap happens mid-frame.
        let (samples, frames) = Self.renderAll(source, frameSize: 300)
        #expect(frames == 6)
        #expect(Array(samples[0..<1600]) == prompt + prompt)
        #expect(samples[1600...].allSatisfy { $0 == 0 })
        #expect(source.endReason == .completed)
    }

    @Test func sourcesSharingAPromptKeepTheirOwnPositions() throws {
        let prompt = try PlaybackPrompt(wav: WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000),
                                                     samples: (0..<1600).map { Int16($0) }), sampleRate: 8000)
        #expect(prompt.durationMilliseconds == 200)
        let first = PlaybackSource(prompt: prompt, repeatCount: 0)
        let second = PlaybackSource(prompt: prompt, repeatCount: 3)
        var frame = [Int16](repeating: 0, count: 160)
        for _ in 0..<15 { _ = frame.withUnsafeMutableBufferPointer { first.render(into: $0) } }
        // 1.5 passes in: 100 ms into the second pass, and the next frame continues from there.
        #expect(first.playedMilliseconds == 300 && first.positionMilliseconds == 100)
        #expect(frame.withUnsafeMutableBufferPointer { second.render(into: $0) })
        #expect(frame == (0..<160).map { Int16($0) })
        _ = frame.withUnsafeMutableBufferPointer { first.render(into: $0) }
        #expect(frame == (800..<960).map { Int16($0) })
        #expect(second.positionMilliseconds == 20 && second.totalMilliseconds == 600)
    }

    @Test func pipelineShapedRenderFillsTheLastFrameThenLetsTheLegThrough() throws {
        let source = try PlaybackSource(wav: WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000),
                                                     samples: [Int16](repeating: 9, count: 250)), sampleRate: 8000)
        var frame = [Int16](repeating: 1, count: 160)
        // Wrong rate: not rendered, buffer untouched.
        #expect(!frame.withUnsafeMutableBufferPointer { source.render(into: $0, sampleRate: 16000) })
        #expect(frame.allSatisfy { $0 == 1 })
        #expect(frame.withUnsafeMutableBufferPointer { source.render(into: $0, sampleRate: 8000) })
        #expect(source.takeEnd() == nil)
        // The last frame holds the remaining 90 samples and silence, and still counts as rendered.
        #expect(frame.withUnsafeMutableBufferPointer { source.render(into: $0, sampleRate: 8000) })
        #expect(frame[0..<90].allSatisfy { $0 == 9 } && frame[90...].allSatisfy { $0 == 0 })
        #expect(source.takeEnd() == .completed)
        #expect(source.takeEnd() == nil)
        frame = [Int16](repeating: 1, count: 160)
        #expect(!frame.withUnsafeMutableBufferPointer { source.render(into: $0, sampleRate: 8000) })
        #expect(frame.allSatisfy { $0 == 1 })
    }

    @Test func aForeverLoopPlaysUntilStopped() throws {
        let source = try PlaybackSource(wav: WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000),
                                                     samples: [Int16](repeating: 100, count: 80)),
                                        sampleRate: 8000, repeatCount: 0)
        #expect(source.totalMilliseconds == nil)
        var frame = [Int16](repeating: 0, count: 160)
        for _ in 0..<500 { #expect(frame.withUnsafeMutableBufferPointer { source.render(into: $0) }) }
        #expect(frame.allSatisfy { $0 == 100 })
        #expect(source.playedMilliseconds == 10_000 && source.positionMilliseconds == 0)
        source.stop()
        #expect(!frame.withUnsafeMutableBufferPointer { source.render(into: $0) })
        #expect(frame.allSatisfy { $0 == 0 })
        #expect(source.endReason == .stopped)
    }

    @Test func aBargeInDigitStopsPlaybackAndOthersDoNot() throws {
        let source = try PlaybackSource(toneSequence: "425", sampleRate: 8000, repeatCount: 0,
                                        bargeInDigits: [.pound, .star])
        #expect(source.durationMilliseconds == nil)
        var frame = [Int16](repeating: 0, count: 160)
        #expect(frame.withUnsafeMutableBufferPointer { source.render(into: $0) })
        source.noteDigit(.five)
        #expect(frame.withUnsafeMutableBufferPointer { source.render(into: $0) })
        #expect(source.endReason == nil)
        source.noteDigit(.pound)
        #expect(!frame.withUnsafeMutableBufferPointer { source.render(into: $0) })
        #expect(source.endReason == .bargeIn(.pound))
        // A later stop does not change the reason.
        source.stop()
        #expect(!frame.withUnsafeMutableBufferPointer { source.render(into: $0) })
        #expect(source.endReason == .bargeIn(.pound))
    }

    @Test func aToneSequenceSkipsItsPlaysOnceSegmentsOnRepeats() throws {
        let source = try PlaybackSource(toneSequence: "!440/100,0/100,350+440/200", sampleRate: 8000, repeatCount: 2)
        #expect(source.durationMilliseconds == 400 && source.totalMilliseconds == 700)
        let (samples, frames) = Self.renderAll(source, frameSize: 160)
        #expect(frames == 35)
        #expect(RecordingTests.power(samples[0..<800], 440, rate: 8000) > 0.9)
        #expect(samples[800..<1600].allSatisfy { $0 == 0 })
        #expect(RecordingTests.power(samples[1600..<3200], 350, rate: 8000) > 0.3)
        // The second pass starts with the silence (the "!" segment is skipped).
        #expect(samples[3200..<4000].allSatisfy { $0 == 0 })
        #expect(RecordingTests.power(samples[4000..<5600], 440, rate: 8000) > 0.3)
    }

    @Test func dtmfDigitsPlayBothTonesThenSilence() throws {
        let source = try PlaybackSource(dtmfDigits: "1#", sampleRate: 16000, onMilliseconds: 80, offMilliseconds: 40)
        #expect(source.durationMilliseconds == 240)
        let (samples, frames) = Self.renderAll(source, frameSize: 320)
        #expect(frames == 12)
        let one = samples[0..<1280], pound = samples[1920..<3200]
        #expect(RecordingTests.power(one, 697, rate: 16000) > 0.3 && RecordingTests.power(one, 1209, rate: 16000) > 0.3)
        #expect(RecordingTests.power(pound, 941, rate: 16000) > 0.3 && RecordingTests.power(pound, 1477, rate: 16000) > 0.3)
        #expect(samples[1280..<1920].allSatisfy { $0 == 0 })
    }

    @Test func missingCorruptAndEmptyFilesAreTypedErrors() throws {
        #expect(throws: PlaybackError.file(.io(errno: ENOENT))) {
            try PlaybackSource(wavFile: "/nonexistent/prompt.wav", sampleRate: 8000)
        }
        let zeroLength = Self.temporaryPath("zero")
        let garbage = Self.temporaryPath("garbage")
        let empty = Self.temporaryPath("empty")
        defer { unlink(zeroLength); unlink(garbage); unlink(empty) }
        try Data().write(to: URL(fileURLWithPath: zeroLength))
        try Data("this is not a wave file at all".utf8).write(to: URL(fileURLWithPath: garbage))
        try Data(WAVFile(format: WAVFormat(encoding: .pcm16, sampleRate: 8000), samples: []).serialized())
            .write(to: URL(fileURLWithPath: empty))
        #expect(throws: PlaybackError.file(.truncated)) { try PlaybackSource(wavFile: zeroLength, sampleRate: 8000) }
        #expect(throws: PlaybackError.file(.badMagic)) { try PlaybackSource(wavFile: garbage, sampleRate: 8000) }
        #expect(throws: PlaybackError.empty) { try PlaybackSource(wavFile: empty, sampleRate: 8000) }
        #expect(throws: PlaybackError.unsupportedSampleRate(11025)) {
            try PlaybackSource(dtmfDigits: "1", sampleRate: 11025)
        }
        #expect(throws: PlaybackError.invalidDigits) { try PlaybackSource(dtmfDigits: "1x", sampleRate: 8000) }
        #expect(throws: PlaybackError.invalidDigits) { try PlaybackSource(dtmfDigits: "", sampleRate: 8000) }
        #expect(throws: PlaybackError.invalidToneSequence(.empty)) { try PlaybackSource(toneSequence: " ", sampleRate: 8000) }
    }
}
