#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Generates DTMF digits (ITU-T Q.23 frequencies) into caller buffers, with continuous phase.
///
/// A thin layer over `ToneGenerator`: each digit is a two-frequency segment, each gap a silent
/// one. `play`/`start` set up segments without allocating (digits strings are walked in place);
/// `generate` never allocates. Owned by one worker: not thread-safe.
public final class DTMFGenerator {
    /// Output sampling rate in Hz.
    public var sampleRate: Int { tones.sampleRate }
    /// True once the queued digits have all been played.
    public var isFinished: Bool { tones.isFinished }

    private let tones: ToneGenerator

    /// A generator at `sampleRate` (8, 16, 24, 32 or 48 kHz).
    public init(sampleRate: Int = 8000) throws(ToneError) {
        tones = try ToneGenerator(sampleRate: sampleRate, level: 0)
    }

    /// Plays one digit for `milliseconds` at `level` dBm0 per frequency, the high group `twist` dB
    /// above the low group (negative twist = high group weaker). Replaces anything playing.
    public func play(_ digit: DTMFDigit, milliseconds: Int, level: Double = -10, twist: Double = 0) throws(ToneError) {
        guard milliseconds > 0, milliseconds <= ToneSequence.maximumDurationMilliseconds else { throw .invalidParameter }
        try load(level: level, twist: twist)
        _ = appendDigit(digit, samples: milliseconds * sampleRate / 1000, twist: twist)
        tones.restart()
    }

    /// Plays `digits` (characters 0-9 * # A-D), each `onMilliseconds` long followed by
    /// `offMilliseconds` of silence. Replaces anything playing; at most 32 digits at once.
    public func play(digits: String, onMilliseconds: Int = 100, offMilliseconds: Int = 100,
                     level: Double = -10, twist: Double = 0) throws(ToneError) {
        guard onMilliseconds > 0, offMilliseconds >= 0,
              onMilliseconds <= ToneSequence.maximumDurationMilliseconds,
              offMilliseconds <= ToneSequence.maximumDurationMilliseconds else { throw .invalidParameter }
        for character in digits where DTMFDigit(character) == nil { throw .invalidDigit(character) }
        guard digits.count * 2 <= ToneSequence.maximumSegments else { throw .tooManySegments }
        try load(level: level, twist: twist)
        let on = onMilliseconds * sampleRate / 1000
        let off = offMilliseconds * sampleRate / 1000
        for character in digits {
            guard let digit = DTMFDigit(character) else { continue }
            _ = appendDigit(digit, samples: on, twist: twist)
            _ = tones.appendPair(0, 0, 0, 0, samples: off, playsOnce: true)
        }
        tones.restart()
    }

    /// Starts `digit` with no end; call `stop(afterSamples:)` when its length becomes known.
    public func start(_ digit: DTMFDigit, level: Double = -10, twist: Double = 0) throws(ToneError) {
        try load(level: level, twist: twist)
        _ = appendDigit(digit, samples: -1, twist: twist)
        tones.restart()
    }

    /// Ends the digit being played after `samples` more samples (0 = now).
    public func stop(afterSamples samples: Int) {
        tones.endCurrentSegment(afterSamples: samples)
    }

    /// Silences the generator at once.
    public func stop() {
        tones.stop()
    }

    /// Fills `output` (silence after the last digit) and returns how many samples were digits or
    /// gaps of the sequence. Never allocates.
    @discardableResult
    public func generate(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        tones.generate(into: output)
    }

    private func load(level: Double, twist: Double) throws(ToneError) {
        guard twist.isFinite, abs(twist) <= 20 else { throw .invalidParameter }
        // The louder group must stay within +3.17 dBm0 (full scale).
        try tones.setLevel(level + max(0, twist))
        tones.clear()
    }

    /// Adds the digit's two frequencies; gains put the louder group at the generator level.
    private func appendDigit(_ digit: DTMFDigit, samples: Int, twist: Double) -> Bool {
        let high = twist >= 0 ? 1.0 : pow10(twist / 20)
        let low = twist >= 0 ? pow10(-twist / 20) : 1.0
        return tones.appendPair(digit.lowFrequency, low, digit.highFrequency, high, samples: samples, playsOnce: true)
    }

    private func pow10(_ x: Double) -> Double { pow(10, x) }
}
